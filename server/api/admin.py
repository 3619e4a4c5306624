"""Administration: accounts, device tokens, normal/disaster mode, the audit log."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import principal_of, requires
from ..auth.mode import current_switch, switch_mode
from ..domain.csvsafe import safe_row
from ..auth.passwords import hash_password, weak_password_reason
from ..auth.municipalities import MunicipalityRefused, account_municipalities, installed, sees_account
from ..auth.service import create_user
from ..auth.tokens import revoke, revoke_all_for_user
from ..errors import MAX_INT, ApiError, validation_error
from ..models.auth import (AuditEntry, AuditEntryPublic, AuthToken, AuthTokenPublic, Mode, User, UserCreate,
                           UserPublic, UserUpdate)
from ..models.base import utcnow
from ..models.geo import normalize_municipality_code
from ..records.resource import parse_datetime, parse_uuid
from .http import client_address, in_session, path_uuid, read_body, read_json_object



def _public_user(user: User) -> dict:
    return UserPublic.model_validate(user, from_attributes=True).model_dump(mode="json")


@requires("users.list")
async def list_users(request: Request) -> Response:
    principal = principal_of(request)

    def run(session: Session) -> dict:
        users = [u for u in session.exec(select(User).order_by(User.role, User.username)).all()
                 if sees_account(principal, u)]
        return {"items": [_public_user(u) for u in users], "total": len(users)}
    return JSONResponse(await in_session(request, run))


@requires("users.create")
async def create_user_endpoint(request: Request) -> Response:
    model = await read_body(request, UserCreate)
    principal = principal_of(request)

    def run(session: Session) -> dict:
        try:
            user = create_user(session, model, by=principal)
        except MunicipalityRefused as exc:
            raise ApiError(422, "validation failed", [{"field": "municipality_codes", "message": str(exc)}]) from None
        except ValueError as exc:
            raise ApiError(422, "validation failed", [{"field": "password", "message": str(exc)}]) from None
        except LookupError as exc:
            raise ApiError(422, "validation failed", [{"field": "username", "message": str(exc)}]) from None
        record(session, "create", principal=principal, resource="users", record_ids=[user.id],
               client=client_address(request))
        return _public_user(user)

    return JSONResponse(await in_session(request, run), status_code=201)


@requires("users.update")
async def update_user(request: Request) -> Response:
    user_id = path_uuid(request)
    patch = await read_body(request, UserUpdate)
    principal = principal_of(request)

    def run(session: Session) -> dict:
        user = session.get(User, user_id)
        if user is None or not sees_account(principal, user):
            raise ApiError(404, "user not found")
        if patch.version != user.version:
            raise ApiError(409, "stale version", extra={"current": _public_user(user)})
        changes = patch.model_dump(exclude_unset=True, exclude={"version", "password"})
        if "municipality_codes" in changes or "role" in changes:
            try:
                changes["municipality_codes"] = account_municipalities(
                    session, changes.get("role") or user.role,
                    changes["municipality_codes"] if changes.get("municipality_codes") is not None
                    else user.municipality_codes, by=principal)
            except MunicipalityRefused as exc:
                raise ApiError(422, "validation failed", [{"field": "municipality_codes", "message": str(exc)}]) from None
        for key, value in changes.items():
            setattr(user, key, value)
        if patch.password is not None:
            reason = weak_password_reason(patch.password, user.username)
            if reason:
                raise ApiError(422, "validation failed", [{"field": "password", "message": reason}])
            user.password_hash = hash_password(patch.password)
            revoke_all_for_user(session, user.id)  # a new password signs the old devices out
        if changes.get("active") is False:
            revoke_all_for_user(session, user.id)
        user.version += 1
        user.updated_at = utcnow()
        session.add(user)
        record(session, "update", principal=principal, resource="users", record_ids=[user.id],
               detail=",".join(sorted(changes) + (["password"] if patch.password else [])),
               client=client_address(request))
        session.flush()
        return _public_user(user)

    return JSONResponse(await in_session(request, run))


def _visible_users(session: Session, principal) -> list:
    return [u.id for u in session.exec(select(User)).all() if sees_account(principal, u)]


@requires("tokens.list")
async def list_tokens(request: Request) -> Response:
    user_filter = request.query_params.get("user_id")
    principal = principal_of(request)

    def run(session: Session) -> dict:
        query = select(AuthToken).order_by(AuthToken.created_at.desc())
        if user_filter:
            try:
                query = query.where(AuthToken.user_id == uuid.UUID(user_filter))
            except ValueError:
                raise ApiError(422, "invalid query parameters", [{"field": "user_id", "message": "not a UUID"}]) from None
        if principal.municipality_codes is not None:  # a city's administrator: its accounts' tokens
            query = query.where(AuthToken.user_id.in_(_visible_users(session, principal)))
        rows = session.exec(query.limit(500)).all()
        return {"items": [AuthTokenPublic.model_validate(t, from_attributes=True).model_dump(mode="json") for t in rows]}

    return JSONResponse(await in_session(request, run))


@requires("tokens.revoke")
async def revoke_token(request: Request) -> Response:
    token_id = path_uuid(request)
    principal = principal_of(request)

    def run(session: Session) -> dict:
        token = session.get(AuthToken, token_id)
        if token is None or (principal.municipality_codes is not None
                             and token.user_id not in _visible_users(session, principal)):
            raise ApiError(404, "token not found")
        revoked = revoke(session, token_id)
        record(session, "token_revoke", principal=principal, resource="tokens", record_ids=[token_id],
               detail="revoked" if revoked else "already revoked", client=client_address(request))
        return {"id": str(token_id), "revoked": True}

    return JSONResponse(await in_session(request, run))


class ModeRequest(BaseModel):
    mode: Mode
    reason: str = Field(min_length=1, max_length=300, description="e.g. the name of the earthquake")
    municipality_code: str | None = Field(default=None, max_length=6,
                                          description="whose mode; default: the caller's only municipality")


def _mode_answer(switch, code: str | None = None) -> dict:
    if switch is None:
        return {"mode": Mode.normal.value, "since": None, "reason": "", "switched_by": None, "municipality_code": code}
    return {"mode": switch.mode, "since": switch.at.isoformat(), "reason": switch.reason,
            "switched_by": str(switch.user_id) if switch.user_id else None, "municipality_code": code}


def _mode_municipality(session: Session, principal, asked: str | None) -> tuple[str | None, list[str]]:
    """The municipality a mode read or switch is about, and the caller's municipalities.

    None: the installation has several and the caller works for several, and none was named."""
    every = installed(session)
    mine = sorted(principal.municipality_codes) if principal.municipality_codes is not None else every
    if asked:
        try:
            code = normalize_municipality_code(asked)
        except ValueError as exc:
            raise ApiError(422, "validation failed", [{"field": "municipality_code", "message": str(exc)}]) from None
        if every and code not in mine:
            raise ApiError(422, "validation failed", [{"field": "municipality_code",
                                                       "message": f"{code} is not one of your municipalities"}])
        return code, mine
    if len(every) <= 1:
        return (every[0] if every else ""), mine
    return (mine[0] if len(mine) == 1 else None), mine


@requires("mode.read")
async def get_mode(request: Request) -> Response:
    """The mode in force for a municipality (?municipality_code=, default: the caller's only one);
    for a caller of several municipalities without one named, each of theirs."""
    principal = principal_of(request)

    def run(session: Session) -> dict:
        code, mine = _mode_municipality(session, principal, request.query_params.get("municipality_code"))
        if code is not None:
            single = len(installed(session)) <= 1
            return _mode_answer(current_switch(session, None if single else code), code or None)
        each = [_mode_answer(current_switch(session, c), c) for c in mine]
        return {"mode": principal.mode.value, "municipality_code": None, "municipalities": each}
    return JSONResponse(await in_session(request, run))


@requires("mode.switch")
async def set_mode(request: Request) -> Response:
    principal = principal_of(request)
    data = await read_json_object(request)
    request.state.audit_refusal = ("mode_switch", "mode", [])
    try:
        wanted = ModeRequest.model_validate({**data, "reason": str(data.get("reason") or "").strip()})
    except ValidationError as exc:
        def audit(session: Session) -> None:
            record(session, "denied", principal=principal, resource="mode", status=422,
                   detail="mode switch without a valid mode and reason", client=client_address(request))
        await in_session(request, audit)
        raise validation_error(exc) from None

    def run(session: Session) -> dict:
        code, _ = _mode_municipality(session, principal, wanted.municipality_code)
        if code is None:
            raise ApiError(422, "validation failed", [{"field": "municipality_code", "message":
                           "name the municipality whose mode changes (you work for several)"}])
        switch = switch_mode(session, wanted.mode, wanted.reason, principal.user_id, code)
        record(session, "mode_switch", principal=principal, resource="mode", detail=f"{wanted.mode.value} {code}".strip(),
               client=client_address(request))
        return _mode_answer(switch, code or None)

    return JSONResponse(await in_session(request, run))


AUDIT_FILTERS = {"user_id": ("user_id", parse_uuid), "action": ("action", str), "resource": ("resource", str),
                 "username": ("username", str)}


def _audit_query(params: dict[str, str]):
    query = select(AuditEntry)
    errors = []
    for key, raw in params.items():
        try:
            if key in AUDIT_FILTERS:
                column, parse = AUDIT_FILTERS[key]
                query = query.where(getattr(AuditEntry, column) == parse(raw))
            elif key == "since":
                query = query.where(AuditEntry.at >= parse_datetime(raw))
            elif key == "until":
                query = query.where(AuditEntry.at < parse_datetime(raw))
            elif key == "record_id":
                # ids are stored as a JSON list of strings; a text match finds them on both databases
                query = query.where(sa.cast(AuditEntry.record_ids, sa.String).contains(str(uuid.UUID(raw))))
            elif key not in ("limit", "offset"):
                errors.append({"field": key, "message": "unknown query parameter"})
        except ValueError as exc:
            errors.append({"field": key, "message": str(exc)})
    if errors:
        raise ApiError(422, "invalid query parameters", errors)
    return query


def _own_entries(session: Session, principal, query):
    """A city's administrator reads the entries of its own municipalities' accounts (several
    municipalities in the installation); the installation's administrator reads all."""
    if principal.municipality_codes is None:
        return query
    return query.where(AuditEntry.user_id.in_(_visible_users(session, principal)))


def _page(params: dict[str, str]) -> tuple[int, int]:
    try:
        limit = int(params.get("limit", 100))
        offset = int(params.get("offset", 0))
        if not (1 <= limit <= 1000 and 0 <= offset <= MAX_INT):
            raise ValueError
    except ValueError:
        raise ApiError(422, "invalid query parameters", [{"field": "limit", "message": "1–1000"},
                                                         {"field": "offset", "message": f"0–{MAX_INT}"}]) from None
    return limit, offset


@requires("audit.read")
async def audit_log(request: Request) -> Response:
    params = dict(request.query_params)
    base = _audit_query(params)
    limit, offset = _page(params)

    principal = principal_of(request)

    def run(session: Session) -> dict:
        query = _own_entries(session, principal, base)
        total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
        rows = session.exec(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
        return {"items": [AuditEntryPublic.model_validate(r, from_attributes=True).model_dump(mode="json") for r in rows],
                "total": total, "limit": limit, "offset": offset}

    return JSONResponse(await in_session(request, run))


@requires("audit.export")
async def audit_csv(request: Request) -> Response:
    params = dict(request.query_params)
    query = _audit_query({k: v for k, v in params.items()})
    principal = principal_of(request)

    def run(session: Session) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["id", "日時(UTC)", "利用者ID", "ユーザー名", "役割", "操作", "対象", "記録ID", "モード", "状態", "詳細", "接続元"])
        for r in session.exec(_own_entries(session, principal, query).order_by(AuditEntry.id)).all():
            # attempted usernames, paths and details are whatever a caller sent: escaped like every CSV cell
            writer.writerow(safe_row([r.id, r.at.isoformat(), r.user_id or "", r.username, r.role, r.action, r.resource,
                             " ".join(r.record_ids), r.mode, r.status, r.detail, r.client]))
        record(session, "export", principal=principal, resource="audit", client=client_address(request))
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    body = await in_session(request, run)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})


routes = [
    Route("/api/users", list_users, methods=["GET"]),
    Route("/api/users", create_user_endpoint, methods=["POST"]),
    Route("/api/users/{id}", update_user, methods=["PATCH"]),
    Route("/api/tokens", list_tokens, methods=["GET"]),
    Route("/api/tokens/{id}/revoke", revoke_token, methods=["POST"]),
    Route("/api/mode", get_mode, methods=["GET"]),
    Route("/api/mode", set_mode, methods=["POST"]),
    Route("/api/audit", audit_log, methods=["GET"]),
    Route("/api/audit.csv", audit_csv, methods=["GET"]),
]
