"""Shelters (with derived seismic class and current state) and evacuation plans (with history)."""

from __future__ import annotations

import pytest

from tests.factories import create, now_jst, person, shelter


@pytest.mark.parametrize("fields, expected", [
    ({"building_permit_date": "1981-06-01"}, "new_standard"),
    ({"building_permit_date": "1981-05-31"}, "old_undiagnosed"),
    ({"building_permit_date": "1970-01-01", "retrofit_done": True}, "old_retrofitted"),
    ({"building_permit_date": "1970-01-01", "seismic_diagnosis_done": True, "is_value": 0.75}, "old_low_risk"),
    ({"building_permit_date": "1970-01-01", "seismic_diagnosis_done": True, "is_value": 0.6}, "old_low_risk"),
    ({"building_permit_date": "1970-01-01", "seismic_diagnosis_done": True, "is_value": 0.45}, "old_some_risk"),
    ({"building_permit_date": "1970-01-01", "seismic_diagnosis_done": True, "is_value": 0.2}, "old_high_risk"),
    ({"building_permit_date": None}, "unknown"),
])
def test_seismic_class_is_derived(client, fields, expected):
    s = create(client, "shelters", shelter(**fields))
    assert s["seismic_class"] == expected
    listed = client.get("/api/shelters", params={"seismic_class": expected}).json()
    assert [x["id"] for x in listed["items"]] == [s["id"]]


def test_seismic_class_follows_an_update(client):
    s = create(client, "shelters", shelter(building_permit_date="1975-01-01"))
    assert s["seismic_class"] == "old_undiagnosed"
    r = client.patch(f"/api/shelters/{s['id']}", json={"version": 1, "retrofit_done": True})
    assert r.json()["seismic_class"] == "old_retrofitted"


def test_incomplete_fields_are_listed(client):
    s = create(client, "shelters", shelter(capacity=None, building_permit_date=None, target_groups=[]))
    assert set(s["incomplete"]) == {"capacity", "building_permit_date", "target_groups"}


@pytest.mark.parametrize("override, field", [
    ({"capacity": -1}, "capacity"),
    ({"is_value": 3.5, "seismic_diagnosis_done": True}, "is_value"),
    ({"is_value": -0.1, "seismic_diagnosis_done": True}, "is_value"),
    ({"kind": "hotel"}, "kind"),
    ({"target_groups": ["pets"]}, "target_groups.0"),
    ({"common_id": "X123"}, "common_id"),
    ({"lon": 0, "lat": 0}, "body"),
])
def test_invalid_shelter_gets_422(client, override, field):
    r = client.post("/api/shelters", json=shelter(**override))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_shelter_current_state_comes_from_the_latest_report(client):
    s = create(client, "shelters", shelter())
    assert s["current"] is None
    create(client, "shelter-reports", dict(shelter_id=s["id"], observed_at=now_jst(40), open_state="preparing"))
    create(client, "shelter-reports", dict(shelter_id=s["id"], observed_at=now_jst(5), open_state="open", occupancy=23,
                                           occupancy_by_group={"elderly": 15, "disabled": 5},
                                           lifelines={"power": "out", "water": "ok"}, needs=["介護職員2名", "紙おむつ"]))
    current = client.get(f"/api/shelters/{s['id']}").json()["current"]
    assert current["open_state"] == "open" and current["occupancy"] == 23


def test_report_groups_may_not_exceed_occupancy(client):
    s = create(client, "shelters", shelter())
    r = client.post("/api/shelter-reports", json=dict(shelter_id=s["id"], observed_at=now_jst(), open_state="open",
                                                      occupancy=3, occupancy_by_group={"elderly": 5}))
    assert r.status_code == 422


def test_plan_every_save_keeps_the_previous_version(client):
    p = create(client, "people", person())
    s = create(client, "shelters", shelter())
    plan = create(client, "plans", dict(person_id=p["id"], status="drafting", destination_shelter_id=s["id"],
                                        supporters=[{"name": "近所 一郎", "relation": "近隣住民", "phone": "042-100-0001"}],
                                        care={"how_to_help": "車いすを押す", "items_to_carry": "常用薬"}))
    r = client.patch(f"/api/plans/{plan['id']}", json={"version": 1, "route_note": "市道を北へ300m"})
    assert r.status_code == 200
    r = client.patch(f"/api/plans/{plan['id']}", json={"version": 2, "status": "done", "consent": True,
                                                       "consent_date": "2026-04-01"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    history = client.get(f"/api/plans/{plan['id']}/history").json()["items"]
    assert [h["version"] for h in history] == [2, 1]
    assert history[0]["data"]["route_note"] == "市道を北へ300m" and history[0]["data"]["status"] == "drafting"
    assert history[1]["data"]["route_note"] == ""
    assert history[1]["data"]["supporters"][0]["name"] == "近所 一郎"
    assert history[1]["data"]["care"]["how_to_help"] == "車いすを押す"


def test_plan_rules(client):
    p = create(client, "people", person())
    s = create(client, "shelters", shelter())
    four = [{"name": f"支援者{i}"} for i in range(4)]
    r = client.post("/api/plans", json=dict(person_id=p["id"], supporters=four))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "supporters"
    r = client.post("/api/plans", json=dict(person_id=p["id"], status="done"))
    assert r.status_code == 422 and "supporters" in r.json()["errors"][0]["message"]
    r = client.post("/api/plans", json=dict(person_id=p["id"], destination_shelter_id=s["id"], alternate_shelter_id=s["id"]))
    assert r.status_code == 422
    create(client, "plans", dict(person_id=p["id"]))
    r = client.post("/api/plans", json=dict(person_id=p["id"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "person_id"  # one plan per person
    assert client.get("/api/plans/00000000-0000-0000-0000-000000000000/history").status_code == 404
