"""HTTP for sync: GET /api/sync/changes, POST /api/sync/mutations, conflicts (docs/sync.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..auth.audit import record
from ..auth.guard import active_principal, page, principal_of, requires
from ..auth.policy import PERSONAL, allowed, rule_for
from ..auth.principal import load_principal
from ..errors import ApiError
from ..models.auth import User
from ..models.base import utcnow
from ..models.sync import SyncConflict, SyncConflictPublic
from ..records.access import Access
from ..records.registry import BY_PATH, RESOURCES
from ..records.rows import get_visible, update_row, within_write_scope
from ..sync.feed import MAX_LIMIT, changes
from ..sync.mutations import MAX_BATCH, apply_batch
from ..web import templates
from .http import client_address, in_session, path_uuid, read_body


@requires("sync.pull")
async def changes_endpoint(request: Request) -> Response:
    principal = active_principal(request)
    params = request.query_params
    unknown = set(params) - {"cursor", "limit", "scope_key"}
    if unknown:
        raise ApiError(422, "invalid query parameters", [{"field": k, "message": "unknown query parameter"} for k in unknown])
    try:
        limit = int(params.get("limit", 500))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        raise ApiError(422, "invalid query parameters", [{"field": "limit", "message": f"1–{MAX_LIMIT}"}]) from None

    def run(session: Session) -> dict:
        page = changes(session, principal, RESOURCES, params.get("cursor", ""), limit, params.get("scope_key") or None)
        personal = [i["id"] for i in page["items"] if i["entity"] in PERSONAL and i["op"] == "upsert"]
        if personal:  # a sync page is a read of personal data like any other
            record(session, "sync", principal=principal, resource="sync/changes", record_ids=personal,
                   client=client_address(request))
        page["server_time"] = utcnow().isoformat()
        return page

    return JSONResponse(await in_session(request, run))


class MutationBatch(BaseModel):
    """`POST /api/sync/mutations`. Each mutation is checked on its own (`sync.mutations.Mutation`), so
    one bad mutation is rejected with its reason and the rest of the batch still applies."""

    mutations: list[Any]
    device_id: str = Field(default="", description="the device's own id, for conflicts (up to 64 characters)")

    @field_validator("device_id", mode="before")
    @classmethod
    def _device_text(cls, value: Any) -> str:
        return str(value or "")[:64]


@requires("sync.push")
async def mutations_endpoint(request: Request) -> Response:
    principal = active_principal(request)
    body = await read_body(request, MutationBatch)
    mutations, device_id = body.mutations, body.device_id
    if len(mutations) > MAX_BATCH:
        raise ApiError(413, f"at most {MAX_BATCH} mutations per batch; send the rest in the next batch",
                       extra={"max_batch": MAX_BATCH})

    def run(session: Session) -> dict:
        results = apply_batch(session, principal, BY_PATH, device_id, mutations)
        written = [r["record"]["id"] for r in results if r["status"] in ("applied", "merged") and r.get("record")]
        if written:
            record(session, "sync_write", principal=principal, resource="sync/mutations", record_ids=written,
                   detail=f"{len(written)} mutation(s) applied", client=client_address(request))
        repeated = [r["record"]["id"] for r in results if r["status"] == "duplicate" and r.get("record")]
        if repeated:  # a retry answers the stored record again: a read like any other
            record(session, "sync_repeat", principal=principal, resource="sync/mutations", record_ids=repeated,
                   detail=f"{len(repeated)} retried mutation(s) answered", client=client_address(request))
        rejected = [r["id"] for r in results if r["status"] == "rejected" and r["id"]]
        if rejected:
            record(session, "denied", principal=principal, resource="sync/mutations", record_ids=rejected,
                   status=422, detail=f"{len(rejected)} mutation(s) rejected", client=client_address(request))
        return {"results": results, "server_time": utcnow().isoformat()}

    # Acknowledged only after commit: in_session commits before we answer.
    return JSONResponse(await in_session(request, run))




@requires("conflicts.list")
async def list_conflicts(request: Request) -> Response:
    show = request.query_params.get("resolved", "false").lower()
    if show not in ("true", "false", "all"):
        raise ApiError(422, "invalid query parameters", [{"field": "resolved", "message": "true, false or all"}])

    principal = principal_of(request)

    def run(session: Session) -> dict:
        query = select(SyncConflict).order_by(SyncConflict.created_at)
        if show == "false":
            query = query.where(SyncConflict.resolved_at.is_(None))
        elif show == "true":
            query = query.where(SyncConflict.resolved_at.is_not(None))
        rows = [c for c in session.exec(query.limit(1000)).all() if _sees_conflict(session, principal, c)]
        if rows:  # conflicts hold the values of both sides: a read of personal data, audited by record id
            record(session, "list", principal=principal, resource="conflicts",
                   record_ids=sorted({str(c.record_id) for c in rows}), detail=f"{len(rows)} conflict(s)",
                   client=client_address(request))
        return {"items": [SyncConflictPublic.model_validate(c, from_attributes=True).model_dump(mode="json") for c in rows]}

    return JSONResponse(await in_session(request, run))


def _sees_conflict(session: Session, principal, conflict: SyncConflict) -> bool:
    """A conflict holds values of its record: shown only to a caller whose scope holds the record
    (several municipalities: an office sees its own municipalities' conflicts; one: every office)."""
    resource = BY_PATH.get(conflict.entity)
    rule = rule_for(conflict.entity, principal) if resource is not None else None
    if rule is None:
        return False
    access = Access(principal, rule)
    return not access.clauses() or get_visible(resource, session, conflict.record_id, access) is not None


def _author_may_change(session: Session, conflict: SyncConflict, resource) -> bool:
    """Choosing the device's value applies the device user's change, so it must be one that user
    may make today (an administrator resolving it must not lend them wider rights)."""
    author = session.get(User, conflict.user_id)
    if author is None or not author.active:
        return False
    principal = load_principal(session, author)
    if not allowed(principal, f"{resource.path}.update"):  # the role, and DWAT's active deployment
        return False
    access = Access(principal, rule_for(resource.path, principal))
    if access.clauses() and get_visible(resource, session, conflict.record_id, access) is None:
        return False
    return within_write_scope(resource, session, conflict.record_id, access)


class Resolution(BaseModel):
    """`POST /api/conflicts/{id}/resolve`: keep the server's value or apply the device's."""

    choice: Literal["server", "client"]


@requires("conflicts.resolve")
async def resolve_conflict(request: Request) -> Response:
    principal = principal_of(request)
    conflict_id = path_uuid(request)
    choice = (await read_body(request, Resolution)).choice

    def run(session: Session) -> dict:
        conflict = session.get(SyncConflict, conflict_id)
        if conflict is None or not _sees_conflict(session, principal, conflict):
            raise ApiError(404, "conflict not found")
        if conflict.resolved_at is not None:
            raise ApiError(409, "already resolved", extra={"resolution": conflict.resolution})
        record_out = None
        if choice == "client":
            resource = BY_PATH[conflict.entity]
            access = Access(principal, rule_for(resource.path, principal))
            current = session.get(resource.table, conflict.record_id)
            if current is None:
                raise ApiError(404, f"the {resource.path} record is gone")
            if not _author_may_change(session, conflict, resource):
                why = ("端末の利用者はこの記録を変更できません。サーバーの値のみ選べます "
                       "(the device's user may not change this record: only the server value can be kept)")
                raise ApiError(422, why, [{"field": "choice", "message": why}])
            record_out = update_row(resource, session, conflict.record_id,
                                    {"version": current.version, conflict.field: conflict.client_value}, access)
        conflict.resolved_at = utcnow()
        conflict.resolved_by = principal.user_id
        conflict.resolution = choice
        session.add(conflict)
        record(session, "conflict_resolve", principal=principal, resource=conflict.entity,
               record_ids=[conflict.record_id, conflict.id], detail=choice, client=client_address(request))
        session.flush()
        return {"conflict": SyncConflictPublic.model_validate(conflict, from_attributes=True).model_dump(mode="json"),
                "record": record_out}

    return JSONResponse(await in_session(request, run))


@page("conflicts.resolve", "競合の解決は市役所の福祉担当のみ行えます (welfare staff only)")
async def conflicts_page(request: Request) -> Response:
    """The page where welfare staff resolve conflicts (a browser page: session cookie)."""
    return templates.TemplateResponse(request, "conflicts.html", {"version": __version__})


routes = [
    Route("/conflicts", conflicts_page, methods=["GET"], name="conflicts-page"),
    Route("/api/sync/changes", changes_endpoint, methods=["GET"], name="sync-changes"),
    Route("/api/sync/mutations", mutations_endpoint, methods=["POST"], name="sync-mutations"),
    Route("/api/conflicts", list_conflicts, methods=["GET"], name="conflicts"),
    Route("/api/conflicts/{id}/resolve", resolve_conflict, methods=["POST"], name="conflict-resolve"),
]
