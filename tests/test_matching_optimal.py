"""Matching is optimal and safe: checked against an independent LP and by properties.

The reference LP does not share the solver's weights: it maximises the number of level-0
people placed, then (keeping that) level 1, 2, 3, then minimises the walking distance —
four or five HiGHS solves in sequence. The solver's single weighted min-cost flow must
reach exactly the same counts and the same total distance.
"""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from server.domain.geo import to_plane, zone_for
from server.domain.matching import (ALL_FULL, NO_COMPATIBLE, NO_LOCATION, TOO_FAR, MatchParams, MatchPerson,
                                    MatchShelter, compatible, diff, propose)
from server.domain.matching.rules import LEVELS
from server.domain.matching.synthetic import instance
from server.models.vocab import Capability as C
from server.models.vocab import TargetGroup as G

GROUPS = (G.elderly, G.disabled, G.pregnant_infant, G.medical_care)
REQS = (frozenset({C.backup_power}), frozenset({C.oxygen, C.backup_power}), frozenset({C.wheelchair_access}))


def random_instance(seed: int, n_people: int, n_shelters: int, destinations: float = 0.0):
    rng = random.Random(seed)
    people, shelters = [], []
    for j in range(n_shelters):
        shelters.append(MatchShelter(
            f"s{j}", 139.44 + rng.uniform(0, 0.04), 35.68 + rng.uniform(0, 0.03), rng.randint(0, 6),
            frozenset(g for g in GROUPS if rng.random() < 0.5) or frozenset({rng.choice(GROUPS)}),
            frozenset(c for c in (C.backup_power, C.oxygen, C.wheelchair_access) if rng.random() < 0.5),
            "damaged" if rng.random() < 0.1 else None))
    for i in range(n_people):
        located = rng.random() > 0.03
        destination = f"s{rng.randrange(n_shelters)}" if rng.random() < destinations else None
        alternate = f"s{rng.randrange(n_shelters)}" if rng.random() < destinations else None
        people.append(MatchPerson(
            f"p{i}", 139.44 + rng.uniform(-0.01, 0.05) if located else None,
            35.68 + rng.uniform(-0.01, 0.04) if located else None,
            frozenset(rng.sample(GROUPS, rng.randint(1, 2))),
            tuple(sorted(set(rng.sample(REQS, rng.randint(0, 2))), key=sorted)), rng.randrange(LEVELS), destination,
            alternate=alternate if alternate != destination else None))
    return people, shelters


def walking_matrix(people, shelters, params: MatchParams) -> np.ndarray:
    """Walking metres for every pair, computed directly (NaN when either has no location)."""
    zone = zone_for(139.46, 35.69, "132144")
    out = np.full((len(people), len(shelters)), np.nan)
    for j, s in enumerate(shelters):
        sx, sy = to_plane([s.lon], [s.lat], zone)[0]
        for i, p in enumerate(people):
            if p.lon is not None:
                px, py = to_plane([p.lon], [p.lat], zone)[0]
                out[i, j] = round(math.hypot(px - sx, py - sy) * params.detour)
    return out


def lexicographic_lp(people, shelters, params: MatchParams):
    """(placed per level, total walking m) of the lexicographic optimum, by sequential LPs."""
    walk = walking_matrix(people, shelters, params)
    pairs = [(i, j) for i, p in enumerate(people) for j, s in enumerate(shelters)
             if s.blocked is None and compatible(p, s) and not np.isnan(walk[i, j]) and walk[i, j] <= params.max_walk_m]
    if not pairs:
        return [0] * LEVELS, 0
    rows = []
    for i in range(len(people)):
        rows.append([1.0 if p == i else 0.0 for p, _ in pairs])
    for j, s in enumerate(shelters):
        rows.append([1.0 if q == j else 0.0 for _, q in pairs])
    A_ub = np.array(rows)
    b_ub = np.array([1.0] * len(people) + [float(s.room) for s in shelters])
    eq_rows, eq_rhs, counts = [], [], []
    for level in range(LEVELS):
        row = np.array([1.0 if people[p].level == level else 0.0 for p, _ in pairs])
        result = linprog(-row, A_ub=A_ub, b_ub=b_ub, A_eq=np.array(eq_rows) if eq_rows else None,
                         b_eq=np.array(eq_rhs) if eq_rhs else None, bounds=(0, 1), method="highs")
        assert result.status == 0
        best = round(-result.fun)
        counts.append(best)
        eq_rows.append(row)
        eq_rhs.append(best)
    cost = np.array([walk[p, q] for p, q in pairs])
    result = linprog(cost, A_ub=A_ub, b_ub=b_ub, A_eq=np.array(eq_rows), b_eq=np.array(eq_rhs), bounds=(0, 1),
                     method="highs")
    assert result.status == 0
    return counts, round(result.fun)


def placed_per_level(people, proposal) -> list[int]:
    level = {p.id: p.level for p in people}
    counts = [0] * LEVELS
    for a in proposal.assignments:
        counts[level[a.person_id]] += 1
    return counts


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("solver", ["flow", "lp"])
def test_equal_to_the_lexicographic_lp_optimum(seed, solver):
    people, shelters = random_instance(seed, n_people=40 + seed * 3, n_shelters=6)
    params = MatchParams(max_walk_m=2500, solver=solver)
    proposal = propose(people, shelters, params)
    counts, distance = lexicographic_lp(people, shelters, params)
    assert placed_per_level(people, proposal) == counts
    assert proposal.summary["total_walking_m"] == distance


def test_flow_and_lp_solvers_agree_on_a_larger_instance():
    people, shelters = instance(3000, 30, seed=7)
    flow = propose(people, shelters, MatchParams(solver="flow"))
    lp = propose(people, shelters, MatchParams(solver="lp"))
    assert flow.summary["objective"] == lp.summary["objective"]
    assert flow.summary["total_walking_m"] == lp.summary["total_walking_m"]
    assert flow.summary["by_level"] == lp.summary["by_level"]


def check_properties(people, shelters, proposal, params):
    by_id = {s.id: s for s in shelters}
    person_by_id = {p.id: p for p in people}
    load: dict = {}
    for a in proposal.assignments:
        load[a.shelter_id] = load.get(a.shelter_id, 0) + 1
        shelter, person = by_id[a.shelter_id], person_by_id[a.person_id]
        assert shelter.blocked is None, "a blocked shelter was used"
        assert compatible(person, shelter), "an incompatible person was placed"
        if a.source == "optimised":
            assert a.walking_m is not None and a.walking_m <= params.max_walk_m
        elif a.source == "plan":
            assert a.shelter_id == person.destination and a.because is None
        else:
            assert a.source == "plan_alternate" and a.shelter_id == person.alternate
            assert a.because is not None and a.shelter_id != person.destination
    for sid, count in load.items():
        assert count <= by_id[sid].room, "capacity exceeded"
    placed = [a.person_id for a in proposal.assignments]
    assert len(placed) == len(set(placed)), "someone was placed twice"
    assert len(placed) + len(proposal.unplaced) == len(people)
    # A plan destination is kept whenever it is usable, compatible and had room for everyone naming it.
    naming: dict = {}
    for p in people:
        if p.destination in by_id and by_id[p.destination].blocked is None and compatible(p, by_id[p.destination]):
            naming.setdefault(p.destination, []).append(p)
    assigned = proposal.by_person()
    for sid, members in naming.items():
        if len(members) <= by_id[sid].room:
            assert all(assigned.get(p.id) == sid for p in members), "a usable plan destination was not kept"
        else:
            assert sum(1 for p in members if assigned.get(p.id) == sid) == by_id[sid].room


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_people=st.integers(0, 60), n_shelters=st.integers(1, 8),
       destinations=st.sampled_from([0.0, 0.3, 0.8]), max_walk=st.sampled_from([500, 1500, 3000]))
def test_properties_hold_on_random_instances(seed, n_people, n_shelters, destinations, max_walk):
    people, shelters = random_instance(seed, n_people, n_shelters, destinations)
    params = MatchParams(max_walk_m=max_walk)
    proposal = propose(people, shelters, params)
    check_properties(people, shelters, proposal, params)


def test_properties_hold_on_a_synthetic_city():
    people, shelters = instance(5000, 35, seed=3)
    params = MatchParams()
    check_properties(people, shelters, propose(people, shelters, params), params)


def test_properties_hold_on_a_synthetic_city_whose_plans_name_alternates():
    people, shelters = instance(5000, 35, seed=3, alternates=0.5)
    assert sum(p.alternate is not None for p in people) > 500
    params = MatchParams()
    proposal = propose(people, shelters, params)
    check_properties(people, shelters, proposal, params)
    assert proposal.summary["placed_by_alternate"] > 0
    # the alternates are drawn apart: the instance is otherwise the one without them
    plain, _ = instance(5000, 35, seed=3)
    assert [dataclasses.replace(p, alternate=None) for p in people] == plain


def test_the_most_urgent_are_placed_first_when_places_are_short():
    home = (139.45, 35.69)
    shelter = MatchShelter("s", 139.451, 35.69, 2, frozenset({G.elderly}), frozenset({C.backup_power}))
    people = [MatchPerson("light-near", 139.4505, 35.69, frozenset({G.elderly}), (), 3),
              MatchPerson("ventilator-far", *home, frozenset({G.elderly}), (frozenset({C.backup_power}),), 0),
              MatchPerson("bedridden-far", 139.4499, 35.69, frozenset({G.elderly}), (), 1)]
    proposal = propose(people, [shelter])
    assert set(proposal.by_person()) == {"ventilator-far", "bedridden-far"}
    assert proposal.unplaced == [("light-near", ALL_FULL)]


def test_plan_destination_wins_over_a_nearer_shelter_and_over_the_walking_limit():
    near = MatchShelter("near", 139.4501, 35.69, 5, frozenset({G.elderly}))
    far = MatchShelter("far", 139.50, 35.69, 5, frozenset({G.elderly}))  # about 4.5 km away
    person = MatchPerson("p", 139.45, 35.69, frozenset({G.elderly}), destination="far")
    proposal = propose([person], [near, far])
    assert proposal.assignments[0].shelter_id == "far" and proposal.assignments[0].source == "plan"


def test_plan_destination_not_kept_when_blocked_or_incompatible():
    blocked = MatchShelter("blocked", 139.4501, 35.69, 5, frozenset({G.elderly}), blocked="damaged")
    no_power = MatchShelter("no-power", 139.4502, 35.69, 5, frozenset({G.elderly}))
    good = MatchShelter("good", 139.46, 35.69, 5, frozenset({G.elderly}), frozenset({C.backup_power}))
    needs_power = (frozenset({C.backup_power}),)
    people = [MatchPerson("a", 139.45, 35.69, frozenset({G.elderly}), needs_power, destination="blocked"),
              MatchPerson("b", 139.45, 35.69, frozenset({G.elderly}), needs_power, destination="no-power")]
    proposal = propose(people, [blocked, no_power, good])
    assert proposal.by_person() == {"a": "good", "b": "good"}
    assert {a.source for a in proposal.assignments} == {"optimised"}


def test_reasons_for_everyone_not_placed():
    shelters = [MatchShelter("elderly", 139.45, 35.69, 1, frozenset({G.elderly})),
                MatchShelter("infants-far", 139.60, 35.69, 5, frozenset({G.pregnant_infant}))]
    people = [MatchPerson("placed", 139.4501, 35.69, frozenset({G.elderly}), (), 0),
              MatchPerson("full", 139.4502, 35.69, frozenset({G.elderly}), (), 3),
              MatchPerson("far", 139.45, 35.69, frozenset({G.pregnant_infant})),
              MatchPerson("nowhere", 139.45, 35.69, frozenset({G.medical_care})),
              MatchPerson("no-home", None, None, frozenset({G.elderly}))]
    proposal = propose(people, shelters)
    assert dict(proposal.unplaced) == {"full": ALL_FULL, "far": TOO_FAR, "nowhere": NO_COMPATIBLE,
                                       "no-home": NO_LOCATION}
    assert proposal.summary["unplaced_by_reason"] == {NO_LOCATION: 1, NO_COMPATIBLE: 1, TOO_FAR: 1, ALL_FULL: 1}


def test_walking_distance_uses_the_plane_zone_and_the_detour_factor():
    # 0.01° of latitude is about 1,109 m; × 1.3 ≈ 1,442 m.
    shelter = MatchShelter("s", 139.45, 35.70, 5, frozenset({G.elderly}))
    person = MatchPerson("p", 139.45, 35.69, frozenset({G.elderly}))
    walk = propose([person], [shelter]).assignments[0].walking_m
    assert 1435 <= walk <= 1450


def test_same_inputs_same_proposal():
    people, shelters = instance(800, 12, seed=11)
    first, second = propose(people, shelters), propose(people, shelters)
    assert first.assignments == second.assignments and first.unplaced == second.unplaced


def test_diff_lists_who_moved_where():
    old = {"a": "s1", "b": "s1", "c": "s2"}
    new = {"a": "s1", "b": "s2", "d": "s3"}
    changes = diff(old, new, {"c": ALL_FULL})
    assert changes["moved"] == [{"person_id": "b", "from": "s1", "to": "s2"}]
    assert changes["added"] == [{"person_id": "d", "to": "s3"}]
    assert changes["removed"] == [{"person_id": "c", "from": "s2", "reason": ALL_FULL}]
    assert changes["unchanged"] == 1


def test_unknown_solver_is_refused():
    people, shelters = random_instance(1, 5, 2)
    with pytest.raises(ValueError, match="unknown solver"):
        propose(people, shelters, MatchParams(solver="greedy"))


def test_the_plans_alternate_is_used_when_the_destination_is_not_and_says_why():
    """第二避難先: tried before the optimiser for everyone not placed at their destination."""
    elderly = frozenset({G.elderly})
    near = MatchShelter("near", 139.4501, 35.69, 9, elderly, frozenset({C.backup_power}))  # nearest for all
    damaged = MatchShelter("damaged", 139.46, 35.69, 9, elderly, blocked="damaged")
    closed = MatchShelter("closed", 139.46, 35.691, 9, elderly, blocked="closed")
    full = MatchShelter("full", 139.46, 35.692, 1, elderly)
    no_power = MatchShelter("no-power", 139.46, 35.693, 9, elderly)
    alt = MatchShelter("alt", 139.47, 35.69, 9, elderly, frozenset({C.backup_power}))
    needs_power = (frozenset({C.backup_power}),)
    people = [MatchPerson("keeps", 139.45, 35.69, elderly, (), 0, destination="full", alternate="alt"),
              MatchPerson("from-full", 139.45, 35.69, elderly, (), 3, destination="full", alternate="alt"),
              MatchPerson("from-damaged", 139.45, 35.69, elderly, destination="damaged", alternate="alt"),
              MatchPerson("from-closed", 139.45, 35.69, elderly, destination="closed", alternate="alt"),
              MatchPerson("unsuitable", 139.45, 35.69, elderly, needs_power, destination="no-power", alternate="alt"),
              MatchPerson("no-destination", 139.45, 35.69, elderly, alternate="alt"),
              MatchPerson("no-alternate", 139.45, 35.69, elderly, destination="damaged")]
    proposal = propose(people, [near, damaged, closed, full, no_power, alt])
    got = {a.person_id: (a.shelter_id, a.source, a.because) for a in proposal.assignments}
    assert got == {"keeps": ("full", "plan", None),
                   "from-full": ("alt", "plan_alternate", "full"),
                   "from-damaged": ("alt", "plan_alternate", "damaged"),
                   "from-closed": ("alt", "plan_alternate", "closed"),
                   "unsuitable": ("alt", "plan_alternate", "unsuitable"),
                   "no-destination": ("alt", "plan_alternate", "no_destination"),
                   "no-alternate": ("near", "optimised", None)}
    assert proposal.summary["placed_by_alternate"] == 5 and proposal.summary["placed_by_plan"] == 1
    assert proposal.summary["alternate_because"] == {"full": 1, "damaged": 1, "closed": 1, "unsuitable": 1,
                                                     "no_destination": 1}


def test_an_unusable_alternate_leaves_the_person_to_the_optimiser():
    elderly = frozenset({G.elderly})
    near = MatchShelter("near", 139.4501, 35.69, 1, elderly)
    damaged = MatchShelter("damaged", 139.46, 35.69, 9, elderly, blocked="damaged")
    alt_full = MatchShelter("alt-full", 139.47, 35.69, 0, elderly)
    alt_closed = MatchShelter("alt-closed", 139.47, 35.691, 9, elderly, blocked="closed")
    infants = MatchShelter("infants", 139.47, 35.692, 9, frozenset({G.pregnant_infant}))
    people = [MatchPerson("a", 139.45, 35.69, elderly, (), 0, destination="damaged", alternate="alt-full"),
              MatchPerson("b", 139.45, 35.69, elderly, (), 1, destination="damaged", alternate="alt-closed"),
              MatchPerson("c", 139.45, 35.69, elderly, (), 2, destination="damaged", alternate="infants")]
    proposal = propose(people, [near, damaged, alt_full, alt_closed, infants])
    assert [(a.person_id, a.shelter_id, a.source) for a in proposal.assignments] == [("a", "near", "optimised")]
    assert dict(proposal.unplaced) == {"b": ALL_FULL, "c": ALL_FULL}


def test_at_a_crowded_alternate_destinations_come_first_then_the_most_urgent():
    elderly = frozenset({G.elderly})
    damaged = MatchShelter("damaged", 139.46, 35.69, 9, elderly, blocked="damaged")
    alt = MatchShelter("alt", 139.47, 35.69, 2, elderly)
    people = [MatchPerson("alt-light", 139.45, 35.69, elderly, (), 3, destination="damaged", alternate="alt"),
              MatchPerson("alt-urgent", 139.45, 35.69, elderly, (), 0, destination="damaged", alternate="alt"),
              MatchPerson("alt-urgent-2", 139.45, 35.69, elderly, (), 0, destination="damaged", alternate="alt"),
              MatchPerson("own", 139.45, 35.69, elderly, (), 3, destination="alt")]
    proposal = propose(people, [damaged, alt], MatchParams(max_walk_m=100))
    assert {a.person_id: a.source for a in proposal.assignments} == {"own": "plan", "alt-urgent": "plan_alternate"}
    # ties (same level, same distance) by id, whatever the input order
    again = propose(list(reversed(people)), [damaged, alt], MatchParams(max_walk_m=100))
    assert sorted(again.assignments, key=str) == sorted(proposal.assignments, key=str)
