"""The supporter register keeps to its municipality: supporter.municipality_code (several
municipalities in one installation), filled from the entry's 町丁目, else from the municipality of
the people whose plans link it, else the installation's only municipality

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 07:45:00
"""
from collections import Counter
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0017'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _linked_codes(conn) -> dict[str, Counter]:
    """supporter id (text) → Counter of the municipalities of the people whose plans link it."""
    person = sa.table('person', sa.column('id', sa.Uuid()), sa.column('municipality_code', sa.String()))
    plan = sa.table('evacuation_plan', sa.column('person_id', sa.Uuid()), sa.column('supporters', sa.JSON()))
    out: dict[str, Counter] = {}
    for code, lines in conn.execute(sa.select(person.c.municipality_code, plan.c.supporters)
                                    .select_from(plan.join(person, person.c.id == plan.c.person_id))):
        for line in lines or ():
            sid = line.get("supporter_id") if isinstance(line, dict) else None
            if sid:
                out.setdefault(str(sid), Counter())[code] += 1
    return out


def upgrade() -> None:
    with op.batch_alter_table('supporter') as batch_op:
        batch_op.add_column(sa.Column('municipality_code', sa.String(length=6), nullable=True))
        batch_op.create_index('ix_supporter_municipality_code', ['municipality_code'])
    conn = op.get_bind()
    installed = [r[0] for r in conn.execute(sa.text("SELECT municipality_code FROM municipality"))]
    district = sa.table('district', sa.column('id', sa.Uuid()), sa.column('municipality_code', sa.String()))
    districts = dict(conn.execute(sa.select(district.c.id, district.c.municipality_code)).all())
    linked = _linked_codes(conn)
    supporter = sa.table('supporter', sa.column('id', sa.Uuid()), sa.column('district_id', sa.Uuid()),
                         sa.column('municipality_code', sa.String()))
    for sid, district_id in conn.execute(sa.select(supporter.c.id, supporter.c.district_id)).all():
        code = districts.get(district_id) if district_id is not None else None
        if code is None and str(sid) in linked:
            code = linked[str(sid)].most_common(1)[0][0]
        if code is None and len(installed) == 1:
            code = installed[0]
        if code is not None:
            conn.execute(sa.update(supporter).where(supporter.c.id == sid).values(municipality_code=code))


def downgrade() -> None:
    with op.batch_alter_table('supporter') as batch_op:
        batch_op.drop_index('ix_supporter_municipality_code')
        batch_op.drop_column('municipality_code')
