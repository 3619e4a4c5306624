"""person_consent (consent per recipient category) and share_handover (提供記録); the single
person.consent is carried over as one answer per outside category, method 移行

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06 06:40:00

The carry-over: a person whose single consent is 同意 (yes) gets 同意 for every outside
recipient category; 不同意 (no) gets 不同意 for every category (a refusal stays a refusal, also
under an opt-out ordinance); 未確認 (not_asked) gets nothing. The answer's date is the person's
consent_date, or, when none was kept, the day the person record was last changed. Method 移行,
recorded_by "migration 0012". person.consent itself is left as it is (the blanket answer for
categories without a record of their own: see docs/access.md).
"""
import sys
import uuid
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0012'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Frozen here (a later change to the vocabulary must not change what this migration did).
CATEGORIES = ("minsei", "jishubo", "jichikai", "fire", "police", "shakyo", "houkatsu")
ANSWER = {"yes": "consented", "no": "refused"}


def upgrade() -> None:
    from server.models.base import UTCDateTime

    op.create_table(
        'person_consent',
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('recipient', sa.String(length=40), nullable=False),
        sa.Column('answer', sa.String(length=40), nullable=False),
        sa.Column('method', sa.String(length=40), nullable=False),
        sa.Column('answered_on', sa.Date(), nullable=False),
        sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('person_consent', schema=None) as batch_op:
        batch_op.create_index('ix_person_consent_latest', ['person_id', 'recipient', 'answered_on', 'recorded_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_person_consent_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_consent_recorded_at'), ['recorded_at'], unique=False)

    op.create_table(
        'share_handover',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.Column('recipient', sa.String(length=40), nullable=False),
        sa.Column('recipient_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('handed_on', sa.Date(), nullable=False),
        sa.Column('person_ids', sa.JSON(), nullable=False),
        sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('medium', sa.String(length=40), nullable=False),
        sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('handed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('handed_by_id', sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('share_handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_handover_handed_on'), ['handed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_handover_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_handover_recorded_at'), ['recorded_at'], unique=False)

    _carry_over(op.get_bind(), UTCDateTime)


def _carry_over(conn, utc_type) -> None:
    person = sa.table('person', sa.column('id', sa.Uuid()), sa.column('consent', sa.String()),
                      sa.column('consent_date', sa.Date()), sa.column('updated_at', utc_type()))
    consent = sa.table('person_consent', *(sa.column(n) for n in (
        'recipient', 'answer', 'method', 'note', 'recorded_by')),
        sa.column('id', sa.Uuid()), sa.column('person_id', sa.Uuid()), sa.column('answered_on', sa.Date()), sa.column('recorded_at', utc_type()))
    now = datetime.now(timezone.utc)
    counts = {"yes": 0, "no": 0}
    rows = conn.execute(sa.select(person.c.id, person.c.consent, person.c.consent_date, person.c.updated_at)
                        .where(person.c.consent.in_(list(ANSWER)))).all()
    batch = []
    for pid, answer, on, updated in rows:
        day = on or (updated.date() if updated is not None else now.date())
        counts[answer] += 1
        for category in CATEGORIES:
            batch.append({"id": uuid.uuid4(), "person_id": pid, "recipient": category, "answer": ANSWER[answer],
                          "method": "migrated", "answered_on": day, "recorded_by": "migration 0012", "note": "",
                          "recorded_at": now})
        if len(batch) >= 7000:
            conn.execute(sa.insert(consent), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(consent), batch)
    print(f"0012: consent carried over per recipient category: {counts['yes']} consented, {counts['no']} refused "
          f"(× {len(CATEGORIES)} categories, method 移行)", file=sys.stderr)


def downgrade() -> None:
    op.drop_table('share_handover')
    op.drop_table('person_consent')
