"""The disaster HQ map: the page (/hq) and the JSON layers it draws.

City office and HQ roles only. People travel as compact points (location + latest safety
status, never names); a person's details come from GET /api/people/{id}, which shapes the
fields per role and audits the read.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from typing import Any, Callable

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from ..auth.audit import record
from ..auth.guard import authorize, page, requires
from ..db import readonly
from ..domain import hq_live, hq_map
from ..errors import ApiError
from ..web import templates
from .http import client_address
from ..domain.japan_time import today_jst
from ..records.access import Access
from . import workbench_coverage_data as cov_data

log = logging.getLogger("tsunagu.hq")
# The person fields a map point reveals; a role that may not see all of them gets no points.
POINT_FIELDS = frozenset({"id", "lon", "lat", "district_id", "latest_safety"})
GZIP_FROM = 64 * 1024


def people_scope(request: Request) -> tuple[Any, list]:
    """The caller and their row clauses for people; 403 if points would show hidden fields."""
    principal, rule = authorize(request, "people", "list")
    visible = POINT_FIELDS if rule.only is None else POINT_FIELDS & rule.only
    if visible != POINT_FIELDS or POINT_FIELDS & rule.hidden:
        raise ApiError(403, f"your role ({principal.role.value}) may not see people's locations and safety status")
    return principal, rule.clauses(principal)


def _respond(request: Request, body: bytes) -> Response:
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= GZIP_FROM and "gzip" in request.headers.get("accept-encoding", ""):
        # Fast compression here: the app-wide middleware's level 9 costs more time than it saves.
        body = gzip.compress(body, compresslevel=1)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


async def _answer(request: Request, load: Callable[[Session], dict],
                  audit: Callable[[Session, dict], None] | None = None) -> Response:
    """Read with `load` and answer JSON; the answer carries `seq`, the change-log position it is
    at least as new as — the page starts its live stream there, so no change falls between.

    The read takes no write lock (a big read must not hold up field devices' writes); `audit`
    then records it in a short transaction of its own, before anything is sent.
    """
    engine = request.app.state.engine

    def run() -> bytes:
        with Session(readonly(engine)) as session:
            seq = hq_live.latest_seq(session)  # read first: anything after it is either included or streamed
            data = {**load(session), "seq": seq}
        if audit is not None:
            with Session(engine) as session:
                audit(session, data)
                session.commit()
        return dump_finite(data)

    return _respond(request, await run_in_threadpool(run))


def dump_finite(data: dict) -> bytes:
    """JSON the browser can parse. Input is refused when not finite (docs/api.md), but a NaN stored
    before that (or written straight to the database) must not stop /hq from loading: such a value
    goes out as null, and a warning is logged (no values, no personal data)."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError:
        log.warning("HQ map answer held non-finite numbers; sent as null")
        return json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@requires("hq.view")
async def people_points(request: Request) -> Response:
    principal, scope = people_scope(request)

    def audit(session: Session, data: dict) -> None:
        # A list read of personal data, audited like one; at 50,000 rows the count, not the ids.
        record(session, "list", principal=principal, resource="people", status=200,
               detail=f"HQ map people points: {data['count']} people ({data['unlocated']} without location)",
               client=client_address(request))

    return await _answer(request, lambda session: hq_map.people_points(session, scope), audit)


@requires("hq.view")
async def districts(request: Request) -> Response:
    authorize(request, "districts", "list")
    _, scope = people_scope(request)
    return await _answer(request, lambda session: hq_map.district_tallies(session, scope))


@requires("hq.view")
async def shelters(request: Request) -> Response:
    principal, rule = authorize(request, "shelters", "list")
    authorize(request, "shelter-reports", "list")
    scope = rule.clauses(principal)  # several municipalities: the caller's (and those accepting its people)
    return await _answer(request, lambda session: hq_map.shelter_states(session, scope))


@requires("hq.view")
async def deployments(request: Request) -> Response:
    principal, rule = authorize(request, "dwat-deployments", "list")
    authorize(request, "dwat-teams", "list")
    scope = rule.clauses(principal)
    return await _answer(request, lambda session: hq_map.current_deployments(session, scope))


@requires("hq.view")
async def dwat_requests(request: Request) -> Response:
    """Open DWAT requests (未対応), for the decision strip; rows scoped by the caller's policy."""
    principal, rule = authorize(request, "dwat-requests", "list")
    scope = rule.clauses(principal)
    return await _answer(request, lambda session: hq_map.open_dwat_requests(session, scope))


@requires("hq.coverage")
async def coverage(request: Request) -> Response:
    """The web of support for the whole city (docs/workbench.md, "Coverage figures"): counts
    only, the same figures as /workbench/coverage; the lists stay on the workbench."""
    principal, people_rule = authorize(request, "people", "list")
    _, plan_rule = authorize(request, "plans", "read")
    people_access, plan_access = Access(principal, people_rule), Access(principal, plan_rule)

    def load(session: Session) -> dict:
        city = cov_data.city_coverage(session, people_access, plan_access, today_jst()).city
        return {"figures": city.counts()}

    def audit(session: Session, data: dict) -> None:
        record(session, "list", principal=principal, resource="coverage", status=200,
               detail=f"HQ coverage figures: {data['figures']['registered']} people", client=client_address(request))

    return await _answer(request, load, audit)


@page("hq.view", "本部マップは本部・市役所の職員のみ利用できます")
async def page_endpoint(request: Request) -> Response:
    principal = request.state.principal
    settings = request.app.state.settings
    return templates.TemplateResponse(request, "hq.html", {
        "version": __version__, "tile_url": settings.TSUNAGU_TILE_URL,
        "tile_attribution": settings.TSUNAGU_TILE_ATTRIBUTION, "username": principal.username,
        "role": principal.role,
    })


routes = [
    Route("/hq", page_endpoint, methods=["GET"], name="hq-page"),
    Route("/api/hq/people-points", people_points, methods=["GET"], name="hq-people-points"),
    Route("/api/hq/districts", districts, methods=["GET"], name="hq-districts"),
    Route("/api/hq/shelters", shelters, methods=["GET"], name="hq-shelters"),
    Route("/api/hq/deployments", deployments, methods=["GET"], name="hq-deployments"),
    Route("/api/hq/dwat-requests", dwat_requests, methods=["GET"], name="hq-dwat-requests"),
    Route("/api/hq/coverage", coverage, methods=["GET"], name="hq-coverage"),
]
