"""Sign-in for browser pages (session cookie + CSRF token) and field devices (bearer token)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import principal_of, public, requires
from ..auth.middleware import SESSION_COOKIE
from ..auth.policy import allowed_actions, landing_page, writable_fields
from ..auth.service import SignInRefused, sign_in
from ..auth.tokens import DEVICE, SESSION, revoke
from ..errors import ApiError, check_json_value, field_errors, parse_json
from ..db import readonly
from ..models.auth import Mode, User, UserPublic
from ..models.geo import District, Municipality
from ..models.shelters import Shelter
from .http import client_address, in_session


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    label: str = Field(default="", max_length=100, description="Device name (device tokens)")
    next: str = Field(default="", max_length=300, description="Page to return to after a form sign-in")


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _credentials(request: Request) -> tuple[Credentials | None, bool, list[dict]]:
    """Parse JSON or form credentials; returns (credentials, came_from_form, errors)."""
    is_form = _is_form(request)
    if not is_form and not request.headers.get("content-type", "").startswith("application/json"):
        return None, is_form, [{"field": "body", "message": "send JSON (Content-Type: application/json) or a form"}]
    try:
        if is_form:
            data: Any = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            bad = check_json_value(data)
            if bad:
                return None, is_form, bad
        else:
            data = parse_json(await request.body() or b"null")
        if not isinstance(data, dict):
            raise ValueError
        return Credentials.model_validate(data), is_form, []
    except ValidationError as exc:
        return None, is_form, field_errors(exc)
    except ApiError as exc:  # malformed, too deep, NaN, NUL …: the same answer, audited as malformed
        return None, is_form, exc.errors or [{"field": "body", "message": exc.detail}]
    except (ValueError, UnicodeDecodeError):
        return None, is_form, [{"field": "body", "message": "send username and password as JSON or a form"}]


def _secure(request: Request) -> bool:
    setting = str(request.app.state.settings.TSUNAGU_SECURE_COOKIES).lower()
    if setting in ("true", "1", "yes"):
        return True
    if setting in ("false", "0", "no"):
        return False
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def foreign_origin(request: Request) -> bool:
    """A sign-in posted from another site (login CSRF: the victim's browser signed in to the
    attacker's account) is refused. A browser names the posting page's origin in `Origin`; our
    sign-in page sends it with `Referrer-Policy: same-origin`, so a form posted with `Origin: null`
    (what a page with `no-referrer` sends) did not come from it. A JSON sign-in needs
    `Content-Type: application/json`, which another site cannot send without a CORS preflight we
    never grant, so `null` there is our own field app (whose pages are `no-referrer`). Devices and
    scripts send no Origin and are not affected."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return _is_form(request)
    parts = urlsplit(origin)
    hosts = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "").split(",")[0].strip()}
    return not parts.netloc or parts.netloc.lower() not in {h.lower() for h in hosts if h}


async def _sign_in(request: Request, kind: str) -> tuple[Any, bool, str]:
    client = client_address(request)
    if foreign_origin(request):
        def audit_foreign(session: Session) -> None:
            record(session, "sign_in_failed", detail="sign-in posted from a foreign origin", status=403,
                   client=client)
        await in_session(request, audit_foreign)
        raise ApiError(403, "sign-in from another site is refused; open the sign-in page of this server")
    creds, is_form, errors = await _credentials(request)
    if creds is None:
        def audit_malformed(session: Session) -> None:
            record(session, "sign_in_failed", detail="malformed credentials", status=422, client=client)
        await in_session(request, audit_malformed)
        raise ApiError(422, "username and password are required", errors)
    settings = request.app.state.settings
    lifetime = (timedelta(hours=settings.TSUNAGU_SESSION_HOURS) if kind == SESSION
                else timedelta(days=settings.TSUNAGU_DEVICE_TOKEN_DAYS))

    def run(session: Session):
        try:
            return sign_in(session, creds.username, creds.password, kind=kind, lifetime=lifetime, label=creds.label,
                           client=client, max_failures=settings.TSUNAGU_SIGNIN_MAX_FAILURES,
                           window=timedelta(minutes=settings.TSUNAGU_SIGNIN_WINDOW_MINUTES))
        except SignInRefused as refused:
            headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
            raise ApiError(refused.status, refused.message, headers=headers) from None

    return await in_session(request, run), is_form, creds.next


def _user_summary(user: User) -> dict:
    return UserPublic.model_validate(user, from_attributes=True).model_dump(mode="json")


@public
async def login(request: Request) -> Response:
    result, is_form, next_page = await _sign_in(request, SESSION)
    if is_form:
        target = safe_next(next_page)
        if target == "/":  # no page asked for: the page where this role works
            target = landing_page(result.user.role)
        response: Response = RedirectResponse(target, status_code=303)
    else:
        response = JSONResponse({"user": _user_summary(result.user), "csrf_token": result.token.csrf_token,
                                 "expires_at": result.token.expires_at.isoformat()})
    max_age = int(timedelta(hours=request.app.state.settings.TSUNAGU_SESSION_HOURS).total_seconds())
    response.set_cookie(SESSION_COOKIE, result.secret, max_age=max_age, httponly=True, samesite="strict",
                        secure=_secure(request), path="/")
    return response


@public
async def device_token(request: Request) -> Response:
    result, _, _ = await _sign_in(request, DEVICE)
    return JSONResponse({"token": result.secret, "token_id": str(result.token.id),
                         "expires_at": result.token.expires_at.isoformat(), "user": _user_summary(result.user)},
                        status_code=201, headers={"Cache-Control": "no-store"})


@requires("session.sign_out")
async def logout(request: Request) -> Response:
    principal = principal_of(request)

    def run(session: Session) -> None:
        if principal.token_id:
            revoke(session, principal.token_id)
        record(session, "sign_out", principal=principal, record_ids=[principal.token_id] if principal.token_id else [],
               client=client_address(request))

    await in_session(request, run)
    response = JSONResponse({"detail": "signed out"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _me(session: Session, principal) -> dict:
    """The caller as the field app needs it offline: who, where (names for the scope's ids), the mode
    and the actions of the access table they may perform now. Nothing about residents: not audited."""
    user = session.get(User, principal.user_id)
    query = select(Municipality).order_by(Municipality.municipality_code)
    if principal.municipality_codes is not None:  # several in the installation: the caller's own
        query = query.where(Municipality.municipality_code.in_(sorted(principal.municipality_codes)))
    theirs = session.exec(query).all()
    municipality = theirs[0] if theirs else None

    def named(model, ids) -> list[dict]:
        rows = session.exec(select(model).where(model.id.in_(list(ids)))).all() if ids else []
        return sorted(({"id": str(r.id), "name": r.name} for r in rows), key=lambda r: (r["name"], r["id"]))

    return {
        "user_id": str(principal.user_id), "username": principal.username,
        "display_name": user.display_name if user else "", "role": principal.role.value,
        "role_label": principal.role.ja, "mode": principal.mode.value,
        "municipality": {"code": municipality.municipality_code, "name": municipality.name} if municipality else None,
        "municipalities": [{"code": m.municipality_code, "name": m.name,
                            "mode": (Mode.disaster if m.municipality_code in principal.disaster_codes
                                     else Mode.normal).value if principal.mixed_modes else principal.mode.value}
                           for m in theirs],
        "scope": {"district_ids": sorted(map(str, principal.district_ids)),
                  "shelter_ids": sorted(map(str, principal.shelter_ids)),
                  "deployment_ids": sorted(map(str, principal.deployment_ids)),
                  "districts": named(District, principal.district_ids),
                  "shelters": named(Shelter, principal.shelter_ids)},
        "actions": allowed_actions(principal),
        "writable": writable_fields(principal),
        "csrf_token": principal.csrf_token or None,
    }


@requires("me.read")
async def me(request: Request) -> Response:
    principal = principal_of(request)

    def run() -> dict:
        with Session(readonly(request.app.state.engine)) as session:
            return _me(session, principal)

    return JSONResponse(await run_in_threadpool(run), headers={"Cache-Control": "no-store"})


routes = [
    Route("/auth/login", login, methods=["POST"], name="login"),
    Route("/auth/token", device_token, methods=["POST"], name="device-token"),
    Route("/auth/logout", logout, methods=["POST"], name="logout"),
    Route("/api/me", me, methods=["GET"], name="me"),
]
