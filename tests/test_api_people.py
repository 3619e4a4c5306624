"""People (要配慮者) over the JSON API: create, list, filter, detail, versioned update."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import create, person, now_jst


def test_create_and_read_person(client):
    created = create(client, "people", person(register_no="A-001", municipality_code="13214"))
    assert created["version"] == 1
    assert created["municipality_code"] == "132144"  # 5-digit form gains its check digit
    assert created["emergency_contacts"][0]["relation"] == "長男"
    detail = client.get(f"/api/people/{created['id']}").json()
    assert detail["register_no"] == "A-001"
    assert detail["latest_safety"] is None


def test_list_filters_and_pagination(client):
    district = create(client, "districts", dict(municipality_code="132144", code="D1", name="戸倉一丁目", kind="chome"))
    for i in range(7):
        create(client, "people", person(register_no=f"P-{i:03d}", district_id=district["id"] if i < 5 else None,
                                        consent="yes" if i % 2 == 0 else "no",
                                        consent_date="2025-04-01" if i % 2 == 0 else None))
    page = client.get("/api/people", params={"district_id": district["id"], "limit": 2}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert [p["register_no"] for p in page["items"]] == ["P-000", "P-001"]
    page2 = client.get("/api/people", params={"district_id": district["id"], "limit": 2, "offset": 4}).json()
    assert [p["register_no"] for p in page2["items"]] == ["P-004"]
    consenting = client.get("/api/people", params={"consent": "yes"}).json()
    assert consenting["total"] == 4


def test_kana_prefix_search(client):
    create(client, "people", person(name_kana="ヤマダ タロウ"))
    create(client, "people", person(name_kana="ヤマモト ハナ"))
    create(client, "people", person(name_kana="スズキ イチロウ"))
    names = [p["name_kana"] for p in client.get("/api/people", params={"name_kana": "ヤマ"}).json()["items"]]
    assert sorted(names) == ["ヤマダ タロウ", "ヤマモト ハナ"]


def test_update_bumps_version_and_stale_update_gets_409_with_current(client):
    p = create(client, "people", person())
    r = client.patch(f"/api/people/{p['id']}", json={"version": 1, "phone": "042-111-2222"})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["phone"] == "042-111-2222"
    stale = client.patch(f"/api/people/{p['id']}", json={"version": 1, "phone": "042-199-9999"})
    assert stale.status_code == 409
    assert stale.json()["current"]["phone"] == "042-111-2222"
    assert stale.json()["current"]["version"] == 2
    assert client.get(f"/api/people/{p['id']}").json()["phone"] == "042-111-2222"


def test_latest_safety_status_is_the_latest_event_by_observed_time(client):
    p = create(client, "people", person())
    create(client, "safety-checks", dict(person_id=p["id"], outcome="needs_help", observed_at=now_jst(30)))
    latest = create(client, "safety-checks", dict(person_id=p["id"], outcome="evacuated", observed_at=now_jst(10)))
    # recorded later but observed earlier: does not become current
    create(client, "safety-checks", dict(person_id=p["id"], outcome="unreachable", observed_at=now_jst(60)))
    detail = client.get(f"/api/people/{p['id']}").json()
    assert detail["latest_safety"]["outcome"] == "evacuated"
    assert detail["latest_safety"]["check_id"] == latest["id"]
    listed = client.get("/api/people").json()["items"][0]
    assert listed["latest_safety"]["outcome"] == "evacuated"


def test_unknown_person_is_404_and_bad_id_is_404(client):
    assert client.get(f"/api/people/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/people/not-a-uuid").status_code == 404


@pytest.mark.parametrize("override, field", [
    ({"birth_date": "2999-01-01"}, "birth_date"),
    ({"birth_date": "1940-02-30"}, "birth_date"),
    ({"sex": "robot"}, "sex"),
    ({"lon": 2.35, "lat": 48.85}, "body"),  # Paris is not in Japan
    ({"lon": 139.4, "lat": None}, "body"),  # only one coordinate
    ({"municipality_code": "132145"}, "municipality_code"),  # wrong check digit
    ({"name": ""}, "name"),
    ({"reasons": ["flying"]}, "reasons.0"),
    ({"preferred_language": "xx"}, "preferred_language"),
    ({"consent": "yes", "consent_date": None}, "body"),
])
def test_invalid_person_gets_422_with_the_field(client, override, field):
    r = client.post("/api/people", json=person(**override))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert client.get("/api/people").json()["total"] == 0


def test_missing_required_fields_are_each_named(client):
    r = client.post("/api/people", json={"name": "名前だけ"})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"register_no", "birth_date", "sex", "address", "municipality_code"} <= fields


def test_duplicate_register_number_is_422_not_500(client):
    create(client, "people", person(register_no="DUP-1"))
    r = client.post("/api/people", json=person(register_no="DUP-1"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "register_no"


def test_unknown_district_reference_is_422(client):
    r = client.post("/api/people", json=person(district_id=str(uuid.uuid4())))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "district_id"


def test_update_validates_the_merged_record(client):
    p = create(client, "people", person())
    r = client.patch(f"/api/people/{p['id']}", json={"version": 1, "birth_date": "2999-01-01"})
    assert r.status_code == 422
    r = client.patch(f"/api/people/{p['id']}", json={"version": 1, "favourite_colour": "blue"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "favourite_colour"
    r = client.patch(f"/api/people/{p['id']}", json={"phone": "1"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "version"
    assert client.get(f"/api/people/{p['id']}").json()["version"] == 1


def test_client_made_id_is_kept_and_a_second_create_with_it_is_409(client):
    own = str(uuid.uuid4())
    created = create(client, "people", person(id=own))
    assert created["id"] == own
    again = client.post("/api/people", json=person(id=own))
    assert again.status_code == 409 and again.json()["current"]["id"] == own
