"""Shelter matching over HTTP (docs/matching.md).

    POST /api/matching/run                      run; answers the new proposal's summary and diff
    GET  /api/matching/proposals                recent proposals (summaries only)
    GET  /api/matching/proposals/latest         the newest (?state=proposed|confirmed)
    GET  /api/matching/proposals/{id}           one proposal with its assignments
    POST /api/matching/proposals/{id}/confirm   staff confirm a proposal

City office (admin, welfare_staff) runs and confirms; the HQ viewer may read. Runs,
confirmations and reads are audited with ids only.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import principal_of, requires
from ..auth.policy import sees_plan_destinations
from ..domain.matching.propose import MatchParams
from ..domain.matching.rules import DESTINATION_UNUSED_LABELS, SeismicRule, parse_intensity
from ..domain.matching.store import ProposalStateError, confirm, latest_confirmed, run_matching
from ..errors import ApiError, not_found
from ..models import MatchProposal
from ..models.geo import normalize_municipality_code
from ..models.matching import ProposalState
from ..models.vocab import SeismicClass
from .http import client_address, in_session, path_uuid, read_body

RESOURCE = "matching"
MAX_PLACES = 200_000  # per-place intensities in one run (a drill of a large city)


class RunRequest(BaseModel):
    """Body of POST /api/matching/run; every field is optional."""

    model_config = ConfigDict(extra="forbid")
    intensity: Optional[str | float] = Field(default=None, description="震度 in force: 5-, 5+, 6-, 6+, 7 or 5.7")
    min_intensity: Optional[str | float] = Field(default=None, description="震度 from which the seismic rule applies (6-)")
    excluded_seismic_classes: Optional[list[SeismicClass]] = None
    unverified_seismic_classes: Optional[list[SeismicClass]] = Field(
        default=None, description="classes usable after strong shaking only once a report says 被害なし or 軽微 (不明)")
    intensity_by_shelter: Optional[dict[uuid.UUID, float]] = Field(
        default=None, max_length=MAX_PLACES, description="shelter id → instrumental intensity (a drill's shaking model)")
    intensity_by_person: Optional[dict[uuid.UUID, float]] = Field(
        default=None, max_length=MAX_PLACES, description="person id → instrumental intensity at home")
    max_walk_m: int = Field(default=3000, ge=100, le=20000)
    detour: float = Field(default=1.3, ge=1.0, le=3.0)
    municipality_code: Optional[str] = None
    today: Optional[date] = None

    @field_validator("intensity", "min_intensity")
    @classmethod
    def _intensity(cls, value: Any) -> Any:
        parse_intensity(value)
        return value

    @field_validator("intensity_by_shelter", "intensity_by_person")
    @classmethod
    def _values(cls, value: Optional[dict]) -> Optional[dict]:
        for number in (value or {}).values():
            parse_intensity(number)  # the range check
        return value

    @field_validator("municipality_code")
    @classmethod
    def _code(cls, value: Optional[str]) -> Optional[str]:
        return normalize_municipality_code(value) if value else None


def _params(params: dict) -> dict:
    """The run's settings; per-place intensities (thousands in a drill) as their count."""
    shown = {k: v for k, v in params.items() if k != "intensity_by_record"}
    shown["places_with_own_intensity"] = len(params.get("intensity_by_record") or {})
    return shown


def proposal_summary(p: MatchProposal) -> dict:
    return {"id": str(p.id), "state": p.state, "created_at": p.created_at.isoformat(), "created_by": p.created_by,
            "trigger": p.trigger, "params": _params(p.params), "summary": p.summary,
            "compared_with_id": str(p.compared_with_id) if p.compared_with_id else None,
            "confirmed_at": p.confirmed_at.isoformat() if p.confirmed_at else None, "confirmed_by": p.confirmed_by}


def proposal_detail(p: MatchProposal, per_person: bool = True) -> dict:
    """With `per_person` False (a role that may not read plans: `sees_plan_destinations`), no
    person's destination: the diff as counts and the number of people placed at each shelter."""
    if not per_person:
        per_shelter: dict[str, int] = {}
        for a in p.assignments:
            per_shelter[a[1]] = per_shelter.get(a[1], 0) + 1
        diff = p.diff or {}
        return {**proposal_summary(p),
                "diff": {"moved": len(diff.get("moved", [])), "added": len(diff.get("added", [])),
                         "removed": len(diff.get("removed", [])), "unchanged": diff.get("unchanged", 0)},
                "per_shelter": [{"shelter_id": k, "people": v} for k, v in sorted(per_shelter.items())]}
    return {**proposal_summary(p), "diff": p.diff,
            "assignments": [_assignment(a) for a in p.assignments],
            "unplaced": [{"person_id": u[0], "reason": u[1]} for u in p.unplaced]}


def _assignment(a: list) -> dict:
    """One stored assignment; at a plan's alternate (第二避難先) with why the destination was not
    used (`because`, and its label, Japanese first)."""
    item = {"person_id": a[0], "shelter_id": a[1], "walking_m": a[2], "source": a[3]}
    if len(a) > 4:
        ja, en = DESTINATION_UNUSED_LABELS.get(a[4], (a[4], a[4]))
        item["because"] = a[4]
        item["because_label"] = {"ja": ja, "en": en}
    return item


def _municipality(principal, asked: Optional[str]) -> Optional[str]:
    """The municipality a run is for. Several in the installation: one of the caller's, by default
    their only one (its people, its shelters and those accepting its people)."""
    codes = principal.municipality_codes
    if codes is None:
        return asked
    if asked is None and len(codes) == 1:
        return next(iter(codes))
    if asked not in codes:
        raise ApiError(422, "validation failed", [{"field": "municipality_code",
                                                   "message": "name one of your municipalities"}])
    return asked


def _in_scope(principal, proposal: Optional[MatchProposal]) -> bool:
    """A proposal of the caller's municipalities (several in the installation), else as if absent."""
    if proposal is None or principal.municipality_codes is None:
        return proposal is not None
    return (proposal.params or {}).get("municipality_code") in principal.municipality_codes


def _username(request: Request) -> str:
    return principal_of(request).username


@requires("matching.run")
async def run_endpoint(request: Request) -> JSONResponse:
    body = await read_body(request, RunRequest, empty_ok=True)
    default = SeismicRule()
    rule = SeismicRule(
        min_intensity=parse_intensity(body.min_intensity) if body.min_intensity is not None else default.min_intensity,
        excluded=frozenset(body.excluded_seismic_classes) if body.excluded_seismic_classes is not None
        else default.excluded,
        unverified=frozenset(body.unverified_seismic_classes) if body.unverified_seismic_classes is not None
        else default.unverified)
    by_record = {str(k): round(v, 2) for k, v in {**(body.intensity_by_shelter or {}),
                                                   **(body.intensity_by_person or {})}.items()}
    principal = principal_of(request)
    code = _municipality(principal, body.municipality_code)
    params = MatchParams(max_walk_m=body.max_walk_m, detour=body.detour, municipality_code=code)

    def run(session: Session) -> dict:
        proposal = run_matching(session, intensity=parse_intensity(body.intensity), rule=rule, params=params,
                                today=body.today, trigger="manual", created_by=principal.username,
                                municipality_code=code, intensity_by_record=by_record)
        record(session, "match_run", principal=principal, resource=RESOURCE, record_ids=[proposal.id],
               status=201, client=client_address(request))
        return {**proposal_summary(proposal), "diff": proposal.diff}

    return JSONResponse(await in_session(request, run), status_code=201)


@requires("matching.read")
async def list_endpoint(request: Request) -> JSONResponse:
    principal = principal_of(request)

    def run(session: Session) -> dict:
        rows = session.exec(select(MatchProposal).order_by(MatchProposal.created_at.desc(), MatchProposal.id)
                            .limit(50 if principal.municipality_codes is None else 500)).all()
        return {"items": [proposal_summary(p) for p in rows if _in_scope(principal, p)][:50]}

    return JSONResponse(await in_session(request, run))


@requires("matching.read")
async def latest_endpoint(request: Request) -> JSONResponse:
    state = request.query_params.get("state", "")
    if state not in ("", ProposalState.proposed, ProposalState.confirmed):
        raise ApiError(422, "invalid query parameters", [{"field": "state", "message": "proposed or confirmed"}])
    principal = principal_of(request)

    def run(session: Session) -> dict:
        if state == ProposalState.confirmed and principal.municipality_codes is None:
            proposal = latest_confirmed(session)
        else:
            query = select(MatchProposal).order_by(MatchProposal.created_at.desc(), MatchProposal.id)
            if state:
                query = query.where(MatchProposal.state == state)
            if principal.municipality_codes is None:
                proposal = session.exec(query.limit(1)).first()
            else:  # the latest of the caller's municipalities
                proposal = next((p for p in session.exec(query.limit(500)) if _in_scope(principal, p)), None)
        if proposal is None:
            raise not_found("proposal")
        record(session, "read", principal=principal, resource=RESOURCE, record_ids=[proposal.id],
               client=client_address(request))
        return proposal_detail(proposal, sees_plan_destinations(principal))

    return JSONResponse(await in_session(request, run))


@requires("matching.read")
async def detail_endpoint(request: Request) -> JSONResponse:
    proposal_id = path_uuid(request, what="proposal")
    principal = principal_of(request)

    def run(session: Session) -> dict:
        proposal = session.get(MatchProposal, proposal_id)
        if not _in_scope(principal, proposal):
            raise not_found("proposal")
        record(session, "read", principal=principal, resource=RESOURCE, record_ids=[proposal.id],
               client=client_address(request))
        return proposal_detail(proposal, sees_plan_destinations(principal))

    return JSONResponse(await in_session(request, run))


@requires("matching.confirm")
async def confirm_endpoint(request: Request) -> JSONResponse:
    proposal_id = path_uuid(request, what="proposal")
    principal = principal_of(request)

    def run(session: Session) -> dict:
        if not _in_scope(principal, session.get(MatchProposal, proposal_id)):
            raise not_found("proposal")
        try:
            proposal = confirm(session, proposal_id, principal.username)
        except ProposalStateError as exc:
            raise ApiError(409, str(exc)) from None
        record(session, "match_confirm", principal=principal, resource=RESOURCE, record_ids=[proposal.id],
               client=client_address(request))
        return proposal_summary(proposal)

    return JSONResponse(await in_session(request, run))


routes = [
    Route("/api/matching/run", run_endpoint, methods=["POST"], name="matching-run"),
    Route("/api/matching/proposals", list_endpoint, methods=["GET"], name="matching-proposals"),
    Route("/api/matching/proposals/latest", latest_endpoint, methods=["GET"], name="matching-latest"),
    Route("/api/matching/proposals/{id}", detail_endpoint, methods=["GET"], name="matching-proposal"),
    Route("/api/matching/proposals/{id}/confirm", confirm_endpoint, methods=["POST"], name="matching-confirm"),
]
