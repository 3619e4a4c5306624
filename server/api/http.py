"""HTTP plumbing every handler shares: the JSON body read through a model, the one UUID path
parser, one transaction per request in a worker thread, and the audit entry for a refusal."""

from __future__ import annotations

import uuid
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..auth.audit import record
from ..db import write_lock
from ..errors import ApiError, not_found, parse_json, validation_error
from ..records.resource import MAX_LIMIT_DEFAULT


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; 400 for malformed JSON, 422 for a non-object."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "request body is empty; a JSON object is expected")
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(422, "a JSON object is expected", [{"field": "body", "message": "not an object"}])
    return data


def path_uuid(request: Request, name: str = "id", what: str = "record") -> uuid.UUID:
    """The UUID in path parameter `name`; anything else is a record that does not exist (404)."""
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        raise not_found(what) from None


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def max_limit(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "TSUNAGU_PAGE_SIZE_MAX", MAX_LIMIT_DEFAULT) if settings else MAX_LIMIT_DEFAULT


def in_session(request: Request, fn: Callable[[Session], Any]):
    """Run `fn` in a worker thread inside one transaction, committed when it returns.

    An ApiError raised by `fn` rolls back the work; if the handler named the attempt in
    `request.state.audit_refusal` (action, resource, ids), the refusal is audited and committed.
    """
    def run():
        engine = request.app.state.engine
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
    """A refusal raised outside `in_session` (a role refused by `authorize` / `requires`, a
    page refused) is audited here, in a short transaction of its own. Anonymous callers are
    refused by the middleware (401) and audited there when they send a bad token."""
    principal = getattr(request.state, "principal", None)
    if principal is None or status not in (400, 403, 404, 409):
        return

    def run() -> None:
        engine = request.app.state.engine
        with write_lock(engine), Session(engine) as session:
            record(session, "denied", principal=principal, resource=request.url.path[:60], status=status,
                   detail=f"{request.method}: {detail}"[:300], client=client_address(request))
            session.commit()

    await run_in_threadpool(run)


Body = TypeVar("Body", bound=BaseModel)


async def read_body(request: Request, model: type[Body], *, empty_ok: bool = False) -> Body:
    """The request body read through `model`: the one way handlers validate a body (422 with
    field errors). `empty_ok`: an empty body reads as `{}` (every field at its default)."""
    if empty_ok and not (await request.body()).strip():
        data: dict[str, Any] = {}
    else:
        data = await read_json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def form_version(form) -> tuple[str, int | None]:
    """The version a form was opened at (a hidden field): as sent, and as a number if it is one
    (a missing or forged one is no number, and the save answers as for a stale version)."""
    raw = form.get("version") or ""
    return raw, int(raw) if raw.isdigit() else None
