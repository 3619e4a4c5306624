"""Several municipalities in one installation: users belong to municipalities, the mode is per
municipality, shelters may receive people from other municipalities (広域避難)

An installation with exactly one municipality keeps working with no setting: its users are put in
that municipality and its mode switches are that municipality's.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


EMPTY_LIST = sa.text("'[]'")


def upgrade() -> None:
    # NOT NULL with a default at once: on SQLite a later ALTER to NOT NULL would copy the table,
    # and dropping the old shelter table fails while deployments and requests refer to it.
    op.add_column('app_user', sa.Column('municipality_codes', sa.JSON(), nullable=False, server_default=EMPTY_LIST))
    with op.batch_alter_table('mode_switch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('municipality_code', sa.String(length=6), nullable=False, server_default=''))
        batch_op.create_index('ix_mode_switch_municipality_code', ['municipality_code'], unique=False)
    op.add_column('shelter', sa.Column('accepts_from', sa.JSON(), nullable=False, server_default=EMPTY_LIST))

    conn = op.get_bind()
    codes = [row[0] for row in conn.execute(sa.text("SELECT municipality_code FROM municipality"))]
    only = codes if len(codes) == 1 else []
    user = sa.table('app_user', sa.column('municipality_codes', sa.JSON()))
    conn.execute(sa.update(user).values(municipality_codes=only))
    if only:
        switch = sa.table('mode_switch', sa.column('municipality_code', sa.String()))
        conn.execute(sa.update(switch).values(municipality_code=only[0]))


def downgrade() -> None:
    with op.batch_alter_table('shelter', schema=None) as batch_op:
        batch_op.drop_column('accepts_from')
    with op.batch_alter_table('mode_switch', schema=None) as batch_op:
        batch_op.drop_index('ix_mode_switch_municipality_code')
        batch_op.drop_column('municipality_code')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('municipality_codes')
