"""plan_review_reason: why a plan was flagged 要見直し (one row per reason)

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-06 06:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import server.models.base
import sqlmodel


revision: str = '0013'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('plan_review_reason',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('ja', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['evacuation_plan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_review_reason', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_review_reason_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('plan_review_reason', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_review_reason_plan_id'))
    op.drop_table('plan_review_reason')
