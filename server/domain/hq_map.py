"""What the disaster HQ map shows: people as points, district tallies, shelter states and
DWAT deployments — plain queries, no HTTP. (Hazard areas: server/api/hazards.py.)

Current state follows `server/domain/current_state.py`: the latest event by `observed_at`,
ties broken by `recorded_at` then id. Here it is computed for every row in one query (a
window function over the events) instead of per page of ids, because the map needs the
whole city at once — 50,000 people must not become 50,000 bound parameters.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, defaultdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ..models import (ChangeLog, District, DwatDeployment, DwatRequest, DwatTeam, MatchProposal, Person, SafetyCheck,
                      Shelter, ShelterReport)
from .matching.rules import BLOCKED_LABELS
from .safety import CONFIRMED_OUTCOMES
from ..models.vocab import (Damage, DeploymentState, DistrictKind, LifelineState, OpenState, Reason, RequestPriority,
                            RequestState, SafetyOutcome, SeismicClass, ShelterKind)


UNCHECKED = "unchecked"
# Index = the status code in people points; 0 is "no safety check yet".
STATUSES: list[str] = [UNCHECKED, *(o.value for o in SafetyOutcome)]
STATUS_INDEX = {code: i for i, code in enumerate(STATUSES)}
# 安否確認済: the one definition lives in safety.py (連絡つかず is not confirmed).
CONFIRMED = CONFIRMED_OUTCOMES
# Deployments HQ plans around: teams on their way or at work. Ended and cancelled ones are history.
CURRENT_DEPLOYMENTS = (DeploymentState.planned, DeploymentState.active)
COORD_DIGITS = 6  # about 0.1 m; more only makes the answer longer


def status_vocabulary() -> list[dict]:
    labels = {o.value: (o.ja, o.en) for o in SafetyOutcome}
    labels[UNCHECKED] = ("未確認", "not checked yet")
    return [{"code": code, "ja": labels[code][0], "en": labels[code][1]} for code in STATUSES]


def vocabulary(enum: type) -> list[dict]:
    return [{"code": m.value, "ja": m.ja, "en": m.en} for m in enum]


def _latest(model, key_column, columns: tuple, keys: list | None):
    """The latest event per key (rank 1), as a subquery with `key`, the columns and `rank`;
    only for `keys` when given (the live stream asks about a few records at a time)."""
    query = select(key_column.label("key"), *columns, sa.func.row_number().over(
        partition_by=key_column,
        order_by=(model.observed_at.desc(), model.recorded_at.desc(), model.id.desc()),
    ).label("rank"))
    if keys is not None:
        query = query.where(key_column.in_(keys))
    return query.subquery()


def _latest_safety(keys: list | None = None):
    return _latest(SafetyCheck, SafetyCheck.person_id, (SafetyCheck.outcome,), keys)


def _latest_reports(keys: list | None = None):
    return _latest(ShelterReport, ShelterReport.shelter_id,
                   (ShelterReport.open_state, ShelterReport.occupancy, ShelterReport.damage,
                    ShelterReport.observed_at, ShelterReport.lifelines, ShelterReport.needs), keys)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, COORD_DIGITS)


# ---- people ----

def _raw(column):
    """An id column as the database returns it: 50,000 UUID objects would cost a second."""
    return sa.type_coerce(column, sa.String)


def _id_text(value: Any) -> str | None:
    """The canonical text of an id read with `_raw` (SQLite keeps 32 hex digits, PostgreSQL a uuid)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def _district_order(session: Session) -> list:
    """町丁目 ids (raw) in a stable order; people points refer to a district by its index here."""
    return list(session.connection().execute(
        select(_raw(District.id)).where(District.kind == DistrictKind.chome)
        .order_by(District.municipality_code, District.code)).scalars())


# One page load asks for the people points and the district tallies at the same moment, and
# several HQ screens open at once: they share one computation of everyone's latest outcome
# while nothing has changed. "Changed" is the change log's position (every API write moves
# it) and the number of safety checks (events are never updated; a bulk load moves the count).
_outcomes_lock = threading.Lock()
_outcomes_cache: tuple[Any, dict] = (None, {})


def _latest_outcomes(connection) -> dict[Any, str]:
    """Raw person id → latest safety outcome, for everyone ever checked. Merged with the people
    in Python: two plain queries are about twice as fast on SQLite as one outer join."""
    global _outcomes_cache
    key = (str(connection.engine.url),
           connection.execute(select(sa.func.max(ChangeLog.seq))).scalar(),
           connection.execute(select(sa.func.count()).select_from(SafetyCheck)).scalar())
    with _outcomes_lock:  # a second caller waits for the first one's answer instead of repeating it
        if _outcomes_cache[0] == key:
            return _outcomes_cache[1]
        latest = _latest_safety()
        outcomes = dict(connection.execute(select(_raw(latest.c.key), latest.c.outcome)
                                           .where(latest.c.rank == 1)).all())
        _outcomes_cache = (key, outcomes)
        return outcomes


def people_points(session: Session, scope: list) -> dict[str, Any]:
    """Every person in scope as a compact row [id, lon, lat, status, district].

    `scope` is the caller's row clauses for people (server/auth/policy.py). `status` indexes
    STATUSES; `district` indexes `districts` (-1: none or not a 町丁目). People without
    coordinates have null lon/lat: they cannot be drawn but still count in their district.
    """
    connection = session.connection()
    districts = _district_order(session)
    index = {d: i for i, d in enumerate(districts)}
    outcomes = _latest_outcomes(connection)
    rows = connection.execute(select(_raw(Person.id), Person.lon, Person.lat, _raw(Person.district_id))
                              .where(*scope).order_by(Person.register_no)).all()
    status = {code: i for code, i in STATUS_INDEX.items()}
    unchecked = status[UNCHECKED]
    # Coordinates as stored (importers and the demo keep six decimals): rounding 100,000 floats
    # here would cost more than the bytes it saves.
    points = [[_id_text(person_id), lon, lat, status[outcomes[person_id]] if person_id in outcomes else unchecked,
               index.get(district_id, -1)] for person_id, lon, lat, district_id in rows]
    unlocated = sum(1 for p in points if p[1] is None or p[2] is None)
    return {"statuses": status_vocabulary(), "reasons": vocabulary(Reason),
            "districts": [_id_text(d) for d in districts], "points": points, "count": len(points),
            "unlocated": unlocated}


def some_person_points(session: Session, person_ids: list[uuid.UUID], scope: list) -> list[dict]:
    """Some people's points as the live stream sends them; people gone or out of scope are absent."""
    if not person_ids:
        return []
    latest = _latest_safety(person_ids)
    rows = session.execute(
        select(Person.id, Person.lon, Person.lat, Person.district_id, latest.c.outcome)
        .outerjoin(latest, sa.and_(latest.c.key == Person.id, latest.c.rank == 1))
        .where(Person.id.in_(person_ids), *scope)).all()
    return [{"id": str(r.id), "lon": _round(r.lon), "lat": _round(r.lat),
             "district_id": str(r.district_id) if r.district_id else None,
             "status": STATUS_INDEX[r.outcome or UNCHECKED]} for r in rows]


def district_tallies(session: Session, scope: list) -> dict[str, Any]:
    """GeoJSON of the 町丁目 with, per district, people by latest safety status and the
    share confirmed (安否確認済 / all; null for a district with nobody on the register)."""
    connection = session.connection()
    outcomes = _latest_outcomes(connection)
    counts: dict[Any, Counter] = defaultdict(Counter)
    for person_id, district_id in connection.execute(select(_raw(Person.id), _raw(Person.district_id))
                                                     .where(Person.district_id.is_not(None), *scope)):
        counts[district_id][outcomes.get(person_id, UNCHECKED)] += 1
    areas = dict(session.execute(select(District.id, District.name)
                                 .where(District.kind == DistrictKind.welfare_area)).all())
    features = []
    for district, raw_id in session.execute(select(District, _raw(District.id).label("raw_id"))
                                            .where(District.kind == DistrictKind.chome)
                                            .order_by(District.municipality_code, District.code)).all():
        by_status = {code: counts[raw_id][code] for code in STATUSES}
        total = sum(by_status.values())
        confirmed = sum(by_status[o.value] for o in CONFIRMED)
        features.append({
            "type": "Feature", "id": str(district.id), "geometry": district.geometry or None,
            "properties": {
                "id": str(district.id), "code": district.code, "name": district.name,
                "welfare_area": areas.get(district.parent_id, ""), "total": total, "counts": by_status,
                "confirmed": confirmed, "confirmed_share": round(confirmed / total, 4) if total else None,
                "centroid": [district.centroid_lon, district.centroid_lat],
            },
        })
    return {"type": "FeatureCollection", "features": features, "statuses": status_vocabulary(),
            "confirmed_statuses": sorted(o.value for o in CONFIRMED)}


# ---- shelters ----

def overflow(capacity: int | None, occupancy: int | None) -> int | None:
    """People beyond the capacity (0: within it); None when either number is unknown. A report
    above capacity is accepted — it happens — and HQ sees it as overflow."""
    if capacity is None or occupancy is None:
        return None
    return max(0, occupancy - capacity)


def _shelter_item(row) -> dict[str, Any]:
    return {
        "id": str(row.id), "name": row.name, "kind": row.kind, "lon": _round(row.lon), "lat": _round(row.lat),
        "capacity": row.capacity, "seismic_class": row.seismic_class,
        "district_id": str(row.district_id) if row.district_id else None,
        "target_groups": row.target_groups or [],
        "opened_on_request_at": row.opened_on_request_at.isoformat() if row.opened_on_request_at else None,
        # occupancy is null (unknown) until the shelter's first report: never 0 by default
        "open_state": row.open_state, "occupancy": row.occupancy, "overflow": overflow(row.capacity, row.occupancy),
        "damage": row.damage,
        "observed_at": row.observed_at.isoformat() if row.observed_at else None,
        "lifelines": row.lifelines, "needs": row.needs or [],
    }


def _shelter_query(keys: list | None = None):
    latest = _latest_reports(keys)
    return (select(Shelter.id, Shelter.name, Shelter.kind, Shelter.lon, Shelter.lat, Shelter.capacity,
                   Shelter.seismic_class, Shelter.district_id, Shelter.target_groups, Shelter.opened_on_request_at,
                   latest.c.open_state,
                   latest.c.occupancy, latest.c.damage, latest.c.observed_at, latest.c.lifelines, latest.c.needs)
            .outerjoin(latest, sa.and_(latest.c.key == Shelter.id, latest.c.rank == 1)))


def _matching_blocked(session: Session) -> dict[str, str]:
    """Shelter id → why the latest matching run did not use it (docs/matching.md), so HQ sees
    why a shelter is left out; empty before the first run."""
    latest = session.execute(select(MatchProposal.summary).order_by(MatchProposal.created_at.desc(),
                                                                     MatchProposal.id).limit(1)).scalar()
    return {b["shelter_id"]: b["reason"] for b in (latest or {}).get("blocked_shelters", [])}


def _with_matching(items: list[dict], blocked: dict[str, str]) -> list[dict]:
    for item in items:
        item["matching_blocked"] = blocked.get(item["id"])
    return items


def shelter_states(session: Session, scope: list = ()) -> dict[str, Any]:
    """Every shelter (in `scope`: the caller's row clauses for shelters) with its current state
    (latest report; null fields: no report yet)."""
    rows = session.execute(_shelter_query().where(*scope).order_by(Shelter.kind, Shelter.name)).all()
    return {"items": _with_matching([_shelter_item(r) for r in rows], _matching_blocked(session)),
            "open_states": vocabulary(OpenState),
            "seismic_classes": vocabulary(SeismicClass), "kinds": vocabulary(ShelterKind),
            "damages": vocabulary(Damage), "lifeline_states": vocabulary(LifelineState),
            "matching_blocked_reasons": [{"code": code, "ja": ja, "en": en}
                                         for code, (ja, en) in BLOCKED_LABELS.items()]}


def some_shelter_states(session: Session, shelter_ids: list[uuid.UUID], scope: list = ()) -> list[dict]:
    """The given shelters' current states (unknown ids and those out of `scope` are absent)."""
    if not shelter_ids:
        return []
    rows = session.execute(_shelter_query(shelter_ids).where(Shelter.id.in_(shelter_ids), *scope)).all()
    return _with_matching([_shelter_item(r) for r in rows], _matching_blocked(session))


# ---- DWAT ----

def _deployment_query():
    return (select(DwatDeployment.id, DwatDeployment.team_id, DwatTeam.name.label("team_name"),
                   DwatTeam.organisation, DwatDeployment.shelter_id, DwatDeployment.state,
                   DwatDeployment.start_date, DwatDeployment.end_date)
            .join(DwatTeam, DwatTeam.id == DwatDeployment.team_id))


def _deployment_item(row) -> dict[str, Any]:
    return {"id": str(row.id), "team_id": str(row.team_id), "team_name": row.team_name,
            "organisation": row.organisation, "shelter_id": str(row.shelter_id), "state": row.state,
            "start_date": row.start_date.isoformat(), "end_date": row.end_date.isoformat() if row.end_date else None}


def current_deployments(session: Session, scope: list = ()) -> dict[str, Any]:
    """Planned and active deployments (in `scope`: the caller's row clauses for deployments): which
    team goes to which shelter, and when."""
    rows = session.execute(_deployment_query().where(DwatDeployment.state.in_(CURRENT_DEPLOYMENTS), *scope)
                           .order_by(DwatDeployment.start_date, DwatTeam.name)).all()
    return {"items": [_deployment_item(r) for r in rows], "states": vocabulary(DeploymentState)}


def some_deployments(session: Session, deployment_ids: list[uuid.UUID], scope: list = ()) -> list[dict]:
    """The given deployments in `scope`, whatever their state (the map drops ended ones)."""
    if not deployment_ids:
        return []
    rows = session.execute(_deployment_query().where(DwatDeployment.id.in_(deployment_ids), *scope)).all()
    return [_deployment_item(r) for r in rows]


def _request_query(scope: list):
    return (select(DwatRequest.id, DwatRequest.shelter_id, DwatRequest.priority, DwatRequest.needs, DwatRequest.state,
                   DwatRequest.created_at, DwatRequest.step, DwatRequest.need_counts)
            .where(*scope).order_by(DwatRequest.created_at, DwatRequest.id))


def _request_item(row) -> dict[str, Any]:
    return {"id": str(row.id), "shelter_id": str(row.shelter_id), "priority": row.priority, "needs": row.needs or [],
            "state": row.state, "created_at": row.created_at.isoformat() if row.created_at else None,
            # the request flow's step (requested 要請受付 / accepted 受理 / team_assigned / on_site …)
            "step": row.step, "need_counts": row.need_counts or {}}


def open_dwat_requests(session: Session, scope: list) -> dict[str, Any]:
    """DWAT requests still waiting for a team (state open, 未対応): a decision HQ has to make.
    `scope`: the caller's row clauses for dwat-requests (server/auth/policy.py)."""
    rows = session.execute(_request_query(scope).where(DwatRequest.state == RequestState.open.value)).all()
    items = [_request_item(r) for r in rows]
    return {"items": items, "count": len(items), "priorities": vocabulary(RequestPriority)}


def some_dwat_requests(session: Session, request_ids: list[uuid.UUID], scope: list) -> list[dict]:
    """The given requests in the caller's scope, whatever their state (the map keeps open ones)."""
    if not request_ids:
        return []
    return [_request_item(r) for r in session.execute(_request_query(scope).where(DwatRequest.id.in_(request_ids))).all()]
