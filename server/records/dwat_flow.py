"""The DWAT request flow's writes (accept, confirm a team, on site, close, cancel): each a
versioned write with its change-log entry, its step row (who and when) and its audit entry, in
the caller's one transaction; a refusal raises ApiError before anything is written (or inside
the transaction, which the caller rolls back). docs/dwat.md."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Session

from ..auth.audit import record
from ..domain.dwat.common import Deployment, DwatError
from ..domain.dwat.request_flow import STATE_OF_STEP, Request, advance, assign_team
from ..domain.dwat.roster import check_new_deployment, check_team
from ..errors import ApiError
from ..models import DwatDeployment, DwatRequest, DwatRequestStep, DwatTeam
from ..models.base import utcnow
from ..models.vocab import DeploymentState, RequestStep, TeamStatus
from ..sync.changelog import log_change
from .dwat_dispatch import STAY_DAYS, Pool, load_pool, problem_dict, refusal, request_item


def _versioned(session: Session, table, entity: str, row, version: int, values: dict) -> None:
    """Write `values` to `row` only if it is still at `version` (409 otherwise), bump the
    version, and log the change for the sync feed."""
    before = {c.name: getattr(row, c.name) for c in table.__table__.columns}
    result = session.execute(sa.update(table).where(table.id == row.id, table.version == version)
                             .values(**values, version=version + 1, updated_at=utcnow()))
    if result.rowcount != 1:
        raise ApiError(409, f"stale version: the record is at version {row.version}; reload and try again")
    log_change(session, entity, row.id, before=before)
    session.expire(row)


def _check_note(note: Any) -> None:
    if not isinstance(note, str) or len(note) > 2000:
        raise ApiError(422, "validation failed", [{"field": "note", "message": "text of at most 2000 characters"}])


def _check_version(row, version: Any) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise ApiError(422, "validation failed", [{"field": "version", "message": "the version you saw (an integer)"}])
    if version != row.version:
        raise ApiError(409, f"stale version: you saw version {version}, the request is at version {row.version}")


@dataclass(frozen=True)
class Actor:
    principal: Any
    name: str
    client: str = ""
    at: Optional[datetime] = None

    def now(self) -> datetime:
        return self.at or utcnow()


def _add_step(session: Session, request_id, before: Request, after: Request, deployment_id=None) -> None:
    t = after.history[-1]
    session.add(DwatRequestStep(request_id=request_id, from_step=before.state.value, to_step=t.to_state.value,
                                by=t.by, at=t.at, team_id=t.team_id, deployment_id=deployment_id, note=t.note))


def advance_request(session: Session, actor: Actor, request_id: uuid.UUID, to: Any, version: Any, note: str = "") -> dict:
    """accepted, on_site, closed or cancelled: one step of the flow (never a skipped one). On
    site: the request's deployment becomes active and its team on site; closed: the deployment
    ends and the team rests; cancelled: a planned deployment is cancelled and an active one ends."""
    pool = load_pool(session, [request_id], codes=actor.principal.municipality_codes)
    row = pool.requests.get(request_id)
    if row is None:
        raise ApiError(404, "DWAT request not found")
    _check_version(row, version)
    if not isinstance(to, str):
        raise ApiError(422, "validation failed", [{"field": "to", "message": "the step to move to"}])
    _check_note(note)
    before = pool.request(request_id)
    try:
        after = advance(before, to, by=actor.name, at=actor.now(), note=note)
    except (DwatError, ValueError) as exc:
        if isinstance(exc, DwatError):
            raise refusal(exc) from None
        raise ApiError(422, "validation failed", [{"field": "to", "message": str(exc)}]) from None
    _versioned(session, DwatRequest, "dwat-requests", row, version,
               {"step": after.state.value, "state": STATE_OF_STEP[after.state].value})
    deployment = pool.deployments.get(row.deployment_id) if row.deployment_id else None
    if deployment is not None:
        _follow(session, pool, deployment, after.state)
    _add_step(session, request_id, before, after, row.deployment_id)
    record(session, f"dwat_request_{after.state.value}", principal=actor.principal, resource="dwat-requests",
           record_ids=[request_id], client=actor.client)
    session.flush()
    return request_item(load_pool(session, [request_id]), session.get(DwatRequest, request_id))


def _follow(session: Session, pool: Pool, deployment: DwatDeployment, step: RequestStep) -> None:
    """The deployment and the team follow the request's step."""
    team = pool.teams[deployment.team_id]
    dep_state, team_status = {
        RequestStep.on_site: (DeploymentState.active, TeamStatus.on_site),
        RequestStep.closed: (DeploymentState.ended, TeamStatus.resting),
        RequestStep.cancelled: (DeploymentState.cancelled if deployment.state == DeploymentState.planned
                                else DeploymentState.ended, None),
    }.get(step, (None, None))
    if dep_state is not None and deployment.state != dep_state:
        _versioned(session, DwatDeployment, "dwat-deployments", deployment, deployment.version,
                   {"state": dep_state.value})
    if team_status is not None and team.status != team_status:
        _versioned(session, DwatTeam, "dwat-teams", team, team.version, {"status": team_status.value})


def _day(value: Any, field: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _bad(field)
    except ValueError:
        return _bad(field)


def _bad(field: str):
    raise ApiError(422, "validation failed", [{"field": field, "message": "a date (YYYY-MM-DD)"}])


def confirm_team(session: Session, actor: Actor, request_id: uuid.UUID, body: dict, today: date) -> dict:
    """HQ confirms a team for an accepted request: the request's step becomes team_assigned and
    a planned deployment of the team to the request's site is made (from the wanted day, or
    today if that has passed, for five days unless dates are given). Refused before anything is
    written: a request not accepted, one that has a team, a resting or stood-down team, a team
    with composition errors or busy over those days, reversed dates, a member of the team
    already in a live deployment over them."""
    pool = load_pool(session, None, codes=actor.principal.municipality_codes)
    row = pool.requests.get(request_id)
    if row is None:
        raise ApiError(404, "DWAT request not found")
    _check_version(row, body.get("version"))
    try:
        team_id = uuid.UUID(str(body.get("team_id")))
    except ValueError:
        raise ApiError(422, "validation failed", [{"field": "team_id", "message": "a team id (UUID)"}]) from None
    if team_id not in pool.teams:
        raise ApiError(422, "validation failed", [{"field": "team_id", "message": f"no dwat_team with id {team_id}"}])
    note = body.get("note") or ""
    _check_note(note)
    before = pool.request(request_id)
    start = _day(body.get("start_date"), "start_date") or max(before.wanted_from, today)
    end = _day(body.get("end_date"), "end_date") or start + timedelta(days=STAY_DAYS - 1)
    team = pool.team(team_id)
    new_id = uuid.uuid4()
    new = Deployment(new_id, team_id, row.shelter_id, start, end, DeploymentState.planned,
                     tuple(m.id for m in pool.members_of(team_id)))
    others = [r for r in pool.domain_requests() if r.id != request_id]
    try:
        check_new_deployment(new, pool.domain_deployments(), team)
        after = _assign_from(before, team, start, end, actor, others, note)
    except DwatError as exc:
        raise refusal(exc) from None
    deployment = DwatDeployment(id=new_id, team_id=team_id, shelter_id=row.shelter_id, start_date=start, end_date=end,
                                state=DeploymentState.planned, notes=note)
    session.add(deployment)
    session.flush()
    log_change(session, "dwat-deployments", new_id)
    _versioned(session, DwatRequest, "dwat-requests", row, row.version,
               {"step": after.state.value, "state": STATE_OF_STEP[after.state].value, "team_id": team_id,
                "deployment_id": new_id})
    _add_step(session, request_id, before, after, new_id)
    record(session, "dwat_confirm", principal=actor.principal, resource="dwat-requests",
           record_ids=[request_id, new_id, team_id], client=actor.client)
    session.flush()
    return {"request": request_item(load_pool(session, [request_id]), session.get(DwatRequest, request_id)),
            "deployment": {"id": str(new_id), "team_id": str(team_id), "shelter_id": str(row.shelter_id),
                           "start_date": start.isoformat(), "end_date": end.isoformat(), "state": "planned"},
            "warnings": [problem_dict(p) for p in check_team(team).warnings]}


def _assign_from(before: Request, team, start: date, end: date, actor: Actor, others, note: str) -> Request:
    """assign_team judges the team over the days from the request's wanted day; HQ may send it
    for other days, so judge it over those (the stored wanted day is not changed)."""
    moved = replace(before, wanted_from=start)
    after = assign_team(moved, team, by=actor.name, at=actor.now(), others=others, note=note,
                        days=(end - start).days + 1)
    return replace(after, wanted_from=before.wanted_from)


