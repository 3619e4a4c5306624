"""safety of the numbers: district intensity, carers on plans, 協定 shelters opened on request

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import server.models.base


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('district_intensity',
    sa.Column('district_id', sa.Uuid(), nullable=False),
    sa.Column('intensity', sa.Float(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('set_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ),
    sa.PrimaryKeyConstraint('district_id')
    )
    with op.batch_alter_table('evacuation_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carer_accompanies', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_on_request_at', server.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('opened_on_request_by', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.drop_column('opened_on_request_by')
        batch_op.drop_column('opened_on_request_at')
    with op.batch_alter_table('evacuation_plan', schema=None) as batch_op:
        batch_op.drop_column('carer_accompanies')
    op.drop_table('district_intensity')
