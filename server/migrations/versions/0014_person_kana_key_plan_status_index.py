"""person.kana_key (the ふりがな search key, indexed) and an index on plans by status and person

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-06 06:30:00

The register search matched ふりがな with "contains, spaces ignored" on every row (a scan of
50,000 names per search). The key is now stored: NFKC, no spaces, katakana as hiragana
(server/domain/textnorm.kana_key), collated "C" on PostgreSQL so a prefix is one index range.
Existing rows are filled here. The (status, person_id) index answers the plan-status filter
from the index alone.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from server.domain.textnorm import kana_key


revision: str = '0014'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 1000


def upgrade() -> None:
    key_type = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kana_key', key_type, nullable=False, server_default=''))
        batch_op.create_index('ix_person_kana_key', ['kana_key'], unique=False)
    with op.batch_alter_table('evacuation_plan', schema=None) as batch_op:
        batch_op.create_index('ix_evacuation_plan_status_person', ['status', 'person_id'], unique=False)

    conn = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Uuid()), sa.column('name_kana', sa.String()),
                      sa.column('kana_key', sa.String()))
    rows = [(r.id, kana_key(r.name_kana or "")) for r in conn.execute(sa.select(person.c.id, person.c.name_kana))]
    statement = sa.update(person).where(person.c.id == sa.bindparam('b_id')).values(kana_key=sa.bindparam('b_key'))
    for start in range(0, len(rows), BATCH):
        batch = [{'b_id': rid, 'b_key': key} for rid, key in rows[start:start + BATCH] if key]
        if batch:
            conn.execute(statement, batch)


def downgrade() -> None:
    with op.batch_alter_table('evacuation_plan', schema=None) as batch_op:
        batch_op.drop_index('ix_evacuation_plan_status_person')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_kana_key')
        batch_op.drop_column('kana_key')
