"""The sync protocol: changes feed, idempotent mutations, merges and conflicts (docs/sync.md)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from server.models import SafetyCheck
from server.models.auth import AuditEntry, ModeSwitch
from server.models.sync import SyncConflict
from tests.factories import create, now_jst
from tests.test_access import World


@pytest.fixture
def world(engine):
    return World(engine)


def pull_all(c, cursor: str = "", scope_key: str | None = None, limit: int = 500) -> tuple[list[dict], str, str]:
    items: list[dict] = []
    while True:
        params = {"cursor": cursor, "limit": limit}
        if scope_key:
            params["scope_key"] = scope_key
        r = c.get("/api/sync/changes", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        if page.get("reset"):
            return items, "RESET", page["scope_key"]
        items += page["items"]
        cursor, scope_key = page["cursor"], page["scope_key"]
        if not page["more"]:
            return items, cursor, scope_key


def ids(items, entity, op="upsert"):
    return {i["id"] for i in items if i["entity"] == entity and i["op"] == op}


def push(c, *mutations, device="tablet-1"):
    r = c.post("/api/sync/mutations", json={"device_id": device, "mutations": list(mutations)})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def safety(person_id, outcome="safe_home", **over):
    data = {"id": str(uuid.uuid4()), "person_id": str(person_id), "outcome": outcome, "observed_at": now_jst()}
    data.update(over)
    return {"id": str(uuid.uuid4()), "entity": "safety-checks", "op": "create", "data": data}


def test_snapshot_is_the_scope_and_paging_continues_into_changes(world, client_for, client):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    items, cursor, key = pull_all(supporter, limit=2)  # tiny pages: the snapshot spans many
    assert ids(items, "people") == {str(world.p_a_yes.id)}  # normal mode: consenting people of area A only
    assert ids(items, "plans") == {str(world.plans["A-YES"].id)}
    assert len(ids(items, "shelters")) == 2 and len(ids(items, "districts")) == 5
    assert "reason_note" not in next(i for i in items if i["entity"] == "people")["data"]
    # nothing new: an empty page, same cursor
    again, cursor2, _ = pull_all(supporter, cursor, key)
    assert again == [] and cursor2 == cursor
    # a change made elsewhere arrives after the cursor
    check = create(client, "safety-checks", dict(person_id=str(world.p_a_yes.id), outcome="needs_help", observed_at=now_jst()))
    create(client, "safety-checks", dict(person_id=str(world.p_b_yes.id), outcome="safe_home", observed_at=now_jst()))
    later, _, _ = pull_all(supporter, cursor, key)
    assert ids(later, "safety-checks") == {check["id"]}  # the one in area B is not sent
    assert ids(later, "people") == {str(world.p_a_yes.id)}  # with its person's new latest status
    person = next(i for i in later if i["entity"] == "people")
    assert person["data"]["latest_safety"]["outcome"] == "needs_help"


def test_a_sync_page_is_audited(world, client_for, engine):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    pull_all(supporter)
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "sync")).all()
    assert entries and str(world.p_a_yes.id) in entries[0].record_ids


def test_retried_batch_changes_nothing(world, client_for, engine):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    batch = [safety(world.p_a_yes.id), safety(world.p_a_yes.id, "injured")]
    first = push(supporter, *batch)
    second = push(supporter, *batch)
    assert [r["status"] for r in first] == ["applied", "applied"]
    assert [r["status"] for r in second] == ["duplicate", "duplicate"]
    assert [r["record"]["id"] for r in second] == [r["record"]["id"] for r in first]
    with Session(engine) as s:
        assert len(s.exec(select(SafetyCheck)).all()) == 2


def test_mutation_id_reused_with_other_content_is_rejected(world, client_for):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    m = safety(world.p_a_yes.id)
    push(supporter, m)
    forged = {**m, "data": {**m["data"], "outcome": "injured"}}
    result = push(supporter, forged)[0]
    assert result["status"] == "rejected" and "reused" in result["errors"][0]["message"]


def test_bad_mutations_are_rejected_with_reasons_and_the_rest_applies(world, client_for, engine):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    future = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()
    results = push(
        supporter,
        safety(world.p_a_yes.id),                                # fine
        safety(world.p_b_yes.id),                                # person outside scope
        safety(world.p_a_yes.id, observed_at=future),            # device clock in the future
        {"id": "not-a-uuid", "entity": "safety-checks", "op": "create", "data": {}},  # corrupt
        {"id": str(uuid.uuid4()), "entity": "spaceships", "op": "create", "data": {}},
        {"id": str(uuid.uuid4()), "entity": "people", "op": "create", "data": {"name": "x"}},  # role may not
        "garbage",
        safety(world.p_a_yes.id, outcome="evacuated"),           # fine
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected", "rejected", "rejected",
                                              "rejected", "applied"]
    assert results[1]["errors"] == [{"field": "person_id", "message": f"no person with id {world.p_b_yes.id}"}]
    assert results[2]["errors"][0]["field"] == "observed_at" and "future" in results[2]["errors"][0]["message"]
    assert results[3]["errors"][0]["field"] == "id"
    assert "spaceships" in results[4]["errors"][0]["message"]
    assert results[5]["http_status"] == 403
    with Session(engine) as s:
        assert {c.outcome for c in s.exec(select(SafetyCheck)).all()} == {"safe_home", "evacuated"}
    # a rejected mutation retried gets the same rejection, and still writes nothing
    again = push(supporter, safety(world.p_b_yes.id) | {"id": results[1]["id"]})
    assert again[0]["status"] in ("rejected", "duplicate")


def test_oversized_batch_is_413(world, client_for):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    r = supporter.post("/api/sync/mutations", json={"mutations": [safety(world.p_a_yes.id) for _ in range(101)]})
    assert r.status_code == 413 and r.json()["max_batch"] == 100
    assert supporter.post("/api/sync/mutations", json={"mutations": "x"}).status_code == 422


def test_two_devices_edit_the_same_plan_field_offline(world, client_for, engine):
    plan = world.plans["A-YES"]
    tablet_1 = client_for("welfare_staff")
    tablet_2 = client_for("welfare_staff")
    edit = lambda text, field="route_note": {  # noqa: E731
        "id": str(uuid.uuid4()), "entity": "plans", "op": "update", "record_id": str(plan.id), "base_version": 1,
        "base": {field: ""}, "changes": {field: text}}
    first = push(tablet_1, edit("北の坂道を使う"), device="tablet-1")[0]
    assert first["status"] == "applied" and first["record"]["version"] == 2
    second = push(tablet_2, edit("南の大通りを使う"), device="tablet-2")[0]
    assert second["status"] == "merged" and second["conflict_fields"] == ["route_note"]
    assert second["record"]["route_note"] == "北の坂道を使う"  # the server value stays
    with Session(engine) as s:
        conflict = s.exec(select(SyncConflict)).one()
    assert (conflict.base_value, conflict.server_value, conflict.client_value) == ("", "北の坂道を使う", "南の大通りを使う")
    assert conflict.device_id == "tablet-2"
    # a field only the second device changed merges without a conflict
    third = push(tablet_2, edit("高齢者等避難で出発", field="timing_note"), device="tablet-2")[0]
    assert third["status"] == "applied" and third["record"]["timing_note"] == "高齢者等避難で出発"
    assert third["record"]["route_note"] == "北の坂道を使う"
    # welfare staff resolve in favour of the device
    listed = tablet_1.get("/api/conflicts").json()["items"]
    assert [c["id"] for c in listed] == [str(conflict.id)]
    resolved = tablet_1.post(f"/api/conflicts/{conflict.id}/resolve", json={"choice": "client"})
    assert resolved.status_code == 200 and resolved.json()["record"]["route_note"] == "南の大通りを使う"
    assert tablet_1.get("/api/conflicts").json()["items"] == []
    assert tablet_1.post(f"/api/conflicts/{conflict.id}/resolve", json={"choice": "server"}).status_code == 409
    history = tablet_1.get(f"/api/plans/{plan.id}/history").json()["items"]
    assert "北の坂道を使う" in [h["data"]["route_note"] for h in history]  # the losing value is kept too


def test_update_without_base_on_a_changed_record_is_a_conflict_not_an_overwrite(world, client_for, engine):
    plan = world.plans["A-YES"]
    staff = client_for("welfare_staff")
    staff.patch(f"/api/plans/{plan.id}", json={"version": 1, "route_note": "server edit"})
    result = push(staff, {"id": str(uuid.uuid4()), "entity": "plans", "op": "update", "record_id": str(plan.id),
                          "base_version": 1, "changes": {"route_note": "device edit"}})[0]
    assert result["status"] == "merged" and result["record"]["route_note"] == "server edit"


def test_supporters_may_not_edit_plans_through_sync(world, client_for):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    result = push(supporter, {"id": str(uuid.uuid4()), "entity": "plans", "op": "update",
                              "record_id": str(world.plans["A-YES"].id), "base_version": 1, "changes": {"route_note": "x"}})[0]
    assert result["status"] == "rejected" and result["http_status"] == 403


def test_scope_shrink_resets_and_consent_withdrawal_drops(world, client_for, client, engine):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    with Session(engine) as s:
        s.add(ModeSwitch(mode="disaster", reason="試験"))
        s.commit()
    items, cursor, key = pull_all(supporter)
    assert ids(items, "people") == {str(world.p_a_yes.id), str(world.p_a_no.id)}
    # back to normal mode: the scope changed, the device must re-sync and sweep
    client.post("/api/mode", json={"mode": "normal", "reason": "応急対応終了"})
    _, marker, new_key = pull_all(supporter, cursor, key)
    assert marker == "RESET" and new_key != key
    fresh, cursor, key = pull_all(supporter)
    assert ids(fresh, "people") == {str(world.p_a_yes.id)}  # A-NO (no consent) is not in the new snapshot
    # consent withdrawn: the record itself leaves the scope → a drop
    person = client.get(f"/api/people/{world.p_a_yes.id}").json()
    client.patch(f"/api/people/{world.p_a_yes.id}", json={"version": person["version"], "consent": "no",
                                                           "consent_date": None})
    later, _, _ = pull_all(supporter, cursor, key)
    assert ids(later, "people", "drop") == {str(world.p_a_yes.id)}
    assert ids(later, "people") == set()


def test_reassignment_resets(world, client_for, client):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    _, cursor, key = pull_all(supporter)
    user = client.get("/api/users").json()["items"]
    me = next(u for u in user if u["id"] == str(supporter.user.id))
    client.patch(f"/api/users/{me['id']}", json={"version": me["version"], "district_ids": [str(world.area_b.id)]})
    _, marker, _ = pull_all(supporter, cursor, key)
    assert marker == "RESET"
    fresh, _, _ = pull_all(supporter)
    assert ids(fresh, "people") == {str(world.p_b_yes.id)}


def test_deleting_a_person_sends_a_tombstone(world, client_for, client):
    staff = client_for("welfare_staff")
    _, cursor, key = pull_all(staff)
    lonely = create(client, "people", {"register_no": "DEL-1", "municipality_code": "132144", "name": "削除 予定",
                                       "birth_date": "1930-01-01", "sex": "male", "address": "住所"})
    assert client.delete(f"/api/people/{lonely['id']}").status_code == 204
    later, _, _ = pull_all(staff, cursor, key)
    assert {i["op"] for i in later if i["id"] == lonely["id"]} == {"delete"}
    # a person with a plan cannot be deleted
    assert client.delete(f"/api/people/{world.p_a_yes.id}").status_code == 409


def test_stale_cursors_are_410_with_reset(world, client_for):
    staff = client_for("welfare_staff")
    _, cursor, key = pull_all(staff)
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for bad in ("garbage!!", _enc({**decoded, "e": "otherdb"}), _enc({**decoded, "s": decoded["s"] + 1000})):
        r = staff.get("/api/sync/changes", params={"cursor": bad})
        assert r.status_code == 410 and r.json()["reset"] is True
    assert staff.get("/api/sync/changes", params={"limit": 0}).status_code == 422
    assert staff.get("/api/sync/changes", params={"since": "x"}).status_code == 422


def _enc(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_anonymous_and_ended_dwat_cannot_sync(world, anon_client, client_for, engine):
    assert anon_client.get("/api/sync/changes").status_code == 401
    assert anon_client.post("/api/sync/mutations", json={"mutations": []}).status_code == 401
    dwat = client_for("dwat_member", **world.scope_for("dwat_member"))
    assert dwat.get("/api/sync/changes").status_code == 200
    from server.models import DwatDeployment
    with Session(engine) as s:
        d = s.get(DwatDeployment, world.deployment.id)
        d.state = "ended"
        s.add(d)
        s.commit()
    assert dwat.get("/api/sync/changes").status_code == 403
