"""DWAT dispatch (派遣調整) on the stored rows: the pool of teams, requests and deployments
read once, and the reads of the board — suggestions and the rotation plan — by the domain rules
of server/domain/dwat. The flow's writes are dwat_flow.py, the checks on save dwat_roster.py.

A refusal is an ApiError: 422 for a rule broken, 409 for a team or request already taken.
docs/dwat.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..domain.dwat.adapters import deployment_from_row, request_from_row, site_from_shelter, team_from_rows
from ..domain.dwat.common import Deployment, DwatError, Site
from ..domain.dwat.request_flow import HOLDS_TEAM, OPEN, Request
from ..domain.dwat.rotation import PlannedDeployment, RotationParams, SiteNeed, drop_team, plan_around
from ..domain.dwat.suggest import SuggestParams, suggest
from ..domain.problems import Problem
from ..errors import ApiError
from ..models import DwatDeployment, DwatMember, DwatRequest, DwatRequestStep, DwatTeam, Shelter
from ..models.vocab import DeploymentState, NeedKind, RequestStep

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


def load_pool(session: Session, request_ids: Optional[list] = None, codes=None) -> Pool:
    """The pool as stored now. Deployments: the live ones (they hold teams and members) plus
    those the requests point at. `codes`: with several municipalities in the installation, the
    caller's (requests of shelters elsewhere are left out; teams and their deployments are the
    prefecture's, shared, so a team busy in another city is busy here too); None: all."""
    teams = {t.id: t for t in session.exec(select(DwatTeam).order_by(DwatTeam.name, DwatTeam.id)).all()}
    # Plain rows, not ORM objects: read-only here, and a pool of 300 teams holds ~1,500 members.
    table = DwatMember.__table__
    members = list(session.execute(sa.select(table).order_by(table.c.team_id, table.c.role, table.c.name)).all())
    query = select(DwatRequest).order_by(DwatRequest.created_at, DwatRequest.id)
    if request_ids is not None:
        query = query.where(DwatRequest.id.in_(request_ids))
    if codes is not None:
        query = query.where(DwatRequest.shelter_id.in_(
            select(Shelter.id).where(Shelter.municipality_code.in_(sorted(codes)))))
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
            "origin": row.origin, "step": step.value, "step_ja": step.ja, "step_en": step.en,
            "state": str(row.state), "note": row.note,
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
