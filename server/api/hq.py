"""The disaster HQ map: the page (/hq) and the JSON layers it draws.

City office and HQ roles only. People travel as compact points (location + latest safety
status, never names); a person's details come from GET /api/people/{id}, which shapes the
fields per role and audits the read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from .. import __version__
from ..auth.audit import record
from ..auth.guard import authorize, require_role
from ..domain import hq_live, hq_map
from ..models.auth import Role
from .errors import ApiError
from .resources import client_address, in_session

HQ_ROLES = (Role.admin, Role.welfare_staff, Role.hq_viewer)
# The person fields a map point reveals; a role that may not see all of them gets no points.
POINT_FIELDS = frozenset({"id", "lon", "lat", "district_id", "latest_safety"})
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))


def people_scope(request: Request) -> tuple[Any, list]:
    """The caller and their row clauses for people; 403 if points would show hidden fields."""
    principal, rule = authorize(request, "people", "list")
    visible = POINT_FIELDS if rule.only is None else POINT_FIELDS & rule.only
    if visible != POINT_FIELDS or POINT_FIELDS & rule.hidden:
        raise ApiError(403, f"your role ({principal.role.value}) may not see people's locations and safety status")
    return principal, rule.clauses(principal)


async def _answer(request: Request, load: Callable[[Session], dict]) -> JSONResponse:
    """Run `load` in a transaction; the answer carries `seq`, the change-log position it is
    at least as new as — the page starts its live stream there, so no change falls between."""
    def run(session: Session) -> dict:
        seq = hq_live.latest_seq(session)  # read first: anything after it is either included or streamed
        return {**load(session), "seq": seq}

    return JSONResponse(await in_session(request, run))


@require_role(*HQ_ROLES)
async def people_points(request: Request) -> Response:
    principal, scope = people_scope(request)

    def load(session: Session) -> dict:
        data = hq_map.people_points(session, scope)
        # A list read of personal data, audited like one; at 50,000 rows the count, not the ids.
        record(session, "list", principal=principal, resource="people", status=200,
               detail=f"HQ map people points: {data['count']} people ({data['unlocated']} without location)",
               client=client_address(request))
        return data

    return await _answer(request, load)


@require_role(*HQ_ROLES)
async def districts(request: Request) -> Response:
    authorize(request, "districts", "list")
    _, scope = people_scope(request)
    return await _answer(request, lambda session: hq_map.district_tallies(session, scope))


@require_role(*HQ_ROLES)
async def shelters(request: Request) -> Response:
    authorize(request, "shelters", "list")
    authorize(request, "shelter-reports", "list")
    return await _answer(request, hq_map.shelter_states)


@require_role(*HQ_ROLES)
async def deployments(request: Request) -> Response:
    authorize(request, "dwat-deployments", "list")
    authorize(request, "dwat-teams", "list")
    return await _answer(request, hq_map.current_deployments)


@require_role(*HQ_ROLES)
async def hazards(request: Request) -> Response:
    return await _answer(request, hq_map.hazard_areas)


async def page(request: Request) -> Response:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    if principal.role not in HQ_ROLES:
        raise HTTPException(403, f"本部マップは本部・市役所の職員のみ利用できます (your role: {principal.role.value})")
    settings = request.app.state.settings
    return templates.TemplateResponse(request, "hq.html", {
        "version": __version__, "tile_url": settings.TSUNAGU_TILE_URL,
        "tile_attribution": settings.TSUNAGU_TILE_ATTRIBUTION, "username": principal.username,
        "role": principal.role,
    })


routes = [
    Route("/hq", page, methods=["GET"], name="hq-page"),
    Route("/api/hq/people-points", people_points, methods=["GET"], name="hq-people-points"),
    Route("/api/hq/districts", districts, methods=["GET"], name="hq-districts"),
    Route("/api/hq/shelters", shelters, methods=["GET"], name="hq-shelters"),
    Route("/api/hq/deployments", deployments, methods=["GET"], name="hq-deployments"),
    Route("/api/hq/hazards", hazards, methods=["GET"], name="hq-hazards"),
]
