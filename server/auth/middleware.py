"""Resolves the caller from a bearer token (field devices) or a session cookie (browser pages),
checks CSRF for cookie-authenticated changes, and refuses unauthenticated API calls."""

from __future__ import annotations

import hmac
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..db import readonly, write_lock
from ..models.auth import AuthToken
from ..models.base import utcnow
from .audit import record
from .principal import load_principal, sharing_ordinance
from .tokens import SESSION, find_token

SESSION_COOKIE = "tsunagu_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Paths anyone may reach: the landing page, docs, health, sign-in, static files, the field app shell.
PUBLIC_PREFIXES = ("/static/", "/vendor/", "/auth/login", "/auth/token", "/login", "/app/")
PUBLIC_PATHS = {"/", "/api/health", "/api/openapi.json", "/api/docs", "/favicon.ico"}
TOUCH_EVERY = timedelta(minutes=5)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class AuthMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        scope.setdefault("state", {})
        scope["state"]["principal"] = None
        bearer = _bearer(request)
        secret = bearer or request.cookies.get(SESSION_COOKIE)
        path = request.url.path
        is_public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        if secret:
            from starlette.concurrency import run_in_threadpool

            outcome = await run_in_threadpool(self._resolve, request, secret, bool(bearer))
            if isinstance(outcome, JSONResponse):
                if not is_public or bearer:
                    await outcome(scope, receive, send)
                    return
            else:
                scope["state"]["principal"] = outcome
        if scope["state"]["principal"] is None and not is_public and path.startswith(("/api/", "/auth/")):
            await JSONResponse({"detail": "sign-in required"}, status_code=401,
                               headers={"WWW-Authenticate": 'Bearer realm="tsunagu"'})(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _resolve(self, request: Request, secret: str, via_bearer: bool):
        engine = request.app.state.engine
        client = request.client.host if request.client else ""
        path = request.url.path[:60]
        outcome, pending_write = self._check(engine, request, secret, via_bearer, client, path)
        if pending_write is not None:
            # Written after the read session is closed: holding a pooled connection while waiting
            # for the write lock would starve the writer that holds it.
            self._write(engine, pending_write)
        return outcome

    def _check(self, engine, request: Request, secret: str, via_bearer: bool, client: str, path: str):
        """Read-only: (principal or error response, a write to do afterwards or None)."""
        with Session(readonly(engine), expire_on_commit=False) as session:
            token, user = find_token(session, secret)
            if token is None:
                reason = user  # unknown / expired / revoked / inactive
                message = {"unknown": "invalid token", "expired": "token expired; sign in again",
                           "revoked": "token revoked; sign in again", "inactive": "account disabled"}[reason]
                refused = JSONResponse({"detail": message}, status_code=401,
                                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
                return refused, lambda s: record(s, "token_refused", resource=path, detail=reason, status=401,
                                                 client=client)
            if via_bearer and token.kind == SESSION:
                # a session secret is a cookie, not a bearer token
                return JSONResponse({"detail": "invalid token"}, status_code=401), None
            principal = load_principal(session, user, token, ordinance=sharing_ordinance(request.app))
            if not via_bearer and request.method not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not sent or not hmac.compare_digest(sent, token.csrf_token):
                    refused = JSONResponse({"detail": "CSRF token missing or wrong (send the X-CSRF-Token header)"},
                                           status_code=403)
                    return refused, lambda s: record(s, "csrf_refused", principal=principal, resource=path,
                                                     status=403, client=client)
            now = utcnow()
            if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
                token_id = token.id
                return principal, lambda s: s.execute(
                    sa.update(AuthToken).where(AuthToken.id == token_id).values(last_used_at=now))
            return principal, None

    @staticmethod
    def _write(engine, work) -> None:
        with write_lock(engine), Session(engine) as session:
            work(session)
            session.commit()
