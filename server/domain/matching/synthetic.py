"""Deterministic synthetic matching instances for tests and benchmarks (no personal data).

People cluster around town centres; welfare shelters are placed near the same centres with
realistic mixes of target groups, capabilities and room (5–80 places). The region grows with
the number of shelters so density stays like a Tokyo suburb (about one welfare shelter per
1.3 km²); coordinates are JGD2011 lon/lat around the Tama area.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ...models.vocab import Capability as C
from ...models.vocab import TargetGroup as G
from .propose import MatchPerson, MatchShelter
from .rules import REQUIRED_CAPABILITIES, LEVELS

GROUPS = (G.elderly, G.disabled, G.pregnant_infant, G.medical_care)
CAPS = (C.backup_power, C.oxygen, C.wheelchair_access, C.care_beds, C.dialysis_link)
NEEDS = tuple(REQUIRED_CAPABILITIES)
CENTRE = (139.45, 35.69)


def instance(n_people: int, n_shelters: int, seed: int = 1, km2_per_shelter: float = 1.3,
             destinations: float = 0.3, blocked: float = 0.05, alternates: float = 0.0
             ) -> tuple[list[MatchPerson], list[MatchShelter]]:
    """`n_people` people and `n_shelters` shelters; a share of people have a plan destination
    (a shelter near home) and a share of shelters are blocked (damaged). `alternates`: the share
    of plans that also name an alternate (第二避難先, another shelter near home); drawn from a
    separate stream, so the instance is otherwise the same as without."""
    rng = np.random.default_rng(seed)
    side_m = math.sqrt(n_shelters * km2_per_shelter) * 1000
    towns = max(3, n_shelters // 8)
    centres = rng.uniform(0, side_m, size=(towns, 2))
    shelter_xy = centres[rng.integers(0, towns, n_shelters)] + rng.normal(0, 600, (n_shelters, 2))
    person_xy = centres[rng.integers(0, towns, n_people)] + rng.normal(0, 900, (n_people, 2))
    lon_scale = 111_320 * math.cos(math.radians(CENTRE[1]))
    to_lonlat = lambda xy: (CENTRE[0] + (xy[:, 0] - side_m / 2) / lon_scale,  # noqa: E731
                            CENTRE[1] + (xy[:, 1] - side_m / 2) / 110_950)
    s_lon, s_lat = to_lonlat(shelter_xy)
    p_lon, p_lat = to_lonlat(person_xy)

    shelters = []
    for j in range(n_shelters):
        groups = frozenset(g for g in GROUPS if rng.random() < 0.45) or frozenset({GROUPS[j % 4]})
        caps = frozenset(c for c in CAPS if rng.random() < (0.15 if c == C.dialysis_link else 0.5))
        shelters.append(MatchShelter(f"s{j:05d}", round(float(s_lon[j]), 6), round(float(s_lat[j]), 6),
                                     int(rng.integers(5, 81)), groups, caps,
                                     "damaged" if rng.random() < blocked else None))
    group_pick = rng.choice(4, size=n_people, p=[0.55, 0.2, 0.1, 0.15])
    need_count = rng.choice(3, size=n_people, p=[0.55, 0.35, 0.10])
    has_plan = rng.random(n_people) < destinations
    from scipy.spatial import cKDTree

    k = min(5, n_shelters)
    _, nearest = cKDTree(shelter_xy).query(person_xy, k=k)
    nearest = nearest.reshape(n_people, k)[np.arange(n_people), rng.integers(0, k, n_people)]
    people = []
    for i in range(n_people):
        groups = frozenset({GROUPS[group_pick[i]]} | ({G.elderly} if rng.random() < 0.3 else set()))
        needs = [NEEDS[k] for k in rng.choice(len(NEEDS), size=need_count[i], replace=False)]
        requires = tuple(sorted({REQUIRED_CAPABILITIES[n] for n in needs}, key=lambda s: sorted(s)))
        level = int(rng.integers(0, LEVELS))
        destination = f"s{int(nearest[i]):05d}" if has_plan[i] else None
        people.append(MatchPerson(f"p{i:06d}", round(float(p_lon[i]), 6), round(float(p_lat[i]), 6),
                                  groups, requires, level, destination))
    if alternates > 0 and n_shelters > 1:
        alt_rng = np.random.default_rng(seed + 7919)
        _, near = cKDTree(shelter_xy).query(person_xy, k=min(5, n_shelters))
        for i in np.flatnonzero(has_plan & (alt_rng.random(n_people) < alternates)).tolist():
            choices = [int(j) for j in near[i] if f"s{int(j):05d}" != people[i].destination]
            people[i] = dataclasses.replace(people[i], alternate=f"s{choices[int(alt_rng.integers(0, len(choices)))]:05d}")
    return people, shelters
