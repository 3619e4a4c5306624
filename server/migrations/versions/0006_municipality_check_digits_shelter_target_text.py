"""municipality code check digits corrected; shelter 受入対象者 text and carers

Before this revision the check digit of a 全国地方公共団体コード was computed with a remainder of 0
giving 0 instead of 1, so a five-digit code such as 13202 (立川市) was completed as 132020
and every shelter of a 新宿区 GSI file was stored as 131040. This revision recomputes the
sixth digit of every stored six-digit code from its first five, in every table holding one,
and records the corrected synced records in the change log so field tablets fetch them.
A correction that would collide with a row already holding the right code (a municipality
or district entered twice) is left for staff and counted in the report.

It also adds two shelter columns: ``target_groups_text`` (受入対象者 as the source wrote it)
and ``accepts_carers`` (介助者・家族も受け入れる).

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sys
import uuid
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.models.base

revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Tables with a municipality_code column → the sync entity they are published as (None: not synced).
CODE_TABLES = {"municipality": "municipalities", "district": "districts", "person": "people",
               "shelter": "shelters", "hazard_area": None}
# Columns that must stay unique together with the code.
UNIQUE_WITH = {"municipality": (), "district": ("code",)}


def check_digit(code5: str) -> str:
    """Frozen copy of the corrected rule: (11 − Σ dᵢ·wᵢ mod 11) mod 10, weights 6 5 4 3 2."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2)))
    return str((11 - total % 11) % 10)


def _report(message: str) -> None:
    print(f"migration 0006: {message}", file=sys.stderr)


def _fix_codes(conn, name: str, entity: str | None) -> tuple[int, int]:
    """Correct the check digit in one table; returns (corrected, left because of a collision)."""
    extra = UNIQUE_WITH.get(name, ())
    table = sa.table(name, sa.column("id", sa.Uuid()), sa.column("municipality_code", sa.String()),
                     *(sa.column(c, sa.String()) for c in extra))
    codes = conn.execute(sa.select(table.c.municipality_code).distinct()).scalars().all()
    wrong = {code: code[:5] + check_digit(code[:5]) for code in codes
             if code and len(code) == 6 and code.isdigit() and code[5] != check_digit(code[:5])}
    if not wrong:
        return 0, 0
    fixed: list[uuid.UUID] = []
    collisions = 0
    if name in UNIQUE_WITH:  # few rows, each checked against the rows already holding the right code
        rows = conn.execute(sa.select(table)).mappings().all()
        taken = {(row["municipality_code"], *(row[c] for c in extra)) for row in rows}
        for row in rows:
            if row["municipality_code"] not in wrong:
                continue
            key = (wrong[row["municipality_code"]], *(row[c] for c in extra))
            if key in taken:
                collisions += 1
                continue
            conn.execute(sa.update(table).where(table.c.id == row["id"]).values(municipality_code=key[0]))
            taken.add(key)
            fixed.append(row["id"])
    else:  # people, shelters, hazard areas: one statement per wrong code
        for code, right in wrong.items():
            fixed += conn.execute(sa.select(table.c.id).where(table.c.municipality_code == code)).scalars().all()
            conn.execute(sa.update(table).where(table.c.municipality_code == code).values(municipality_code=right))
    if entity and fixed:
        change_log = sa.table("change_log", sa.column("entity", sa.String()), sa.column("record_id", sa.Uuid()),
                              sa.column("op", sa.String()), sa.column("at", server.models.base.UTCDateTime()))
        now = datetime.now(timezone.utc)
        conn.execute(sa.insert(change_log), [{"entity": entity, "record_id": rid, "op": "upsert", "at": now}
                                             for rid in fixed])
    return len(fixed), collisions


def upgrade() -> None:
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_groups_text', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('accepts_carers', sa.Boolean(), nullable=True))

    conn = op.get_bind()
    for name, entity in CODE_TABLES.items():
        fixed, collisions = _fix_codes(conn, name, entity)
        if fixed or collisions:
            _report(f"{name}: {fixed} municipality codes given the correct check digit"
                    + (f"; {collisions} left unchanged because the corrected code is already taken "
                       f"(merge them by hand)" if collisions else ""))


def downgrade() -> None:
    # The wrong check digits are not restored: they were never valid codes.
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.drop_column('accepts_carers')
        batch_op.drop_column('target_groups_text')
