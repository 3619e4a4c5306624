"""What the DWAT dispatch board (/dwat) shows, read in one transaction: open requests with
their suggestions, requests holding a team, live deployments with their latest daily report,
the rotation plan as a Gantt-like chart (geometry computed here, drawn as SVG by the template)
and the coverage gaps. No register data: teams, sites, counts."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from ..models import DwatActivityReport
from ..models.vocab import DeploymentState, RequestStep, TeamStatus
from . import dwat_dispatch as dispatch

DAYS = 14
SHOWN = 30  # open requests shown with their suggestions, most urgent first (the rest are counted)
TOP = 3     # suggested teams shown per request on the board (the API gives 5)
DAY_W, ROW_H, LABEL_W, HEAD_H = 44, 30, 190, 40


def board(session: Session, today: date, days: int = DAYS, codes=None) -> dict:
    pool = dispatch.load_pool(session, codes=codes)
    waiting = len(dispatch.open_requests(pool))
    open_requests = dispatch.suggestions(pool, limit=SHOWN)
    for item in open_requests:
        item["suggestions"] = item["suggestions"][:TOP]
    holding = [dispatch.request_item(pool, r) for r in pool.requests.values()
               if r.step in (RequestStep.team_assigned.value, RequestStep.on_site.value)]
    plan = dispatch.rotation(pool, today, days)
    return {"open": open_requests, "open_total": waiting, "holding": holding, "deployments": _deployments(session, pool, today),
            "plan": plan, "gantt": gantt(plan, today, days), "teams": _team_counts(pool),
            "team_names": {str(t.id): t.name for t in pool.teams.values()}}


def _team_counts(pool: dispatch.Pool) -> list[dict]:
    counts = {s: 0 for s in TeamStatus}
    for t in pool.teams.values():
        counts[TeamStatus(t.status)] += 1
    return [{"status": s.value, "ja": s.ja, "en": s.en, "count": n} for s, n in counts.items()]


def _deployments(session: Session, pool: dispatch.Pool, today: date) -> list[dict]:
    live = sorted((d for d in pool.deployments.values() if d.state in dispatch.LIVE),
                  key=lambda d: (d.state != DeploymentState.active.value, d.start_date, str(d.id)))
    reports = {}
    if live:
        rows = session.execute(select(DwatActivityReport.deployment_id, sa.func.count(),
                                      sa.func.max(DwatActivityReport.report_date))
                               .where(DwatActivityReport.deployment_id.in_([d.id for d in live]))
                               .group_by(DwatActivityReport.deployment_id)).all()
        reports = {r[0]: (r[1], r[2]) for r in rows}
    out = []
    for d in live:
        team = pool.teams.get(d.team_id)
        shelter = pool.shelters.get(d.shelter_id)
        state = DeploymentState(d.state)
        count, latest = reports.get(d.id, (0, None))
        out.append({"id": str(d.id), "team_name": team.name if team else "", "site_name": shelter.name if shelter else "",
                    "start": d.start_date, "end": d.end_date, "state": state.value, "state_ja": state.ja,
                    "state_en": state.en, "day_of_stay": (today - d.start_date).days + 1 if d.start_date <= today else None,
                    "reports": count, "latest_report": latest})
    return out


def gantt(plan: dict, first: date, days: int) -> dict:
    """Bars per site row: x from the day offset, a handover shows as two bars overlapping on the
    same row (drawn half-height each); gaps as hatched red boxes."""
    rows = []
    for i, site in enumerate(plan["sites"]):
        y = HEAD_H + i * ROW_H
        bars = []
        ordered = sorted(site["deployments"], key=lambda d: d["start"])
        for k, d in enumerate(ordered):
            a = max((date.fromisoformat(d["start"]) - first).days, 0)
            b = min((date.fromisoformat(d["end"]) - first).days, days - 1)
            if b < a:
                continue
            lane = k % 2  # alternate lanes, so a handover's two teams are both visible
            bars.append({"x": LABEL_W + a * DAY_W + 1, "y": y + 3 + lane * (ROW_H - 6) / 2, "w": (b - a + 1) * DAY_W - 2,
                         "h": (ROW_H - 6) / 2 - 1, "team": d["team_name"], "state": d["state"],
                         "start": d["start"], "end": d["end"], "decided": d["decided"]})
        gaps = []
        for g in plan["gaps"]:
            if g["site_id"] != site["site_id"]:
                continue
            a = max((date.fromisoformat(g["start"]) - first).days, 0)
            b = min((date.fromisoformat(g["end"]) - first).days, days - 1)
            gaps.append({"x": LABEL_W + a * DAY_W + 1, "y": y + 2, "w": (b - a + 1) * DAY_W - 2, "h": ROW_H - 4,
                         "start": g["start"], "end": g["end"]})
        rows.append({"y": y, "label": site["site_name"], "bars": bars, "gaps": gaps})
    header = [{"x": LABEL_W + k * DAY_W, "day": first + timedelta(days=k)} for k in range(days)]
    return {"width": LABEL_W + days * DAY_W, "height": HEAD_H + max(len(rows), 1) * ROW_H + 4, "rows": rows,
            "header": header, "day_w": DAY_W, "row_h": ROW_H, "label_w": LABEL_W, "head_h": HEAD_H}
