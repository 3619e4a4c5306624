"""支援者台帳: the supporter register, and free-text supporters on plans migrated into entries

Creates `supporter` and `supporter_candidate`, then links every supporter line of every plan to
a register entry (`server/records/supporter_migration.py`, the domain's matching): exact matches
(same normalised name and phone) become one entry; near matches stay separate entries and are
recorded as candidate pairs for staff to merge or keep apart on /workbench/supporters/candidates.
Changed plans get a version bump and a change-log row. Prints counts only (never a name).

Revision ID: 0011
Revises: 0009
"""
from __future__ import annotations

import sys
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.models.base
from server.records.supporter_migration import migrate_supporters

revision: str = '0011'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _s(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table('supporter',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('name', _s(100), nullable=False),
    sa.Column('name_kana', _s(200), nullable=False),
    sa.Column('organisation', _s(100), nullable=False),
    sa.Column('phone', _s(40), nullable=False),
    sa.Column('phone_alt', _s(40), nullable=False),
    sa.Column('address', _s(300), nullable=False),
    sa.Column('district_id', sa.Uuid(), nullable=True),
    sa.Column('area_district_ids', sa.JSON(), nullable=False),
    sa.Column('availability', sa.String(length=40), nullable=False),
    sa.Column('lives_outside_city', sa.Boolean(), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('elderly', sa.Boolean(), nullable=True),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('notes', _s(1000), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supporter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporter_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporter_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporter_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporter_person_id'), ['person_id'], unique=False)
    op.create_table('supporter_candidate',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('a_id', sa.Uuid(), nullable=False),
    sa.Column('b_id', sa.Uuid(), nullable=False),
    sa.Column('reason', _s(40), nullable=False),
    sa.Column('state', _s(20), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', _s(100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supporter_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporter_candidate_a_id'), ['a_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporter_candidate_b_id'), ['b_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporter_candidate_state'), ['state'], unique=False)
    report = migrate_supporters(op.get_bind())
    print(f"migration 0011: {report.entries_created} supporter entries made from free text on "
          f"{report.plans_changed} plans; {report.candidates} possible duplicates for staff to confirm",
          file=sys.stderr)


def downgrade() -> None:
    # The plans keep their supporter_id keys (readers ignore them); the register goes.
    op.drop_table('supporter_candidate')
    op.drop_table('supporter')
