"""Input that used to answer 500 or break a page (hardening issue, item 5 f–g): out-of-range
integers, deeply nested JSON, NaN and Infinity. Every one is a 4xx now, never a 5xx."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import Session

from server.records.registry import RESOURCES
from server.models import District
from server.models.geo import DistrictCreate
from tests.test_access import World

HUGE = "9223372036854775808"


@pytest.fixture
def world(engine):
    return World(engine)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", [f"/api/{r.path}" for r in RESOURCES] + ["/api/audit"])
def test_offset_beyond_any_database_is_422_on_every_list(client, path):
    r = client.get(path, params={"offset": HUGE})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] in ("offset", "limit")
    assert client.get(path, params={"offset": "2147483647"}).status_code == 200


def test_other_integer_parameters_are_bounded(world, client):
    assert client.delete(f"/api/people/{world.p_a_yes.id}", params={"version": HUGE}).status_code == 422
    assert client.get("/api/hq/stream", params={"after": HUGE}).status_code == 422
    # an integer no column can hold, in a body
    r = client.post("/api/shelters", json={"name": "巨大", "kind": "designated", "capacity": 10**12})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "capacity"
    # an integer with more digits than Python converts is malformed JSON, not a crash
    r = client.post("/api/shelters", content=b'{"name": "x", "capacity": ' + b"9" * 5000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 400


@pytest.mark.parametrize("path", ["/api/safety-checks", "/api/sync/mutations", "/api/people"])
def test_json_nested_5000_levels_is_400(client, path):
    for body in (nested(5000), '{"mutations": ' + nested(5000) + "}", '{"a": ' + nested(40) + "}"):
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400, (path, r.status_code, r.text[:200])
        assert "nested" in r.json()["detail"]


def test_json_nested_5000_levels_without_signing_in(anon_client):
    for path in ("/auth/token", "/auth/login"):
        r = anon_client.post(path, content=nested(5000), headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.text[:200])
        assert "nested" in r.json()["errors"][0]["message"]


def test_sync_mutation_with_deep_changes_is_refused(world, client):
    m = {"id": str(uuid.uuid4()), "entity": "plans", "op": "update", "record_id": str(world.plans["A-YES"].id),
         "base_version": 1, "changes": {"route_note": "x"}}
    body = json.dumps({"mutations": [m]})[:-3] + ', "deep": ' + nested(5000) + "}]}"
    r = client.post("/api/sync/mutations", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "nested" in r.json()["detail"]


# ---- 5g: NaN and Infinity ----

SQUARE = [[139.45, 35.70], [139.46, 35.70], [139.46, 35.71], [139.45, 35.71], [139.45, 35.70]]


def district_body(geometry_text: str, code: str = "NAN-1") -> str:
    return ('{"municipality_code": "132144", "code": "%s", "name": "試験町", "kind": "chome", "geometry": %s}'
            % (code, geometry_text))


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_district_geometry_with_non_finite_numbers_is_422(client, bad):
    ring = json.dumps(SQUARE).replace("139.45, 35.7]", f"139.45, {bad}]", 1)
    r = client.post("/api/districts", content=district_body('{"type": "Polygon", "coordinates": [%s]}' % ring),
                    headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"].startswith("geometry.coordinates.0.")
    assert "NaN" in r.json()["errors"][0]["message"]


def test_numeric_fields_refuse_nan_and_the_models_check_geometry(world, client):
    district = client.get(f"/api/districts/{world.a1.id}").json()
    r = client.patch(f"/api/districts/{world.a1.id}", content='{"version": %d, "centroid_lon": Infinity}' % district["version"],
                     headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "centroid_lon"
    r = client.post("/api/shelters", content='{"name": "x", "kind": "designated", "lon": NaN, "lat": 35.7}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lon"
    # the models refuse them too, for callers that do not come through the JSON parser
    base = {"municipality_code": "132144", "code": "x", "name": "x", "kind": "chome"}
    for geometry in ({"type": "Polygon", "coordinates": [[[float("nan"), 35.7], *SQUARE]]},
                     {"type": "Polygon", "coordinates": [[["139.4", 35.7]]]}):
        with pytest.raises(ValueError):
            DistrictCreate.model_validate({**base, "geometry": geometry})
    with pytest.raises(ValueError):
        DistrictCreate.model_validate({**base, "centroid_lon": float("inf"), "centroid_lat": 35.7})
    ok = DistrictCreate.model_validate({**base, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}})
    assert ok.geometry["coordinates"] == [SQUARE]


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_hq_districts_stay_valid_json_with_a_nan_stored_before(world, client, engine):
    sqlite = engine.dialect.name == "sqlite"
    with Session(engine) as s:  # written straight to the database, as old data could be
        d = s.get(District, world.a1.id)
        if sqlite:  # PostgreSQL's json type cannot hold NaN at all; its double precision column can
            d.geometry = {"type": "Polygon", "coordinates": [[[float("nan"), 35.7], *SQUARE]]}
        d.centroid_lon, d.centroid_lat = float("inf"), 35.7
        s.add(d)
        s.commit()
    r = client.get("/api/hq/districts")
    assert r.status_code == 200
    data = _strict(r.text)
    assert "NaN" not in r.text and "Infinity" not in r.text
    feature = next(f for f in data["features"] if f["id"] == str(world.a1.id))
    assert feature["properties"]["centroid"] == [None, 35.7]
    if sqlite:
        assert feature["geometry"]["coordinates"][0][0][0] is None
