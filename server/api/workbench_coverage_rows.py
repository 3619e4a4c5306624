"""The coverage readers both counts share (`workbench_coverage_data.load` for the domain,
`workbench_coverage_count.count` for the page): raw driver values, phone digits, JSON code
lists, ISO days, shelters with their hazard areas, and a plan's supporters as register keys."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date
from typing import Mapping, Optional

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from ..domain.geo import points_in_any, polygons_from_geojson
from ..domain.workbench.common import ShelterFacts, name_key
from ..domain.workbench.supporters import SupporterEntry
from ..models import HazardArea, Shelter
from ..models.hazards import HazardKind
from ..models.vocab import SeismicClass, ShelterKind


_NOT_DIGITS = re.compile(r"[^0-9]")
_WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def digits(phone: str) -> str:
    """The phone's digits, full-width folded: enough to compare (stored phones are normalised
    already — "042-325-0011" — so the common case is one replace; a full parse per supporter
    would cost seconds at 50,000 people)."""
    plain = phone.replace("-", "")
    if plain.isascii() and plain.isdigit():
        return plain
    return _NOT_DIGITS.sub("", phone.translate(_WIDE_DIGITS))


def shelters(session: Session) -> dict:
    """Every shelter with the hazard areas it lies in (kind and name), one spatial query."""
    rows = session.execute(select(raw(Shelter.id).label("id"), Shelter.name, Shelter.common_id, Shelter.kind, Shelter.target_groups,
                                  Shelter.capabilities, Shelter.seismic_class, Shelter.lon, Shelter.lat)).all()
    areas = session.execute(select(HazardArea.kind, HazardArea.name, HazardArea.geometry)).all()
    inside: dict[int, list[str]] = {}
    if areas and rows:
        lon = np.array([np.nan if r.lon is None else r.lon for r in rows], dtype=float)
        lat = np.array([np.nan if r.lat is None else r.lat for r in rows], dtype=float)
        for (kind, name, _), members in zip(areas, points_in_any(lon, lat, polygons_from_geojson([a[2] for a in areas]))):
            label = HazardKind(kind).ja + (f"（{name}）" if name else "")
            for i in members:
                inside.setdefault(int(i), []).append(label)
    return {r.id: ShelterFacts(r.id, r.name, r.common_id, ShelterKind(r.kind), frozenset(map(str, r.target_groups or ())),
                               frozenset(map(str, r.capabilities or ())),
                               SeismicClass(r.seismic_class or SeismicClass.unknown), r.lon, r.lat,
                               tuple(inside.get(i, ()))) for i, r in enumerate(rows)}


def raw(column):
    """The column as the driver gives it: no UUID, JSON or date conversion per row (at 50,000
    rows those conversions are most of the read). Within one database the raw ids of people,
    plans, districts and shelters agree with each other, which is all the counting needs."""
    return sa.type_coerce(column, sa.String)


def decoded(raw, memo: dict) -> frozenset:
    """A JSON list of codes as a frozenset; SQLite gives text (few distinct values: memoised),
    PostgreSQL's driver a list already."""
    if raw is None:
        return frozenset()
    if not isinstance(raw, str):
        return frozenset(raw)
    found = memo.get(raw)
    if found is None:
        found = memo[raw] = frozenset(json.loads(raw))
    return found


def day(raw) -> Optional[date]:
    return date.fromisoformat(raw[:10]) if isinstance(raw, str) and raw else (raw or None)


def as_uuid(value):
    """A UUID written as text (JSON) as the UUID; anything else unchanged."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return value
    return value


def link_keys(plan_id, raw: list, digits: list, by_contact: Mapping, entries: dict) -> Optional[list]:
    """A plan's supporters as register keys, or None when none is on a register (then its
    free-text supporters count as they are). `digits`: each free-text supporter's phone digits;
    `by_contact`: phone digits → [(person id, name, birth date)] in register order. A person
    matched by phone and name is added to `entries` as ("person", id)."""
    keys, known = [], False
    for n, (s, phone) in enumerate(zip(raw, digits)):
        key = None
        if s.get("supporter_id"):
            sid = s["supporter_id"]
            sid = sid if sid in entries else as_uuid(sid)  # the plan's JSON holds the id as text
            key = sid if sid in entries else ("entry", str(sid))
            known = True
        elif phone in by_contact:  # the name only for the few whose phone matches
            wanted_name = name_key(s.get("name", ""))
            match = next((m for m in by_contact[phone] if name_key(m[1]) == wanted_name), None)
            if match is not None:
                key, known = ("person", match[0]), True
                if key not in entries:
                    entries[key] = SupporterEntry(key, match[1], birth_date=match[2], person_id=match[0])
        keys.append(key if key is not None else ("free", plan_id, n))
    return keys if known else None
