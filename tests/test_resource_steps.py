"""The steps of a generic resource request (server/api/resources.py), each on its own: opening the
call (role, path id), the list query, the delete version, each operation in a transaction with
its audit entry, and the routes `make_routes` lists."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select
from starlette.requests import Request

from server.api.resources import (Call, ListQuery, ResourceHandlers, create_record, delete_record, delete_version,
                                  event_is_immutable, list_page, list_query, make_routes, mark_refusal, open_call,
                                  read_record, update_record)
from server.auth.principal import load_principal
from server.errors import ApiError
from server.models import Person
from server.models.auth import AuditEntry
from server.records.access import Access
from server.records.registry import PEOPLE, PLANS, SAFETY_CHECKS, SHELTERS
from server.auth.policy import rule_for
from tests.factories import person, shelter


def _request(principal, path_params=None) -> Request:
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"",
             "path_params": path_params or {}, "client": ("192.0.2.7", 1234), "state": {"principal": principal}}
    return Request(scope)


@pytest.fixture
def principal_of_role(engine, make_user):
    def make(role: str, **fields):
        user = make_user(role, **fields)
        with Session(engine) as s:
            return load_principal(s, user)
    return make


def _call(principal, resource, action, row_id=None) -> Call:
    return Call(resource, action, Access(principal, rule_for(resource.path, principal)), "192.0.2.7", row_id)


def _audit(session, action) -> list[AuditEntry]:
    return session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()


# ---- before the transaction ----

def test_open_call_gives_the_access_and_the_path_id(principal_of_role):
    admin = principal_of_role("admin")
    row_id = uuid.uuid4()
    call = open_call(_request(admin, {"id": str(row_id)}), PEOPLE, "read", with_id=True)
    assert (call.resource, call.action, call.row_id, call.client) == (PEOPLE, "read", row_id, "192.0.2.7")
    assert call.access.principal == admin and call.access.rule is rule_for("people", admin)
    assert open_call(_request(admin), PEOPLE, "list").row_id is None


def test_open_call_checks_the_role_before_the_id(principal_of_role):
    viewer = principal_of_role("hq_viewer")
    with pytest.raises(ApiError) as refused:
        open_call(_request(viewer, {"id": "not-a-uuid"}), PEOPLE, "create", with_id=True)
    assert refused.value.status == 403
    with pytest.raises(ApiError) as unknown:
        open_call(_request(principal_of_role("admin"), {"id": "not-a-uuid"}), PEOPLE, "read", with_id=True)
    assert (unknown.value.status, unknown.value.detail) == (404, "record not found")


def test_open_call_refuses_the_signed_out():
    with pytest.raises(ApiError) as refused:
        open_call(_request(None), PEOPLE, "list")
    assert refused.value.status == 401


def test_mark_refusal_names_the_attempt(principal_of_role):
    row_id = uuid.uuid4()
    request = _request(principal_of_role("admin"))
    mark_refusal(request, _call(request.state.principal, PEOPLE, "update", row_id))
    assert request.state.audit_refusal == ("update", "people", [row_id])


def test_list_query_parses_filters_limit_and_offset(principal_of_role):
    call = _call(principal_of_role("admin"), PEOPLE, "list")
    query = list_query({"limit": "10", "offset": "20", "register_no": "T-1"}, call, 100)
    assert (query.limit, query.offset, len(query.clauses)) == (10, 20, 1)
    with pytest.raises(ApiError) as bad:
        list_query({"limit": "101"}, call, 100)
    assert bad.value.status == 422 and bad.value.errors[0]["field"] == "limit"


def test_list_query_refuses_a_filter_on_a_field_the_role_cannot_see(principal_of_role):
    call = _call(principal_of_role("hq_viewer"), PEOPLE, "list")
    with pytest.raises(ApiError) as hidden:
        list_query({"name_kana": "ア"}, call, 100)
    assert hidden.value.status == 400


@pytest.mark.parametrize("raw,version", [(None, None), ("3", 3)])
def test_delete_version_reads_the_optional_version(raw, version):
    assert delete_version({} if raw is None else {"version": raw}) == version


@pytest.mark.parametrize("raw", ["0", "x", str(2**31)])
def test_delete_version_refuses_what_is_not_a_version(raw):
    with pytest.raises(ApiError) as bad:
        delete_version({"version": raw})
    assert bad.value.status == 422 and bad.value.errors == [{"field": "version", "message": "an integer"}]


# ---- the operations, each in a transaction ----

def test_create_read_update_delete_each_write_their_audit_entry(engine, principal_of_role):
    admin = principal_of_role("admin")
    with Session(engine, expire_on_commit=False) as s:
        item, created = create_record(s, _call(admin, PEOPLE, "create"), person())
        s.commit()
        assert created and item["version"] == 1
        row_id = uuid.UUID(item["id"])
        assert read_record(s, _call(admin, PEOPLE, "read", row_id))["register_no"] == item["register_no"]
        updated = update_record(s, _call(admin, PEOPLE, "update", row_id), {"version": 1, "notes": "更新"})
        assert (updated["version"], updated["notes"]) == (2, "更新")
        delete_record(s, _call(admin, PEOPLE, "delete", row_id), 2)
        s.commit()
        assert s.get(Person, row_id) is None
        for action in ("create", "read", "update", "delete"):
            [entry] = _audit(s, action)
            assert entry.resource == "people" and entry.record_ids == [str(row_id)] and entry.client == "192.0.2.7"
        assert _audit(s, "create")[0].status == 201


def test_a_repeated_event_is_answered_again_and_audited_as_a_repeat(engine, principal_of_role):
    admin = principal_of_role("admin")
    with Session(engine, expire_on_commit=False) as s:
        person_id = create_record(s, _call(admin, PEOPLE, "create"), person())[0]["id"]
        check = {"id": str(uuid.uuid4()), "person_id": person_id, "outcome": "safe_home",
                 "observed_at": "2026-11-27T09:00:00+09:00"}
        first, created = create_record(s, _call(admin, SAFETY_CHECKS, "create"), check)
        again, created_again = create_record(s, _call(admin, SAFETY_CHECKS, "create"), check)
        assert (created, created_again) == (True, False) and again["id"] == first["id"] == check["id"]
        [repeat] = _audit(s, "create_repeat")
        assert repeat.status == 200 and repeat.record_ids == [check["id"]]


def test_list_page_pages_and_audits_personal_lists_only(engine, principal_of_role):
    admin = principal_of_role("admin")
    with Session(engine, expire_on_commit=False) as s:
        ids = [create_record(s, _call(admin, PEOPLE, "create"), person())[0]["id"] for _ in range(3)]
        create_record(s, _call(admin, SHELTERS, "create"), shelter())
        page = list_page(s, _call(admin, PEOPLE, "list"), ListQuery({}, [], 2, 1))
        assert (page["total"], len(page["items"]), page["offset"]) == (3, 2, 1)
        [entry] = _audit(s, "list")
        assert entry.record_ids == [i["id"] for i in page["items"]] and set(entry.record_ids) <= set(ids)
        list_page(s, _call(admin, SHELTERS, "list"), ListQuery({}, [], 10, 0))
        assert len(_audit(s, "list")) == 1  # shelters are not personal data


def test_list_page_hides_a_district_outside_a_supporters_scope(engine, principal_of_role):
    supporter = principal_of_role("district_supporter")
    with Session(engine) as s, pytest.raises(ApiError) as hidden:
        list_page(s, _call(supporter, PEOPLE, "list"), ListQuery({"district_id": str(uuid.uuid4())}, [], 10, 0))
    assert (hidden.value.status, hidden.value.detail) == (404, "district not found")


def test_update_record_with_a_stale_version_answers_the_current_record(engine, principal_of_role):
    admin = principal_of_role("admin")
    with Session(engine, expire_on_commit=False) as s:
        item = create_record(s, _call(admin, PEOPLE, "create"), person())[0]
        with pytest.raises(ApiError) as stale:
            update_record(s, _call(admin, PEOPLE, "update", uuid.UUID(item["id"])), {"version": 2, "notes": "x"})
        assert stale.value.status == 409 and stale.value.extra["current"]["version"] == 1
        assert _audit(s, "update") == []


# ---- the routes ----

def _methods(routes) -> dict[tuple[str, str], str | None]:
    return {(r.path, m): r.name for r in routes for m in r.methods - {"HEAD"}}


def test_make_routes_for_a_master_record():
    routes = make_routes(PEOPLE)
    assert _methods(routes) == {
        ("/api/people", "GET"): "people-list", ("/api/people", "POST"): "people-create",
        ("/api/people/{id}", "GET"): "people-detail", ("/api/people/{id}", "PATCH"): "people-update",
        ("/api/people/{id}", "DELETE"): "people-delete"}
    assert routes[0].endpoint.__func__ is ResourceHandlers.list and routes[0].endpoint.__self__.resource is PEOPLE


def test_make_routes_for_an_event_refuses_changes():
    routes = make_routes(SAFETY_CHECKS)
    changing = [r for r in routes if r.methods & {"PATCH", "DELETE", "PUT"}]
    assert len(changing) == 1 and changing[0].endpoint is event_is_immutable
    assert changing[0].methods >= {"PUT", "PATCH", "DELETE"}


def test_make_routes_puts_extra_routes_before_the_detail():
    from starlette.routing import Route

    async def extra(request):  # pragma: no cover - only listed
        raise AssertionError

    routes = make_routes(PLANS, (Route("/api/plans/{id}/history", extra, name="extra"),))
    names = [r.name for r in routes]
    assert names.index("extra") == names.index("plans-create") + 1 < names.index("plans-detail")
