"""Generic list / detail / create / update / delete handlers for every resource in the registry.

Each request goes through the same steps, each a plain function with its state in a small
dataclass: `open_call` (who asks, for what; the role check and the path id), then an operation
run in one transaction (`list_page`, `read_record`, `create_record`, `update_record`,
`delete_record`: the records layer plus the audit entry), then the answer. `ResourceHandlers`
binds them to one resource; `make_routes` lists its routes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Optional

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..auth.guard import authorize, check_filters, declares
from ..errors import MAX_INT, ApiError
from ..records.access import Access
from ..records.audit import audit_operation
from ..records.registry import PLANS, RESOURCES, plan_history
from ..records.resource import Resource, parse_list_params
from ..records.rows import create_row, delete_row, get_row, list_rows, to_public, update_row
from .http import client_address, in_session, max_limit, path_uuid, read_json_object


@dataclass(frozen=True)
class Call:
    """One request on one resource, as far as it is known before the transaction opens."""

    resource: Resource
    action: str
    access: Access
    client: str = ""
    row_id: Optional[uuid.UUID] = None

    def audit(self, session: Session, ids: list, action: str = "", status: int = 200) -> None:
        audit_operation(session, self.access, action or self.action, self.resource, ids, status, self.client)


@dataclass(frozen=True)
class ListQuery:
    """A list request's query: the raw parameters (for the scope check) and what they parse to."""

    params: dict[str, str]
    clauses: list
    limit: int
    offset: int


# ---- steps before the transaction ----

def open_call(request: Request, resource: Resource, action: str, with_id: bool = False) -> Call:
    """The caller's access (401 / 403 first), then the path id (404 if not a UUID)."""
    principal, rule = authorize(request, resource.path, action)
    row_id = path_uuid(request) if with_id else None
    return Call(resource, action, Access(principal, rule), client_address(request), row_id)


def mark_refusal(request: Request, call: Call) -> None:
    """Name the attempt, so a refusal inside the transaction is audited (see `in_session`)."""
    request.state.audit_refusal = (call.action, call.resource.path, [] if call.row_id is None else [call.row_id])


def list_query(params: dict[str, str], call: Call, limit_max: int) -> ListQuery:
    clauses, limit, offset = parse_list_params(call.resource, params, limit_max, call.access.rule)
    return ListQuery(params, clauses, limit, offset)


def delete_version(params: Any) -> Optional[int]:
    """The optional `?version=` of a delete: the version the caller saw (422 if not a version)."""
    raw = params.get("version")
    try:
        version = int(raw) if raw is not None else None
        if version is not None and not 1 <= version <= MAX_INT:
            raise ValueError
    except ValueError:
        raise ApiError(422, "invalid query parameters", [{"field": "version", "message": "an integer"}]) from None
    return version


# ---- operations inside the transaction ----

def list_page(session: Session, call: Call, query: ListQuery) -> dict:
    check_filters(call.access, call.resource.path, query.params)
    page = list_rows(call.resource, session, query.clauses, query.limit, query.offset, call.access)
    call.audit(session, [item["id"] for item in page["items"]])
    return page


def read_record(session: Session, call: Call) -> dict:
    row = get_row(call.resource, session, call.row_id, call.access)
    item = call.access.shape(to_public(call.resource, session, [row]))[0]
    call.audit(session, [call.row_id])
    return item


def create_record(session: Session, call: Call, data: dict) -> tuple[dict, bool]:
    """A create re-sent with the id of an event already stored answers it again (200, audited as a repeat)."""
    item, created = create_row(call.resource, session, data, call.access)
    call.audit(session, [item["id"]], "create" if created else "create_repeat", 201 if created else 200)
    return item, created


def update_record(session: Session, call: Call, data: dict) -> dict:
    item = update_row(call.resource, session, call.row_id, data, call.access)
    call.audit(session, [call.row_id])
    return item


def delete_record(session: Session, call: Call, version: Optional[int]) -> None:
    delete_row(call.resource, session, call.row_id, version, call.access)
    call.audit(session, [call.row_id])


# ---- the endpoints ----

@dataclass(frozen=True)
class ResourceHandlers:
    """The endpoints of one resource: each opens the call, runs one operation, answers."""

    resource: Resource

    async def list(self, request: Request) -> Response:
        call = open_call(request, self.resource, "list")
        query = dict(request.query_params)
        mark_refusal(request, call)
        parsed = list_query(query, call, max_limit(request))
        return JSONResponse(await in_session(request, lambda session: list_page(session, call, parsed)))

    async def create(self, request: Request) -> Response:
        call = open_call(request, self.resource, "create")
        data = await read_json_object(request)
        mark_refusal(request, call)
        item, created = await in_session(request, lambda session: create_record(session, call, data))
        return JSONResponse(item, status_code=201 if created else 200)

    async def detail(self, request: Request) -> Response:
        call = open_call(request, self.resource, "read", with_id=True)
        mark_refusal(request, call)
        return JSONResponse(await in_session(request, lambda session: read_record(session, call)))

    async def update(self, request: Request) -> Response:
        call = open_call(request, self.resource, "update", with_id=True)
        data = await read_json_object(request)
        mark_refusal(request, call)
        return JSONResponse(await in_session(request, lambda session: update_record(session, call, data)))

    async def delete(self, request: Request) -> Response:
        call = open_call(request, self.resource, "delete", with_id=True)
        version = delete_version(request.query_params)
        mark_refusal(request, call)
        await in_session(request, lambda session: delete_record(session, call, version))
        return Response(status_code=204)


async def event_is_immutable(request: Request) -> Response:
    raise ApiError(405, "events are append-only: a correction is a new event", headers={"Allow": "GET, POST"})


def make_routes(resource: Resource, extra: tuple[Route, ...] = ()) -> list[Route]:
    """List and create on the collection, `extra` routes, then detail; update and delete for
    master records, 405 for changing an event."""
    base = f"/api/{resource.path}"
    handlers = ResourceHandlers(resource)
    # Each route declares its action of the access table; open_call checks it (authorize).
    act = lambda op, route: declares(f"{resource.path}.{op}", route)  # noqa: E731
    routes = [
        act("list", Route(base, handlers.list, methods=["GET"], name=f"{resource.path}-list")),
        act("create", Route(base, handlers.create, methods=["POST"], name=f"{resource.path}-create")),
        *extra,
        act("read", Route(base + "/{id}", handlers.detail, methods=["GET"], name=f"{resource.path}-detail")),
    ]
    if resource.is_event:  # 405 to anyone signed in: it touches nothing and says nothing about any record
        routes.append(declares("events.change", Route(base + "/{id}", event_is_immutable,
                                                      methods=["PUT", "PATCH", "DELETE"])))
    else:
        routes.append(act("update", Route(base + "/{id}", handlers.update, methods=["PATCH"],
                                          name=f"{resource.path}-update")))
        routes.append(act("delete", Route(base + "/{id}", handlers.delete, methods=["DELETE"],
                                          name=f"{resource.path}-delete")))
    return routes


async def plan_history_endpoint(request: Request) -> Response:
    """The saved versions of a plan (`GET /api/plans/{id}/history`), read like the plan itself."""
    call = open_call(request, PLANS, "read", with_id=True)
    return JSONResponse(await in_session(request, lambda session: plan_history(session, call.row_id, call.access,
                                                                               call.client)))


EXTRA_ROUTES = {"plans": (declares("plans.read", Route("/api/plans/{id}/history", plan_history_endpoint,
                                                       methods=["GET"], name="plans-history")),)}

routes = [route for resource in RESOURCES for route in make_routes(resource, EXTRA_ROUTES.get(resource.path, ()))]
