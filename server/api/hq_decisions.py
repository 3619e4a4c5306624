"""HQ's decisions that matching works with (docs/matching.md):

    GET    /api/district-intensities           the 震度 HQ has set per district
    PUT    /api/district-intensities           set or clear some districts' values
    DELETE /api/district-intensities           clear them all (the event is over)
    POST   /api/shelters/{id}/open-request     a 協定福祉避難所 opened on the city's request (or not)

City office staff (admin, welfare_staff) decide; the HQ viewer may read. Every decision is
audited with the ids it touched; a shelter's open request also goes to the change log, so the
HQ map and the field app see it.
"""

from __future__ import annotations

import uuid
from typing import Optional

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import principal_of, requires
from ..domain.matching.rules import intensity_label, parse_intensity
from ..errors import ApiError, not_found
from ..models import District, DistrictIntensity, Shelter
from ..models.base import utcnow
from ..models.vocab import ShelterKind
from ..sync.changelog import log_change
from .http import client_address, in_session, path_uuid, read_body

MAX_ITEMS = 5000


class DistrictValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    district_id: uuid.UUID
    intensity: Optional[str | float] = Field(description="5-, 5+, 6-, 6+, 7, 6弱 … or 5.7; null clears the value")
    note: str = Field(default="", max_length=300)

    @field_validator("intensity")
    @classmethod
    def _intensity(cls, value):
        parse_intensity(value)
        return value


class DistrictValues(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[DistrictValue] = Field(min_length=1, max_length=MAX_ITEMS)


class OpenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opened: bool = True


def _item(row: DistrictIntensity, district: Optional[District]) -> dict:
    return {"district_id": str(row.district_id), "code": district.code if district else None,
            "name": district.name if district else None, "intensity": row.intensity,
            "shindo": intensity_label(row.intensity), "note": row.note, "set_by": row.set_by,
            "set_at": row.set_at.isoformat()}


def _list(session: Session) -> dict:
    rows = session.exec(select(DistrictIntensity, District).join(District, District.id == DistrictIntensity.district_id)
                        .order_by(District.code)).all()
    return {"items": [_item(row, district) for row, district in rows]}


@requires("district_intensity.read")
async def list_intensities(request: Request) -> JSONResponse:
    return JSONResponse(await in_session(request, _list))


@requires("district_intensity.set")
async def set_intensities(request: Request) -> JSONResponse:
    body = await read_body(request, DistrictValues)
    principal = principal_of(request)

    def run(session: Session) -> dict:
        wanted = [item.district_id for item in body.items]
        known = set(session.exec(select(District.id).where(District.id.in_(wanted))).all())
        missing = [{"field": f"items.{i}.district_id", "message": "no such district"}
                   for i, item in enumerate(body.items) if item.district_id not in known]
        if missing:
            raise ApiError(422, "validation failed", missing)
        now = utcnow()
        for item in body.items:
            value = parse_intensity(item.intensity)
            row = session.get(DistrictIntensity, item.district_id)
            if value is None:
                if row is not None:
                    session.delete(row)
                continue
            row = row or DistrictIntensity(district_id=item.district_id, intensity=value)
            row.intensity, row.note, row.set_by, row.set_at = value, item.note, principal.username[:100], now
            session.add(row)
        session.flush()
        record(session, "district_intensity_set", principal=principal, resource="district-intensities",
               record_ids=wanted, client=client_address(request))
        return _list(session)

    return JSONResponse(await in_session(request, run))


@requires("district_intensity.set")
async def clear_intensities(request: Request) -> JSONResponse:
    principal = principal_of(request)

    def run(session: Session) -> dict:
        cleared = session.execute(sa.delete(DistrictIntensity)).rowcount
        record(session, "district_intensity_clear", principal=principal, resource="district-intensities",
               detail=f"{cleared} cleared", client=client_address(request))
        return {"cleared": cleared}

    return JSONResponse(await in_session(request, run))


@requires("shelter.open_request")
async def open_request(request: Request) -> JSONResponse:
    shelter_id = path_uuid(request, what="shelter")
    body = await read_body(request, OpenRequest, empty_ok=True)
    principal = principal_of(request)

    def run(session: Session) -> dict:
        shelter = session.get(Shelter, shelter_id)
        if shelter is None:
            raise not_found("shelter")
        if shelter.kind != ShelterKind.agreement_welfare:
            raise ApiError(422, "only a 協定福祉避難所 opens on the city's request",
                           [{"field": "kind", "message": f"this shelter is {ShelterKind(shelter.kind).ja}"}])
        at, by = (utcnow(), principal.username[:100]) if body.opened else (None, "")
        session.execute(sa.update(Shelter).where(Shelter.id == shelter_id).values(
            opened_on_request_at=at, opened_on_request_by=by, version=Shelter.version + 1, updated_at=utcnow()))
        log_change(session, "shelters", shelter_id)
        record(session, "shelter_open_request" if body.opened else "shelter_open_request_withdrawn",
               principal=principal, resource="shelters", record_ids=[shelter_id], client=client_address(request))
        return {"id": str(shelter_id), "opened_on_request_at": at.isoformat() if at else None,
                "opened_on_request_by": by}

    return JSONResponse(await in_session(request, run))


routes = [
    Route("/api/district-intensities", list_intensities, methods=["GET"], name="district-intensities"),
    Route("/api/district-intensities", set_intensities, methods=["PUT"], name="district-intensities-set"),
    Route("/api/district-intensities", clear_intensities, methods=["DELETE"], name="district-intensities-clear"),
    Route("/api/shelters/{id}/open-request", open_request, methods=["POST"], name="shelter-open-request"),
]
