"""DWAT dispatch through the API: the roster checks on save, the request flow (no skipped step,
no double assignment, who and when at each step), confirming a suggested team (the deployment
is made; every bad input a 4xx with nothing changed), suggestions and the rotation plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.domain.japan_time import today_jst
from tests.dwat_api_cases import CARE, CHILD, MENTAL, accept, make_request, make_site, make_team
from tests.factories import create


def snapshot(client) -> dict:
    """What dispatch could change: requests, deployments, teams (versions included)."""
    get = lambda path: sorted((i["id"], i["version"], i.get("step") or i.get("state") or i.get("status"))  # noqa: E731
                              for i in client.get(f"/api/{path}", params={"limit": 500}).json()["items"])
    return {p: get(p) for p in ("dwat-requests", "dwat-deployments", "dwat-teams")}


def codes(response) -> set:
    return {e.get("code") for e in response.json().get("errors", [])}


def confirm(client, request: dict, team: dict, **extra):
    return client.post(f"/api/dwat/requests/{request['id']}/confirm",
                       json={"team_id": team["id"], "version": request["version"], **extra})


# ---- roster checks on save ----

def test_team_roster_check_warns_without_women_and_errs_on_size(client):
    men = make_team(client, CARE, women=False)
    roster = client.get(f"/api/dwat-teams/{men['id']}").json()["roster"]
    assert roster["errors"] == [] and "no_women" in {w["code"] for w in roster["warnings"]}
    assert roster["professions"]["care_worker"] == 2 and roster["members"] == 4
    small = make_team(client, CARE[:3])
    assert {e["code"] for e in client.get(f"/api/dwat-teams/{small['id']}").json()["roster"]["errors"]} == {"too_few_members"}
    # a team with errors cannot be confirmed; nothing changes
    site = make_site(client)
    request = accept(client, make_request(client, site, {"elderly_care": 5}))
    before = snapshot(client)
    r = confirm(client, request, small)
    assert r.status_code == 422 and "team_invalid" in codes(r) and "too_few_members" in codes(r)
    assert snapshot(client) == before


def test_a_member_cannot_be_in_two_active_deployments(client):
    a, b = make_team(client, CARE), make_team(client, CHILD)
    site1, site2 = make_site(client), make_site(client)
    today = today_jst()
    for team, site in ((a, site1), (b, site2)):
        create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=site["id"], start_date=str(today),
                                                end_date=str(today + timedelta(days=4)), state="active"))
    member = client.get("/api/dwat-members", params={"team_id": a["id"]}).json()["items"][0]
    before = client.get(f"/api/dwat-members/{member['id']}").json()
    r = client.patch(f"/api/dwat-members/{member['id']}", json={"version": member["version"], "team_id": b["id"]})
    assert r.status_code == 409 and {"member_two_active", "member_overlap"} & codes(r)
    assert client.get(f"/api/dwat-members/{member['id']}").json() == before


def test_overlapping_or_reversed_deployment_dates_are_refused(client):
    team, site = make_team(client, CARE), make_site(client)
    today = today_jst()
    create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=site["id"], start_date=str(today),
                                            end_date=str(today + timedelta(days=4)), state="planned"))
    before = snapshot(client)
    r = client.post("/api/dwat-deployments", json=dict(team_id=team["id"], shelter_id=site["id"],
                                                       start_date=str(today + timedelta(days=2)),
                                                       end_date=str(today + timedelta(days=6)), state="planned"))
    assert r.status_code == 409 and "member_overlap" in codes(r)
    r = client.post("/api/dwat-deployments", json=dict(team_id=team["id"], shelter_id=site["id"],
                                                       start_date=str(today + timedelta(days=9)),
                                                       end_date=str(today + timedelta(days=7))))
    assert r.status_code == 422
    assert snapshot(client) == before
    stood_down = make_team(client, CHILD, status="stood_down")
    r = client.post("/api/dwat-deployments", json=dict(team_id=stood_down["id"], shelter_id=site["id"],
                                                       start_date=str(today), end_date=str(today)))
    assert r.status_code == 422 and "team_stood_down" in codes(r)


# ---- requests ----

@pytest.mark.parametrize("payload, field", [
    ({}, "body"), ({"need_counts": {}, "needs": []}, "body"), ({"need_counts": {"elderly_care": 0}}, "body"),
    ({"need_counts": {"cooking": 2}}, "need_counts"), ({"need_counts": {"children": -1}}, "need_counts"),
    ({"need_counts": {"children": 1.5}}, "need_counts"),
])
def test_a_request_without_needs_or_with_bad_counts_is_refused(client, payload, field):
    site = make_site(client)
    r = client.post("/api/dwat-requests", json=dict(shelter_id=site["id"], **payload))
    assert r.status_code == 422, r.text
    assert client.get("/api/dwat-requests").json()["total"] == 0


def test_a_request_records_who_and_when_at_each_step_and_no_step_is_skipped(client):
    site, team = make_site(client), make_team(client, CARE)
    request = make_request(client, site, {"高齢者介護": 6, "consultation": 1})
    assert request["need_counts"] == {"elderly_care": 6, "consultation": 1} and request["step"] == "requested"
    before = snapshot(client)
    assert "skipped_step" in codes(confirm(client, request, team))  # not accepted yet
    r = client.post(f"/api/dwat/requests/{request['id']}/advance", json={"to": "on_site", "version": 1})
    assert r.status_code == 422 and "skipped_step" in codes(r)
    r = client.post(f"/api/dwat/requests/{request['id']}/advance", json={"to": "team_assigned", "version": 1})
    assert r.status_code == 422 and "team_required" in codes(r)
    r = client.post(f"/api/dwat/requests/{request['id']}/advance", json={"to": "flying", "version": 1})
    assert r.status_code == 422
    assert snapshot(client) == before
    accepted = accept(client, request)
    assert accepted["step"] == "accepted"
    stale = client.post(f"/api/dwat/requests/{request['id']}/advance", json={"to": "on_site", "version": 1})
    assert stale.status_code == 409
    r = confirm(client, accepted, team)
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["request"]["step"] == "team_assigned" and done["request"]["team_id"] == team["id"]
    deployment = client.get(f"/api/dwat-deployments/{done['deployment']['id']}").json()
    assert (deployment["team_id"], deployment["shelter_id"], deployment["state"]) == (team["id"], site["id"], "planned")
    on_site = client.post(f"/api/dwat/requests/{request['id']}/advance",
                          json={"to": "on_site", "version": done["request"]["version"]}).json()
    assert client.get(f"/api/dwat-deployments/{deployment['id']}").json()["state"] == "active"
    assert client.get(f"/api/dwat-teams/{team['id']}").json()["status"] == "on_site"
    closed = client.post(f"/api/dwat/requests/{request['id']}/advance",
                         json={"to": "closed", "version": on_site["version"]}).json()
    assert closed["step"] == "closed"
    assert client.get(f"/api/dwat-deployments/{deployment['id']}").json()["state"] == "ended"
    assert client.get(f"/api/dwat-teams/{team['id']}").json()["status"] == "resting"
    r = client.post(f"/api/dwat/requests/{request['id']}/advance", json={"to": "on_site", "version": closed["version"]})
    assert r.status_code == 422 and "request_final" in codes(r)
    steps = closed["steps"]
    assert [(s["from"], s["to"]) for s in steps] == [(None, "requested"), ("requested", "accepted"),
                                                     ("accepted", "team_assigned"), ("team_assigned", "on_site"),
                                                     ("on_site", "closed")]
    assert all(s["by"] == client.user.username and s["at"] for s in steps)
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)


def test_no_double_assignment(client):
    site = make_site(client)
    a, b = make_team(client, CARE), make_team(client, CARE)
    first = accept(client, make_request(client, site, {"elderly_care": 4}))
    done = confirm(client, first, a).json()
    before = snapshot(client)
    again = confirm(client, done["request"], b)
    assert again.status_code == 409 and "already_assigned" in codes(again)
    other = accept(client, make_request(client, make_site(client), {"elderly_care": 2}))
    before = snapshot(client)
    busy = confirm(client, other, a)  # team a already holds the first request over the same days
    assert busy.status_code == 409 and {"team_busy", "team_already_assigned", "member_overlap"} & codes(busy)
    assert snapshot(client) == before


def test_confirm_refuses_stood_down_team_reversed_dates_and_overlap_and_changes_nothing(client):
    site = make_site(client)
    good, gone = make_team(client, CARE), make_team(client, CARE, status="stood_down")
    request = accept(client, make_request(client, site, {"elderly_care": 4}))
    before = snapshot(client)
    r = confirm(client, request, gone)
    assert r.status_code == 422 and "team_stood_down" in codes(r)
    today = today_jst()
    r = confirm(client, request, good, start_date=str(today + timedelta(days=3)), end_date=str(today))
    assert r.status_code == 422 and "reversed_dates" in codes(r)
    r = confirm(client, request, good, start_date="next week")
    assert r.status_code == 422
    r = confirm(client, request, {"id": "not-a-team"})
    assert r.status_code == 422
    assert snapshot(client) == before
    # a member of the team already deployed over those days (a deployment made outside a request)
    create(client, "dwat-deployments", dict(team_id=good["id"], shelter_id=make_site(client)["id"],
                                            start_date=str(today), end_date=str(today + timedelta(days=4))))
    before = snapshot(client)
    r = confirm(client, request, good)
    assert r.status_code in (409, 422) and {"member_overlap", "team_busy"} & codes(r)
    assert snapshot(client) == before


# ---- suggestions ----

def test_suggestions_rank_the_team_whose_professions_cover_the_needs_and_skip_resting_teams(client):
    site = make_site(client)
    child = make_team(client, CHILD, name="保育チーム")
    care = make_team(client, CARE, name="介護チーム")
    resting = make_team(client, CARE + ["care_worker"], name="休養チーム", status="resting")
    gone = make_team(client, CARE, name="解隊チーム", status="stood_down")
    make_team(client, MENTAL, name="精神保健チーム")
    request = make_request(client, site, {"elderly_care": 12, "children": 1})
    items = client.get("/api/dwat/suggestions").json()["items"]
    mine = next(i for i in items if i["id"] == request["id"])
    ranked = [s["team_id"] for s in mine["suggestions"]]
    assert ranked[0] == care["id"] and child["id"] in ranked
    assert resting["id"] not in ranked and gone["id"] not in ranked
    assert mine["excluded"].get("resting") == 1 and mine["excluded"].get("stood_down") == 1
    top = mine["suggestions"][0]
    assert any("高齢者介護" in r["ja"] and "elderly care" in r["en"] for r in top["reasons"])
    assert top["coverage"] > mine["suggestions"][1]["coverage"]
    # children first: the childcare team wins
    kids = make_request(client, make_site(client), {"children": 8})
    items = client.get("/api/dwat/suggestions").json()["items"]
    assert next(i for i in items if i["id"] == kids["id"])["suggestions"][0]["team_id"] == child["id"]


# ---- rotation plan ----

def _rotation_site(client, teams: int, days: int):
    site = make_site(client)
    for _ in range(teams):
        make_team(client, CARE)
    make_request(client, site, {"elderly_care": 5})
    return site, client.get("/api/dwat/rotation", params={"days": days}).json()


def test_rotation_has_no_gap_with_enough_teams(client):
    site, plan = _rotation_site(client, teams=4, days=12)
    assert plan["gaps"] == []
    row = next(s for s in plan["sites"] if s["site_id"] == site["id"])
    assert all(d["covered"] == 1 for d in row["days"]) and len(row["days"]) == 12
    assert any(d["handover"] for d in row["days"])  # the next team arrives on the last day of the one before
    assert all(d["state"] == "proposed" for d in row["deployments"])


def test_rotation_shows_the_gap_when_teams_run_out_and_the_what_if(client):
    site, plan = _rotation_site(client, teams=1, days=10)
    gaps = [g for g in plan["gaps"] if g["site_id"] == site["id"]]
    assert len(gaps) == 1 and gaps[0]["start"] == str(today_jst() + timedelta(days=5)) and gaps[0]["days"] == 5
    team_id = plan["sites"][0]["deployments"][0]["team_id"]
    what_if = client.get("/api/dwat/rotation", params={"days": 10, "drop_team": team_id}).json()["what_if"]
    assert what_if["replacements"] == [] and what_if["new_gaps"][0]["start"] == str(today_jst())
    assert client.get("/api/dwat/rotation", params={"days": 0}).status_code == 422
    assert client.get("/api/dwat/rotation", params={"drop_team": "x"}).status_code == 422
    assert client.get("/api/dwat/rotation", params={"drop_from": "soon"}).status_code == 422


def test_rotation_keeps_decided_deployments_and_plans_the_handover(client):
    site, a, b = make_site(client), make_team(client, CARE), make_team(client, CARE)
    request = accept(client, make_request(client, site, {"elderly_care": 5}))
    assert confirm(client, request, a).status_code == 201
    plan = client.get("/api/dwat/rotation", params={"days": 8}).json()
    row = next(s for s in plan["sites"] if s["site_id"] == site["id"])
    first, second = row["deployments"]
    assert (first["team_id"], first["decided"], first["state"]) == (a["id"], True, "planned")
    assert (second["team_id"], second["decided"]) == (b["id"], False)
    assert second["start"] == first["end"]  # one day of handover
    assert plan["gaps"] == []


# ---- access ----

def test_hq_viewer_sees_the_board_but_cannot_dispatch(client, client_for):
    site, team = make_site(client), make_team(client, CARE)
    request = accept(client, make_request(client, site, {"elderly_care": 5}))
    viewer = client_for("hq_viewer")
    assert viewer.get("/api/dwat/suggestions").status_code == 200
    assert viewer.get("/dwat").status_code == 200
    assert confirm(viewer, request, team).status_code == 403
    for role in ("dwat_member", "shelter_staff", "district_supporter"):
        assert client_for(role).get("/api/dwat/suggestions").status_code == 403


def test_the_hq_map_gets_each_waiting_request_with_its_step(client):
    site = make_site(client)
    waiting = make_request(client, site, {"children": 3})
    accepted = accept(client, make_request(client, site, {"elderly_care": 2}))
    items = {r["id"]: r for r in client.get("/api/hq/dwat-requests").json()["items"]}
    assert items[waiting["id"]]["step"] == "requested" and items[waiting["id"]]["need_counts"] == {"children": 3}
    assert items[accepted["id"]]["step"] == "accepted"
    confirm(client, accepted, make_team(client, CARE))
    assert accepted["id"] not in {r["id"] for r in client.get("/api/hq/dwat-requests").json()["items"]}


def test_the_flow_is_not_moved_by_the_generic_record_routes(client):
    site, team = make_site(client), make_team(client, CARE)
    r = client.post("/api/dwat-requests", json=dict(shelter_id=site["id"], need_counts={"children": 2}, step="on_site"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "step"
    r = client.post("/api/dwat-requests", json=dict(shelter_id=site["id"], need_counts={"children": 2}, team_id=team["id"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "team_id"
    request = make_request(client, site, {"children": 2})
    r = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": 1, "step": "closed"})
    assert r.status_code == 422
    assert client.get(f"/api/dwat-requests/{request['id']}").json()["step"] == "requested"
