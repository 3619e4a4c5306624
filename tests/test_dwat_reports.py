"""DWAT daily reports (J-SPEED-like): validation, aggregation by site and day, and the
chronology (クロノロジー) as escaped CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timezone

import pytest

from server.domain.dwat.adapters import report_from_row
from server.domain.dwat.common import Deployment, DwatError
from server.domain.dwat.daily_report import (Activity, aggregate, chronology, chronology_csv, deployment_event,
                                             new_report, report_events, request_events, triage_events)
from server.domain.dwat.request_flow import advance, assign_team, new_request
from server.domain.dwat.triage import TriageOutcome, new_triage
from server.models import DwatActivityReport
from server.models.vocab import DeploymentState
from tests.dwat_cases import at, day, site, team

D1 = Deployment("D1", "A", "S1", day(0), day(4), DeploymentState.active)
D2 = Deployment("D2", "B", "S1", day(4), day(8), DeploymentState.active)
D3 = Deployment("D3", "C", "S2", day(0), day(4), DeploymentState.active)


def report(id="RP1", deployment=D1, report_date=None, counts=None, triage=None, submitted=None, **kw):
    return new_report(id, deployment, report_date=report_date or day(0),
                      counts=counts if counts is not None else {"相談": 12, "care_support": 5, "環境整備": 1},
                      triage=triage if triage is not None else {"stay_with_support": 4, "福祉避難所へ移送": 1},
                      submitted_at=submitted or at(12), reporter="班長 田中", **kw)


def refused(**kw) -> tuple:
    with pytest.raises(DwatError) as caught:
        report(**kw)
    return caught.value.codes


def test_a_report_keeps_counts_in_vocabulary_order_without_zeros():
    r = report(counts={"環境整備": 1, "consultation": 12, "liaison": 0}, issues="トイレ不足", handover="夜間巡回を継続")
    assert r.counts == ((Activity.consultation, 12), (Activity.environment, 1))
    assert r.triage == ((TriageOutcome.stay_with_support, 4), (TriageOutcome.move_to_welfare_shelter, 1))
    assert (r.site_id, r.team_id) == ("S1", "A")


@pytest.mark.parametrize("state, code", [(DeploymentState.ended, "deployment_ended"),
                                         (DeploymentState.cancelled, "deployment_cancelled"),
                                         (DeploymentState.planned, "deployment_not_active")])
def test_a_report_for_a_deployment_not_active_is_refused(state, code):
    ended = Deployment("D1", "A", "S1", day(0), day(4), state)
    assert refused(deployment=ended) == (code,)


def test_a_report_day_outside_the_deployment_or_in_the_future_is_refused():
    assert refused(report_date=day(5), submitted=at(24 * 6)) == ("outside_deployment",)
    assert refused(report_date=day(-1)) == ("outside_deployment",)
    assert refused(report_date=day(2), submitted=at(12)) == ("future_date",)


@pytest.mark.parametrize("counts", [{"相談": -1}, {"相談": 1.5}, {"相談": True}, {"相談": "3"}])
def test_counts_must_be_whole_numbers_not_below_zero(counts):
    assert refused(counts=counts) == ("bad_count",)


def test_unknown_kinds_and_every_problem_at_once():
    codes = refused(counts={"宴会": 1}, triage={"帰宅": -2}, issues="x" * 4001, report_date=day(9))
    assert set(codes) == {"unknown_kind", "text_too_long", "outside_deployment", "future_date"}


def test_aggregation_sums_teams_of_a_site_on_a_handover_day_and_takes_corrections():
    reports = [
        report("a", D1, day(4), {"相談": 3}, {}, at(24 * 4 + 10)),
        report("b", D2, day(4), {"相談": 2, "移送調整": 1}, {"hospital": 1}, at(24 * 4 + 11), handover="D1から引継ぎ"),
        report("c", D3, day(4), {"相談": 7}, {}, at(24 * 4 + 9)),
        report("a-fix", D1, day(4), {"相談": 4}, {}, at(24 * 4 + 13), issues="訂正"),  # replaces "a"
        report("d", D1, day(3), {"相談": 1}, {}, at(24 * 3 + 12)),
    ]
    days = aggregate(reports)
    assert [(s.day, s.site_id) for s in days] == [(day(3), "S1"), (day(4), "S1"), (day(4), "S2")]
    s1 = days[1]
    assert s1.reports == 2 and s1.teams == ("B", "A")
    assert s1.counts[Activity.consultation] == 6 and s1.counts[Activity.transfer] == 1
    assert s1.counts[Activity.other] == 0 and s1.triage[TriageOutcome.hospital] == 1
    assert s1.issues == ("訂正",) and s1.handover == ("D1から引継ぎ",)


def test_the_chronology_merges_everything_in_time_order_and_exports_escaped_csv():
    r = new_request("R1", "S1", {"elderly_care": 3}, "high", day(0), by="=本部", at=at(-20))
    r = advance(r, "accepted", by="本部", at=at(-19))
    r = assign_team(r, team("A"), by="本部", at=at(-18), note="+最短")
    tri = new_triage("TR1", D1, person_id="P-secret", person_site_id="S1", outcome="hospital", at=at(5), by="班長")
    events = chronology(report_events([report()]), request_events([r]), triage_events([tri], {"D1": "A"}),
                        [deployment_event(D1, "dispatch", at(-18)), deployment_event(D1, "arrival", at(2))])
    assert [e.kind for e in events] == ["request", "request", "request", "dispatch", "arrival", "triage", "report"]
    assert events[0].ja == "要請受付（避難所）: 高齢者介護3"
    data = chronology_csv(events, {"S1": site("S1", name="@避難所"), "S2": site("S2")}, {"A": "多摩第1班"})
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    assert b"P-secret" not in data  # the chronology names no person
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["日付", "時刻", "種別", "拠点", "チーム", "内容", "内容（英語）", "記録者", "参照ID"]
    assert rows[1][:5] == ["2026-01-09", "13:00", "要請", "'@避難所", ""]  # 04:00 UTC = 13:00 JST
    assert rows[1][7] == "'=本部"
    assert rows[3][5] == "要請 受理→チーム決定（+最短）" and rows[3][4] == "多摩第1班"
    assert rows[-1][2] == "日報" and rows[-1][5] == "活動日報 2026-01-10（計23件）"


def test_an_arrival_or_departure_known_only_by_its_day_has_no_clock_time():
    """A deployment holds dates: with no time recorded, its day and an empty 時刻, ordered at the
    start (arrival) or the end (departure) of that day — never an invented 09:00 or 17:00."""
    arrival, departure = deployment_event(D1, "arrival", day(0)), deployment_event(D1, "departure", day(0))
    assert not arrival.timed and not departure.timed and arrival.clock() == ""
    timed = report_events([report(submitted=at(5))])  # 14:00 JST on day(0)'s JST day
    assert timed[0].day() == day(0)
    events = chronology([departure], timed, [arrival])
    assert [e.kind for e in events] == ["arrival", "report", "departure"]
    rows = list(csv.reader(io.StringIO(chronology_csv(events).decode("utf-8-sig"))))
    assert [r[:3] for r in rows[1:]] == [[str(day(0)), "", "到着"], [str(day(0)), "14:00", "日報"],
                                         [str(day(0)), "", "撤収"]]
    assert "時刻の記録なし" in rows[1][5] and "no time recorded" in rows[3][6]


def test_chronology_ties_follow_the_kind_order():
    same = at(1)
    events = chronology([deployment_event(D1, "arrival", same)], report_events([report(submitted=same)]),
                        [deployment_event(D1, "dispatch", same)])
    assert [e.kind for e in events] == ["dispatch", "arrival", "report"]
    with pytest.raises(ValueError):
        deployment_event(D1, "party", same)


def test_report_from_todays_row():
    row = DwatActivityReport(id=uuid.uuid4(), deployment_id=uuid.uuid4(), report_date=day(1), people_assessed=8,
                             consultations=5, referrals=0, issues="段差", requests_to_hq="車いす2台",
                             observed_at=datetime(2026, 1, 11, 12, tzinfo=timezone.utc), reporter="班長")
    r = report_from_row(row, D1)
    assert r.counts == ((Activity.consultation, 5), (Activity.assessment, 8))
    assert r.issues == "段差\n車いす2台" and (r.site_id, r.team_id) == ("S1", "A")
