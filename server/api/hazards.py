"""Hazard areas over HTTP, for the HQ map (docs/geodata.md).

    GET /api/hazards          the areas as a GeoJSON FeatureCollection (?kind=, ?municipality_code=)
    GET /api/hazards/people   ids of people living inside hazard areas, with the kinds

Areas are public information: every signed-in role may read them. Who lives inside them is
register data: the city office and the HQ viewer only, audited with the ids returned.
"""

from __future__ import annotations

from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import principal_of, requires
from ..auth.policy import readable, rule_for
from ..domain.placement import people_in_hazard_areas
from ..errors import ApiError
from ..models import HazardArea
from ..models.geo import normalize_municipality_code
from ..models.hazards import HazardKind
from .http import client_address, in_session



def _filters(request: Request) -> tuple[str | None, str | None]:
    kind, code = request.query_params.get("kind"), request.query_params.get("municipality_code")
    errors = []
    if kind is not None and kind not in {k.value for k in HazardKind}:
        errors.append({"field": "kind", "message": "one of " + ", ".join(k.value for k in HazardKind)})
    if code:
        try:
            code = normalize_municipality_code(code)
        except ValueError as exc:
            errors.append({"field": "municipality_code", "message": str(exc)})
    if errors:
        raise ApiError(422, "invalid query parameters", errors)
    return kind, code or None


@requires("hazards.read")
async def areas(request: Request) -> JSONResponse:
    kind, code = _filters(request)

    def run(session: Session) -> dict:
        query = select(HazardArea).order_by(HazardArea.kind, HazardArea.name, HazardArea.id)
        if kind:
            query = query.where(HazardArea.kind == kind)
        if code:
            query = query.where(HazardArea.municipality_code == code)
        features = [{"type": "Feature", "id": str(a.id), "geometry": a.geometry, "properties": {
            "kind": a.kind, "kind_label": HazardKind(a.kind).ja, "name": a.name, "level": a.level,
            "municipality_code": a.municipality_code, "source": a.source, "area_m2": a.area_m2}}
            for a in session.exec(query).all()]
        return {"type": "FeatureCollection", "features": features}

    return JSONResponse(await in_session(request, run))


@requires("hazards.people")
async def people_inside(request: Request) -> JSONResponse:
    kind, code = _filters(request)
    principal = principal_of(request)
    rule = rule_for("people", principal)
    if code and rule is not None and not readable(rule, "municipality_code"):
        # the code also selects people: a role that may not see theirs may not select by it (as in lists)
        raise ApiError(400, "you may not filter on fields your role cannot see",
                       [{"field": "municipality_code",
                         "message": "your role may not see this field, so it cannot filter on it"}])

    def run(session: Session) -> dict:
        flags = people_in_hazard_areas(session, code, {kind} if kind else None)
        items = [{"person_id": str(pid), "kinds": kinds} for pid, kinds in sorted(flags.items(), key=lambda i: str(i[0]))]
        record(session, "list", principal=principal, resource="hazards/people",
               record_ids=[i["person_id"] for i in items], client=client_address(request))
        return {"items": items, "total": len(items)}

    return JSONResponse(await in_session(request, run))


routes = [
    Route("/api/hazards", areas, methods=["GET"], name="hazards"),
    Route("/api/hazards/people", people_inside, methods=["GET"], name="hazards-people"),
]
