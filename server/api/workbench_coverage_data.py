"""The coverage figures (つながれる先を複数もつこと) from the database: the inputs of
`domain.workbench.coverage` read in a few column-only queries, and a small cache.

Supporters. Plans keep their supporters as a JSON list (name, relation, phone, and — once the
supporter register links them — `supporter_id`). A supporter counts as *registered* (and,
by their birth date, *elderly*) when they are themselves on the register: an entry of the
supporter register with `person_id`, or a free-text supporter whose name (spaces and width
ignored) and phone digits are those of a registered person. Name alone is not enough: two
山田 太郎 are common. The supporter register's entries come from `SUPPORTER_ENTRIES` (a
function session → {entry id: SupporterEntry}); until it is set, only the register match.

Why a cache: the page, each list behind a number, the CSV and the HQ panel all need the
same figures; 50,000 people take a few hundred milliseconds to read and count. A result is
kept per (caller's scope, day, change-log position, hazard areas): any write to people,
plans or shelters moves the change log, so a cached figure is never older than the data.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import date
from typing import Callable, Hashable, Mapping, Optional

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from ..domain.geo import points_in_any, polygons_from_geojson
from ..domain.textnorm import normalize_phone
from ..domain.workbench.common import Plan, PersonFacts, PlanSupporter, ShelterFacts, name_key
from ..domain.workbench.coverage import FIGURES, Coverage, coverage
from ..domain.workbench.supporters import SupporterEntry
from ..models import ChangeLog, District, EvacuationPlan, HazardArea, Person, Shelter
from ..models.hazards import HazardKind
from ..models.vocab import Consent, DistrictKind, PlanStatus, SeismicClass, ShelterKind
from ..records.access import Access

LEVELS = ("welfare_area", "chome", "minsei")
NONE_KEY = "none"  # a link's key for people with no 町丁目 / 福祉圏域 / 民生委員 (未割当)

# Set by the supporter register (session → {entry id: SupporterEntry}); None until it exists.
SUPPORTER_ENTRIES: Optional[Callable[[Session], Mapping[Hashable, SupporterEntry]]] = None

_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()


def _digits(phone: str) -> str:
    return "".join(ch for ch in normalize_phone(phone or "") if ch.isdigit())


def _shelters(session: Session) -> dict:
    """Every shelter with the hazard areas it lies in (kind and name), one spatial query."""
    rows = session.execute(select(Shelter.id, Shelter.name, Shelter.common_id, Shelter.kind, Shelter.target_groups,
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


def load(session: Session, people_access: Access, plan_access: Access, today: date) -> tuple[list, dict, dict, dict, dict]:
    """(people, plans by person, links, supporter entries, shelters) for `coverage`, within the
    caller's scope, people in register order."""
    welfare_of = dict(session.execute(select(District.id, District.parent_id)
                                      .where(District.kind == DistrictKind.chome)).all())
    rows = session.execute(select(Person.id, Person.register_no, Person.birth_date, Person.reasons, Person.care_needs,
                                  Person.district_id, Person.minsei_iin, Person.consent, Person.name, Person.phone)
                           .where(*people_access.clauses()).order_by(Person.register_no)).all()
    consent_of = {c.value: c for c in Consent}
    people = [PersonFacts(r.id, r.register_no, r.birth_date, frozenset(r.reasons or ()), frozenset(r.care_needs or ()),
                          "", r.district_id, welfare_of.get(r.district_id), r.minsei_iin or "",
                          consent_of.get(getattr(r.consent, "value", r.consent), Consent.not_asked))
              for r in rows]
    by_contact = {}
    for r in rows:
        if r.phone:
            by_contact.setdefault((name_key(r.name), _digits(r.phone)), r)
    plan_rows = session.execute(select(EvacuationPlan.id, EvacuationPlan.person_id, EvacuationPlan.status,
                                       EvacuationPlan.supporters, EvacuationPlan.destination_shelter_id,
                                       EvacuationPlan.review_due).where(*plan_access.clauses())).all()
    entries: dict = dict(SUPPORTER_ENTRIES(session)) if SUPPORTER_ENTRIES is not None else {}
    links: dict = {}
    plans: dict = {}
    status_of = {s.value: s for s in PlanStatus}
    for p in plan_rows:
        raw = [s if isinstance(s, dict) else s.model_dump() for s in (p.supporters or ())]
        keys, known = [], False
        for n, s in enumerate(raw):
            key = None
            if s.get("supporter_id"):
                key, known = ("entry", str(s["supporter_id"])), True
                if key not in entries and s["supporter_id"] in entries:
                    key = s["supporter_id"]
            elif s.get("phone"):
                match = by_contact.get((name_key(s.get("name", "")), _digits(s["phone"])))
                if match is not None:
                    key, known = ("person", match.id), True
                    if key not in entries:
                        entries[key] = SupporterEntry(key, match.name, birth_date=match.birth_date, person_id=match.id)
            keys.append(key if key is not None else ("free", p.id, n))
        if known:  # otherwise coverage counts the free-text supporters themselves
            links[p.id] = keys
        plans[p.person_id] = Plan(p.id, p.person_id, status_of.get(getattr(p.status, "value", p.status),
                                                                      PlanStatus.not_started),
                                  tuple(PlanSupporter(s.get("name", "")) for s in raw), p.destination_shelter_id,
                                  None, review_due=p.review_due)
    return people, plans, links, entries, _shelters(session)


def _cache_key(session: Session, access: Access, today: date) -> tuple:
    seq = session.execute(sa.select(sa.func.max(ChangeLog.seq))).scalar()
    hazards = session.execute(sa.select(sa.func.count(), sa.func.max(HazardArea.updated_at))).one()
    principal = access.principal
    scope = (getattr(principal, "user_id", None), str(getattr(principal, "role", "")),
             str(getattr(principal, "mode", "")), str([str(c) for c in access.clauses()]))
    return scope, today, seq, tuple(hazards)


def city_coverage(session: Session, people_access: Access, plan_access: Access, today: date) -> Coverage:
    """The figures for everything the caller may see, from the cache when nothing changed."""
    key = _cache_key(session, people_access, today)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    result = coverage(*load(session, people_access, plan_access, today), today)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


# ---- names of areas, keys of links ----

def key_text(key) -> str:
    return NONE_KEY if key is None else str(key)


def area_names(session: Session, level: str, keys) -> dict:
    """Key → the name shown: a district's name, a 民生委員's name (`名簿:` keys are the
    register's text; supporter register entries by their name)."""
    if level in ("welfare_area", "chome"):
        ids = [k for k in keys if isinstance(k, uuid.UUID)]
        rows = session.execute(select(District.id, District.name, District.code).where(District.id.in_(ids))).all() if ids else []
        return {r.id: r.name for r in rows}
    names = {}
    entries = SUPPORTER_ENTRIES(session) if SUPPORTER_ENTRIES is not None else {}
    for k in keys:
        if isinstance(k, str) and k.startswith("名簿:"):
            names[k] = k[len("名簿:"):]
        elif k in entries:
            names[k] = entries[k].name
    return names


def area_rows(session: Session, cov: Coverage, level: str) -> list[dict]:
    """One row per area of `level`, sorted by name (未割当 last), each with its counts."""
    areas = getattr(cov, level)
    names = area_names(session, level, list(areas))
    rows = [{"key": key_text(k), "name": names.get(k, "" if k is None else str(k)), "unassigned": k is None,
             "counts": a.counts()} for k, a in areas.items()]
    return sorted(rows, key=lambda r: (r["unassigned"], r["name"], r["key"]))


def find_area(cov: Coverage, level: str, key: str):
    if level == "city":
        return cov.city
    if level not in LEVELS:
        return None
    for k, area in getattr(cov, level).items():
        if key_text(k) == key:
            return area
    return None


__all__ = ["FIGURES", "LEVELS", "NONE_KEY", "SUPPORTER_ENTRIES", "load", "city_coverage", "clear_cache",
           "area_rows", "find_area", "key_text"]
