"""phone numbers reformatted to libphonenumber's one form

Until now a phone number was kept as typed, digits and hyphens, so ``0423250011`` and
``042-325-0011`` were two values for one number (search and duplicate checks missed it).
``textnorm.normalize_phone`` now checks numbers with libphonenumber and writes Japanese
numbers in the national format (``042-325-0011``), other countries' in E.164. This revision
rewrites every stored number the same way: person.phone and the numbers inside
person.emergency_contacts, evacuation_plan.supporters, shelter.phone, dwat_team.phone and
dwat_member.phone. Changed synced records are logged in the change log so tablets fetch them.

A stored value the formatter cannot read (``042-325-0011 内線12``, an impossible number) is
left exactly as it is; the migration prints how many there are per column — counts only,
never a number — so staff can find and correct them (an edit of another field still keeps
such a value, see models/base.keep_stored). Evacuation-plan history stays as it was saved.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.domain.textnorm import normalize_phone

revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table → (sync entity, plain phone columns, JSON list columns whose items have a "phone")
PHONE_COLUMNS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "person": ("people", ("phone",), ("emergency_contacts",)),
    "evacuation_plan": ("plans", (), ("supporters",)),
    "shelter": ("shelters", ("phone",), ()),
    "dwat_team": ("dwat-teams", ("phone",), ()),
    "dwat_member": ("dwat-members", ("phone",), ()),
}


class _Counts:
    def __init__(self) -> None:
        self.reformatted: dict[str, int] = {}
        self.unreadable: dict[str, int] = {}

    def add(self, kind: dict[str, int], column: str) -> None:
        kind[column] = kind.get(column, 0) + 1


def _reformat(value: Any, column: str, counts: _Counts) -> Any:
    """The value in the one form; unchanged (and counted) when it cannot be read."""
    if not isinstance(value, str) or not value.strip():
        return value
    try:
        formatted = normalize_phone(value)
    except ValueError:
        counts.add(counts.unreadable, column)
        return value
    if formatted != value:
        counts.add(counts.reformatted, column)
    return formatted


def _table(conn, name: str, plain: tuple[str, ...], lists: tuple[str, ...]) -> tuple[list, _Counts]:
    table = sa.table(name, sa.column("id", sa.Uuid()), *(sa.column(c, sa.String()) for c in plain),
                     *(sa.column(c, sa.JSON()) for c in lists))
    counts = _Counts()
    updates: list[dict[str, Any]] = []
    for row in conn.execute(sa.select(table)).mappings().all():
        values: dict[str, Any] = {"b_id": row["id"]}
        for column in plain:
            values[column] = _reformat(row[column], f"{name}.{column}", counts)
        for column in lists:
            items = row[column] or []
            values[column] = [{**item, "phone": _reformat(item.get("phone"), f"{name}.{column}[].phone", counts)}
                              if isinstance(item, dict) and "phone" in item else item for item in items]
        if any(values[column] != row[column] for column in (*plain, *lists)):
            updates.append(values)
    if updates:  # one executemany, not a statement per person
        statement = (sa.update(table).where(table.c.id == sa.bindparam("b_id"))
                     .values({column: sa.bindparam(column) for column in (*plain, *lists)}))
        conn.execute(statement, updates)
    return [values["b_id"] for values in updates], counts


def upgrade() -> None:
    conn = op.get_bind()
    change_log = sa.table("change_log", sa.column("entity", sa.String()), sa.column("record_id", sa.Uuid()),
                          sa.column("op", sa.String()), sa.column("at", server.models.base.UTCDateTime()))
    now = datetime.now(timezone.utc)
    for name, (entity, plain, lists) in PHONE_COLUMNS.items():
        changed, counts = _table(conn, name, plain, lists)
        if changed:
            conn.execute(sa.insert(change_log), [{"entity": entity, "record_id": rid, "op": "upsert", "at": now}
                                                 for rid in changed])
        for column, number in counts.reformatted.items():
            print(f"migration 0007: {column}: {number} phone numbers reformatted", file=sys.stderr)
        for column, number in counts.unreadable.items():
            print(f"migration 0007: {column}: {number} values are not a phone number libphonenumber can read; "
                  f"left unchanged for staff to correct", file=sys.stderr)


def downgrade() -> None:
    # The old forms were only other spellings of the same numbers: nothing to undo.
    pass
