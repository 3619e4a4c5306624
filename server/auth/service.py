"""Sign-in, accounts and their rules, kept apart from HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from ..models.auth import AuditEntry, AuthToken, User, UserCreate
from ..models.base import utcnow
from .audit import record
from .municipalities import account_municipalities
from .principal import Principal
from .passwords import hash_password, verify_password, weak_password_reason
from .tokens import issue_token

GENERIC_FAILURE = "ユーザー名またはパスワードが違います / Wrong username or password"


class SignInRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass
class SignIn:
    user: User
    secret: str
    token: AuthToken


def _recent_failures(session: Session, window: timedelta, *, username: str = "", client: str = "") -> int:
    since = utcnow() - window
    query = select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "sign_in_failed",
                                                                 AuditEntry.at >= since)
    query = query.where(AuditEntry.username == username) if username else query.where(AuditEntry.client == client)
    return session.exec(query).one()


def sign_in(session: Session, username: str, password: str, *, kind: str, lifetime: timedelta, label: str,
            client: str, max_failures: int, window: timedelta) -> SignIn:
    """Check the password and issue a token. Failures are throttled per username and per client
    address, and every answer for a bad attempt is the same, so usernames cannot be probed."""
    username = (username or "").strip().lower()[:64]
    if (_recent_failures(session, window, username=username) >= max_failures
            or (client and _recent_failures(session, window, client=client) >= max_failures * 4)):
        record(session, "sign_in_throttled", username=username, status=429, client=client)
        session.commit()
        raise SignInRefused(429, "サインインの失敗が続いたため、しばらく待ってからお試しください / "
                                 "Too many failed sign-ins; try again later", int(window.total_seconds()))
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        record(session, "sign_in_failed", username=username, status=401, client=client)
        session.commit()
        raise SignInRefused(401, GENERIC_FAILURE)
    secret, token = issue_token(session, user, kind, lifetime, label)
    user.last_sign_in_at = utcnow()
    session.add(user)
    record(session, "sign_in", principal=None, username=user.username, resource=kind, record_ids=[token.id],
           client=client)
    session.commit()
    return SignIn(user, secret, token)


def create_user(session: Session, data: UserCreate, by: Principal | None = None) -> User:
    """Create an account; the password is stored only as an argon2id hash. Its municipalities:
    `account_municipalities` (MunicipalityRefused when several exist and none is named)."""
    reason = weak_password_reason(data.password, data.username)
    if reason:
        raise ValueError(reason)
    if session.exec(select(User.id).where(User.username == data.username)).first() is not None:
        raise LookupError("username is taken")
    values = data.model_dump(exclude={"password", "id"})
    values["municipality_codes"] = account_municipalities(session, data.role, data.municipality_codes, by)
    user = User(**values, password_hash=hash_password(data.password))
    if data.id:
        user.id = data.id
    session.add(user)
    session.flush()
    return user
