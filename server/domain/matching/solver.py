"""Exact solvers for the transportation problem at the heart of matching.

    minimise   Σ cost[e] · x[e]
    subject to Σ_{e of person i} x[e] ≤ 1        (a person goes to one shelter at most)
               Σ_{e of shelter j} x[e] ≤ room[j]  (no shelter over its room)
               x[e] ∈ {0, 1}

Edges exist only between a person and a compatible shelter within walking reach, so the
problem is sparse (a few to a few dozen shelters per person). The constraint matrix is
totally unimodular, so the LP optimum is integral and a min-cost flow finds it exactly.

- `flow` (default): OR-Tools' min-cost flow (cost scaling, C++): 100,000 people × 1,000
  shelters in about two seconds. Costs must be integers.
- `lp`: the same problem as an LP solved by HiGHS (scipy.optimize.linprog, dual simplex).
  Exact too, but about 40× slower on large instances: the reference the tests compare with.
"""

from __future__ import annotations

import numpy as np

SOLVERS = ("flow", "lp")


def solve(n_people: int, room: np.ndarray, edge_person: np.ndarray, edge_shelter: np.ndarray,
          edge_cost: np.ndarray, method: str = "flow") -> np.ndarray:
    """The shelter index for each person (-1: not placed) in an optimal solution. Only
    edges with negative cost can be worth using; the caller makes placing people pay."""
    if method not in SOLVERS:
        raise ValueError(f"unknown solver {method!r}; use one of {', '.join(SOLVERS)}")
    chosen = np.full(n_people, -1, dtype=np.int64)
    room = np.asarray(room, dtype=np.int64)
    useful = (edge_cost < 0) & (room[edge_shelter] > 0)
    edge_person, edge_shelter, edge_cost = edge_person[useful], edge_shelter[useful], edge_cost[useful]
    if not len(edge_person):
        return chosen
    used = _flow(n_people, room, edge_person, edge_shelter, edge_cost) if method == "flow" else \
        _lp(n_people, room, edge_person, edge_shelter, edge_cost)
    chosen[edge_person[used]] = edge_shelter[used]
    return chosen


def _flow(n_people: int, room: np.ndarray, ep: np.ndarray, es: np.ndarray, cost: np.ndarray) -> np.ndarray:
    from ortools.graph.python import min_cost_flow

    # Nodes: only people and shelters that have edges, numbered densely.
    people, person_node = np.unique(ep, return_inverse=True)
    shelters, shelter_node = np.unique(es, return_inverse=True)
    n_p, n_s = len(people), len(shelters)
    source, sink = n_p + n_s, n_p + n_s + 1
    edges = len(ep)
    tails = np.concatenate([np.full(n_p, source), person_node, n_p + np.arange(n_s), [source]])
    heads = np.concatenate([np.arange(n_p), n_p + shelter_node, np.full(n_s, sink), [sink]])
    capacities = np.concatenate([np.ones(n_p + edges, dtype=np.int64), room[shelters], [n_p]])
    costs = np.concatenate([np.zeros(n_p, dtype=np.int64), cost.astype(np.int64),
                            np.zeros(n_s + 1, dtype=np.int64)])
    graph = min_cost_flow.SimpleMinCostFlow()
    arcs = graph.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int64), heads.astype(np.int64),
                                                      capacities, costs)
    supplies = np.zeros(n_p + n_s + 2, dtype=np.int64)
    supplies[source], supplies[sink] = n_p, -n_p  # the source → sink arc carries the unplaced
    graph.set_nodes_supplies(np.arange(n_p + n_s + 2, dtype=np.int64), supplies)
    status = graph.solve()
    if status != graph.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    flows = graph.flows(arcs[n_p:n_p + edges])
    return flows > 0


def _lp(n_people: int, room: np.ndarray, ep: np.ndarray, es: np.ndarray, cost: np.ndarray) -> np.ndarray:
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, vstack

    edges = len(ep)
    columns = np.arange(edges)
    people = csr_matrix((np.ones(edges), (ep, columns)), shape=(n_people, edges))
    shelters = csr_matrix((np.ones(edges), (es, columns)), shape=(len(room), edges))
    result = linprog(cost.astype(float), A_ub=vstack([people, shelters]).tocsr(),
                     b_ub=np.concatenate([np.ones(n_people), room.astype(float)]), bounds=(0, 1),
                     method="highs-ds")
    if result.status != 0:
        raise RuntimeError(f"LP failed: {result.message}")
    return result.x > 0.5


def objective(edge_cost: np.ndarray, edge_person: np.ndarray, edge_shelter: np.ndarray,
              chosen: np.ndarray) -> int:
    """Total cost of an assignment (for comparing solvers)."""
    taken = chosen[edge_person] == edge_shelter
    return int(edge_cost[taken].sum())
