"""Free-text supporters on plans → supporter register entries (支援者台帳), in bulk.

Used by migration 0011 and by `tests/bench/bench_supporters.py`; written against plain table
descriptions (not the ORM models) so that a later model change cannot alter what the migration did.
The matching is the domain's (`domain.workbench.supporters.migrate_free_text`): the same
normalised name and phone digits are one entry; near matches stay separate entries and are
stored as candidate pairs for staff to confirm. Each changed plan gets `supporter_id` on its
lines, a version bump and a change-log row (devices fetch it; an edit a device based on the
old version becomes a conflict rather than silently dropping the link).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from ..domain.workbench.common import Plan, PlanSupporter, name_key
from ..domain.workbench.supporters import SupporterEntry, migrate_free_text, phone_key
from ..models.base import UTCDateTime

BATCH = 2000

_PLAN = sa.table("evacuation_plan", sa.column("id", sa.Uuid()), sa.column("person_id", sa.Uuid()),
                 sa.column("supporters", sa.JSON()), sa.column("version", sa.Integer()),
                 sa.column("updated_at", UTCDateTime()))
_SUPPORTER = sa.table("supporter", *(sa.column(c, t) for c, t in (
    ("id", sa.Uuid()), ("version", sa.Integer()), ("created_at", UTCDateTime()), ("updated_at", UTCDateTime()),
    ("kind", sa.String()), ("name", sa.String()), ("name_kana", sa.String()), ("organisation", sa.String()),
    ("phone", sa.String()), ("phone_alt", sa.String()), ("address", sa.String()), ("district_id", sa.Uuid()),
    ("area_district_ids", sa.JSON()), ("availability", sa.String()), ("lives_outside_city", sa.Boolean()),
    ("birth_year", sa.Integer()), ("elderly", sa.Boolean()), ("person_id", sa.Uuid()), ("active", sa.Boolean()),
    ("left_on", sa.Date()), ("notes", sa.String()))))
_CANDIDATE = sa.table("supporter_candidate", *(sa.column(c, t) for c, t in (
    ("id", sa.Uuid()), ("a_id", sa.Uuid()), ("b_id", sa.Uuid()), ("reason", sa.String()), ("state", sa.String()),
    ("created_at", UTCDateTime()), ("decided_at", UTCDateTime()), ("decided_by", sa.String()))))
_CHANGE_LOG = sa.table("change_log", sa.column("entity", sa.String()), sa.column("record_id", sa.Uuid()),
                       sa.column("op", sa.String()), sa.column("at", UTCDateTime()))


@dataclass(frozen=True)
class Report:
    plans_changed: int
    entries_created: int
    candidates: int


def _existing(conn) -> list[SupporterEntry]:
    rows = conn.execute(sa.select(_SUPPORTER.c.id, _SUPPORTER.c.name, _SUPPORTER.c.phone)).all()
    return [SupporterEntry(r.id, r.name, phone=r.phone or "") for r in rows]


def _as_plan(row) -> Plan:
    lines = tuple(PlanSupporter(str(s.get("name") or ""), str(s.get("relation") or ""), str(s.get("address") or ""),
                                str(s.get("phone") or ""), _uuid(s.get("supporter_id")))
                  for s in row.supporters or () if isinstance(s, dict))
    return Plan(row.id, row.person_id, supporters=lines)


def _uuid(value: Any):
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def migrate_supporters(conn) -> Report:
    """Link every free-text supporter line to a register entry (new or existing)."""
    rows = conn.execute(sa.select(_PLAN.c.id, _PLAN.c.person_id, _PLAN.c.supporters, _PLAN.c.version)).all()
    existing = _existing(conn)
    known = {e.id for e in existing}
    result = migrate_free_text((_as_plan(r) for r in rows), existing, new_id=lambda n: uuid.uuid4(), star=True)
    now = datetime.now(timezone.utc)
    new_entries = [e for e in result.entries if e.id not in known]
    _insert(conn, _SUPPORTER, [{
        "id": e.id, "version": 1, "created_at": now, "updated_at": now, "kind": e.kind.value, "name": e.name[:100],
        "name_kana": e.name_kana[:200], "organisation": "", "phone": e.phone[:40], "phone_alt": "",
        "address": e.address[:300], "district_id": None, "area_district_ids": [], "availability": "anytime",
        "lives_outside_city": False, "birth_year": None, "elderly": None, "person_id": None, "active": True,
        "left_on": None, "notes": ""} for e in new_entries])
    by_key = {(name_key(e.name), phone_key(e.phone)): e.id for e in result.entries}
    changed = []
    for row in rows:
        lines = [s for s in row.supporters or () if isinstance(s, dict)]
        if not lines:
            continue
        linked = _link_lines(lines, by_key)
        if linked != list(row.supporters or ()):
            changed.append({"b_id": row.id, "supporters": linked, "version": row.version + 1, "updated_at": now})
    for start in range(0, len(changed), BATCH):
        conn.execute(sa.update(_PLAN).where(_PLAN.c.id == sa.bindparam("b_id"))
                     .values(supporters=sa.bindparam("supporters"), version=sa.bindparam("version"),
                             updated_at=sa.bindparam("updated_at")), changed[start:start + BATCH])
    _insert(conn, _CHANGE_LOG, [{"entity": "plans", "record_id": c["b_id"], "op": "upsert", "at": now} for c in changed]
            + [{"entity": "supporters", "record_id": e.id, "op": "upsert", "at": now} for e in new_entries])
    pairs = [p for p in result.candidates if p.a not in known or p.b not in known]
    _insert(conn, _CANDIDATE, [{"id": uuid.uuid4(), "a_id": p.a, "b_id": p.b, "reason": p.reason, "state": "open",
                                "created_at": now, "decided_at": None, "decided_by": ""} for p in pairs])
    return Report(len(changed), len(new_entries), len(pairs))


def _link_lines(lines: list[dict], by_key: dict) -> list[dict]:
    """Each free-text line with the id of its entry, by the domain's key (normalised name, phone digits)."""
    out = []
    for line in lines:
        if line.get("supporter_id"):
            out.append(line)
            continue
        sid = by_key.get((name_key(str(line.get("name") or "")), phone_key(str(line.get("phone") or ""))))
        out.append({**line, "supporter_id": str(sid) if sid is not None else None})
    return out


def _insert(conn, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(sa.insert(table), rows[start:start + BATCH])
