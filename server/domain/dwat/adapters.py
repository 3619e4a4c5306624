"""Thin, read-only adapters from the SQLModel rows (server/models/dwat.py, events.py,
shelters.py) to the DWAT domain inputs. Since migration 0015 the rows hold the team status, home
base, availability windows, need counts and the request flow's step and steps; a row from before
(or built without them) falls back to what can be derived, as documented per function.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Hashable, Iterable, Mapping, Optional

from ...models.vocab import DeploymentState, MemberRole, Profession, RequestPriority, RequestState, Sex
from ..japan_time import local_day
from .common import Deployment, DwatError, Site, Window, error
from .daily_report import Activity, DailyReport
from .request_flow import Request, RequestOrigin, RequestStep, Transition, parse_needs
from .roster import Member, Team, TeamStatus

_STATE = {RequestState.open: RequestStep.requested, RequestState.assigned: RequestStep.team_assigned,
          RequestState.closed: RequestStep.closed}
_NEED = re.compile(r"^\s*(.+?)\s*[:=：＝]?\s*([0-9０-９]+)\s*(名|人)?\s*$")


def site_from_shelter(shelter) -> Site:
    return Site(shelter.id, shelter.name, shelter.lon, shelter.lat)


def windows_of(row) -> tuple[Window, ...]:
    """The member's stored availability (dicts or AvailabilityWindow models) as Windows."""
    out = []
    for w in getattr(row, "availability", None) or ():
        start, end = (w.get("start"), w.get("end")) if isinstance(w, dict) else (w.start, w.end)
        start = date.fromisoformat(start) if isinstance(start, str) else start
        end = date.fromisoformat(end) if isinstance(end, str) else end
        out.append(Window(start, end))
    return tuple(out)


def member_from_row(row, availability: Optional[Iterable[Window]] = None) -> Member:
    """`availability`: given, or the row's own (stored since migration 0015)."""
    availability = windows_of(row) if availability is None else availability
    return Member(row.id, Sex(row.sex), MemberRole(row.role), frozenset(Profession(p) for p in row.professions),
                  row.registration_no, tuple(availability), row.phone or row.email)


def deployment_from_row(row, member_ids: Iterable[Hashable] = ()) -> Deployment:
    """`member_ids`: who went; the table has no such column yet, so the caller passes the
    team's members at the time (the usual case: the whole team goes)."""
    return Deployment(row.id, row.team_id, row.shelter_id, row.start_date, row.end_date,
                      DeploymentState(row.state), tuple(member_ids))


def team_from_rows(team, members: Iterable, deployments: Iterable = (), *, status: Optional[TeamStatus] = None,
                   home: Optional[tuple[float, float]] = None,
                   availability: Optional[Mapping[Hashable, Iterable[Window]]] = None) -> Team:
    """A Team from its row, its member rows and its deployment rows. Commitments are the
    team's live (planned or active) deployments. Status and home base: given, else the row's
    own (stored since migration 0015); a row without one: on site when a deployment is active,
    otherwise standby."""
    live = [d for d in deployments if d.team_id == team.id
            and DeploymentState(d.state) in (DeploymentState.planned, DeploymentState.active)]
    if status is None and getattr(team, "status", None):
        status = TeamStatus(team.status)
    if home is None and getattr(team, "home_lon", None) is not None and getattr(team, "home_lat", None) is not None:
        home = (team.home_lon, team.home_lat)
    if status is None:
        status = TeamStatus.on_site if any(DeploymentState(d.state) == DeploymentState.active for d in live) \
            else TeamStatus.standby
    lon, lat = home if home else (None, None)
    return Team(team.id, team.name, team.organisation, status,
                tuple(member_from_row(m, None if availability is None else availability.get(m.id, ())) for m in members if m.team_id == team.id),
                lon, lat, tuple(Window(d.start_date, d.end_date) for d in live))


def needs_from_text(items: Iterable[str]) -> dict[str, int]:
    """Today's free-text needs ("高齢者介護 3", "children=2", "精神保健：1名") → {kind: count}.
    A line naming a kind without a number counts 1; a line naming no known kind is refused."""
    counts: dict[str, int] = {}
    bad = []
    for item in items:
        match = _NEED.match(item)
        kind, count = (match.group(1), int(match.group(2).translate(str.maketrans("０１２３４５６７８９", "0123456789")))) \
            if match else (item.strip(), 1)
        parsed, problems = parse_needs({kind: count})
        if problems and any(p.code == "unknown_need" for p in problems):
            bad.append(item)
            continue
        for k, n in parsed:
            counts[k.value] = counts.get(k.value, 0) + n
    if bad:
        raise DwatError([error("unknown_need", f"不明な支援ニーズ: {'、'.join(bad)}", f"unknown needs: {bad}", "needs")])
    return counts


def request_from_row(row, *, team_id: Optional[Hashable] = None, wanted_from: Optional[date] = None,
                     by: str = "", steps: Optional[Iterable] = None) -> Request:
    """A Request from a dwat_request row. Since migration 0015 the row holds its need counts,
    wanted day, origin, step and team, and `steps` (its dwat_request_step rows, any order) give
    the history. A row without counts has them read from its free-text needs (lines naming no
    kind are left out here; they stay on the row as text). Without a stored step: open →
    requested, assigned → team_assigned, closed → closed; without a wanted day, the day it was
    made (JST)."""
    counts = dict(getattr(row, "need_counts", None) or {}) or lenient_counts(row.needs)
    parsed, problems = parse_needs(counts)
    if problems and (counts or not any(str(n).strip() for n in row.needs)):
        raise DwatError(problems)  # no needs at all (free text naming no kind is kept as text)
    stored_step = getattr(row, "step", None)
    state = RequestStep(stored_step) if stored_step and (steps is not None or stored_step != "requested") \
        else _STATE[RequestState(row.state)]
    team_id = team_id if team_id is not None else getattr(row, "team_id", None)
    wanted = wanted_from or getattr(row, "wanted_from", None) or local_day(row.created_at)
    if steps is not None:
        history = tuple(Transition(RequestStep(s.to_step), s.by, s.at,
                                   RequestStep(s.from_step) if s.from_step else None, s.team_id, s.note)
                        for s in sorted(steps, key=lambda s: (s.at, RequestStep(s.to_step).value)))
        if not history or history[0].to_state != RequestStep.requested:
            history = (Transition(RequestStep.requested, by, row.created_at),) + history
    else:
        history = (Transition(RequestStep.requested, by, row.created_at),)
        if state != RequestStep.requested:
            history += (Transition(state, by, row.updated_at, RequestStep.requested, team_id),)
    origin = getattr(row, "origin", None) or RequestOrigin.shelter
    return Request(row.id, row.shelter_id, parsed, RequestPriority(row.priority), wanted, RequestOrigin(origin),
                   note=row.note, state=state, team_id=team_id, history=history)


def lenient_counts(items: Iterable[str]) -> dict[str, int]:
    """Free-text needs as counts where a line names a kind; the others are skipped."""
    counts: dict[str, int] = {}
    for item in items or ():
        try:
            found = needs_from_text([str(item)])
        except DwatError:
            continue
        for kind, n in found.items():
            counts[kind] = counts.get(kind, 0) + n
    return counts


def report_from_row(row, deployment: Deployment) -> DailyReport:
    """A DailyReport from today's dwat_activity_report row (three counts and texts)."""
    counts = ((Activity.consultation, row.consultations), (Activity.assessment, row.people_assessed),
              (Activity.transfer, row.referrals))
    issues = "\n".join(t for t in (row.issues, row.requests_to_hq) if t)
    return DailyReport(row.id, row.deployment_id, deployment.site_id, deployment.team_id, row.report_date,
                       tuple((k, n) for k, n in counts if n), (), row.observed_at, row.reporter, issues,
                       row.activities)
