"""Demo accounts exist only in demo mode, one per role, and can sign in."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlmodel import Session

from server.auth.demo_users import seed_demo_users
from server.demo_city import build_demo_city, load_demo_city
from server.models.auth import Role


def test_demo_accounts_only_in_demo_mode(engine):
    with Session(engine) as s:
        with pytest.raises(PermissionError):
            seed_demo_users(s, demo_mode=False)


def test_one_account_per_role_that_signs_in_with_its_scope(engine, anon_client):
    load_demo_city(engine, build_demo_city(people=300))
    with Session(engine) as s:
        accounts = seed_demo_users(s, demo_mode=True)
        s.commit()
    assert {a.role for a in accounts} == set(Role)
    minsei = next(a for a in accounts if a.role == Role.district_supporter)
    r = anon_client.post("/auth/token", json={"username": minsei.username, "password": minsei.password})
    assert r.status_code == 201
    me = anon_client.get("/api/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()
    assert me["role"] == "district_supporter" and len(me["scope"]["district_ids"]) > 1  # area + its 町丁目
    # a second demo start gives new passwords and signs old devices out
    with Session(engine) as s:
        again = seed_demo_users(s, demo_mode=True)
        s.commit()
    assert next(a for a in again if a.role == Role.district_supporter).password != minsei.password
    assert anon_client.get("/api/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).status_code == 401


def _sign_in(anon_client, account) -> dict:
    r = anon_client.post("/auth/token", json={"username": account.username, "password": account.password})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _first_sync(anon_client, headers) -> list[dict]:
    """Everything the field app's first sync receives: the feed's snapshot, page after page."""
    items, params = [], {"limit": 500}
    for _ in range(100):
        r = anon_client.get("/api/sync/changes", params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        if not page["more"]:
            return items
        params = {"limit": 500, "cursor": page["cursor"], "scope_key": page["scope_key"]}
    raise AssertionError("the feed never ended")


def test_demo_dwat_syncs_its_deployment_shelter_and_people_at_once(engine, anon_client):
    # The demo as `tsunagu demo` starts it: today's city, normal mode (consenting people only).
    city = build_demo_city(people=300)
    load_demo_city(engine, city)
    with Session(engine) as s:
        accounts = {a.role: a for a in seed_demo_users(s, demo_mode=True)}
        s.commit()
    dwat = _sign_in(anon_client, accounts[Role.dwat_member])
    me = anon_client.get("/api/me", headers=dwat).json()
    assert len(me["scope"]["deployment_ids"]) == 1, me
    items = _first_sync(anon_client, dwat)
    by_entity: dict[str, dict] = {}
    for item in items:
        by_entity.setdefault(item["entity"], {})[item["id"]] = item["data"]
    active = [d for d in by_entity["dwat-deployments"].values() if d["state"] == "active"]
    assert len(active) == 1 and active[0]["id"] == me["scope"]["deployment_ids"][0]
    deployment = active[0]
    assert deployment["start_date"] < date.today().isoformat() <= deployment["end_date"]  # on site, not day 1
    assert deployment["shelter_id"] in by_entity["shelters"]
    people = by_entity.get("people", {})
    assert len(people) >= 5  # the people planned for its shelter, who consented
    planned_there = {p["person_id"] for p in by_entity["plans"].values()
                     if deployment["shelter_id"] in (p["destination_shelter_id"], p["alternate_shelter_id"])}
    assert set(people) <= planned_there and planned_there
    reports = by_entity.get("dwat-activity-reports", {})
    assert len(reports) == 2 and {r["deployment_id"] for r in reports.values()} == {deployment["id"]}
    # its shelter's request, assigned to it; the others' requests are not its business
    requests = by_entity.get("dwat-requests", {})
    assert requests and all(r["shelter_id"] == deployment["shelter_id"] for r in requests.values())
    assert any(r["deployment_id"] == deployment["id"] and r["state"] == "assigned" for r in requests.values())


@pytest.mark.parametrize("role", [Role.welfare_staff, Role.hq_viewer])
def test_demo_office_and_hq_see_open_requests_and_reports(engine, anon_client, role):
    load_demo_city(engine, build_demo_city(people=300))
    with Session(engine) as s:
        account = next(a for a in seed_demo_users(s, demo_mode=True) if a.role == role)
        s.commit()
    headers = _sign_in(anon_client, account)
    requests = anon_client.get("/api/dwat-requests", params={"limit": 100}, headers=headers).json()["items"]
    assert Counter(r["state"] for r in requests) == {"open": 4, "assigned": 2, "closed": 1}
    assert {r["priority"] for r in requests if r["state"] == "open"} == {"high", "medium", "low"}
    reports = anon_client.get("/api/dwat-activity-reports", params={"limit": 100}, headers=headers).json()["items"]
    assert len(reports) == 7 and all(r["people_assessed"] + r["consultations"] > 0 for r in reports)
    deployments = anon_client.get("/api/dwat-deployments", params={"limit": 100}, headers=headers).json()["items"]
    assert Counter(d["state"] for d in deployments) == {"active": 2, "planned": 1, "ended": 1}
    # the HQ map draws the two teams on site and the one planned
    current = anon_client.get("/api/hq/deployments", headers=headers).json()["items"]
    assert len(current) == 3
