"""DWAT dispatch (派遣調整) on the stored rows: the pool of teams, requests and deployments
read once, the domain rules of server/domain/dwat applied to it, and the writes of the request
flow (accept, confirm a team, on site, close, cancel) — each a versioned write with its change
log entry, its step row (who and when) and its audit entry, in the caller's one transaction.

A refusal raises ApiError (422 for a rule broken, 409 for a team or request already taken, a
stale version) before anything is written, or inside the transaction, which the caller rolls back:
nothing is changed. docs/dwat.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..auth.audit import record
from ..domain.dwat.adapters import deployment_from_row, request_from_row, site_from_shelter, team_from_rows
from ..domain.dwat.common import Deployment, DwatError, Site
from ..domain.dwat.request_flow import HOLDS_TEAM, OPEN, Request, advance, assign_team
from ..domain.dwat.roster import check_deployment_dates, check_new_deployment, check_team
from ..domain.dwat.rotation import PlannedDeployment, RotationParams, SiteNeed, drop_team, plan_around
from ..domain.dwat.suggest import SuggestParams, suggest
from ..domain.problems import Problem
from ..errors import ApiError
from ..models import DwatDeployment, DwatMember, DwatRequest, DwatRequestStep, DwatTeam, Shelter
from ..models.base import utcnow
from ..models.vocab import DeploymentState, NeedKind, RequestState, RequestStep, TeamStatus
from ..sync.changelog import log_change

LIVE = (DeploymentState.planned.value, DeploymentState.active.value)
# Refusals that mean "someone else already has it" (409) rather than "this input is wrong" (422).
TAKEN = frozenset({"already_assigned", "team_already_assigned", "team_busy", "member_two_active", "member_overlap"})
STAY_DAYS = 5


def refusal(exc: DwatError, detail: str = "") -> ApiError:
    """A domain refusal as the API's answer: every problem, Japanese and English, by field."""
    problems = exc.problems
    status = 409 if any(p.code in TAKEN for p in problems) else 422
    return ApiError(status, detail or "; ".join(p.en for p in problems),
                    [problem_dict(p) for p in problems])


def problem_dict(p: Problem) -> dict:
    return {"field": p.field or "body", "message": f"{p.ja} / {p.en}", "code": p.code, "severity": p.severity,
            "ja": p.ja, "en": p.en}


@dataclass
class Pool:
    """Everything dispatch decides on, read once: rows by id and their domain forms."""

    teams: dict[uuid.UUID, DwatTeam]
    members: list[DwatMember]
    deployments: dict[uuid.UUID, DwatDeployment]
    requests: dict[uuid.UUID, DwatRequest]
    steps: dict[uuid.UUID, list[DwatRequestStep]]
    shelters: dict[uuid.UUID, Shelter]
    cache: dict = field(default_factory=dict)  # domain forms, built once per read (the pool is not changed)

    def team(self, team_id, without: Optional[uuid.UUID] = None):
        """The domain Team; `without`: judge it without that deployment (its own)."""
        deployments = [d for d in self.deployments.values() if d.id != without]
        return team_from_rows(self.teams[team_id], self.members_of(team_id), deployments)

    def domain_teams(self) -> list:
        if "teams" not in self.cache:
            self.cache["teams"] = self._domain_teams()
        return self.cache["teams"]

    def _domain_teams(self) -> list:
        by_team: dict = {}
        for m in self.members:
            by_team.setdefault(m.team_id, []).append(m)
        live: dict = {}
        for d in self.deployments.values():
            live.setdefault(d.team_id, []).append(d)
        return [team_from_rows(t, by_team.get(t.id, []), live.get(t.id, [])) for t in self.teams.values()]

    def members_of(self, team_id) -> list[DwatMember]:
        return [m for m in self.members if m.team_id == team_id]

    def request(self, request_id) -> Request:
        row = self.requests[request_id]
        return request_from_row(row, steps=self.steps.get(request_id, []))

    def domain_requests(self) -> list[Request]:
        if "requests" not in self.cache:
            self.cache["requests"] = self._domain_requests()
        return self.cache["requests"]

    def _domain_requests(self) -> list[Request]:
        out = []
        for rid in self.requests:
            try:
                out.append(self.request(rid))
            except DwatError:
                continue  # a legacy row with no needs at all: shown, never suggested for
        return out

    def domain_deployments(self) -> list[Deployment]:
        members: dict = {}
        for m in self.members:
            members.setdefault(m.team_id, []).append(m.id)
        return [deployment_from_row(d, members.get(d.team_id, ())) for d in self.deployments.values()]

    def sites(self) -> dict:
        return {s.id: site_from_shelter(s) for s in self.shelters.values()}


def load_pool(session: Session, request_ids: Optional[list] = None) -> Pool:
    """The pool as stored now. Deployments: the live ones (they hold teams and members) plus
    those the requests point at."""
    teams = {t.id: t for t in session.exec(select(DwatTeam).order_by(DwatTeam.name, DwatTeam.id)).all()}
    # Plain rows, not ORM objects: read-only here, and a pool of 300 teams holds ~1,500 members.
    table = DwatMember.__table__
    members = list(session.execute(sa.select(table).order_by(table.c.team_id, table.c.role, table.c.name)).all())
    query = select(DwatRequest).order_by(DwatRequest.created_at, DwatRequest.id)
    if request_ids is not None:
        query = query.where(DwatRequest.id.in_(request_ids))
    requests = {r.id: r for r in session.exec(query).all()}
    pointed = {r.deployment_id for r in requests.values() if r.deployment_id}
    deployments = {d.id: d for d in session.exec(select(DwatDeployment).where(
        sa.or_(DwatDeployment.state.in_(LIVE), DwatDeployment.id.in_(list(pointed))))).all()}
    steps: dict = {}
    if requests:
        for s in session.exec(select(DwatRequestStep).where(DwatRequestStep.request_id.in_(list(requests)))
                              .order_by(DwatRequestStep.at)).all():
            steps.setdefault(s.request_id, []).append(s)
    wanted = {r.shelter_id for r in requests.values()} | {d.shelter_id for d in deployments.values()}
    shelters = {s.id: s for s in session.exec(select(Shelter).where(Shelter.id.in_(list(wanted)))).all()} \
        if wanted else {}
    return Pool(teams, members, deployments, requests, steps, shelters)


# ---- reads: suggestions and the rotation plan ----

def needs_list(row: DwatRequest) -> list[dict]:
    counts = row.need_counts or {}
    return [{"kind": k.value, "ja": k.ja, "en": k.en, "count": counts[k.value]} for k in NeedKind if counts.get(k.value)]


def request_item(pool: Pool, row: DwatRequest) -> dict:
    shelter = pool.shelters.get(row.shelter_id)
    step = RequestStep(row.step)
    return {"id": str(row.id), "version": row.version, "shelter_id": str(row.shelter_id),
            "shelter_name": shelter.name if shelter else "", "needs": needs_list(row), "needs_text": list(row.needs),
            "urgency": row.priority, "wanted_from": row.wanted_from.isoformat() if row.wanted_from else None,
            "origin": row.origin, "step": step.value, "step_ja": step.ja, "step_en": step.en, "note": row.note,
            "team_id": str(row.team_id) if row.team_id else None,
            "deployment_id": str(row.deployment_id) if row.deployment_id else None,
            "steps": [{"from": s.from_step, "to": s.to_step, "by": s.by, "at": s.at.isoformat(), "note": s.note,
                       "team_id": str(s.team_id) if s.team_id else None}
                      for s in pool.steps.get(row.id, [])]}


def open_requests(pool: Pool) -> list[Request]:
    """The open requests (requested or accepted), most urgent first: urgency, wanted day, id —
    the order suggest() answers in."""
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted((r for r in pool.domain_requests() if r.state in OPEN),
                  key=lambda r: (order.get(str(r.urgency), 1), r.wanted_from, str(r.id)))


def suggestions(pool: Pool, params: SuggestParams = SuggestParams(), limit: Optional[int] = None) -> list[dict]:
    """For every open request (requested or accepted), most urgent first (the first `limit`
    only, if given): the request and the teams ranked, each with its score parts and reasons
    (ja / en), and why teams were left out."""
    teams = pool.domain_teams()
    names = {t.id: t.name for t in pool.teams.values()}
    wanted = open_requests(pool)
    ranked = suggest(wanted if limit is None else wanted[:limit], teams, pool.sites(), params)
    out = []
    for entry in ranked:
        item = request_item(pool, pool.requests[entry.request_id])
        item["suggestions"] = [{
            "team_id": str(s.team_id), "team_name": names.get(s.team_id, ""), "rank": s.rank, "score": s.score,
            "coverage": s.coverage, "availability": s.availability, "travel": s.travel,
            "distance_km": s.distance_km, "travel_hours": s.travel_hours,
            "reasons": [{"code": r.code, "ja": r.ja, "en": r.en} for r in s.reasons]} for s in entry.suggestions]
        item["excluded"] = entry.excluded
        out.append(item)
    return out


def rotation(pool: Pool, today: date, days: int = 14, drop: Optional[uuid.UUID] = None,
             drop_from: Optional[date] = None) -> dict:
    """The coming `days` days per site, from today: the deployments decided (planned, active)
    kept, the rest planned from the pool (plan_around), with coverage per day and the gaps;
    sites: those with a live deployment or a request waiting for or holding a team. With `drop`:
    what happens if that team drops out from `drop_from` (default today)."""
    if not 1 <= days <= 60:
        raise ApiError(422, "invalid query parameters", [{"field": "days", "message": "1 to 60"}])
    teams = pool.domain_teams()
    sites = pool.sites()
    fixed = [PlannedDeployment(d.shelter_id, 0, d.team_id, d.start_date, d.end_date or d.start_date + timedelta(days=STAY_DAYS - 1))
             for d in pool.deployments.values() if d.state in LIVE]
    starts: dict = {}
    for d in fixed:
        if d.end >= today:
            starts[d.site_id] = today
    for row in pool.requests.values():
        if row.step in {s.value for s in OPEN | HOLDS_TEAM} and row.shelter_id not in starts:
            starts[row.shelter_id] = max(today, row.wanted_from or today)
    last = today + timedelta(days=days - 1)
    needs = [SiteNeed(sites.get(sid, Site(sid)), start, (last - start).days + 1)
             for sid, start in sorted(starts.items(), key=lambda kv: (kv[1], _site_name(pool, kv[0]), str(kv[0])))
             if start <= last]
    params = RotationParams()
    try:
        plan = plan_around(fixed, needs, teams, params)
        result = None
        if drop is not None:
            if drop not in pool.teams:
                raise ApiError(422, "validation failed", [{"field": "drop_team", "message": f"no dwat_team with id {drop}"}])
            result = drop_team(plan, drop, drop_from or today)
    except DwatError as exc:
        raise refusal(exc) from None
    decided = {(d.site_id, d.team_id, d.start) for d in fixed}
    answer = _plan_dict(pool, result.plan if result else plan, decided, today, last)
    if result is not None:
        answer["what_if"] = {
            "team_id": str(drop), "team_name": pool.teams[drop].name, "from": (drop_from or today).isoformat(),
            "changed": [_deployment_dict(pool, d, decided) for d in result.changed],
            "replacements": [_deployment_dict(pool, d, decided) for d in result.replacements],
            "new_gaps": [_gap_dict(pool, g) for g in result.new_gaps]}
    return answer


def _site_name(pool: Pool, site_id) -> str:
    shelter = pool.shelters.get(site_id)
    return shelter.name if shelter else ""


def _deployment_dict(pool: Pool, d: PlannedDeployment, decided: set) -> dict:
    team = pool.teams.get(d.team_id)
    return {"site_id": str(d.site_id), "site_name": _site_name(pool, d.site_id), "team_id": str(d.team_id),
            "team_name": team.name if team else "", "start": d.start.isoformat(), "end": d.end.isoformat(),
            "decided": (d.site_id, d.team_id, d.start) in decided}


def _gap_dict(pool: Pool, g) -> dict:
    return {"site_id": str(g.site_id), "site_name": _site_name(pool, g.site_id), "start": g.start.isoformat(),
            "end": g.end.isoformat(), "days": (g.end - g.start).days + 1}


def _plan_dict(pool: Pool, plan, decided: set, first: date, last: date) -> dict:
    states = {(d.shelter_id, d.team_id, d.start_date): d.state for d in pool.deployments.values()}
    sites = []
    for need in plan.needs:
        rows = [dict(_deployment_dict(pool, d, decided), state=str(states.get((d.site_id, d.team_id, d.start), "proposed")))
                for d in plan.deployments if d.site_id == need.site.id and d.end >= first and d.start <= last]
        sites.append({"site_id": str(need.site.id), "site_name": _site_name(pool, need.site.id),
                      "deployments": rows,
                      "days": [{"day": c.day.isoformat(), "covered": c.covered, "wanted": c.wanted,
                                "handover": c.handover, "gap": c.gap} for c in plan.coverage.get(need.site.id, ())]})
    return {"from": first.isoformat(), "to": last.isoformat(), "sites": sites,
            "gaps": [_gap_dict(pool, g) for g in plan.gaps]}


# ---- writes: the request flow ----

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


def _check_version(row, version: Any) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise ApiError(422, "validation failed", [{"field": "version", "message": "the version you saw (an integer)"}])
    if version != row.version:
        raise ApiError(409, f"stale version: you saw version {version}, the request is at version {row.version}")


STATE_OF_STEP = {RequestStep.requested: RequestState.open, RequestStep.accepted: RequestState.open,
                 RequestStep.team_assigned: RequestState.assigned, RequestStep.on_site: RequestState.assigned,
                 RequestStep.closed: RequestState.closed, RequestStep.cancelled: RequestState.closed}


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
    pool = load_pool(session, [request_id])
    row = pool.requests.get(request_id)
    if row is None:
        raise ApiError(404, "DWAT request not found")
    _check_version(row, version)
    if not isinstance(to, str):
        raise ApiError(422, "validation failed", [{"field": "to", "message": "the step to move to"}])
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
    pool = load_pool(session, None)
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
    if not isinstance(note, str) or len(note) > 2000:
        raise ApiError(422, "validation failed", [{"field": "note", "message": "text of at most 2000 characters"}])
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
               {"step": after.state.value, "state": RequestState.assigned.value, "team_id": team_id,
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


# ---- roster checks on save (the generic dwat-teams / dwat-members / dwat-deployments writes) ----

def check_deployment_write(session: Session, row: DwatDeployment, previous: Optional[dict]) -> None:
    """A deployment saved through /api/dwat-deployments keeps the roster's date rules: reversed
    dates, a member in two active deployments or in overlapping live ones, a stood-down or
    resting team (422 / 409, nothing saved)."""
    if row.state not in LIVE:
        return
    pool = load_pool(session, [])
    others = pool.domain_deployments()
    members = tuple(m.id for m in pool.members_of(row.team_id))
    new = deployment_from_row(row, members)
    team = pool.team(row.team_id, without=row.id) if row.team_id in pool.teams else None
    try:
        check_new_deployment(new, others, team if previous is None or previous.get("team_id") != row.team_id
                             or DeploymentState(previous.get("state")) not in LIVE else None)
    except DwatError as exc:
        raise refusal(exc) from None


def check_member_write(session: Session, row: DwatMember, previous: Optional[dict]) -> None:
    """A member moved to another team must not then be in two live deployments whose dates
    overlap (the old team's and the new one's)."""
    if previous is None or previous.get("team_id") == row.team_id:
        return
    pool = load_pool(session, [])
    live = [d for d in pool.domain_deployments() if d.team_id in (previous.get("team_id"), row.team_id)]
    rows = [replace(d, member_ids=(row.id,)) for d in live if d.team_id == row.team_id]
    rows += [replace(d, member_ids=(row.id,)) for d in live if d.team_id == previous.get("team_id")
             and d.state == DeploymentState.active]
    problems = check_deployment_dates(rows)
    if problems:
        raise refusal(DwatError(problems))


def team_checks(session: Session, teams: list[DwatTeam]) -> dict:
    """Per team: the roster check (errors, warnings) and the professions summary."""
    if not teams:
        return {}
    members = session.exec(select(DwatMember).where(DwatMember.team_id.in_([t.id for t in teams]))).all()
    out = {}
    for t in teams:
        check = check_team(team_from_rows(t, members))
        out[t.id] = {"errors": [problem_dict(p) for p in check.errors],
                     "warnings": [problem_dict(p) for p in check.warnings],
                     "professions": {p.value: n for p, n in check.professions.items()},
                     "members": sum(1 for m in members if m.team_id == t.id)}
    return out
