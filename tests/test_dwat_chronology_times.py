"""The chronology's (クロノロジー) arrival and departure times: the time the request flow recorded
(on site, closed); else the team's first / last record on site that day, said so; else the day
alone with an empty 時刻 — never an invented 09:00 or 17:00."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

from server.domain.japan_time import JST, today_jst
from tests.dwat_api_cases import CARE, accept, make_request, make_site, make_team
from tests.factories import create

TODAY = today_jst()
HEADER = ["日付", "時刻", "種別", "拠点", "チーム", "内容", "内容（英語）", "記録者", "参照ID"]


def chronology(client) -> list[dict]:
    r = client.get("/api/dwat/chronology.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row)) for row in rows[1:]]


def of(rows, kind: str, ref: str) -> list[dict]:
    return [r for r in rows if r["種別"] == kind and r["参照ID"] == ref]


def jst(day, hour: int, minute: int) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=JST).isoformat()


def hhmm(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(JST).strftime("%H:%M")


def test_arrival_and_departure_take_the_times_the_flow_recorded(client):
    request = accept(client, make_request(client, make_site(client), {"elderly_care": 3}))
    team = make_team(client, CARE)
    r = client.post(f"/api/dwat/requests/{request['id']}/confirm",
                    json={"team_id": team["id"], "version": request["version"], "start_date": str(TODAY)})
    assert r.status_code == 201, r.text
    deployment = r.json()["deployment"]["id"]
    request = r.json()["request"]
    for to in ("on_site", "closed"):
        r = client.post(f"/api/dwat/requests/{request['id']}/advance", json={"to": to, "version": request["version"]})
        assert r.status_code == 200, r.text
        request = r.json()
    at = {s["to"]: s["at"] for s in request["steps"]}
    rows = chronology(client)
    (arrival,), (departure,) = of(rows, "到着", deployment), of(rows, "撤収", deployment)
    assert (arrival["日付"], arrival["時刻"]) == (datetime.fromisoformat(at["on_site"]).astimezone(JST).date().isoformat(),
                                               hhmm(at["on_site"]))
    assert (departure["日付"], departure["時刻"]) == (
        datetime.fromisoformat(at["closed"]).astimezone(JST).date().isoformat(), hhmm(at["closed"]))
    assert "時刻" not in arrival["内容"] and "記録なし" not in departure["内容"]  # recorded as such: nothing to explain
    by = {s["to"]: s["by"] for s in request["steps"]}
    assert (arrival["記録者"], departure["記録者"]) == (by["on_site"], by["closed"]) and by["on_site"]


def test_without_the_flow_the_first_and_last_records_on_site_give_the_times(client):
    site, team = make_site(client), make_team(client, CARE)
    start, end = TODAY - timedelta(days=3), TODAY - timedelta(days=1)
    deployment = create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=site["id"], state="active",
                                                         start_date=str(start), end_date=str(end)))
    for day, hour, minute in ((start, 18, 10), (start, 20, 45), (end, 19, 20), (end, 7, 5)):
        create(client, "dwat-activity-reports", dict(deployment_id=deployment["id"], report_date=str(day),
                                                     observed_at=jst(day, hour, minute), reporter="班長",
                                                     counts={"consultation": 2}))
    r = client.patch(f"/api/dwat-deployments/{deployment['id']}", json={"version": deployment["version"], "state": "ended"})
    assert r.status_code == 200, r.text
    rows = chronology(client)
    (arrival,), (departure,) = of(rows, "到着", deployment["id"]), of(rows, "撤収", deployment["id"])
    assert (arrival["日付"], arrival["時刻"]) == (start.isoformat(), "18:10")
    assert "最初の記録" in arrival["内容"] and "first record on site" in arrival["内容（英語）"]
    assert (departure["日付"], departure["時刻"]) == (end.isoformat(), "19:20")
    assert "最後の記録" in departure["内容"] and "last record on site" in departure["内容（英語）"]


def test_with_nothing_recorded_the_entry_has_its_day_and_no_time(client):
    site, team = make_site(client), make_team(client, CARE)
    start, end = TODAY - timedelta(days=6), TODAY - timedelta(days=2)
    deployment = create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=site["id"], state="active",
                                                         start_date=str(start), end_date=str(end)))
    # a report on a middle day says nothing of when the team came or went
    create(client, "dwat-activity-reports", dict(deployment_id=deployment["id"], report_date=str(start + timedelta(days=2)),
                                                 observed_at=jst(start + timedelta(days=2), 19, 0), reporter="班長",
                                                 counts={"consultation": 1}))
    client.patch(f"/api/dwat-deployments/{deployment['id']}", json={"version": deployment["version"], "state": "ended"})
    rows = chronology(client)
    (arrival,), (departure,) = of(rows, "到着", deployment["id"]), of(rows, "撤収", deployment["id"])
    assert (arrival["日付"], arrival["時刻"]) == (start.isoformat(), "")
    assert (departure["日付"], departure["時刻"]) == (end.isoformat(), "")
    assert "時刻の記録なし" in arrival["内容"] and "no time recorded" in departure["内容（英語）"]
    # in order: the untimed arrival opens its day, the untimed departure closes its day
    assert rows.index(arrival) < rows.index(next(r for r in rows if r["種別"] == "日報")) < rows.index(departure)
    page = client.get("/dwat/reports")
    assert page.status_code == 200 and f"<time>{start:%m-%d}</time>" in page.text  # the day alone, no time
