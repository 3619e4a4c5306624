"""`propose`: who goes to which welfare shelter, from plain inputs (no database).

1. A plan's destination (個別避難計画の避難先) wins when that shelter may be used, accepts the
   person and has room. When more plans name a shelter than it has room for, the most urgent
   people keep it (then the nearest, then by id); the others join step 2.
   When the destination is not used (blocked, full, does not take the person) the plan's
   alternate (第二避難先) is tried the same way, over the room the destinations left, and the
   assignment says why (`because`: the destination's blocked reason, full, unsuitable or
   no_destination); the others join step 2.
2. Everyone else who can be placed is placed by an exact optimisation (solver.py): first as
   many level-0 people as possible, then level 1, 2, 3 (lexicographic), and among all such
   placements the one with the least total walking distance.
3. Everyone not placed is listed with a reason: no_location, no_compatible_shelter, too_far,
   all_full.

Walking distance = straight-line distance in the plane rectangular zone × `detour` (default
1.3), rounded to whole metres; pairs farther than `max_walk_m` are not allowed.

Why the weights give a lexicographic optimum: the cost of placing person i at shelter j is
walking(i, j) − (LEVELS − level(i)) · Δ with Δ = (S + 1) · max_walk + 1, S = number of shelters.
Any change that places one more person of some level (or swaps a less urgent person for a
more urgent one) moves at most S people, each by at most max_walk metres, so it gains at
least Δ − S · max_walk > 0 in cost: no distance saving can outweigh it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Hashable, Optional, Sequence

import numpy as np

from ...models.vocab import Capability, TargetGroup
from ..geo import Zone, to_plane, zone_for
from . import carers, solver
from .rules import LEVELS, intensity_label

NO_LOCATION, NO_COMPATIBLE, TOO_FAR, ALL_FULL = "no_location", "no_compatible_shelter", "too_far", "all_full"
REASONS = (NO_LOCATION, NO_COMPATIBLE, TOO_FAR, ALL_FULL)
PLAN, ALTERNATE, OPTIMISED = "plan", "plan_alternate", "optimised"
# Why a person went to their plan's alternate (Assignment.because), besides the destination's
# blocked reason (rules.BLOCKED_REASONS): labels in rules.DESTINATION_UNUSED_LABELS.
FULL, UNSUITABLE, NO_DESTINATION = "full", "unsuitable", "no_destination"


@dataclass(frozen=True)
class MatchPerson:
    id: Hashable
    lon: Optional[float]
    lat: Optional[float]
    groups: frozenset[TargetGroup]
    requires: tuple[frozenset[Capability], ...] = ()
    level: int = LEVELS - 1
    destination: Optional[Hashable] = None
    places: int = 1                      # 2 when the plan says a family carer comes along
    intensity: Optional[float] = None    # the 震度 at the person's home (reported in the summary)
    alternate: Optional[Hashable] = None  # the plan's 第二避難先, tried when the destination is not used


@dataclass(frozen=True)
class MatchShelter:
    id: Hashable
    lon: Optional[float]
    lat: Optional[float]
    room: int
    groups: frozenset[TargetGroup]
    capabilities: frozenset[Capability] = frozenset()
    blocked: Optional[str] = None  # why it may not be used (rules.BLOCKED_REASONS), None if usable
    intensity: Optional[float] = None  # the 震度 the seismic rule was applied with


@dataclass(frozen=True)
class MatchParams:
    max_walk_m: int = 3000
    detour: float = 1.3
    solver: str = "flow"
    zone: Optional[Zone] = None
    municipality_code: Optional[str] = None
    carer_time_limit_s: float = 10.0  # for the exact solve when people take two places (carers.py)

    def to_dict(self) -> dict:
        return {"max_walk_m": self.max_walk_m, "detour": self.detour, "solver": self.solver}


@dataclass(frozen=True)
class Assignment:
    person_id: Hashable
    shelter_id: Hashable
    walking_m: Optional[int]
    source: str  # plan | plan_alternate | optimised
    because: Optional[str] = None  # plan_alternate: why the destination was not used


@dataclass
class Proposal:
    assignments: list[Assignment]
    unplaced: list[tuple[Hashable, str]]
    summary: dict = field(default_factory=dict)

    def by_person(self) -> dict:
        return {a.person_id: a.shelter_id for a in self.assignments}


def compatible(person: MatchPerson, shelter: MatchShelter) -> bool:
    """The shelter accepts one of the person's groups and has, for each care need, one of the
    capabilities it requires."""
    return bool(person.groups & shelter.groups) and all(need & shelter.capabilities for need in person.requires)


def _compat_matrix(classes: list[tuple], shelters: Sequence[MatchShelter]) -> np.ndarray:
    """classes × shelters: True where the class's people may go to the shelter."""
    matrix = np.zeros((len(classes), len(shelters)), dtype=bool)
    for c, (groups, requires) in enumerate(classes):
        probe = MatchPerson(None, None, None, groups, requires)
        matrix[c] = [compatible(probe, s) for s in shelters]
    return matrix


def _plane(points: Sequence, zone: Zone) -> tuple[np.ndarray, np.ndarray]:
    located = np.array([p.lon is not None and p.lat is not None for p in points], dtype=bool)
    xy = np.full((len(points), 2), np.nan)
    if located.any():
        lon = [p.lon for p, ok in zip(points, located) if ok]
        lat = [p.lat for p, ok in zip(points, located) if ok]
        xy[located] = to_plane(lon, lat, zone)
    return xy, located


def _choose_zone(people: Sequence[MatchPerson], shelters: Sequence[MatchShelter], params: MatchParams) -> Zone:
    if params.zone is not None:
        return params.zone
    points = [(s.lon, s.lat) for s in shelters if s.lon is not None] or \
             [(p.lon, p.lat) for p in people if p.lon is not None]
    if not points:
        return zone_for(139.7, 35.7, params.municipality_code)
    lon, lat = np.mean(points, axis=0)
    return zone_for(float(lon), float(lat), params.municipality_code)


def propose(people: Sequence[MatchPerson], shelters: Sequence[MatchShelter],
            params: MatchParams = MatchParams()) -> Proposal:
    """Assign people to shelters; see the module docstring for the rules and the objective."""
    zone = _choose_zone(people, shelters, params)
    n = len(people)
    person_xy, person_located = _plane(people, zone)
    shelter_xy, shelter_located = _plane(shelters, zone)
    usable = np.array([sh.blocked is None for sh in shelters], dtype=bool)
    room = np.array([max(0, sh.room) for sh in shelters], dtype=np.int64)
    shelter_index = {sh.id: j for j, sh in enumerate(shelters)}

    class_of: dict[tuple, int] = {}
    person_class = np.array([class_of.setdefault((p.groups, p.requires), len(class_of)) for p in people],
                            dtype=np.int64)
    fits = _compat_matrix(list(class_of), shelters)  # groups and capabilities, usable or not
    compat = fits & usable[None, :]

    def walking(i: int, j: int) -> Optional[int]:
        if not (person_located[i] and shelter_located[j]):
            return None
        return int(round(math.dist(person_xy[i], shelter_xy[j]) * params.detour))

    # 1. Plan destinations that may be used and have room; then, for those not placed there,
    # the plan's alternate (第二避難先) over the room left, by the same order.
    assignments: list[Assignment] = []
    placed = np.zeros(n, dtype=bool)
    places = np.array([max(1, p.places) for p in people], dtype=np.int64)

    def named(attribute: str) -> dict[int, list[int]]:
        wanting: dict[int, list[int]] = {}
        for i, p in enumerate(people):
            target = getattr(p, attribute)
            j = shelter_index.get(target) if target is not None and not placed[i] else None
            if j is not None and compat[person_class[i], j]:
                wanting.setdefault(j, []).append(i)
        return wanting

    def place_named(wanting: dict[int, list[int]], source: str) -> None:
        for j, members in wanting.items():
            members.sort(key=lambda i: (people[i].level, walking(i, j) if walking(i, j) is not None else math.inf,
                                        str(people[i].id)))
            for i in members:
                if places[i] <= room[j]:  # a person with a carer needs two places
                    because = _destination_unused(people[i], shelters, shelter_index,
                                                  fits[person_class[i]]) if source == ALTERNATE else None
                    assignments.append(Assignment(people[i].id, shelters[j].id, walking(i, j), source, because))
                    placed[i] = True
                    room[j] -= places[i]

    place_named(named("destination"), PLAN)
    if any(p.alternate is not None for p in people):
        place_named(named("alternate"), ALTERNATE)

    # 2. The optimisation over everyone else with a location.
    edge_person, edge_shelter, edge_walk = _edges(person_xy, person_located & ~placed, shelter_xy,
                                                  shelter_located & usable, person_class, compat, params)
    level = np.array([min(max(p.level, 0), LEVELS - 1) for p in people], dtype=np.int64)
    reach = len(np.unique(edge_shelter)) if len(edge_shelter) else 0
    delta = (reach + 1) * int(params.max_walk_m) + 1
    edge_cost = edge_walk - (LEVELS - level[edge_person]) * delta
    optimal = True
    if (places[edge_person] > 1).any():
        # Someone takes two places: no longer a flow problem (carers.py).
        chosen, optimal = carers.solve(n, room, edge_person, edge_shelter, edge_walk, edge_cost, level, places,
                                       LEVELS, params.carer_time_limit_s)
    else:
        chosen = solver.solve(n, room, edge_person, edge_shelter, edge_cost, params.solver)
    for i in np.flatnonzero(chosen >= 0).tolist():
        j = int(chosen[i])
        assignments.append(Assignment(people[i].id, shelters[j].id, walking(i, j), OPTIMISED))
        placed[i] = True

    # 3. Reasons for everyone left.
    has_edge = np.zeros(n, dtype=bool)
    has_edge[edge_person] = True
    any_compatible = compat.any(axis=1)
    unplaced = []
    for i in np.flatnonzero(~placed).tolist():
        if not any_compatible[person_class[i]]:
            reason = NO_COMPATIBLE
        elif not person_located[i]:
            reason = NO_LOCATION
        elif not has_edge[i]:
            reason = TOO_FAR
        else:
            reason = ALL_FULL
        unplaced.append((people[i].id, reason))
    proposal = Proposal(assignments, unplaced)
    proposal.summary = _summary(people, shelters, proposal, level, placed, zone, params,
                                solver.objective(edge_cost, edge_person, edge_shelter, chosen))
    proposal.summary["optimal"] = optimal
    return proposal


def _destination_unused(person: MatchPerson, shelters: Sequence[MatchShelter], shelter_index: dict,
                        fits: np.ndarray) -> str:
    """Why a person placed at their plan's alternate is not at their destination."""
    j = shelter_index.get(person.destination) if person.destination is not None else None
    if j is None:
        return NO_DESTINATION  # none, or not a welfare shelter matching may use
    if shelters[j].blocked:
        return shelters[j].blocked
    return FULL if fits[j] else UNSUITABLE


def _edges(person_xy, person_ok, shelter_xy, shelter_ok, person_class, compat, params: MatchParams):
    """Person–shelter pairs within walking reach and compatible: (person, shelter, walking m)."""
    from scipy.spatial import cKDTree

    people_idx = np.flatnonzero(person_ok)
    shelter_idx = np.flatnonzero(shelter_ok & compat.any(axis=0))
    empty = np.zeros(0, dtype=np.int64)
    if not len(people_idx) or not len(shelter_idx):
        return empty, empty, empty
    radius = params.max_walk_m / params.detour
    near = cKDTree(shelter_xy[shelter_idx]).sparse_distance_matrix(
        cKDTree(person_xy[people_idx]), radius, output_type="ndarray")
    ep, es = people_idx[near["j"]], shelter_idx[near["i"]]
    walk = np.rint(near["v"] * params.detour).astype(np.int64)
    keep = compat[person_class[ep], es] & (walk <= params.max_walk_m)
    return ep[keep], es[keep], walk[keep]


def _summary(people, shelters, proposal: Proposal, level, placed, zone: Zone, params: MatchParams,
             objective: int) -> dict:
    by_reason = {r: 0 for r in REASONS}
    for _, reason in proposal.unplaced:
        by_reason[reason] += 1
    walks = [a.walking_m for a in proposal.assignments if a.walking_m is not None]
    levels = []
    for lv in range(LEVELS):
        members = level == lv
        levels.append({"level": lv, "people": int(members.sum()), "placed": int((members & placed).sum())})
    load: dict = {}
    for a in proposal.assignments:
        load[a.shelter_id] = load.get(a.shelter_id, 0) + 1
    blocked: dict[str, int] = {}
    blocked_list = []
    for sh in shelters:
        if sh.blocked:
            blocked[sh.blocked] = blocked.get(sh.blocked, 0) + 1
            blocked_list.append({"shelter_id": str(sh.id), "reason": sh.blocked, "intensity": sh.intensity})
    by_shindo: dict[str, int] = {}
    for p in people:
        label = intensity_label(p.intensity)
        by_shindo[label] = by_shindo.get(label, 0) + 1
    placed_people = {a.person_id for a in proposal.assignments}
    alternate_because: dict[str, int] = {}
    for a in proposal.assignments:
        if a.source == ALTERNATE:
            alternate_because[a.because] = alternate_because.get(a.because, 0) + 1
    return {
        "people": len(people), "shelters": len(shelters),
        "placed": len(proposal.assignments),
        "placed_by_plan": sum(1 for a in proposal.assignments if a.source == PLAN),
        "placed_by_alternate": sum(1 for a in proposal.assignments if a.source == ALTERNATE),
        "placed_by_optimiser": sum(1 for a in proposal.assignments if a.source == OPTIMISED),
        "alternate_because": alternate_because,
        "unplaced": len(proposal.unplaced), "unplaced_by_reason": by_reason,
        "by_level": levels,
        "total_walking_m": int(sum(walks)), "max_walking_m": int(max(walks)) if walks else 0,
        "shelters_used": len(load), "shelters_blocked": blocked,
        "blocked_shelters": sorted(blocked_list, key=lambda b: b["shelter_id"]),
        "with_carer": sum(1 for p in people if p.places > 1),
        "places_taken": sum(p.places for p in people if p.id in placed_people),
        "people_by_shindo": by_shindo,
        "objective": objective, "zone_epsg": zone.epsg, **params.to_dict(),
    }


def diff(old: dict, new: dict, new_unplaced: dict | None = None) -> dict:
    """What changed between two assignments (person id → shelter id): who moved where, who
    was newly placed, who lost a place (with the reason from `new_unplaced` when given)."""
    new_unplaced = new_unplaced or {}
    moved = [{"person_id": p, "from": old[p], "to": new[p]} for p in new if p in old and old[p] != new[p]]
    added = [{"person_id": p, "to": new[p]} for p in new if p not in old]
    removed = [{"person_id": p, "from": old[p], "reason": new_unplaced.get(p, "not_considered")}
               for p in old if p not in new]
    unchanged = sum(1 for p in new if p in old and old[p] == new[p])
    key = lambda item: str(item["person_id"])  # noqa: E731
    return {"moved": sorted(moved, key=key), "added": sorted(added, key=key), "removed": sorted(removed, key=key),
            "unchanged": unchanged}
