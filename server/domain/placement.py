"""Placing people and shelters in 町丁目, and finding who lives inside hazard areas.

Both are point-in-polygon over the stored geometries (JGD2011 lon/lat), vectorised with
shapely's STRtree (`server/domain/geo.py`), so 100,000 people take about a second.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from ..models import District, HazardArea, Person, Shelter
from ..models.base import utcnow
from ..models.vocab import DistrictKind
from .geo import locate_points, points_in_any, polygons_from_geojson


@dataclass
class PlacementReport:
    """What `assign_districts` did; ids only, never names."""

    people_placed: int = 0
    shelters_placed: int = 0
    people_outside: list[str] = field(default_factory=list)      # register numbers
    shelters_outside: list[str] = field(default_factory=list)    # shelter ids
    people_without_location: int = 0
    shelters_without_location: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _chome(session: Session, municipality_code: str | None) -> tuple[list[uuid.UUID], list]:
    query = select(District.id, District.geometry).where(District.kind == DistrictKind.chome)
    if municipality_code:
        query = query.where(District.municipality_code == municipality_code)
    rows = session.exec(query).all()
    return [r[0] for r in rows], polygons_from_geojson([r[1] for r in rows])


def _as_arrays(rows) -> tuple[np.ndarray, np.ndarray]:
    lon = np.array([np.nan if r.lon is None else r.lon for r in rows], dtype=float)
    lat = np.array([np.nan if r.lat is None else r.lat for r in rows], dtype=float)
    return lon, lat


def assign_districts(session: Session, municipality_code: str | None = None, apply: bool = True,
                     only_missing: bool = True) -> PlacementReport:
    """Set `district_id` of people and shelters (those without one, unless `only_missing` is
    False) to the 町丁目 containing their point. Points outside every 町丁目 are reported and
    left unchanged. Runs in the caller's transaction; `apply=False` changes nothing."""
    report = PlacementReport()
    ids, polygons = _chome(session, municipality_code)
    now = utcnow()
    for model, label in ((Person, "people"), (Shelter, "shelters")):
        query = select(model.id, model.lon, model.lat, getattr(model, "register_no", model.id))
        if only_missing:
            query = query.where(model.district_id.is_(None))
        if municipality_code:
            query = query.where(model.municipality_code == municipality_code)
        rows = session.exec(query).all()
        located = [r for r in rows if r.lon is not None and r.lat is not None]
        setattr(report, f"{label}_without_location", len(rows) - len(located))
        if not located:
            continue
        lon, lat = _as_arrays(located)
        found = locate_points(lon, lat, polygons)
        updates = []
        for row, index in zip(located, found.tolist()):
            if index < 0:
                getattr(report, f"{label}_outside").append(str(row[3]))
            else:
                updates.append({"row_id": row.id, "district": ids[index]})
        setattr(report, f"{label}_placed", len(updates))
        if apply and updates:
            table = model.__table__
            statement = (sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                         .values(district_id=sa.bindparam("district"), version=table.c.version + 1, updated_at=now))
            session.connection().execute(statement, updates)
    return report


def people_in_hazard_areas(session: Session, municipality_code: str | None = None,
                           kinds: set[str] | None = None) -> dict[uuid.UUID, list[str]]:
    """Person id → the hazard kinds (HazardKind values) of the areas their home lies in.

    People outside every hazard area, or without a location, are absent.
    """
    query = select(HazardArea.kind, HazardArea.geometry)
    if municipality_code:
        query = query.where(HazardArea.municipality_code == municipality_code)
    areas = [a for a in session.exec(query).all() if kinds is None or a[0] in kinds]
    if not areas:
        return {}
    people_query = select(Person.id, Person.lon, Person.lat).where(Person.lon.is_not(None))
    if municipality_code:
        people_query = people_query.where(Person.municipality_code == municipality_code)
    people = session.exec(people_query).all()
    lon, lat = _as_arrays(people)
    inside = points_in_any(lon, lat, polygons_from_geojson([a[1] for a in areas]))
    flags: dict[uuid.UUID, set[str]] = defaultdict(set)
    for (kind, _), members in zip(areas, inside):
        for index in members:
            flags[people[index].id].add(str(kind))
    return {pid: sorted(kinds_) for pid, kinds_ in flags.items()}


def hazard_counts(session: Session, municipality_code: str | None = None) -> dict[str, int]:
    """Number of people inside each kind of hazard area."""
    counts: dict[str, int] = defaultdict(int)
    for kinds in people_in_hazard_areas(session, municipality_code).values():
        for kind in kinds:
            counts[kind] += 1
    return dict(counts)
