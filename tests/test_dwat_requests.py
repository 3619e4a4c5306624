"""DWAT requests: validation, the state flow (no skipped steps, no double assignment), the
teams that may be assigned, and the adapter from today's dwat_request rows."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from server.domain.dwat.adapters import needs_from_text, request_from_row
from server.domain.dwat.common import DwatError
from server.domain.dwat.request_flow import (COVERAGE, NeedKind, RequestOrigin, RequestStep, advance, assign_team,
                                             new_request)
from server.domain.dwat.roster import TeamStatus
from server.models import DwatRequest
from server.models.vocab import Profession, RequestPriority
from tests.dwat_cases import P, T0, at, busy, day, team

S = RequestStep


def make(id="R1", needs=None, **kw):
    args = dict(by="本部 佐藤", at=at(0))
    args.update(kw)
    return new_request(id, "S1", needs if needs is not None else {"elderly_care": 12, "子ども・保育": 3}, "high",
                       day(1), **args)


def refused(fn, *args, **kw) -> tuple:
    with pytest.raises(DwatError) as caught:
        fn(*args, **kw)
    return caught.value.codes


def test_a_new_request_parses_labels_and_starts_requested():
    r = make(origin="車中泊避難者", note="駐車場に20台")
    assert r.state == S.requested and r.origin == RequestOrigin.in_car
    assert r.needs == ((NeedKind.elderly_care, 12), (NeedKind.children, 3))
    assert r.urgency == RequestPriority.high
    assert [(t.to_state, t.by, t.at, t.from_state) for t in r.history] == [(S.requested, "本部 佐藤", at(0), None)]


@pytest.mark.parametrize("needs", [{}, {"elderly_care": 0, "nursing": 0}])
def test_a_request_with_no_needs_is_refused(needs):
    with pytest.raises(DwatError) as caught:
        make(needs=needs)
    assert caught.value.codes == ("no_needs",)
    assert "支援ニーズ" in caught.value.problems[0].ja


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(DwatError) as caught:
        new_request("R", "S1", {"elderly_care": -1, "nursing": True, "宇宙": 1, "children": 1.5}, "urgent",
                    datetime(2026, 1, 1), by=" ", at=at(0))
    assert sorted(caught.value.codes) == sorted(["bad_need_count", "bad_need_count", "unknown_need", "bad_need_count",
                                                 "bad_urgency", "bad_wanted_from", "no_actor"])


def test_a_naive_time_is_refused():
    assert refused(make, at=datetime(2026, 1, 10, 9)) == ("naive_time",)


def walk(r, team_=None, others=()):
    r = advance(r, "accepted", by="本部", at=at(1))
    r = assign_team(r, team_ or team("A"), by="本部", at=at(2), others=others)
    r = advance(r, "on_site", by="班長", at=at(30))
    return advance(r, "closed", by="本部", at=at(150))


def test_the_whole_flow_records_who_and_when():
    r = walk(make())
    assert r.state == S.closed and r.team_id == "A"
    assert [(t.from_state, t.to_state, t.by, t.at) for t in r.history] == [
        (None, S.requested, "本部 佐藤", at(0)), (S.requested, S.accepted, "本部", at(1)),
        (S.accepted, S.team_assigned, "本部", at(2)), (S.team_assigned, S.on_site, "班長", at(30)),
        (S.on_site, S.closed, "本部", at(150))]
    assert r.history[2].team_id == "A"


@pytest.mark.parametrize("path, target", [((), "on_site"), ((), "closed"), (("accepted",), "on_site"),
                                          (("accepted",), "closed"), (("accepted",), "requested")])
def test_skipped_or_backward_steps_are_refused(path, target):
    r = make()
    for step in path:
        r = advance(r, step, by="本部", at=at(1))
    assert refused(advance, r, target, by="本部", at=at(2)) == ("skipped_step",)


def test_team_assigned_needs_a_team_and_an_accepted_request():
    r = make()
    assert refused(advance, advance(r, "accepted", by="x", at=at(1)), "team_assigned", by="x", at=at(2)) == \
        ("team_required",)
    assert refused(assign_team, r, team("A"), by="x", at=at(1)) == ("skipped_step",)


def test_a_request_cannot_be_assigned_twice():
    r = assign_team(advance(make(), "accepted", by="x", at=at(1)), team("A"), by="x", at=at(2))
    assert refused(assign_team, r, team("B"), by="x", at=at(3)) == ("already_assigned",)
    on_site = advance(r, "on_site", by="x", at=at(3))
    assert refused(assign_team, on_site, team("B"), by="x", at=at(4)) == ("already_assigned",)


def test_a_team_holding_another_live_request_is_not_assigned_again():
    first = assign_team(advance(make("R1"), "accepted", by="x", at=at(1)), team("A"), by="x", at=at(2))
    second = advance(make("R2"), "accepted", by="x", at=at(1))
    assert refused(assign_team, second, team("A"), by="x", at=at(3), others=[first, second]) == \
        ("team_already_assigned",)
    closed = advance(advance(first, "on_site", by="x", at=at(3)), "closed", by="x", at=at(4))
    assert assign_team(second, team("A"), by="x", at=at(5), others=[closed]).team_id == "A"


@pytest.mark.parametrize("status", [TeamStatus.stood_down, TeamStatus.resting])
def test_stood_down_or_resting_teams_are_refused_and_nothing_changes(status):
    accepted = advance(make(), "accepted", by="x", at=at(1))
    assert refused(assign_team, accepted, team("A", status=status), by="x", at=at(2)) == (f"team_{status.value}",)
    assert accepted.state == S.accepted and accepted.team_id is None and len(accepted.history) == 2


def test_a_team_deployed_over_the_wanted_days_is_refused():
    accepted = advance(make(), "accepted", by="x", at=at(1))  # wanted from day 1, five days
    assert refused(assign_team, accepted, team("A", commitments=(busy(4, 8),)), by="x", at=at(2)) == ("team_busy",)
    assert assign_team(accepted, team("A", commitments=(busy(-4, 0),)), by="x", at=at(2)).team_id == "A"


def test_a_team_with_composition_errors_is_refused():
    small = team("A", [P.nurse] * 3)
    codes = refused(assign_team, advance(make(), "accepted", by="x", at=at(1)), small, by="x", at=at(2))
    assert codes == ("team_invalid", "too_few_members")


@pytest.mark.parametrize("steps", [(), ("accepted",), ("accepted", "assign")])
def test_cancel_from_early_states(steps):
    r = make()
    for step in steps:
        r = assign_team(r, team("A"), by="x", at=at(2)) if step == "assign" else advance(r, step, by="x", at=at(1))
    cancelled = advance(r, "cancelled", by="本部", at=at(3), note="自力で対応可")
    assert cancelled.state == S.cancelled and cancelled.history[-1].note == "自力で対応可"
    assert refused(advance, cancelled, "accepted", by="x", at=at(4)) == ("request_final",)
    assert refused(assign_team, cancelled, team("B"), by="x", at=at(4)) == ("request_final",)


def test_on_site_cannot_be_cancelled_and_time_cannot_go_back():
    r = advance(assign_team(advance(make(), "accepted", by="x", at=at(1)), team("A"), by="x", at=at(2)),
                "on_site", by="x", at=at(3))
    assert refused(advance, r, "cancelled", by="x", at=at(4)) == ("cannot_cancel",)
    assert refused(advance, r, "closed", by="x", at=at(2.5)) == ("time_before_last",)
    assert refused(advance, r, "closed", by="", at=at(5)) == ("no_actor",)


def test_every_need_kind_is_covered_by_some_profession():
    for kind in NeedKind:
        assert COVERAGE[kind], kind
        assert all(isinstance(p, Profession) and 0 < w <= 1 for p, w in COVERAGE[kind].items())
    assert COVERAGE[NeedKind.children][P.childcare_worker] == 1.0


def test_free_text_needs_of_todays_rows_become_counts():
    assert needs_from_text(["高齢者介護 3", "children=2", "精神保健：１名", "看護"]) == \
        {"elderly_care": 3, "children": 2, "mental_health": 1, "nursing": 1}
    with pytest.raises(DwatError) as caught:
        needs_from_text(["介護福祉士2名"])
    assert caught.value.codes == ("unknown_need",)


def test_request_from_a_row():
    row = DwatRequest(id=uuid.uuid4(), shelter_id=uuid.uuid4(), needs=["高齢者介護 4", "相談窓口 1"], priority="low",
                      state="assigned", created_at=T0, updated_at=at(5))
    r = request_from_row(row, team_id="A", by="本部")
    assert r.state == S.team_assigned and r.team_id == "A" and r.urgency == RequestPriority.low
    assert r.needs == ((NeedKind.elderly_care, 4), (NeedKind.consultation, 1))
    assert r.wanted_from == T0.date()
    assert [t.to_state for t in r.history] == [S.requested, S.team_assigned]
    empty = DwatRequest(id=uuid.uuid4(), shelter_id=uuid.uuid4(), needs=[], created_at=T0, updated_at=T0)
    assert refused(request_from_row, empty) == ("no_needs",)
