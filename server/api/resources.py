"""Generic list / detail / create / update handlers, generated from a `Resource` description.

Every resource is described once (table, Create/Update/Public models, filters); the routes
and the OpenAPI document are both generated from that description, so they cannot drift.
Master records are updated with a version check; events are create-only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..models.base import keep_stored, utcnow
from ..db import write_lock
from ..sync.changelog import log_change
from .errors import MAX_INT, ApiError, not_found, read_json_object, validation_error


@dataclass
class Filter:
    """A list filter: query parameter `name` compared with `column`."""

    name: str
    column: Any
    parse: Callable[[str], Any] = str
    op: str = "eq"  # eq | prefix | gte | lte | contains
    description: str = ""
    schema: dict = field(default_factory=lambda: {"type": "string"})

    @property
    def field_name(self) -> str:
        """The record field this filter reads: a caller who may not see it may not filter on it."""
        return self.column.key

    def clause(self, value: Any):
        if self.op == "eq":
            return self.column == value
        if self.op == "prefix":
            return self.column.startswith(value, autoescape=True)
        if self.op == "gte":
            return self.column >= value
        if self.op == "lte":
            return self.column <= value
        raise ValueError(self.op)


def parse_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError("expected true or false")


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a timezone is required, e.g. 2026-11-27T09:00:00+09:00")
    return parsed


UUID_SCHEMA = {"type": "string", "format": "uuid"}
DATETIME_SCHEMA = {"type": "string", "format": "date-time"}


def enum_filter(name: str, column: Any, enum: type) -> Filter:
    return Filter(name, column, enum, schema={"type": "string", "enum": [m.value for m in enum]},
                  description=" / ".join(f"{m.value}={m.ja}" for m in enum))


def uuid_filter(name: str, column: Any, description: str = "") -> Filter:
    return Filter(name, column, parse_uuid, schema=UUID_SCHEMA, description=description)


@dataclass
class Resource:
    """Everything needed to serve one kind of record or event over HTTP."""

    path: str
    table: type[SQLModel]
    create: type[SQLModel]
    public: type[SQLModel]
    update: Optional[type[SQLModel]] = None  # None: an append-only event
    filters: list[Filter] = field(default_factory=list)
    order_by: Callable[[type], list] = lambda t: [t.id]
    title: str = ""
    # Called inside the write transaction with (session, row, previous row values or None).
    before_write: Optional[Callable[[Session, Any, Optional[dict]], None]] = None
    # Adds derived state (latest event ...) to the public dicts of a page of rows.
    decorate: Optional[Callable[[Session, list[Any], list[dict]], None]] = None
    extra_routes: list[Route] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        return self.update is None

    @property
    def field_names(self) -> list[str]:
        """The editable fields: those of the Create model except the optional client id."""
        return [name for name in self.create.model_fields if name != "id"]


MAX_LIMIT_DEFAULT = 500


def _max_limit(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "TSUNAGU_PAGE_SIZE_MAX", MAX_LIMIT_DEFAULT) if settings else MAX_LIMIT_DEFAULT


def parse_list_params(resource: Resource, params: dict[str, str], max_limit: int,
                      rule: Any = None) -> tuple[list, int, int]:
    """Filters, limit and offset from the query; 400 for a filter on a field the caller's `rule`
    hides (answering it would disclose the field a request at a time), 422 for bad values."""
    from ..auth.policy import readable

    known = {f.name: f for f in resource.filters}
    hidden = [key for key in params if rule is not None and key in known and not readable(rule, known[key].field_name)]
    if hidden:
        raise ApiError(400, "you may not filter on fields your role cannot see",
                       [{"field": key, "message": "your role may not see this field, so it cannot filter on it"}
                        for key in hidden])
    errors: list[dict] = []
    clauses = []
    limit, offset = 50, 0
    for key, raw in params.items():
        if key == "limit":
            try:
                limit = int(raw)
                if not 1 <= limit <= max_limit:
                    raise ValueError
            except ValueError:
                errors.append({"field": "limit", "message": f"must be an integer from 1 to {max_limit}"})
        elif key == "offset":
            try:
                offset = int(raw)
                if not 0 <= offset <= MAX_INT:
                    raise ValueError
            except ValueError:
                errors.append({"field": "offset", "message": f"must be an integer from 0 to {MAX_INT}"})
        elif key in known:
            try:
                clauses.append(known[key].clause(known[key].parse(raw)))
            except (ValueError, TypeError) as exc:
                errors.append({"field": key, "message": str(exc) or "invalid value"})
        else:
            errors.append({"field": key, "message": "unknown query parameter; allowed: "
                           + ", ".join(["limit", "offset", *known])})
    if errors:
        raise ApiError(422, "invalid query parameters", errors)
    return clauses, limit, offset


def to_public(resource: Resource, session: Session, rows: list[Any]) -> list[dict]:
    items = [resource.public.model_validate(row, from_attributes=True).model_dump(mode="json") for row in rows]
    if resource.decorate and rows:
        resource.decorate(session, rows, items)
    return items


def row_values(resource: Resource, row: Any) -> dict:
    return {name: getattr(row, name) for name in resource.field_names}


def _model_for_table(table_name: str) -> type[SQLModel] | None:
    for mapper in SQLModel._sa_registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table_name:
            return mapper.class_
    return None


def check_references_and_uniques(resource: Resource, session: Session, values: dict, own_id: uuid.UUID | None) -> None:
    """Turn what the database would refuse (unknown foreign id, duplicate unique value) into 422s."""
    errors = []
    table = resource.table.__table__
    for column in table.columns:
        value = values.get(column.name)
        if value is None:
            continue
        for fk in column.foreign_keys:
            target = _model_for_table(fk.column.table.name)
            if target is not None and session.get(target, value) is None:
                errors.append({"field": column.name, "message": f"no {fk.column.table.name} with id {value}"})
        if column.unique:
            clash = session.exec(select(resource.table.id).where(column == value)).first()
            if clash is not None and clash != own_id:
                errors.append({"field": column.name, "message": f"{value!s} is already used by another record"})
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and len(constraint.columns) > 1:
            cols = list(constraint.columns)
            if all(values.get(c.name) is not None for c in cols):
                query = select(resource.table.id).where(*[c == values[c.name] for c in cols])
                clash = session.exec(query).first()
                if clash is not None and clash != own_id:
                    errors.append({"field": cols[-1].name,
                                   "message": "this combination of " + ", ".join(c.name for c in cols) + " is already used"})
    if errors:
        raise ApiError(422, "validation failed", errors)


def _engine(request: Request):
    return request.app.state.engine


@dataclass
class Access:
    """The caller's rule for one resource; None-free helpers so internal callers can pass `UNRESTRICTED`."""

    principal: Any = None
    rule: Any = None

    def clauses(self) -> list:
        return self.rule.clauses(self.principal) if self.rule else []

    def write_clauses(self) -> list:
        return self.rule.write_clauses(self.principal) if self.rule else []

    def shape(self, items: list[dict]) -> list[dict]:
        if self.rule is None:
            return items
        from ..auth.policy import shape

        return [shape(self.rule, item) for item in items]


UNRESTRICTED = Access()


# ---- the operations, usable from handlers and from other server code (sync, importers) ----

def list_rows(resource: Resource, session: Session, clauses: list, limit: int, offset: int,
              access: Access = UNRESTRICTED) -> dict:
    table = resource.table
    where = [*clauses, *access.clauses()]
    total = session.exec(select(sa.func.count()).select_from(table).where(*where)).one()
    rows = session.exec(select(table).where(*where).order_by(*resource.order_by(table))
                        .limit(limit).offset(offset)).all()
    return {"items": access.shape(to_public(resource, session, list(rows))), "total": total, "limit": limit,
            "offset": offset}


def get_row(resource: Resource, session: Session, row_id: uuid.UUID, access: Access = UNRESTRICTED) -> Any:
    """The row, or 404 — for an unknown id and for a row outside the caller's scope alike."""
    clauses = access.clauses()
    if clauses:
        row = session.exec(select(resource.table).where(resource.table.id == row_id, *clauses)).first()
    else:
        row = session.get(resource.table, row_id)
    if row is None:
        raise not_found(resource.title or resource.path)
    return row


def within_write_scope(resource: Resource, session: Session, row_id: uuid.UUID, access: Access) -> bool:
    clauses = access.write_clauses()
    if not clauses:
        return True
    return session.exec(select(resource.table.id).where(resource.table.id == row_id, *clauses)).first() is not None


def _out_of_scope_error(resource: Resource, field_name: str, value: Any) -> ApiError:
    """Worded exactly like the error for an id that does not exist, so scope cannot be probed."""
    column = resource.table.__table__.columns.get(field_name)
    target = next(iter(column.foreign_keys)).column.table.name if column is not None and column.foreign_keys else "record"
    return ApiError(422, "validation failed", [{"field": field_name, "message": f"no {target} with id {value}"}])


def unusable_id(client_id: Any) -> ApiError:
    return ApiError(422, "validation failed",
                    [{"field": "id", "message": f"id {client_id} cannot be used; make a new one (a random UUID)"}])


def create_row(resource: Resource, session: Session, data: dict, access: Access = UNRESTRICTED) -> tuple[dict, bool]:
    """Validate and insert; returns (public dict, created). An event re-sent with the same id
    returns the stored one unchanged (retries are normal for field devices)."""
    try:
        model = resource.create.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    client_id = getattr(model, "id", None)
    if client_id is not None:
        existing = session.get(resource.table, client_id)
        if existing is not None:
            if resource.is_event and within_write_scope(resource, session, existing.id, access):
                return access.shape(to_public(resource, session, [existing]))[0], False
            visible = session.exec(select(resource.table).where(resource.table.id == client_id, *access.clauses())).first()
            if visible is None:
                # Outside the caller's scope: not "exists" (that would confirm the record), but the
                # answer for every id the caller cannot use.
                raise unusable_id(client_id)
            raise ApiError(409, "a record with this id exists",
                           extra={"current": access.shape(to_public(resource, session, [visible]))[0]})
    values = {name: getattr(model, name) for name in resource.field_names}
    check_references_and_uniques(resource, session, values, None)
    row = resource.table(**values)
    if client_id is not None:
        row.id = client_id
    if resource.before_write:
        resource.before_write(session, row, None)
    session.add(row)
    session.flush()
    if not within_write_scope(resource, session, row.id, access):
        # the caller's transaction (or savepoint) is rolled back by whoever catches this
        ref = access.rule.create_ref if access.rule else ""
        if ref:
            raise _out_of_scope_error(resource, ref, values.get(ref))
        raise ApiError(403, "you may not create this record")
    log_change(session, resource.path, row.id)
    return access.shape(to_public(resource, session, [row]))[0], True


def update_row(resource: Resource, session: Session, row_id: uuid.UUID, data: dict,
               access: Access = UNRESTRICTED) -> dict:
    """Partial update based on `version`; a stale version gets 409 with the current record."""
    assert resource.update is not None
    row = get_row(resource, session, row_id, access)
    if not within_write_scope(resource, session, row.id, access):
        raise not_found(resource.title or resource.path)
    previous = row_values(resource, row)
    # A phone number or postal code stored before the API normalised them stays while unchanged.
    context = keep_stored(previous)
    try:
        patch = resource.update.model_validate(data, context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None
    if patch.version != row.version:
        raise ApiError(409, f"stale version: you edited version {patch.version}, the record is at version {row.version}",
                       extra={"current": access.shape(to_public(resource, session, [row]))[0]})
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    merged = {**{k: _plain(v) for k, v in previous.items()}, **changes}
    try:
        model = resource.create.model_validate(merged, context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None
    new_values = {name: getattr(model, name) for name in resource.field_names}
    check_references_and_uniques(resource, session, new_values, row.id)
    for name, value in new_values.items():
        setattr(row, name, value)
    if resource.before_write:
        resource.before_write(session, row, previous)
    stored = {c.name: getattr(row, c.name) for c in resource.table.__table__.columns if c.name not in ("id",)}
    stored.update(version=row.version + 1, updated_at=utcnow())
    # Race-safe: the write happens only if nobody changed the row since we read it.
    result = session.execute(sa.update(resource.table).where(resource.table.id == row.id,
                                                             resource.table.version == patch.version).values(**stored))
    if result.rowcount != 1:
        raise ApiError(409, "the record changed while you were saving; reload and try again")
    log_change(session, resource.path, row.id, before=previous)
    session.expire(row)
    return access.shape(to_public(resource, session, [session.get(resource.table, row_id)]))[0]


def delete_row(resource: Resource, session: Session, row_id: uuid.UUID, version: int | None,
               access: Access = UNRESTRICTED) -> None:
    """Delete a master record (e.g. a person leaving the register); devices get a tombstone.
    Records that events or other records still point at cannot be deleted (409)."""
    row = get_row(resource, session, row_id, access)
    if not within_write_scope(resource, session, row.id, access):
        raise not_found(resource.title or resource.path)
    if version is not None and version != row.version:
        raise ApiError(409, f"stale version: the record is at version {row.version}",
                       extra={"current": access.shape(to_public(resource, session, [row]))[0]})
    previous = row_values(resource, row)
    try:
        with session.begin_nested():
            session.delete(row)
            session.flush()
    except IntegrityError:
        raise ApiError(409, f"this {resource.title or resource.path} is still referenced (plans, events …); "
                            "it cannot be deleted") from None
    log_change(session, resource.path, row_id, op="delete", before=previous)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ---- HTTP handlers ----

def _path_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["id"])
    except ValueError:
        raise not_found() from None


def in_session(request: Request, fn: Callable[[Session], Any]):
    """Run `fn` in a worker thread inside one transaction, committed when it returns.

    An ApiError raised by `fn` rolls back the work but keeps audit entries it asked to keep
    (`request.state.audit_on_error`), so refused attempts are audited too.
    """
    def run():
        engine = _engine(request)
        with write_lock(engine), Session(engine, expire_on_commit=False) as session:
            try:
                result = fn(session)
                session.commit()
                return result
            except IntegrityError:
                session.rollback()
                raise ApiError(409, "the change conflicts with another record; reload and try again") from None
            except ApiError as exc:
                session.rollback()
                audit_refusal(request, session, exc)
                raise
            except BaseException:
                session.rollback()
                raise
    return run_in_threadpool(run)



# Refusals that are audited (docs/access.md): role and scope refusals, stale versions (whose 409
# carries the current record, a read), invalid input to a write.
AUDITED_REFUSALS = (403, 404, 409, 422)


def audit_refusal(request: Request, session: Session, exc: ApiError) -> None:
    pending = getattr(request.state, "audit_refusal", None)
    if pending is None or exc.status not in AUDITED_REFUSALS:
        return
    from ..auth.audit import record

    action, resource, ids = pending
    principal = getattr(request.state, "principal", None)
    detail = f"{action}: {exc.detail}"
    if "current" in exc.extra:
        detail += " (the current record was returned)"
    record(session, "denied", principal=principal, resource=resource, record_ids=ids, status=exc.status,
           detail=detail[:300], client=client_address(request))
    session.commit()
    exc.audited = True


async def audit_unrecorded_refusal(request: Request, status: int, detail: str) -> None:
    """A refusal raised outside `in_session` (a role refused by `authorize` / `require_role`, a
    page refused) is audited here, in a short transaction of its own. Anonymous callers are
    refused by the middleware (401) and audited there when they send a bad token."""
    principal = getattr(request.state, "principal", None)
    if principal is None or status not in (400, 403, 404, 409):
        return
    from ..auth.audit import record

    def run() -> None:
        engine = _engine(request)
        with write_lock(engine), Session(engine) as session:
            record(session, "denied", principal=principal, resource=request.url.path[:60], status=status,
                   detail=f"{request.method}: {detail}"[:300], client=client_address(request))
            session.commit()

    await run_in_threadpool(run)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _authorize(request: Request, resource: Resource, action: str) -> Access:
    from ..auth.guard import authorize

    principal, rule = authorize(request, resource.path, action)
    return Access(principal, rule)


def _audit(request: Request, session: Session, access: Access, action: str, resource: Resource, ids: list,
           status: int = 200) -> None:
    from ..auth.audit import record
    from ..auth.policy import PERSONAL

    if action in ("list", "read") and resource.path not in PERSONAL:
        return
    record(session, action, principal=access.principal, resource=resource.path, record_ids=ids, status=status,
           client=client_address(request))


def make_routes(resource: Resource) -> list[Route]:
    base = f"/api/{resource.path}"

    async def list_endpoint(request: Request) -> Response:
        access = _authorize(request, resource, "list")
        params = dict(request.query_params)
        request.state.audit_refusal = ("list", resource.path, [])
        clauses, limit, offset = parse_list_params(resource, params, _max_limit(request), access.rule)

        def run(session: Session) -> dict:
            from ..auth.guard import check_filters

            check_filters(access, resource.path, params)
            page = list_rows(resource, session, clauses, limit, offset, access)
            _audit(request, session, access, "list", resource, [i["id"] for i in page["items"]])
            return page

        return JSONResponse(await in_session(request, run))

    async def create_endpoint(request: Request) -> Response:
        access = _authorize(request, resource, "create")
        data = await read_json_object(request)
        request.state.audit_refusal = ("create", resource.path, [])

        def run(session: Session):
            item, created = create_row(resource, session, data, access)
            _audit(request, session, access, "create" if created else "create_repeat", resource, [item["id"]],
                   201 if created else 200)
            return item, created

        item, created = await in_session(request, run)
        return JSONResponse(item, status_code=201 if created else 200)

    async def detail_endpoint(request: Request) -> Response:
        access = _authorize(request, resource, "read")
        row_id = _path_id(request)
        request.state.audit_refusal = ("read", resource.path, [row_id])

        def run(session: Session) -> dict:
            item = access.shape(to_public(resource, session, [get_row(resource, session, row_id, access)]))[0]
            _audit(request, session, access, "read", resource, [row_id])
            return item

        return JSONResponse(await in_session(request, run))

    async def update_endpoint(request: Request) -> Response:
        access = _authorize(request, resource, "update")
        row_id = _path_id(request)
        data = await read_json_object(request)
        request.state.audit_refusal = ("update", resource.path, [row_id])

        def run(session: Session) -> dict:
            item = update_row(resource, session, row_id, data, access)
            _audit(request, session, access, "update", resource, [row_id])
            return item

        return JSONResponse(await in_session(request, run))

    async def delete_endpoint(request: Request) -> Response:
        access = _authorize(request, resource, "delete")
        row_id = _path_id(request)
        raw_version = request.query_params.get("version")
        try:
            version = int(raw_version) if raw_version is not None else None
            if version is not None and not 1 <= version <= MAX_INT:
                raise ValueError
        except ValueError:
            raise ApiError(422, "invalid query parameters", [{"field": "version", "message": "an integer"}]) from None
        request.state.audit_refusal = ("delete", resource.path, [row_id])

        def run(session: Session) -> None:
            delete_row(resource, session, row_id, version, access)
            _audit(request, session, access, "delete", resource, [row_id])

        await in_session(request, run)
        return Response(status_code=204)

    async def event_is_immutable(request: Request) -> Response:
        raise ApiError(405, "events are append-only: a correction is a new event", headers={"Allow": "GET, POST"})

    routes = [
        Route(base, list_endpoint, methods=["GET"], name=f"{resource.path}-list"),
        Route(base, create_endpoint, methods=["POST"], name=f"{resource.path}-create"),
        *resource.extra_routes,
        Route(base + "/{id}", detail_endpoint, methods=["GET"], name=f"{resource.path}-detail"),
    ]
    if resource.is_event:
        routes.append(Route(base + "/{id}", event_is_immutable, methods=["PUT", "PATCH", "DELETE"]))
    else:
        routes.append(Route(base + "/{id}", update_endpoint, methods=["PATCH"], name=f"{resource.path}-update"))
        routes.append(Route(base + "/{id}", delete_endpoint, methods=["DELETE"], name=f"{resource.path}-delete"))
    return routes
