"""GET /api/hq/stream — live updates for the HQ map as Server-Sent Events.

The stream polls the change log about once a second and sends what changed as `update`
events whose `id:` is the change-log position, so a browser that reconnects (EventSource
sends `Last-Event-ID`) continues where it left off. The page passes `?after=SEQ`, the
position its layers were loaded at, so nothing falls between loading and listening.

Events: `hello {"seq"}` on connect; `update {...}` (server/domain/hq_live.py);
`reset` when the client is too far behind to replay (reload the layers); `signed-out` when
the session ends or the account loses access. A comment line every 15 s keeps proxies from
closing an idle connection. The stream stops when the client disconnects.
"""

from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import requires
from ..auth.policy import rule_for
from ..db import readonly
from ..domain import hq_live
from ..errors import MAX_INT, ApiError
from ..models.auth import AuthToken, User
from ..models.base import utcnow
from .hq import dump_finite, people_scope
from .http import client_address

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 30.0
RETRY_MS = 3000
AUDIT_MAX_IDS = 200  # more people than this in one message: the audit entry holds the count


def _event(name: str, data: dict, seq: int) -> str:
    return f"id: {seq}\nevent: {name}\ndata: {dump_finite(data).decode('utf-8')}\n\n"


def _requested_seq(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
        if not 0 <= value <= MAX_INT:
            raise ValueError
    except ValueError:
        raise ApiError(422, "invalid query parameters",
                       [{"field": "after", "message": "a change-log position (a non-negative integer)"}]) from None
    return value


def still_allowed(engine, principal) -> bool:
    """A stream outlives the request that opened it: is its sign-in still valid, the role unchanged?"""
    if principal.token_id is None:
        return True
    with Session(readonly(engine)) as session:
        found = session.exec(select(AuthToken, User).join(User, User.id == AuthToken.user_id)
                             .where(AuthToken.id == principal.token_id)).first()
    if found is None:
        return False
    token, user = found
    return (token.revoked_at is None and token.expires_at > utcnow() and user.active
            and user.role == principal.role)


def _clauses(principal, resource: str) -> list:
    rule = rule_for(resource, principal)
    return rule.clauses(principal) if rule is not None else [sa.false()]


@requires("hq.view")
async def stream(request: Request) -> StreamingResponse:
    principal, scope = people_scope(request)
    request_rule = rule_for("dwat-requests", principal)  # a role that may not list them gets none
    request_scope = request_rule.clauses(principal) if request_rule and "list" in request_rule.actions else None
    # several municipalities: the caller's shelters and deployments only (rules: hq.view's roles list both)
    shelter_scope, deployment_scope = (_clauses(principal, "shelters"), _clauses(principal, "dwat-deployments"))
    requested = _requested_seq(request)
    engine = request.app.state.engine
    client = client_address(request)

    def begin() -> tuple[int, bool]:
        """Where to start, and whether the client must reload instead of replaying."""
        with Session(readonly(engine)) as session:
            latest = hq_live.latest_seq(session)
        if requested is None or requested > latest:
            return latest, False
        if latest - requested > hq_live.MAX_REPLAY:
            return latest, True
        return requested, False

    def poll(seq: int) -> dict | None:
        # Every second per open map: read without the write lock, write only an audit entry.
        with Session(readonly(engine)) as session:
            message = hq_live.updates_after(session, seq, scope, request_scope=request_scope,
                                            shelter_scope=shelter_scope, deployment_scope=deployment_scope)
        if message and message["people"]:
            ids = [p["id"] for p in message["people"]]
            with Session(engine) as session:
                record(session, "list", principal=principal, resource="people",
                       record_ids=ids if len(ids) <= AUDIT_MAX_IDS else [],
                       detail=f"HQ map live update: {len(ids)} people", client=client)
                session.commit()
        return message

    async def events() -> AsyncIterator[str]:
        seq, reset = await run_in_threadpool(begin)
        yield f"retry: {RETRY_MS}\n\n"
        yield _event("hello", {"seq": seq}, seq)
        if reset:
            yield _event("reset", {"seq": seq}, seq)
        quiet = 0.0
        checked = time.monotonic()
        while True:
            message = await run_in_threadpool(poll, seq)
            if message is not None:
                seq = message["seq"]
                yield _event("update", message, seq)
                quiet = 0.0
                if message["more"]:
                    continue
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
            if quiet >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                quiet = 0.0
            if time.monotonic() - checked >= RECHECK_SECONDS:
                checked = time.monotonic()
                if not await run_in_threadpool(still_allowed, engine, principal):
                    yield _event("signed-out", {}, seq)
                    return

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


routes = [Route("/api/hq/stream", stream, methods=["GET"], name="hq-stream")]
