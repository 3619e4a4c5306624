"""A 民生委員 learns on a visit who helps and how to reach them: they may correct a plan's
supporters (and their phone numbers) in their district — through the API and offline through
sync — and nothing else of the plan (issue: field app for real hands, item 7)."""

import uuid

from sqlmodel import Session

from server.models import EvacuationPlan
from tests.test_access import set_mode, world, as_role  # noqa: F401  (fixtures)

SUPPORTERS = [{"name": "山田 花子", "relation": "近隣住民", "address": "", "phone": "090-1234-5678"}]


def _version(engine, plan_id) -> int:
    with Session(engine) as s:
        return s.get(EvacuationPlan, plan_id).version


def test_a_minsei_corrects_the_supporters_of_a_plan_in_their_district(engine, world, as_role):  # noqa: F811
    c = as_role("district_supporter")
    plan = world.plans["A-YES"]
    r = c.patch(f"/api/plans/{plan.id}", json={"version": _version(engine, plan.id), "supporters": SUPPORTERS})
    assert r.status_code == 200, r.text
    assert r.json()["supporters"][0]["phone"] == "090-1234-5678"
    assert "conditions" not in r.json()["care"]  # still hidden from them in the answer
    with Session(engine) as s:
        assert s.get(EvacuationPlan, plan.id).care["conditions"] == "COPD"  # what they cannot see is kept


def test_nothing_else_of_the_plan_and_nothing_outside_their_district(engine, world, as_role):  # noqa: F811
    c = as_role("district_supporter")
    plan = world.plans["A-YES"]
    r = c.patch(f"/api/plans/{plan.id}", json={"version": _version(engine, plan.id), "route_note": "裏口から",
                                               "supporters": SUPPORTERS})
    assert r.status_code == 403
    assert [e["field"] for e in r.json()["errors"]] == ["route_note"]
    assert _version(engine, plan.id) == 1  # nothing changed
    # a field sent with the value it already has is not a change
    same = c.patch(f"/api/plans/{plan.id}", json={"version": 1, "route_note": "", "supporters": SUPPORTERS})
    assert same.status_code == 200, same.text
    # area B, and a person who did not consent (normal mode): not found, as for any id they cannot use
    for code in ("B-YES", "A-NO"):
        other = world.plans[code]
        assert c.patch(f"/api/plans/{other.id}", json={"version": 1, "supporters": SUPPORTERS}).status_code == 404
    # other field roles still may not change plans at all
    assert as_role("shelter_staff").patch(f"/api/plans/{plan.id}", json={"version": 2}).status_code == 403


def test_offline_edits_arrive_through_sync_and_other_fields_are_rejected(engine, world, as_role):  # noqa: F811
    c = as_role("district_supporter")
    plan = world.plans["A-YES"]

    def mutation(changes):
        return {"id": str(uuid.uuid4()), "entity": "plans", "op": "update", "record_id": str(plan.id),
                "base_version": 1, "base": {k: None for k in changes}, "changes": changes}

    ok = mutation({"supporters": SUPPORTERS})
    bad = mutation({"timing_note": "すぐに"})
    r = c.post("/api/sync/mutations", json={"device_id": "tablet-1", "mutations": [ok, bad]})
    assert r.status_code == 200, r.text
    results = {m["id"]: m for m in r.json()["results"]}
    assert results[ok["id"]]["status"] == "applied"
    assert results[bad["id"]]["status"] == "rejected"
    with Session(engine) as s:
        stored = s.get(EvacuationPlan, plan.id)
        assert stored.supporters[0]["phone"] == "090-1234-5678" and stored.timing_note == ""


def test_api_me_names_the_fields_a_minsei_may_change(world, as_role):  # noqa: F811
    me = as_role("district_supporter").get("/api/me").json()
    assert "plans.update" in me["actions"]
    assert me["writable"] == {"plans.update": ["supporters"]}
    staff = as_role("welfare_staff").get("/api/me").json()
    assert "plans.update" in staff["actions"] and staff["writable"] == {}
