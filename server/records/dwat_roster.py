"""The roster checks on every save through the generic DWAT record routes (dwat-teams,
dwat-members, dwat-deployments): the domain's roster rules on the stored pool. docs/dwat.md."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from sqlmodel import Session, select

from ..domain.dwat.adapters import deployment_from_row, team_from_rows
from ..domain.dwat.common import DwatError
from ..domain.dwat.roster import check_deployment_dates, check_new_deployment, check_team
from ..models import DwatDeployment, DwatMember, DwatTeam
from ..models.vocab import DeploymentState
from .dwat_dispatch import LIVE, load_pool, problem_dict, refusal


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
