"""The coverage figures counted from columns: what the page runs on a cold view.

`workbench_coverage_data.load` builds the domain's inputs (a PersonFacts per person, a Plan per
plan) and `domain.workbench.coverage.coverage` counts them; at 50,000 people building those
inputs is most of a cold view. Here the same figures come from the raw columns: consent,
plan status, review date and the person's areas are compared as the driver gives them
(ISO dates compare as text), a plan's supporters are parsed only when one of them may be on
a register (a `supporter_id`, or a phone that is some registered person's), and only plans
with a destination build a PersonFacts — once per needs profile, for the shelter rules. The
domain's helpers decide every figure (`linked_supporters`, `destination_figures`,
`minsei_by_district`, `assemble`), and tests/test_workbench_coverage_count.py checks that both
ways give the same figures and lists on a randomised city.
"""

from __future__ import annotations

import gc
import json
import re
import threading
import uuid
from contextlib import contextmanager
from datetime import date
from typing import Hashable, Mapping

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from ..domain.matching.rules import person_groups, required_capabilities
from ..domain.workbench.common import PersonFacts
from ..domain.workbench.supporters import SupporterEntry
from ..domain.workbench.coverage import (FIGURES, Coverage, _elderly_cutoff, assemble, codes_of, destination_figures,
                                         linked_supporters, minsei_by_district, minsei_members,
                                         supporter_facts)
from ..models import District, EvacuationPlan, Person
from ..records.access import Access
from . import workbench_coverage_rows as shared

_COL = {name: i for i, name in enumerate(FIGURES)}
_STATUS = {"not_started": _COL["plan_not_started"], "drafting": _COL["plan_drafting"], "done": _COL["plan_done"],
           "needs_review": _COL["plan_needs_review"]}
# A plan's JSON text (SQLite) is parsed only if a supporter is linked or has a phone: the app
# writes `"supporter_id": null` for a free-text supporter and never escapes a phone's digits.
_LINKED = re.compile(r'"supporter_id":(?!\s*null)')
_PHONE = re.compile(r'"phone":\s*"([^"\\]*)"')


_GC = {"holders": 0, "was_enabled": True}
_GC_LOCK = threading.Lock()


@contextmanager
def gc_paused():
    """No cyclic garbage collection while counting: the count makes ≈ 150,000 short-lived
    tuples, and each collection they trigger walks every object of the process (≈ 0.3 s of a
    0.8 s count at 50,000 people). Nothing here makes cycles; collection resumes after the
    last concurrent count ends (and only if it was on before)."""
    with _GC_LOCK:
        if _GC["holders"] == 0:
            _GC["was_enabled"] = gc.isenabled()
            gc.disable()
        _GC["holders"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC["holders"] -= 1
            if _GC["holders"] == 0 and _GC["was_enabled"]:
                gc.enable()


def _fetch(conn, statement) -> list[tuple]:
    """The rows as the driver's tuples: SQLAlchemy's Row objects cost ≈ 0.1 s per 50,000 rows,
    and every column read here is raw already (`workbench_coverage_rows.raw`, or plain text). (Enum members are
    str subclasses, so a driver giving them still compares and hashes as the text.)"""
    result = conn.execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _may_be_registered(text: str, register_digits: set) -> bool:
    """Whether a plan's supporters (JSON text) may include someone on a register: a linked
    entry, or a phone whose digits are a registered person's (escaped text: parsed to be sure)."""
    if "\\" in text or _LINKED.search(text):
        return True
    for phone in _PHONE.findall(text):
        plain = phone.replace("-", "")
        if plain in register_digits or (not (plain.isascii() and plain.isdigit())
                                        and shared.digits(phone) in register_digits):
            return True
    return False


def _recode(codes: np.ndarray, keys: list) -> tuple[np.ndarray, list]:
    """Codes over raw keys → codes over the mapped keys (two raw keys may map to one, e.g. None)."""
    mapped, distinct = codes_of(keys)
    return (mapped[codes] if len(codes) else codes), distinct


def count(session: Session, people_access: Access, plan_access: Access, today: date,
          entries: Mapping[Hashable, SupporterEntry]) -> Coverage:
    """The same figures as `coverage(*load(...), today)`, for everything the caller may see;
    `entries`: the supporter register's (`workbench_coverage_data.SUPPORTER_ENTRIES`)."""
    districts = {raw: (uuid.UUID(str(i)), None if parent is None else uuid.UUID(str(parent)))
                 for raw, i, parent in session.execute(select(shared.raw(District.id), District.id,
                                                              District.parent_id))}
    conn = session.connection()
    rows = _fetch(conn, select(shared.raw(Person.id), shared.raw(Person.birth_date), shared.raw(Person.reasons),
                               shared.raw(Person.care_needs), shared.raw(Person.district_id), Person.minsei_iin,
                               shared.raw(Person.consent), Person.name, Person.phone)
                        .where(*people_access.clauses()).order_by(Person.register_no))
    ids, births, reasons, needs, district, minsei, consent, names, phones = \
        (list(column) for column in zip(*rows)) if rows else ([] for _ in range(9))
    n_people = len(ids)
    index = {pid: i for i, pid in enumerate(ids)}
    flags = np.zeros((n_people, len(FIGURES)), dtype=bool)
    flags[:, _COL["registered"]] = True
    flags[:, _COL["consented"]] = np.fromiter((c == "yes" for c in consent), dtype=bool, count=n_people)

    # Register phones as digits: who a free-text supporter may be. Stored phones are normalised
    # (digits and hyphens), so one check over all of them usually spares a check per phone.
    digits_of = [p.replace("-", "") if p else "" for p in phones]
    joined = "".join(digits_of)
    if not (joined.isascii() and joined.isdigit()):
        digits_of = [d if not d or (d.isascii() and d.isdigit()) else shared.digits(phones[i])
                     for i, d in enumerate(digits_of)]
    register_digits = set(digits_of)
    register_digits.discard("")

    entries = dict(entries)  # (people matched by phone and name are added)
    columns = [shared.raw(EvacuationPlan.id), shared.raw(EvacuationPlan.person_id), shared.raw(EvacuationPlan.status),
               shared.raw(EvacuationPlan.supporters), shared.raw(EvacuationPlan.destination_shelter_id),
               shared.raw(EvacuationPlan.review_due)]
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # the number of supporters without parsing the JSON in Python
        columns.append(sa.func.json_array_length(EvacuationPlan.supporters))
    plan_rows = _fetch(conn, select(*columns).where(*plan_access.clauses()))
    plan_ids, person_ids, statuses, supporters_col, destinations, dues, *lengths = \
        zip(*plan_rows) if plan_rows else ([] for _ in range(6))
    # Column by column (comprehensions, not one loop with many branches): plan j is person who[j]'s.
    who = np.fromiter((index.get(p, -1) for p in person_ids), dtype=np.int64, count=len(plan_rows))
    not_started = _COL["plan_not_started"]
    status_col = np.fromiter((_STATUS.get(st, not_started) for st in statuses), dtype=np.int64,
                             count=len(plan_rows))
    today_text = today.isoformat()
    overdue = [j for j, due in enumerate(dues)
               if due and (due[:10] < today_text if isinstance(due, str) else due < today)]
    destined = [(j, d) for j, d in enumerate(destinations) if d is not None]
    size = list(lengths[0]) if sqlite and lengths else \
        [None if isinstance(sup, str) else len(sup or ()) for sup in supporters_col]
    linked_plans = []  # (plan index, plan id, parsed supporters)
    for j, supporters in enumerate(supporters_col):
        if isinstance(supporters, str):
            if supporters == "[]":
                size[j] = 0
            elif _may_be_registered(supporters, register_digits):
                linked_plans.append((j, plan_ids[j], json.loads(supporters)))
            elif size[j] is None:
                size[j] = len(json.loads(supporters))
        elif supporters and any(s.get("supporter_id") or (s.get("phone") and shared.digits(s["phone"]) in
                                                           register_digits) for s in supporters):
            linked_plans.append((j, plan_ids[j], supporters))

    # Plans whose supporters may be on a register: the domain's rules, as `load` applies them.
    digits_by_plan = [[shared.digits(s["phone"]) if s.get("phone") and not s.get("supporter_id") else None
                       for s in raw] for _, _, raw in linked_plans]
    wanted = {d for digits in digits_by_plan for d in digits if d in register_digits}
    contact: dict = {}  # phone digits → [(person id, name, birth date)] in register order
    for m in ([i for i, d in enumerate(digits_of) if d in wanted] if wanted else ()):
        contact.setdefault(digits_of[m], []).append((ids[m], names[m], shared.day(births[m])))
    links = {}
    for (_, plan_id, raw), digits in zip(linked_plans, digits_by_plan):
        keys = shared.link_keys(plan_id, raw, digits, contact, entries)
        if keys is not None:
            links[plan_id] = keys
    facts = supporter_facts(entries, today).get
    elderly, registered = [], []
    for j, plan_id, raw in linked_plans:
        keys = links.get(plan_id)
        if keys is None:
            size[j] = len(raw)
            continue
        size[j], old, known = linked_supporters(keys, facts)
        if old:
            elderly.append(j)
        if known:
            registered.append(j)

    # Plans of people outside the caller's scope drop out; then plan figures → person rows.
    seen = who >= 0
    planned = np.zeros(n_people, dtype=bool)
    planned[who[seen]] = True
    flags[~planned, _COL["plan_not_started"]] = True
    flags[~planned, _COL["supporters_0"]] = True
    if seen.any():
        flags[who[seen], status_col[seen]] = True
        sizes = np.asarray([0 if n is None else n for n in size], dtype=np.int64)[seen]
        flags[who[seen], np.where(sizes == 0, _COL["supporters_0"],
                                  np.where(sizes == 1, _COL["supporters_1"], _COL["supporters_2plus"]))] = True
    for name, members in (("elderly_supporter", elderly), ("registered_supporter", registered),
                          ("review_overdue", overdue)):
        if members:
            people_of = who[np.asarray(members, dtype=np.int64)]
            flags[people_of[people_of >= 0], _COL[name]] = True
    person_of = who.tolist()  # (numpy scalars one by one are slow)
    destined = [(person_of[j], d) for j, d in destined if person_of[j] >= 0]
    _destinations(flags, destined, births, reasons, needs, ids, shared.shelters(session), today)

    # Areas: codes over the raw district values, then mapped to 町丁目 / 福祉圏域 keys.
    raw_codes, raw_keys = codes_of(district)
    none = (None, None)
    chome_keys = [districts.get(k, none)[0] for k in raw_keys]
    area_keys = [districts.get(k, none)[1] for k in raw_keys]
    by_district = minsei_by_district(entries.values())
    per_district = [tuple(by_district.get(k, ())) for k in chome_keys]
    person_minsei = [per_district[c] or ((f"名簿:{m}",) if m else ())
                     for c, m in zip(raw_codes.tolist(), minsei)]
    return assemble(ids, flags, _recode(raw_codes, area_keys), _recode(raw_codes, chome_keys),
                    minsei_members(person_minsei))


def _destinations(flags: np.ndarray, destined: list, births: list, reasons: list, needs: list, ids: list,
                  shelters: dict, today: date) -> None:
    """Mark the destination figures: the shelter rules run once per destination × needs profile."""
    born_by = _elderly_cutoff(today)
    cutoff_text = born_by.isoformat()
    memo: dict = {}
    profiles: dict = {}
    verdicts: dict = {}
    marked: dict[int, list[int]] = {}
    for i, destination in destined:
        birth = births[i]
        older = birth is not None and birth != "" and (
            birth[:10] <= cutoff_text if isinstance(birth, str) else birth <= born_by)
        r, c = reasons[i], needs[i]
        if not (isinstance(r, str) and isinstance(c, str)):  # (JSON text is its own key; a list is not hashable)
            r, c = shared.decoded(r, memo), shared.decoded(c, memo)
        pkey = (r, c, older)
        found = profiles.get(pkey)
        if found is None:
            r, c = shared.decoded(r, memo), shared.decoded(c, memo)
            person = PersonFacts(ids[i], birth_date=shared.day(birth), reasons=r, care_needs=c)
            profile = (person_groups(r, c, person.birth_date, today), required_capabilities(c))
            found = profiles[pkey] = (person, profile)
        person, profile = found
        vkey = (destination, profile)
        columns = verdicts.get(vkey)
        if columns is None:
            columns = verdicts[vkey] = [marked.setdefault(_COL[name], []) for name in
                                        destination_figures(person, shelters.get(destination), today, None, profile)]
        for members in columns:
            members.append(i)
    for col, members in marked.items():
        if members:
            flags[np.asarray(members, dtype=np.int64), col] = True
