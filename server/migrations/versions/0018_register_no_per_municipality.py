"""登録者番号 unique per municipality: each municipality numbers its own 避難行動要支援者名簿, so two
cities in one installation hold the same numbers. The unique index on person.register_no becomes a
plain one (lookups by number alone) and (municipality_code, register_no) gets the unique index.

Indexes only (op.create_index / op.drop_index): no table is copied, so SQLite's foreign keys to
person are untouched.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 10:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_index('ix_person_register_no', table_name='person')
    op.create_index('ix_person_register_no', 'person', ['register_no'], unique=False)
    op.create_index('ix_person_municipality_register', 'person', ['municipality_code', 'register_no'], unique=True)


def downgrade() -> None:
    # Refuse plainly rather than fail inside CREATE UNIQUE INDEX: numbers held by two
    # municipalities must be renumbered (or one city's people removed) before going back.
    shared = op.get_bind().execute(sa.text(
        "SELECT register_no FROM person GROUP BY register_no HAVING COUNT(*) > 1 ORDER BY register_no")).scalars().all()
    if shared:
        raise RuntimeError(f"cannot downgrade below 0018: {len(shared)} register numbers are held by several "
                           f"municipalities (e.g. {', '.join(shared[:5])}); renumber them first")
    op.drop_index('ix_person_municipality_register', table_name='person')
    op.drop_index('ix_person_register_no', table_name='person')
    op.create_index('ix_person_register_no', 'person', ['register_no'], unique=True)
