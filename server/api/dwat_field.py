"""HTTP: DWAT on site as HQ and the prefecture follow it (docs/dwat-field.md).

    GET /dwat/reports                  page: daily reports by site and day, a chart, the chronology
    GET /dwat/referrals                page: triage moves 紹介 → 受入先決定 → 到着
    GET /api/dwat/site-days            the same figures as JSON (?from=&to= days)
    GET /api/dwat/referrals            the referral list as JSON (names for the city office only)
    GET /api/dwat/chronology.csv       クロノロジー as CSV (UTF-8 BOM, CRLF, formula-escaped), audited

Actions: `dwat.reports.view`, `dwat.referrals.view`, `dwat.chronology.export` (group DWAT_BOARD in
server/auth/policy.py). The referral list names people: every read is audited with the ids.
Japanese first; `?lang=en` shows English.
"""

from __future__ import annotations

from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..auth.audit import record
from ..auth.guard import page, principal_of, requires
from ..auth.policy import municipal_clauses
from ..domain.dwat.daily_report import Activity, KIND_JA, chronology_csv
from ..domain.dwat.referrals import STAGES, referral_list
from ..domain.dwat.site_reports import load_chronology, names, site_days
from ..domain.dwat.triage import TriageOutcome
from ..domain.japan_time import JST
from ..errors import ApiError
from ..web import templates
from .http import client_address, in_session

NO_STORE = {"Cache-Control": "no-store"}
REFUSED = "DWATの活動状況は本部・市役所のみ閲覧できます (HQ and the city office only)"
CHART_W, CHART_H, BAR_GAP = 720, 240, 6
# Colour per activity kind (distinct in grey-scale too: ordered light → dark)
PALETTE = ["#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#fdae6b", "#e6550d", "#a63603"]


def _days(request: Request) -> tuple[date | None, date | None]:
    out, errors = [], []
    for key in ("from", "to"):
        raw = request.query_params.get(key)
        try:
            out.append(date.fromisoformat(raw) if raw else None)
        except ValueError:
            errors.append({"field": key, "message": "日付は YYYY-MM-DD / a day as YYYY-MM-DD"})
            out.append(None)
    if errors:
        raise ApiError(422, "invalid query parameters", errors)
    if out[0] and out[1] and out[1] < out[0]:
        raise ApiError(422, "invalid query parameters", [{"field": "to", "message": "to is before from"}])
    return out[0], out[1]


def _site_day_dict(s, sites, teams) -> dict:
    return {"site_id": str(s.site_id), "site": sites[s.site_id].name if s.site_id in sites else "",
            "day": s.day.isoformat(), "reports": s.reports, "teams": [teams.get(t, str(t)) for t in s.teams],
            "counts": {k.value: n for k, n in s.counts.items()},
            "triage": {k.value: n for k, n in s.triage.items()},
            "total": sum(s.counts.values()) + sum(s.triage.values()),
            "issues": list(s.issues), "handover": list(s.handover)}


def chart(items: list[dict]) -> dict:
    """A stacked bar per day (all sites), one segment per activity kind, as SVG geometry."""
    per_day: dict = {}
    for item in items:
        day = per_day.setdefault(item["day"], {a.value: 0 for a in Activity})
        for kind, n in item["counts"].items():
            day[kind] += n
        day[Activity.assessment.value] += sum(item["triage"].values())  # triages are assessments too
    days = sorted(per_day)
    top = max([sum(v.values()) for v in per_day.values()] + [1])
    width = max(12, (CHART_W - 40) // max(len(days), 1) - BAR_GAP)
    bars = []
    for i, day in enumerate(days):
        x, y = 40 + i * (width + BAR_GAP), CHART_H - 20
        segments = []
        for j, kind in enumerate(Activity):
            n = per_day[day][kind.value]
            if not n:
                continue
            h = round(n / top * (CHART_H - 40), 1)
            y -= h
            segments.append({"y": round(y, 1), "h": h, "n": n, "kind": kind, "color": PALETTE[j % len(PALETTE)]})
        bars.append({"x": x, "w": width, "day": day, "label": day[5:], "total": sum(per_day[day].values()),
                     "segments": segments})
    return {"w": CHART_W, "h": CHART_H, "top": top, "bars": bars,
            "legend": [{"kind": k, "color": PALETTE[j % len(PALETTE)]} for j, k in enumerate(Activity)]}


def _scope(request: Request) -> dict[str, list]:
    """Several municipalities: the caller's municipalities' sites only (by the shelter of the
    deployment or request, as the records layer scopes these resources); {} with one."""
    principal = principal_of(request)
    return {"reports": municipal_clauses("dwat-activity-reports", principal),
            "deployments": municipal_clauses("dwat-deployments", principal),
            "requests": municipal_clauses("dwat-requests", principal),
            "triages": municipal_clauses("dwat-triages", principal)}


def _jst(iso: str) -> str:
    """A stored time (ISO 8601, UTC) as the pages show times: Japan time, to the minute."""
    return datetime.fromisoformat(iso).astimezone(JST).strftime("%Y-%m-%d %H:%M") if iso else ""


def _page(request: Request, name: str, context: dict) -> Response:
    lang = "en" if request.query_params.get("lang") == "en" else "ja"
    base = {"version": __version__, "lang": lang, "t": (lambda ja, en: en if lang == "en" else ja),
            "Activity": Activity, "TriageOutcome": TriageOutcome, "STAGES": STAGES, "jst": _jst}
    return templates.TemplateResponse(request, f"dwat/{name}", {**base, **context}, headers=NO_STORE)


@page("dwat.reports.view", REFUSED)
async def reports_page(request: Request) -> Response:
    start, end = _days(request)
    scope = _scope(request)

    def run(session):
        sites, teams = names(session)
        items = [_site_day_dict(s, sites, teams) for s in site_days(session, start, end, scope["reports"])]
        events = load_chronology(session, where=scope)[-200:]
        # an untimed entry (only its day known) shows its day alone, never a made-up time
        return items, [{"at": f"{e.day():%m-%d} {e.clock()}".strip(), "kind": KIND_JA.get(e.kind, e.kind),
                        "kind_en": e.kind, "site": sites[e.site_id].name if e.site_id in sites else "",
                        "team": teams.get(e.team_id, ""), "ja": e.ja, "en": e.en} for e in reversed(events)]

    items, events = await in_session(request, run)
    return _page(request, "reports.html", {"items": items, "chart": chart(items), "events": events,
                                           "start": start, "end": end})


@requires("dwat.reports.view")
async def site_days_api(request: Request) -> JSONResponse:
    start, end = _days(request)
    scope = _scope(request)

    def run(session):
        sites, teams = names(session)
        return [_site_day_dict(s, sites, teams) for s in site_days(session, start, end, scope["reports"])]

    return JSONResponse({"items": await in_session(request, run)}, headers=NO_STORE)


def _referrals(request: Request, session) -> list[dict]:
    principal = principal_of(request)
    items = [r.to_dict() for r in referral_list(session, with_names=principal.is_city_office,
                                                where=_scope(request)["triages"])]
    record(session, "list", principal=principal, resource="dwat-referrals",
           record_ids=[i["person_id"] for i in items], client=client_address(request))
    return items


@page("dwat.referrals.view", REFUSED)
async def referrals_page(request: Request) -> Response:
    items = await in_session(request, lambda s: _referrals(request, s))
    counts = {stage: sum(1 for i in items if i["stage"] == stage) for stage in STAGES}
    return _page(request, "referrals.html", {"items": items, "counts": counts})


@requires("dwat.referrals.view")
async def referrals_api(request: Request) -> JSONResponse:
    items = await in_session(request, lambda s: _referrals(request, s))
    return JSONResponse({"items": items}, headers=NO_STORE)


@requires("dwat.chronology.export")
async def chronology_export(request: Request) -> Response:
    principal = principal_of(request)
    scope = _scope(request)

    def run(session):
        sites, teams = names(session)
        events = load_chronology(session, where=scope)
        record(session, "export", principal=principal, resource="dwat-chronology", detail=f"csv rows={len(events)}",
               client=client_address(request))
        return chronology_csv(events, sites, teams)

    body = await in_session(request, run)
    stamp = datetime.now(JST).strftime("%Y%m%d-%H%M")
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="dwat-chronology-{stamp}.csv"', **NO_STORE})


routes = [
    Route("/dwat/reports", reports_page, methods=["GET"]),
    Route("/dwat/referrals", referrals_page, methods=["GET"]),
    Route("/api/dwat/site-days", site_days_api, methods=["GET"]),
    Route("/api/dwat/referrals", referrals_api, methods=["GET"]),
    Route("/api/dwat/chronology.csv", chronology_export, methods=["GET"]),
]
