"""The coverage figures (つながれる先を複数もつこと) from the database: the inputs of
`domain.workbench.coverage` read in a few column-only queries, and a small cache.

Supporters. Plans keep their supporters as a JSON list (name, relation, phone, and — once the
supporter register links them — `supporter_id`). A supporter counts as *registered* (and,
by their birth date, *elderly*) when they are themselves on the register: an entry of the
supporter register with `person_id`, or a free-text supporter whose name (spaces and width
ignored) and phone digits are those of a registered person. Name alone is not enough: two
山田 太郎 are common. The supporter register's entries (支援者台帳) come from `SUPPORTER_ENTRIES`
(session → {entry id: SupporterEntry}): a linked line takes its entry's facts.

Why a cache: the page, each list behind a number, the CSV and the HQ panel all need the
same figures; 50,000 people take a few hundred milliseconds to read and count. A result is
kept per (caller's scope, day, change-log position, hazard areas): any write to people,
plans or shelters moves the change log, so a cached figure is never older than the data.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections import OrderedDict
from datetime import date
from typing import Callable, Hashable, Mapping, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..domain.workbench.common import Plan, PersonFacts, PlanSupporter
from ..domain.workbench.coverage import FIGURES, Coverage
from ..domain.workbench.supporters import SupporterEntry
from ..models import ChangeLog, District, EvacuationPlan, HazardArea, Person
from ..models.vocab import Consent, PlanStatus
from ..models import SupporterRecord
from ..records.access import Access
from ..records.supporter_links import entry_from_row
from .workbench_coverage_count import count, gc_paused
from .workbench_coverage_rows import as_uuid as _as_uuid, day as _day, decoded as _decoded, digits as _digits
from .workbench_coverage_rows import link_keys, raw as _raw, shelters as _shelters

LEVELS = ("welfare_area", "chome", "minsei")
NONE_KEY = "none"  # a link's key for people with no 町丁目 / 福祉圏域 / 民生委員 (未割当)

def register_entries(session: Session) -> Mapping[Hashable, SupporterEntry]:
    """Every entry of the supporter register in its domain form, by id. The 担当区域 comes back
    from its JSON column as text: as UUIDs it matches the people's 町丁目 (the coverage keys)."""
    out = {}
    for row in session.exec(select(SupporterRecord)).all():
        entry = entry_from_row(row)
        out[row.id] = dataclasses.replace(entry, area=frozenset(_as_uuid(d) for d in entry.area))
    return out


# The supporter register's entries (session → {entry id: SupporterEntry}); tests may swap it.
SUPPORTER_ENTRIES: Optional[Callable[[Session], Mapping[Hashable, SupporterEntry]]] = register_entries

_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
# The last read's rows (as the driver gave them) → their built inputs, so that the count after a
# write rebuilds only the rows that changed. Replaced whole on every read: deleted rows drop out.
_MEMO: dict = {"people": {}, "plans": {}}
_CACHE_SIZE = 4
_LOCK = threading.Lock()


# Coverage counts a plan's free-text supporters; who they are matters only through `links`.
_SOMEONE = PlanSupporter("")


def load(session: Session, people_access: Access, plan_access: Access, today: date) -> tuple[list, dict, dict, dict, dict]:
    """(people, plans by person, links, supporter entries, shelters) for `coverage`, within the
    caller's scope, people in register order. Person and plan ids are the driver's raw values
    (`coverage_ids` turns a list back into UUIDs); district keys are UUIDs (they become links)."""
    districts = {raw: (uuid.UUID(str(i)), None if parent is None else uuid.UUID(str(parent)))
                 for raw, i, parent in session.execute(select(_raw(District.id), District.id, District.parent_id))}
    conn = session.connection()  # Core rows: no ORM loading step per row
    plan_rows = conn.execute(select(_raw(EvacuationPlan.id), _raw(EvacuationPlan.person_id),
                                    _raw(EvacuationPlan.status), _raw(EvacuationPlan.supporters),
                                    _raw(EvacuationPlan.destination_shelter_id), _raw(EvacuationPlan.review_due))
                             .where(*plan_access.clauses())).all()
    # Plans first: the supporters' phone digits say which register phones are worth indexing.
    parsed = []
    wanted: set = set()
    seen, memo_plans = _MEMO["plans"], {}
    for row in plan_rows:
        # A row unchanged since the last count is not decoded again (a write changes a few rows).
        key = tuple(row) if isinstance(row[3], str) else None
        item = seen.get(key) if key is not None else None
        if item is None:
            plan_id, person_id, status, supporters, destination, review_due = row
            raw = (json.loads(supporters) if supporters != "[]" else []) if isinstance(supporters, str) \
                else (supporters or [])
            digits = [_digits(s["phone"]) if s.get("phone") and not s.get("supporter_id") else None for s in raw]
            item = (plan_id, person_id, status, raw, digits, destination, _day(review_due))
        if key is not None:
            memo_plans[key] = item
        wanted.update(d for d in item[4] if d)
        parsed.append(item)
    rows = conn.execute(select(_raw(Person.id), Person.register_no, _raw(Person.birth_date), _raw(Person.reasons),
                               _raw(Person.care_needs), _raw(Person.district_id), Person.minsei_iin,
                               _raw(Person.consent), Person.name, Person.phone)
                        .where(*people_access.clauses()).order_by(Person.register_no)).all()
    consent_of = {c.value: c for c in Consent}
    memo: dict = {}
    births: dict = {}
    no_district = (None, None)
    people = []
    by_contact: dict = {}
    seen, memo_people = _MEMO["people"], {}
    for row in rows:
        pid, register_no, birth, reasons, needs, district, minsei, consent, name, phone = row
        key = row if isinstance(reasons, str) else None  # JSON as text (SQLite): the row is hashable
        person = seen.get(key) if key is not None else None
        if person is None or person.welfare_area_id != districts.get(district, no_district)[1]:
            if birth is not None:
                day = births.get(birth)
                if day is None:
                    day = births[birth] = _day(birth)
                birth = day
            district_id, area_id = districts.get(district, no_district)
            person = PersonFacts(pid, register_no, birth, _decoded(reasons, memo), _decoded(needs, memo), "",
                                 district_id, area_id, minsei or "",
                                 consent_of.get(getattr(consent, "value", consent), Consent.not_asked))
        if key is not None:
            memo_people[key] = person
        birth = person.birth_date
        people.append(person)
        if phone:
            plain = phone.replace("-", "")  # stored phones are normalised: the digits and hyphens
            if plain in wanted or (not (plain.isascii() and plain.isdigit()) and _digits(phone) in wanted):
                by_contact.setdefault(_digits(phone), []).append((pid, name, birth))
    entries: dict = dict(SUPPORTER_ENTRIES(session)) if SUPPORTER_ENTRIES is not None else {}
    links: dict = {}
    plans: dict = {}
    status_of = {s.value: s for s in PlanStatus}
    _MEMO.update(people=memo_people, plans=memo_plans)
    for plan_id, person_id, status, raw, digits, destination, review_due in parsed:
        keys = link_keys(plan_id, raw, digits, by_contact, entries)
        if keys is not None:  # otherwise coverage counts the free-text supporters themselves
            links[plan_id] = keys
        plans[person_id] = Plan(plan_id, person_id, status_of.get(getattr(status, "value", status),
                                                                  PlanStatus.not_started),
                                (_SOMEONE,) * len(raw), destination, None, review_due=review_due)
    return people, plans, links, entries, _shelters(session)


def coverage_ids(ids) -> list[uuid.UUID]:
    """A figure's person ids (raw, as `load` read them) as UUIDs, for the records layer."""
    return [i if isinstance(i, uuid.UUID) else uuid.UUID(str(i)) for i in ids]


def _cache_key(session: Session, access: Access, today: date) -> tuple:
    seq = session.execute(sa.select(sa.func.max(ChangeLog.seq))).scalar()
    hazards = session.execute(sa.select(sa.func.count(), sa.func.max(HazardArea.updated_at))).one()
    principal = access.principal
    # the clauses' text has no values: the scope's own values (municipalities, districts,
    # shelters, sharing category) are in the key too, so a changed scope is never served stale
    scope = (getattr(principal, "user_id", None), str(getattr(principal, "role", "")),
             str(getattr(principal, "mode", "")), str([str(c) for c in access.clauses()]),
             *(repr(sorted(map(str, v)) if isinstance(v, (set, frozenset)) else v) for v in (
                 getattr(principal, name, None) for name in ("municipality_codes", "disaster_codes", "district_ids",
                                                             "shelter_ids", "share_category", "ordinance"))))
    return scope, today, seq, tuple(hazards)


def city_coverage(session: Session, people_access: Access, plan_access: Access, today: date) -> Coverage:
    """The figures for everything the caller may see, from the cache when nothing changed."""
    key = _cache_key(session, people_access, today)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    entries = SUPPORTER_ENTRIES(session) if SUPPORTER_ENTRIES is not None else {}
    with gc_paused():
        result = count(session, people_access, plan_access, today, entries)
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def clear_cache(rows: bool = True) -> None:
    """Forget the figures (and, with `rows`, the built rows: the state after a restart)."""
    with _LOCK:
        _CACHE.clear()
    if rows:
        _MEMO.update(people={}, plans={})


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
