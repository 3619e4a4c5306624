"""Builds the Starlette app: routes, middleware, error handlers, static files, templates."""

from __future__ import annotations

import logging
import traceback
import uuid
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, field_app
from .api import (admin, auth, dwat, dwat_field, exports, hazards, hq, hq_decisions, hq_stream, imports, matching,
                  openapi, printing, resources, sync, workbench, workbench_coverage, workbench_imports,
                  workbench_reviews, workbench_sharing, workbench_supporters)
from .api.http import audit_unrecorded_refusal
from .auth.demo_users import DEMO_PREFIX, DEMO_ROLES
from .auth.guard import public
from .auth.policy import landing_page
from .auth.middleware import AuthMiddleware
from .errors import ApiError
from .security import SecurityHeaders
from .db import make_engine
from .settings import Settings, load_settings
from .web import templates

HERE = Path(__file__).resolve().parent
log = logging.getLogger("tsunagu")


class BodySizeLimit:
    """Answers 413 for request bodies over the limit, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise ApiError(413, f"request body is larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)


class QueryGuard:
    """A NUL character in the query string is refused (422) before any handler sees it: no field
    may hold one (PostgreSQL cannot compare text with it; SQLite would store it)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"%00" in query or b"\x00" in query:
            await JSONResponse({"detail": "invalid query parameters",
                                "errors": [{"field": "query", "message": "a NUL character (%00) is not allowed"}]},
                               status_code=422)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _too_large(max_bytes: int) -> Response:
    return JSONResponse({"detail": f"request body is larger than {max_bytes} bytes"}, status_code=413)


async def _api_error(request: Request, exc: ApiError) -> Response:
    if not exc.audited:  # every refusal is audited (docs/access.md), also those outside a transaction
        await audit_unrecorded_refusal(request, exc.status, exc.detail)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 403:  # a page refused to a signed-in role
        await audit_unrecorded_refusal(request, 403, str(exc.detail))
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
        detail = exc.detail
        if exc.status_code == 405:
            detail = f"method {request.method} is not allowed here"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
    return templates.TemplateResponse(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                                      status_code=exc.status_code)


def _log_incident(request_method: str, path: str, exc: BaseException) -> str:
    # Never log or echo the exception's message: it may hold personal data (a name in a
    # ValueError, say). The type and where it happened are enough to find it with the incident id.
    incident = uuid.uuid4().hex[:12]
    where = "\n".join(f"  {frame.filename}:{frame.lineno} in {frame.name}"
                      for frame in traceback.extract_tb(exc.__traceback__))
    log.error("unhandled error %s on %s %s: %s\n%s", incident, request_method, path, type(exc).__name__, where)
    return incident


class CatchAll:
    """The last line: an unexpected error becomes a 500 with an incident id, logged without its
    message; a client that went away mid-request is not an error at all."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.info("client went away during %s %s", scope.get("method"), scope.get("path"))
        except Exception as exc:  # noqa: BLE001 - this is the catch-all
            incident = _log_incident(scope.get("method", ""), scope.get("path", ""), exc)
            if not started:
                await JSONResponse({"detail": f"internal error (incident {incident})"}, status_code=500)(
                    scope, receive, send)


@public
async def index(request: Request) -> Response:
    """The front door: what each part is for, the signed-in user's own work first, and in demo mode
    which demo account plays which role (never their passwords)."""
    principal = getattr(request.state, "principal", None)
    context: dict = {"version": __version__, "signed_in": principal is not None}
    if principal is not None:
        context.update(landing=landing_page(principal.role), role_label=principal.role.ja, role_en=principal.role.en)
    if request.app.state.settings.TSUNAGU_DEMO:
        context["demo_accounts"] = [
            {"username": DEMO_PREFIX + name, "role_ja": role.ja, "role_en": role.en, "landing": landing_page(role)}
            for name, role in DEMO_ROLES]
    return templates.TemplateResponse(request, "index.html", context)


@public
async def api_docs(request: Request) -> Response:
    doc = openapi.add_remaining_routes(openapi.build_openapi(), request.app.routes)
    return templates.TemplateResponse(request, "api_docs.html", {"doc": doc, "version": __version__})


@public
async def login_page(request: Request) -> Response:
    from .api.auth import safe_next

    # same-origin (not the site-wide no-referrer): the form's post then names this origin, and
    # /auth/login refuses a form whose Origin is another site or null (login CSRF, docs/access.md)
    return templates.TemplateResponse(request, "login.html",
                                      {"version": __version__, "next": safe_next(request.query_params.get("next"))},
                                      headers={"Referrer-Policy": "same-origin"})


@public
async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


PWA_DIR = HERE.parent / "pwa"
# Browser libraries installed from npm (pwa/package.json + lock) and served by the app itself,
# never from a CDN: the field app and the HQ map must work with no internet.
VENDOR = {"leaflet": "leaflet/dist", "supercluster": "supercluster/dist"}


def vendor_mounts() -> list[Mount]:
    mounts = []
    for name, sub in VENDOR.items():
        directory = PWA_DIR / "node_modules" / sub
        if directory.is_dir():
            mounts.append(Mount(f"/vendor/{name}", public(StaticFiles(directory=str(directory))), name=f"vendor-{name}"))
        else:
            log.warning("browser library %s is missing: run scripts/setup (npm ci in pwa/)", name)
    return mounts


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Starlette:
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)
    routes = [
        Route("/", index, name="index"),
        Route("/api/docs", api_docs, name="api-docs"),
        Route("/api/health", health, name="health"),
        Route("/login", login_page, name="login-page"),
        *auth.routes,
        *admin.routes,
        *sync.routes,
        *openapi.routes,
        *imports.routes,
        *exports.routes,
        *matching.routes,
        *hq_decisions.routes,
        *hazards.routes,
        *resources.routes,
        *hq.routes,
        *hq_stream.routes,
        *field_app.routes,
        *printing.routes,
        *workbench.routes,
        *workbench_sharing.routes,
        *workbench_supporters.routes,
        *workbench_imports.routes,
        *workbench_coverage.routes,
        *workbench_reviews.routes,
        *dwat.routes,
        *dwat_field.routes,
        Mount("/static", public(StaticFiles(directory=str(HERE / "static"))), name="static"),
        *vendor_mounts(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.settings = settings
    app.state.engine = engine
    # Added last runs first: headers on every answer, then the size limit, then who is asking.
    app.add_middleware(AuthMiddleware)
    app.add_middleware(BodySizeLimit, max_bytes=settings.TSUNAGU_MAX_UPLOAD_BYTES)
    app.add_middleware(QueryGuard)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)
    return app
