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


AUDIT_IDS_PER_ENTRY = 1000


def record_in_parts(session: Session, action: str, *, record_ids: Iterable = (), detail: str = "",
                    part_size: int = AUDIT_IDS_PER_ENTRY, **fields) -> list[AuditEntry]:
    """One operation on many records (a plan CSV import of 50,000 plans): the ids in entries of
    `part_size` each, every entry with the same who / when / detail and "(ids part n/m)", so no
    single row grows with the file and a `record_id` search still finds the operation. No ids:
    one entry, as `record`."""
    ids = [str(i) for i in record_ids]
    if len(ids) <= part_size:
        return [record(session, action, record_ids=ids, detail=detail, **fields)]
    parts = [ids[start:start + part_size] for start in range(0, len(ids), part_size)]
    return [record(session, action, record_ids=part, detail=f"{detail} (ids part {n}/{len(parts)})", **fields)
            for n, part in enumerate(parts, start=1)]
