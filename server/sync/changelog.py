"""The change log: one row per write, in commit order, so a cursor never skips a change."""

from __future__ import annotations

import secrets
import uuid
from typing import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from ..models.base import utcnow
from ..models.sync import ChangeLog, SyncEpoch

# Any constant: PostgreSQL transactions that write the change log take this lock until commit, so
# sequence numbers become visible in order (a sequence alone does not give commit order there).
_PG_LOCK_KEY = 0x7453_796E  # "tSyn"


def _serialize_writers(executor) -> None:
    dialect = executor.dialect if hasattr(executor, "dialect") else executor.get_bind().dialect
    if dialect.name == "postgresql":
        executor.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    # SQLite has a single writer at a time already: the first write of a transaction holds it to commit.


def log_change(session: Session, entity: str, record_id: uuid.UUID, op: str = "upsert") -> None:
    """Record that `entity` `record_id` was written (or deleted) in the current transaction."""
    _serialize_writers(session)
    session.add(ChangeLog(entity=entity, record_id=record_id, op=op))


def log_changes(executor, entity: str, record_ids: Iterable[uuid.UUID], op: str = "upsert") -> int:
    """Bulk form for importers and loaders; `executor` is a Session or a Core Connection."""
    rows = [{"entity": entity, "record_id": rid, "op": op, "at": utcnow()} for rid in record_ids]
    if not rows:
        return 0
    _serialize_writers(executor)
    executor.execute(sa.insert(ChangeLog), rows)
    return len(rows)


def max_seq(session: Session) -> int:
    return session.exec(select(sa.func.coalesce(sa.func.max(ChangeLog.seq), 0))).one()


def epoch(session: Session) -> str:
    """This database's sync epoch, made on first use."""
    row = session.get(SyncEpoch, 1)
    if row is None:
        row = SyncEpoch(id=1, epoch=secrets.token_hex(8))
        session.add(row)
        try:
            session.flush()
        except sa.exc.IntegrityError:  # another request made it first
            session.rollback()
            row = session.get(SyncEpoch, 1)
    return row.epoch
