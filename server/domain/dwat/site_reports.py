"""What HQ and the prefecture read of DWAT on site: daily reports summed by site and day
(`daily_report.aggregate`) and the chronology (クロノロジー) of requests, dispatches, arrivals,
departures, triages and reports, loaded from the stored rows.

Deployment rows keep days, not times. A dispatch is dated when the deployment was recorded. An
arrival (once started) and a departure (once ended) take the time the request flow recorded
them (the request's on-site step, its closed step); failing that, the team's first (last)
record on site — a triage or a daily report — on the first (last) day, said so in the entry;
failing that, the day alone (an untimed entry: no clock time is made up). Requests of the older free-text shape whose needs cannot be read are still in
the chronology (their text as written), never dropped.
"""

from __future__ import annotations

from datetime import date
from typing import Mapping, Optional, Sequence

from sqlmodel import Session, select

from ...models import DwatActivityReport, DwatDeployment, DwatRequest, DwatRequestStep, DwatTeam, Shelter
from ...models.dwat_field import DwatTriage
from ...models.vocab import DeploymentState, RequestStep
from ..japan_time import local_day, today_jst
from .adapters import deployment_from_row, site_from_shelter
from .daily_report import (Activity, ChronoEvent, DailyReport, SiteDay, aggregate, chronology, deployment_event,
                           report_events, triage_events)
from .request_flow import NeedKind
from .triage import Triage, TriageOutcome


def _pairs(raw: dict, enum) -> tuple:
    parsed = {}
    for key, n in dict(raw or {}).items():
        try:
            parsed[enum(key)] = int(n)
        except (ValueError, TypeError):
            continue
    return tuple((k, parsed[k]) for k in enum if parsed.get(k))


def report_from_row(row: DwatActivityReport, deployment) -> DailyReport:
    """A stored report as the domain's DailyReport: the counts when it has them, else the three
    numbers of the older form (consultations, people assessed, referrals → 移送調整)."""
    counts = _pairs(row.counts, Activity)
    if not counts:
        legacy = ((Activity.consultation, row.consultations), (Activity.assessment, row.people_assessed),
                  (Activity.transfer, row.referrals))
        counts = tuple((k, n) for k, n in legacy if n)
    issues = "\n".join(t for t in (row.issues, row.requests_to_hq) if t)
    handover = row.handover or row.activities
    return DailyReport(row.id, row.deployment_id, deployment.site_id, deployment.team_id, row.report_date, counts,
                       _pairs(row.triage_counts, TriageOutcome), row.observed_at, row.reporter, issues, handover)


def load_reports(session: Session, start: Optional[date] = None, end: Optional[date] = None,
                 where: Sequence = ()) -> list[DailyReport]:
    """The stored reports (of `where`: the caller's municipalities' sites) as DailyReports."""
    query = select(DwatActivityReport).where(*where)
    if start:
        query = query.where(DwatActivityReport.report_date >= start)
    if end:
        query = query.where(DwatActivityReport.report_date <= end)
    rows = session.exec(query).all()
    deployments = {d.id: deployment_from_row(d) for d in session.exec(select(DwatDeployment).where(
        DwatDeployment.id.in_({r.deployment_id for r in rows}))).all()} if rows else {}
    return [report_from_row(r, deployments[r.deployment_id]) for r in rows if r.deployment_id in deployments]


def site_days(session: Session, start: Optional[date] = None, end: Optional[date] = None,
              where: Sequence = ()) -> list[SiteDay]:
    return aggregate(load_reports(session, start, end, where))


def names(session: Session) -> tuple[dict, dict]:
    """Shelter id → Site (with its name), team id → name: the labels of the pages and the CSV."""
    sites = {s.id: site_from_shelter(s) for s in session.exec(select(Shelter).where(
        Shelter.id.in_(select(DwatDeployment.shelter_id).union(select(DwatRequest.shelter_id))))).all()}
    teams = {t.id: t.name for t in session.exec(select(DwatTeam)).all()}
    return sites, teams


def _need(code: str) -> Optional[NeedKind]:
    try:
        return NeedKind(code)
    except ValueError:
        return None


def request_events(requests) -> list[ChronoEvent]:
    """Each request's recording and its current state (the flow's full steps are the dispatch
    board's; this log shows what the request row can tell)."""
    out = []
    for r in requests:
        ja = "・".join(f"{_need(k).ja if _need(k) else k}{n}" for k, n in (r.need_counts or {}).items())
        en = ", ".join(f"{_need(k).en if _need(k) else k} {n}" for k, n in (r.need_counts or {}).items())
        ja, en = ja or "・".join(r.needs), en or ", ".join(r.needs)
        out.append(ChronoEvent(r.created_at, "request", f"要請受付: {ja}", f"request: {en}", r.shelter_id,
                               None, r.id, ""))
        if r.version > 1 and r.updated_at > r.created_at:
            out.append(ChronoEvent(r.updated_at, "request", f"要請 状態: {r.state}", f"request state: {r.state}",
                                   r.shelter_id, None, r.id, ""))
    return out


def deployment_events(deployments, today: date, flow: Optional[Mapping] = None,
                      on_site: Optional[Mapping] = None) -> list[ChronoEvent]:
    """Dispatch, arrival and departure of each deployment (not cancelled ones). `flow`:
    deployment id → {"on_site": (time, by), "closed": (time, by)} as the request flow recorded them;
    `on_site`: deployment id → the times of the team's records there (triages, daily reports).
    Each time is taken in that order, else the day alone."""
    flow, on_site = flow or {}, on_site or {}
    out = []
    for row in deployments:
        d = deployment_from_row(row)
        state = DeploymentState(row.state)
        if state == DeploymentState.cancelled:
            continue
        out.append(deployment_event(d, "dispatch", row.created_at))
        recorded = flow.get(row.id, {})
        if state in (DeploymentState.active, DeploymentState.ended) and d.start <= today:
            first = [t for t in on_site.get(row.id, ()) if local_day(t) == d.start]
            out.append(deployment_event(d, "arrival", *recorded["on_site"]) if recorded.get("on_site")
                       else deployment_event(d, "arrival", min(first), source="first_record") if first
                       else deployment_event(d, "arrival", d.start))
        if state == DeploymentState.ended and d.end is not None:
            last = [t for t in on_site.get(row.id, ()) if local_day(t) == d.end]
            out.append(deployment_event(d, "departure", *recorded["closed"]) if recorded.get("closed")
                       else deployment_event(d, "departure", max(last), source="last_record") if last
                       else deployment_event(d, "departure", d.end))
    return out


def flow_times(session: Session, deployments) -> dict:
    """deployment id → {"on_site": (at, by), "closed": (at, by)}: when and by whom the request
    flow moved the request serving it on site and closed it (the earliest of each). A step names its deployment, or
    its request does (steps written before the flow recorded the deployment on every step)."""
    ids = [d.id for d in deployments]
    if not ids:
        return {}
    served = {r.id: r.deployment_id for r in session.exec(select(DwatRequest).where(
        DwatRequest.deployment_id.in_(ids))).all()}
    named = DwatRequestStep.deployment_id.in_(ids)
    if served:
        named = named | DwatRequestStep.request_id.in_(list(served))
    steps = session.exec(select(DwatRequestStep).where(
        DwatRequestStep.to_step.in_([RequestStep.on_site.value, RequestStep.closed.value]), named)).all()
    out: dict = {}
    for step in steps:
        deployment_id = step.deployment_id if step.deployment_id in ids else served.get(step.request_id)
        if deployment_id is None:
            continue
        times = out.setdefault(deployment_id, {})
        if step.to_step not in times or step.at < times[step.to_step][0]:
            times[step.to_step] = (step.at, step.by)
    return out


def on_site_times(triages, reports) -> dict:
    """deployment id → the times of the team's records there: triages observed, reports filed."""
    out: dict = {}
    for t in triages:
        out.setdefault(t.deployment_id, []).append(t.at)
    for r in reports:
        out.setdefault(r.deployment_id, []).append(r.submitted_at)
    return out


def load_chronology(session: Session, today: Optional[date] = None,
                    where: Optional[Mapping[str, Sequence]] = None) -> list[ChronoEvent]:
    """Every event, in time order (daily_report.chronology). Triages by outcome only: no person
    is named (the chronology goes to the prefecture). `where`: clauses per kind ("requests",
    "deployments", "triages", "reports") keeping to the caller's municipalities' sites."""
    today = today or today_jst()
    where = where or {}
    deployments = session.exec(select(DwatDeployment).where(*where.get("deployments", ()))).all()
    team_of = {d.id: d.team_id for d in deployments}
    triages = []
    for t in session.exec(select(DwatTriage).where(*where.get("triages", ()))).all():
        triages.append(Triage(t.id, t.deployment_id, t.person_id, t.shelter_id, TriageOutcome(t.outcome),
                              t.observed_at, t.reporter))
    requests = session.exec(select(DwatRequest).where(*where.get("requests", ()))).all()
    reports = load_reports(session, where=where.get("reports", ()))
    return chronology(request_events(requests),
                      deployment_events(deployments, today, flow_times(session, deployments),
                                        on_site_times(triages, reports)),
                      triage_events(triages, team_of), report_events(reports))
