"""DWAT dispatch: team status and home base, member availability, request need counts and
flow steps (who and when at each step)

Existing rows are carried over: a team with an active deployment is on site, others standby;
a request's free-text needs are read as counts where they name a need kind (高齢者介護 3 …);
its step follows its state (open → requested, assigned → team_assigned, closed → closed), its
team is its deployment's, it is wanted from the day it was made (Japan time), and its steps so
far are written from its created and updated times (by: "migration 0015", since nobody was
recorded then).

Revision ID: 0015
Revises: 0009
"""
import uuid
from datetime import datetime, timedelta, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import server.models.base

revision: str = '0015'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

JST = timezone(timedelta(hours=9))
STEP_OF_STATE = {"open": "requested", "assigned": "team_assigned", "closed": "closed"}
BY = "migration 0015"


def upgrade() -> None:
    with op.batch_alter_table('dwat_team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=40), nullable=False, server_default='standby'))
        batch_op.add_column(sa.Column('home_lon', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('home_lat', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dwat_team_status'), ['status'], unique=False)
    with op.batch_alter_table('dwat_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('availability', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('dwat_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('need_counts', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('wanted_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('origin', sa.String(length=40), nullable=False, server_default='shelter'))
        batch_op.add_column(sa.Column('step', sa.String(length=40), nullable=False, server_default='requested'))
        batch_op.add_column(sa.Column('team_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dwat_request_step'), ['step'], unique=False)
        batch_op.create_index(batch_op.f('ix_dwat_request_team_id'), ['team_id'], unique=False)
        batch_op.create_foreign_key('fk_dwat_request_team_id_dwat_team', 'dwat_team', ['team_id'], ['id'])
    op.create_table('dwat_request_step',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('from_step', sa.String(length=40), nullable=True),
    sa.Column('to_step', sa.String(length=40), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('deployment_id', sa.Uuid(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['dwat_deployment.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['dwat_request.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['dwat_team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dwat_request_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dwat_request_step_request_id'), ['request_id'], unique=False)
    _carry_over(op.get_bind())


def _counts(needs) -> dict:
    """The free-text needs that name a kind, as counts; the others stay as text only."""
    from server.domain.dwat.adapters import needs_from_text
    from server.domain.dwat.common import DwatError

    counts: dict = {}
    for item in needs or []:
        try:
            found = needs_from_text([str(item)])
        except DwatError:
            continue
        for kind, n in found.items():
            counts[kind] = counts.get(kind, 0) + n
    return counts


def _carry_over(conn) -> None:
    UTC = server.models.base.UTCDateTime(timezone=True)
    team = sa.table('dwat_team', sa.column('id', sa.Uuid()), sa.column('status', sa.String()))
    deployment = sa.table('dwat_deployment', sa.column('id', sa.Uuid()), sa.column('team_id', sa.Uuid()),
                          sa.column('state', sa.String()))
    request = sa.table('dwat_request', sa.column('id', sa.Uuid()), sa.column('needs', sa.JSON()),
                       sa.column('state', sa.String()), sa.column('deployment_id', sa.Uuid()),
                       sa.column('created_at', UTC), sa.column('updated_at', UTC),
                       sa.column('need_counts', sa.JSON()), sa.column('wanted_from', sa.Date()),
                       sa.column('step', sa.String()), sa.column('team_id', sa.Uuid()))
    step = sa.table('dwat_request_step', *(sa.column(n, t) for n, t in (
        ('id', sa.Uuid()), ('request_id', sa.Uuid()), ('from_step', sa.String()), ('to_step', sa.String()),
        ('by', sa.String()), ('at', UTC), ('team_id', sa.Uuid()), ('deployment_id', sa.Uuid()),
        ('note', sa.String()))))
    on_site = {r.team_id for r in conn.execute(sa.select(deployment.c.team_id).where(deployment.c.state == 'active'))}
    if on_site:
        conn.execute(sa.update(team).where(team.c.id.in_(list(on_site))).values(status='on_site'))
    changed = [('dwat-teams', t) for t in on_site]
    team_of = {r.id: r.team_id for r in conn.execute(sa.select(deployment.c.id, deployment.c.team_id))}
    for row in conn.execute(sa.select(request)).all():
        to = STEP_OF_STATE.get(row.state, 'requested')
        team_id = team_of.get(row.deployment_id)
        conn.execute(sa.update(request).where(request.c.id == row.id).values(
            need_counts=_counts(row.needs), wanted_from=row.created_at.astimezone(JST).date(), step=to,
            team_id=team_id))
        steps = [dict(from_step=None, to_step='requested', at=row.created_at, team_id=None, deployment_id=None)]
        if to != 'requested':
            # what the row can tell: it reached its state by its last update
            steps.append(dict(from_step='requested', to_step=to, at=row.updated_at, team_id=team_id,
                              deployment_id=row.deployment_id))
        conn.execute(sa.insert(step), [dict(id=uuid.uuid4(), request_id=row.id, by=BY,
                                            note='移行時に記録から復元 / restored from the record by the migration',
                                            **s) for s in steps])
        changed.append(('dwat-requests', row.id))
    if changed:
        # field devices holding these rows get them again, with the new fields (the sync feed)
        log = sa.table('change_log', sa.column('entity', sa.String()), sa.column('record_id', sa.Uuid()),
                       sa.column('op', sa.String()), sa.column('at', UTC))
        now = datetime.now(timezone.utc)
        conn.execute(sa.insert(log), [dict(entity=e, record_id=rid, op='upsert', at=now) for e, rid in changed])


def downgrade() -> None:
    with op.batch_alter_table('dwat_request_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dwat_request_step_request_id'))
    op.drop_table('dwat_request_step')
    with op.batch_alter_table('dwat_request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_dwat_request_team_id_dwat_team', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dwat_request_team_id'))
        batch_op.drop_index(batch_op.f('ix_dwat_request_step'))
        batch_op.drop_column('team_id')
        batch_op.drop_column('step')
        batch_op.drop_column('origin')
        batch_op.drop_column('wanted_from')
        batch_op.drop_column('need_counts')
    with op.batch_alter_table('dwat_member', schema=None) as batch_op:
        batch_op.drop_column('availability')
    with op.batch_alter_table('dwat_team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dwat_team_status'))
        batch_op.drop_column('home_lat')
        batch_op.drop_column('home_lon')
        batch_op.drop_column('status')
