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


# Per entity, the fields that decide whose scope a record is in (ids and codes only).
SCOPE_KEYS = {"people": ("district_id", "consent", "municipality_code"), "plans": ("person_id",)}


def scope_keys(entity: str, values: dict | None) -> dict | None:
    """The scope-deciding values of a record as it was before a write; None for a new record."""
    if values is None or entity not in SCOPE_KEYS:
        return None
    out = {}
    for name in SCOPE_KEYS[entity]:
        value = values.get(name)
        out[name] = None if value is None else str(getattr(value, "value", value))
    return out


def log_change(session: Session, entity: str, record_id: uuid.UUID, op: str = "upsert",
               before: dict | None = None) -> None:
    """Record that `entity` `record_id` was written (or deleted) in the current transaction;
    `before` is the record's values before the write (None for a new record)."""
    _serialize_writers(session)
    session.add(ChangeLog(entity=entity, record_id=record_id, op=op, before=scope_keys(entity, before)))


def log_changes(executor, entity: str, record_ids: Iterable[uuid.UUID], op: str = "upsert",
                befores: dict | None = None) -> int:
    """Bulk form for importers and loaders; `executor` is a Session or a Core Connection.
    `befores` ({id: values before the write}) lets the feed drop a changed record from the devices
    that held it; without it, an update logged here sends no drop (docs/sync.md)."""
    befores = befores or {}
    rows = [{"entity": entity, "record_id": rid, "op": op, "at": utcnow(),
             "before": scope_keys(entity, befores.get(rid))} for rid in record_ids]
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
