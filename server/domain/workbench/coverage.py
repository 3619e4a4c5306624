"""The web of support (「つながれる先を複数もつこと」): coverage figures per 福祉圏域, 町丁目 and
民生委員, and for the whole city.

Every figure is a count AND the people behind it (`Figure.ids`), so each number on the page
opens its list. Definitions (docs/workbench.md, "Coverage figures"):

- registered: people on the register; consented: register consent (名簿情報提供への同意) = 同意;
- plan_<status>: people by plan status; a person with no plan counts as not_started;
- supporters_0 / _1 / _2plus: active supporters on the person's plan (register links when the
  plan has them, otherwise its free-text supporters); no plan = 0;
- elderly_supporter / registered_supporter: people with at least one supporter who is 65+
  or is themselves on the register (the elderly carrying the elderly);
- review_overdue: plan's next review date before `today`;
- destination_unusable: the destination is refused by plan_rules — split into
  destination_seismic (旧耐震 undiagnosed / Is < 0.3), destination_hazard (inside a hazard
  area), destination_not_accepting (target groups or capabilities), destination_unknown.

Why numpy: 50,000 people must take well under a second. One Python pass computes each
person's flags (the expensive checks are cached per shelter × needs profile); the grouping,
counting and id lists are then array operations per area, not per person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Hashable, Iterable, Mapping, Optional, Sequence

import numpy as np

from ...models.vocab import Consent, PlanStatus
from ..matching.rules import ELDERLY_AGE, person_groups, required_capabilities
from .common import Plan, PersonFacts, ShelterFacts
from .plan_rules import destination_problems
from .supporters import SupporterEntry, SupporterKind

FIGURES = ("registered", "consented", "plan_not_started", "plan_drafting", "plan_done", "plan_needs_review",
           "supporters_0", "supporters_1", "supporters_2plus", "elderly_supporter", "registered_supporter",
           "review_overdue", "destination_unusable", "destination_seismic", "destination_hazard",
           "destination_not_accepting", "destination_unknown")
_COL = {name: i for i, name in enumerate(FIGURES)}
_STATUS_COL = {PlanStatus.not_started: "plan_not_started", PlanStatus.drafting: "plan_drafting",
               PlanStatus.done: "plan_done", PlanStatus.needs_review: "plan_needs_review"}
_REASON_COL = {"seismic_unsafe": "destination_seismic", "in_hazard_area": "destination_hazard",
               "does_not_accept_group": "destination_not_accepting", "lacks_capability": "destination_not_accepting"}
UNASSIGNED = None  # the key of people with no 町丁目 / 福祉圏域 / 民生委員


@dataclass(frozen=True, eq=False)
class Figure:
    """A count and, on demand, the person ids behind it (in register order)."""

    people: np.ndarray = field(repr=False)
    index: np.ndarray = field(repr=False)

    @property
    def count(self) -> int:
        return int(len(self.index))

    @property
    def ids(self) -> tuple:
        return tuple(self.people[self.index].tolist())


@dataclass(frozen=True)
class AreaCoverage:
    key: Hashable
    figures: Mapping[str, Figure]
    _counts: Optional[Mapping[str, int]] = field(default=None, repr=False)

    def counts(self) -> dict[str, int]:
        return dict(self._counts) if self._counts is not None else {n: f.count for n, f in self.figures.items()}


@dataclass(frozen=True)
class Coverage:
    city: AreaCoverage
    welfare_area: Mapping[Hashable, AreaCoverage]
    chome: Mapping[Hashable, AreaCoverage]
    minsei: Mapping[Hashable, AreaCoverage]


def minsei_of_people(people: Sequence[PersonFacts], entries: Iterable[SupporterEntry]) -> list[tuple]:
    """Each person's 民生委員: the active minsei entries whose 担当区域 holds the person's 町丁目;
    failing that, the register's 担当民生委員 text (prefixed "名簿:"); else none."""
    by_district = minsei_by_district(entries)
    return [tuple(by_district.get(p.district_id, ())) or ((f"名簿:{p.minsei_iin}",) if p.minsei_iin else ())
            for p in people]


def minsei_by_district(entries: Iterable[SupporterEntry]) -> dict[Hashable, list]:
    """町丁目 → the ids of the active 民生委員 entries whose 担当区域 holds it."""
    by_district: dict[Hashable, list] = {}
    for e in entries:
        if e.kind == SupporterKind.minsei and e.active:
            for d in e.area:
                by_district.setdefault(d, []).append(e.id)
    return by_district


def supporter_facts(entries: Mapping[Hashable, SupporterEntry], today: date) -> dict[Hashable, tuple[bool, bool, bool]]:
    """Entry id → (active, elderly on `today`, on the register)."""
    return {sid: (e.active, e.is_elderly(today), e.person_id is not None) for sid, e in entries.items()}


_UNKNOWN_SUPPORTER = (True, False, False)


def linked_supporters(linked: Sequence[Hashable], get_facts) -> tuple[int, bool, bool]:
    """(active supporters, any elderly, any on the register) of a plan's register-linked
    supporters (a key twice counts once; an unknown key counts as an active stranger)."""
    facts = [f for f in map(get_facts, set(linked) if len(linked) > 1 else linked) if f is None or f[0]]
    facts = [f or _UNKNOWN_SUPPORTER for f in facts]
    return len(facts), any(f[1] for f in facts), any(f[2] for f in facts)


def destination_figures(person: PersonFacts, shelter: Optional[ShelterFacts], today: date, hazard,
                        profile: tuple) -> tuple[str, ...]:
    """The destination figures a plan counts in (none when the destination is usable)."""
    if shelter is None:
        return ("destination_unknown", "destination_unusable")
    codes = {p.code for p in destination_problems(person, shelter, today, hazard=hazard, profile=profile)
             if p.severity == "error"}
    names = tuple(dict.fromkeys(_REASON_COL[c] for c in codes if c in _REASON_COL))
    return names + ("destination_unusable",) if names else ()


def _elderly_cutoff(today: date) -> date:
    """The last birth date of someone ELDERLY_AGE or over on `today` (matching.rules.age_on)."""
    try:
        return today.replace(year=today.year - ELDERLY_AGE)
    except ValueError:  # 29 February in a year whose counterpart is not a leap year
        return today.replace(year=today.year - ELDERLY_AGE, day=28)


def _person_flags(people, plans_by_person, links, entries, shelters, today, hazard) -> np.ndarray:
    """One pass over people; each figure collects the indices of its people in a plain list
    (appending is several times cheaper than setting numpy items one by one)."""
    cols: dict[str, list[int]] = {name: [] for name in FIGURES}
    profiles: dict[tuple, tuple] = {}
    verdicts: dict[tuple, tuple[list, ...]] = {}
    facts_of = supporter_facts(entries, today)
    status_col = {status: cols[name] for status, name in _STATUS_COL.items()}
    consented, not_started = cols["consented"], cols["plan_not_started"]
    s0, s1, s2 = cols["supporters_0"], cols["supporters_1"], cols["supporters_2plus"]
    eld, reg, overdue = cols["elderly_supporter"], cols["registered_supporter"], cols["review_overdue"]
    yes = Consent.yes
    get_plan, get_links, get_facts = plans_by_person.get, links.get, facts_of.get
    born_by = _elderly_cutoff(today)  # 65 or over on `today` ⟺ born on or before this day
    for i, person in enumerate(people):
        if person.consent == yes:
            consented.append(i)
        plan: Optional[Plan] = get_plan(person.id)
        if plan is None:
            not_started.append(i)
            s0.append(i)
            continue
        status_col[plan.status].append(i)
        linked = get_links(plan.id)
        if linked:
            n, elderly, registered = linked_supporters(linked, get_facts)
            if elderly:
                eld.append(i)
            if registered:
                reg.append(i)
        else:
            n = len(plan.supporters)
        (s0 if n == 0 else s1 if n == 1 else s2).append(i)
        if plan.review_due is not None and plan.review_due < today:
            overdue.append(i)
        if plan.destination_id is not None:
            older = person.birth_date is not None and person.birth_date <= born_by
            pkey = (person.reasons, person.care_needs, older)
            profile = profiles.get(pkey)
            if profile is None:
                profile = profiles[pkey] = (person_groups(person.reasons, person.care_needs, person.birth_date, today),
                                            required_capabilities(person.care_needs))
            vkey = (plan.destination_id, profile)
            targets = verdicts.get(vkey)
            if targets is None:
                names = destination_figures(person, shelters.get(plan.destination_id), today, hazard, profile)
                targets = verdicts[vkey] = tuple(cols[name] for name in names)
            for target in targets:
                target.append(i)
    flags = np.zeros((len(people), len(FIGURES)), dtype=bool)
    flags[:, _COL["registered"]] = True
    for name, members in cols.items():
        if members:
            flags[np.asarray(members, dtype=np.int64), _COL[name]] = True
    return flags


@dataclass(frozen=True, eq=False)
class _Lazy(Mapping):
    """An area's figures, built on first access: the page shows counts for hundreds of areas
    and opens one list at a time, so 17 index arrays per area need not exist up front."""

    people: np.ndarray
    flags: np.ndarray
    members: np.ndarray

    def __getitem__(self, name: str) -> Figure:
        return Figure(self.people, self.members[self.flags[self.members, _COL[name]]])

    def __iter__(self):
        return iter(FIGURES)

    def __len__(self) -> int:
        return len(FIGURES)


def _group(people_arr: np.ndarray, flags: np.ndarray, member: np.ndarray, codes: np.ndarray,
           keys: list) -> dict[Hashable, AreaCoverage]:
    """Figures per key: `member[j]` is a person index, `codes[j]` the key index it belongs to
    (a person may appear under several keys, e.g. two 民生委員 sharing a 町丁目). Counts for
    every area come from one reduceat; the id lists are built when opened."""
    order = np.lexsort((member, codes))
    member, codes = member[order], codes[order]
    bounds = np.searchsorted(codes, np.arange(len(keys) + 1))
    present = [k for k in range(len(keys)) if bounds[k + 1] > bounds[k]]
    counts = np.add.reduceat(flags[member].astype(np.int64), bounds[present], axis=0) if present else []
    out = {}
    for row, k in enumerate(present):
        out[keys[k]] = AreaCoverage(keys[k], _Lazy(people_arr, flags, member[bounds[k]:bounds[k + 1]]),
                                    dict(zip(FIGURES, counts[row].tolist())))
    return out


def codes_of(values: Sequence) -> tuple[np.ndarray, list]:
    """Each value's index in the list of distinct values (first seen first), and that list."""
    keys = list(dict.fromkeys(values))
    index = {k: i for i, k in enumerate(keys)}
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values)), keys


def minsei_members(minsei: Sequence[Sequence[Hashable]]) -> tuple[np.ndarray, np.ndarray, list]:
    """(person index, key index, keys) of each person's 民生委員 keys (none: UNASSIGNED)."""
    member = [i for i, ks in enumerate(minsei) for _ in (ks or (UNASSIGNED,))]
    codes, keys = codes_of([k for ks in minsei for k in (ks or (UNASSIGNED,))])
    return np.asarray(member, dtype=np.int64), codes, keys


def assemble(ids: Sequence[Hashable], flags: np.ndarray, welfare: tuple[np.ndarray, list],
             chome: tuple[np.ndarray, list], minsei: tuple[np.ndarray, np.ndarray, list]) -> Coverage:
    """The figures from each person's flags (rows in `ids` order, columns FIGURES) and their
    areas: `welfare` and `chome` are (key index per person, keys), `minsei` as `minsei_members`."""
    people_arr = np.empty(len(ids), dtype=object)
    people_arr[:] = list(ids)
    everyone = np.arange(len(ids))
    # (The city's 17 lists are built eagerly: one flatnonzero each.)
    city = AreaCoverage("city", {name: Figure(people_arr, np.flatnonzero(flags[:, c]))
                                 for c, name in enumerate(FIGURES)})
    return Coverage(city, _group(people_arr, flags, everyone, *welfare), _group(people_arr, flags, everyone, *chome),
                    _group(people_arr, flags, *minsei))


def coverage(people: Sequence[PersonFacts], plans_by_person: Mapping[Hashable, Plan],
             links: Mapping[Hashable, Sequence[Hashable]], entries: Mapping[Hashable, SupporterEntry],
             shelters: Mapping[Hashable, ShelterFacts], today: date, *, hazard=None,
             minsei: Optional[Sequence[Sequence[Hashable]]] = None) -> Coverage:
    """The coverage page's figures. `links` maps plan id → supporter entry ids; `minsei` gives
    each person's 民生委員 keys (default `minsei_of_people`). People without a 町丁目 / 福祉圏域 /
    民生委員 are grouped under the key None (未割当), so every person is counted somewhere."""
    people = list(people)
    flags = _person_flags(people, plans_by_person, links, entries, shelters, today, hazard)
    if minsei is None:
        minsei = minsei_of_people(people, entries.values())
    return assemble([p.id for p in people], flags, codes_of([p.welfare_area_id for p in people]),
                    codes_of([p.district_id for p in people]), minsei_members(minsei))
