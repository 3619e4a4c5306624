"""Browser sessions and device tokens. The secret is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from ..models.auth import AuthToken, User
from ..models.base import utcnow

SESSION = "session"
DEVICE = "device"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, kind: str, lifetime: timedelta, label: str = "") -> tuple[str, AuthToken]:
    """Create a token; returns (secret, row). The secret is never stored."""
    secret = secrets.token_urlsafe(32)
    row = AuthToken(user_id=user.id, kind=kind, secret_hash=secret_hash(secret), label=label,
                    csrf_token=secrets.token_urlsafe(24) if kind == SESSION else "",
                    expires_at=utcnow() + lifetime)
    session.add(row)
    session.flush()
    return secret, row


def find_token(session: Session, secret: str, now: datetime | None = None) -> tuple[AuthToken, User] | tuple[None, str]:
    """The live token and its user, or (None, reason) — reason is one of unknown/expired/revoked/inactive."""
    now = now or utcnow()
    found = session.exec(select(AuthToken, User).join(User, User.id == AuthToken.user_id)
                         .where(AuthToken.secret_hash == secret_hash(secret))).first()
    if found is None:
        return None, "unknown"
    token, user = found
    if token.revoked_at is not None:
        return None, "revoked"
    if token.expires_at <= now:
        return None, "expired"
    if not user.active:
        return None, "inactive"
    return token, user


def revoke(session: Session, token_id: uuid.UUID) -> bool:
    """Revoke a token; False if it was unknown or already revoked."""
    result = session.execute(sa.update(AuthToken).where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return result.rowcount == 1


def revoke_all_for_user(session: Session, user_id: uuid.UUID) -> int:
    result = session.execute(sa.update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return result.rowcount
