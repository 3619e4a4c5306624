"""DWAT on site: welfare triage (dwat_triage), J-SPEED-like counts and handover on the daily
report (the requests' need counts came with 0015)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 06:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import server.models.base


revision: str = '0016'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

EMPTY_OBJECT = sa.text("'{}'")  # existing rows: no counts yet (the old three numbers stay)


def upgrade() -> None:
    op.create_table('dwat_triage',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('observed_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reporter', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('shelter_id', sa.Uuid(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('destination_shelter_id', sa.Uuid(), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('new_person', sa.JSON(), nullable=True),
    sa.Column('registered_on_site', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['dwat_deployment.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelter.id'], ),
    sa.ForeignKeyConstraint(['destination_shelter_id'], ['shelter.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dwat_triage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dwat_triage_observed_at'), ['observed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dwat_triage_recorded_at'), ['recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dwat_triage_deployment_id'), ['deployment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dwat_triage_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dwat_triage_shelter_id'), ['shelter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dwat_triage_registered_on_site'), ['registered_on_site'], unique=False)

    with op.batch_alter_table('dwat_activity_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts', sa.JSON(), nullable=False, server_default=EMPTY_OBJECT))
        batch_op.add_column(sa.Column('triage_counts', sa.JSON(), nullable=False, server_default=EMPTY_OBJECT))
        batch_op.add_column(sa.Column('handover', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False,
                                      server_default=''))
    # The requests' need counts and wanted-from day come with 0015 (DWAT dispatch).


def downgrade() -> None:
    with op.batch_alter_table('dwat_activity_report', schema=None) as batch_op:
        batch_op.drop_column('handover')
        batch_op.drop_column('triage_counts')
        batch_op.drop_column('counts')
    op.drop_table('dwat_triage')
