"""Matching when some people take two places (a family carer comes along, 介助者同行).

Then the problem is no longer a transportation problem: one person may push out two, the
constraint matrix is not totally unimodular and one weighted min-cost flow is not exact. So:

1. **Exact, within a time budget**: the lexicographic problem solved directly as integer
   programs (HiGHS branch and bound, zero gap): the most level-0 people, then (keeping that)
   level 1, 2, 3, then the least total walking distance. On 5,000 people × 35 shelters with
   10 % carers this takes 20–40 s on a busy 2-core machine, too long for a re-run inside a
   shelter report's transaction, hence the budget (`MatchParams.carer_time_limit_s`, 10 s).
2. **Otherwise a capacity-safe approximation**: the flow with everyone counting one place,
   then per shelter the most urgent (then nearest) are kept while their places fit; people
   who did not fit try again over the room left, until nobody more can be placed. Never over
   capacity; not proven optimal — the summary says so (`optimal: false`).
"""

from __future__ import annotations

import time

import numpy as np

from . import solver


def solve(n_people: int, room: np.ndarray, edge_person: np.ndarray, edge_shelter: np.ndarray,
          edge_walk: np.ndarray, edge_cost: np.ndarray, level: np.ndarray, places: np.ndarray, levels: int,
          time_limit_s: float) -> tuple[np.ndarray, bool]:
    """(shelter index per person or -1, whether the answer is proven optimal)."""
    room = np.asarray(room, dtype=np.int64)
    places = np.asarray(places, dtype=np.int64)
    fits = room[edge_shelter] >= places[edge_person]
    ep, es, walk, cost = edge_person[fits], edge_shelter[fits], edge_walk[fits], edge_cost[fits]
    if time_limit_s > 0:
        exact = _integer_programs(n_people, room, ep, es, walk, level, places, levels,
                                  time.monotonic() + time_limit_s)
        if exact is not None:
            return exact, True
    return _flow_and_repair(n_people, room, ep, es, walk, cost, level, places), False


def _integer_programs(n_people, room, ep, es, walk, level, places, levels, deadline):
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, vstack

    chosen = np.full(n_people, -1, dtype=np.int64)
    if not len(ep):
        return chosen
    edges = len(ep)
    columns = np.arange(edges)
    matrix = vstack([csr_matrix((np.ones(edges), (ep, columns)), shape=(n_people, edges)),
                     csr_matrix((places[ep].astype(float), (es, columns)), shape=(len(room), edges))]).tocsr()
    constraints = [LinearConstraint(matrix, -np.inf, np.concatenate([np.ones(n_people), room.astype(float)]))]
    edge_level = np.asarray(level)[ep]

    def run(cost: np.ndarray):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        result = milp(cost, constraints=constraints, integrality=np.ones(edges), bounds=Bounds(0, 1),
                      options={"mip_rel_gap": 0.0, "time_limit": left})
        return result if result.status == 0 else None  # 1: out of time (or no proof): not exact

    for lv in range(levels):
        mine = (edge_level == lv).astype(float)
        if not mine.any():
            continue
        result = run(-mine)
        if result is None:
            return None
        constraints.append(LinearConstraint(csr_matrix(mine[None, :]), round(-result.fun) - 0.5, np.inf))
    result = run(walk.astype(float))
    if result is None:
        return None
    used = result.x > 0.5
    chosen[ep[used]] = es[used]
    return chosen


def _flow_and_repair(n_people, room, ep, es, walk, cost, level, places) -> np.ndarray:
    chosen = np.full(n_people, -1, dtype=np.int64)
    left = room.copy()
    pending = np.ones(n_people, dtype=bool)
    walk_at = {(int(i), int(j)): int(w) for i, j, w in zip(ep, es, walk)}
    while True:
        offer = pending[ep] & (left[es] >= places[ep])
        if not offer.any():
            return chosen
        pick = solver.solve(n_people, left, ep[offer], es[offer], cost[offer], "flow")
        by_shelter: dict[int, list[int]] = {}
        for i in np.flatnonzero(pick >= 0).tolist():
            by_shelter.setdefault(int(pick[i]), []).append(i)
        placed_now = 0
        for j, members in by_shelter.items():
            members.sort(key=lambda i: (level[i], walk_at[(i, j)], i))
            for i in members:
                if places[i] <= left[j]:
                    chosen[i], left[j], pending[i] = j, left[j] - places[i], False
                    placed_now += 1
        if not placed_now:
            return chosen
