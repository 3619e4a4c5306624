"""The append-only audit log: who read or changed which records, when, under which mode.

Only ids and short reasons are written — never names, addresses or health details.
"""

from __future__ import annotations

from typing import Iterable

from sqlmodel import Session

from ..models.auth import AuditEntry


def record(session: Session, action: str, *, principal=None, resource: str = "", record_ids: Iterable = (),
           status: int = 200, detail: str = "", client: str = "", username: str = "", mode: str = "") -> AuditEntry:
    """Add an entry to the session; it commits with the surrounding transaction."""
    entry = AuditEntry(
        user_id=getattr(principal, "user_id", None),
        username=getattr(principal, "username", "") or username,
        role=str(getattr(principal, "role", "") or ""),
        action=action, resource=resource, record_ids=[str(i) for i in record_ids],
        mode=str(getattr(principal, "mode", "") or mode), status=status, detail=detail[:300], client=client[:64])
    session.add(entry)
    return entry
