"""歩く順 (walking order): a route through a district from a start point.

The printed 安否確認リスト (server/printing/selection.py) and the field app's list
(pwa/js/walk-order.js) use the same algorithm with the same arithmetic, step for step, so both
give the same order for the same people and start: nearest neighbour from the start, then 2-opt
with a bounded number of passes, on an equirectangular projection around the start.

No math.cos: the C library and V8 may round a cosine differently in the last bit, which could
flip a near-tie; the Taylor polynomial uses only + and *, which IEEE 754 rounds identically
everywhere (as it does sqrt). Ties go to the lower key (登録者番号), compared by code point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

MAX_PASSES = 10
WINDOW = 80  # a move reverses at most this many stops: bounded work for big districts
EPS = 1e-12


@dataclass(frozen=True)
class Point:
    key: str
    lon: Optional[float]
    lat: Optional[float]


def cos_deg(deg: float) -> float:
    """cos(degrees) by its Taylor series; error under 1e-9 up to 50° (all of Japan)."""
    x = deg * 0.017453292519943295
    x2 = x * x
    term = 1.0
    total = 1.0
    for k in range(1, 9):
        term = -term * x2 / ((2 * k - 1) * (2 * k))
        total += term
    return total


def _located(p: Point) -> bool:
    return isinstance(p.lon, (int, float)) and isinstance(p.lat, (int, float)) \
        and math.isfinite(p.lon) and math.isfinite(p.lat)


def walk_order(points: Iterable[Point], start: tuple[float, float]) -> list[str]:
    """Keys in walking order from start (lon, lat); points without a position follow, by key."""
    ordered = sorted(points, key=lambda p: p.key)
    here = [p for p in ordered if _located(p)]
    nowhere = [p.key for p in ordered if not _located(p)]
    if not here:
        return nowhere
    lon0, lat0 = float(start[0]), float(start[1])
    c = cos_deg(lat0)
    n = len(here)
    xs = [0.0] + [(float(p.lon) - lon0) * c for p in here]
    ys = [0.0] + [float(p.lat) - lat0 for p in here]
    sqrt = math.sqrt

    def sq(a: int, b: int) -> float:
        dx = xs[a] - xs[b]
        dy = ys[a] - ys[b]
        return dx * dx + dy * dy

    def dist(a: int, b: int) -> float:
        return sqrt(sq(a, b))

    # Nearest neighbour: from where we stand, always the closest not yet visited (ties: lower key).
    path = [0] * (n + 1)
    used = [False] * (n + 1)
    at = 0
    for step in range(1, n + 1):
        best, best_d = -1, math.inf
        for j in range(1, n + 1):
            if used[j]:
                continue
            d = sq(at, j)
            if d < best_d:
                best_d, best = d, j
        used[best] = True
        path[step] = best
        at = best
    # 2-opt on the open path (the start stays first). A move can only shorten the walk if one of
    # its new edges (a–c, b–d) is shorter than the edge it replaces (a–b, c–d): squared
    # comparisons rule out the rest cheaply, exactly as walk-order.js does.
    for _ in range(MAX_PASSES):
        improved = False
        for i in range(n - 1):
            for j in range(i + 2, min(n, i + WINDOW) + 1):
                a, b, cc = path[i], path[i + 1], path[j]
                d = path[j + 1] if j < n else -1
                if not sq(a, cc) < sq(a, b) and not (d >= 0 and sq(b, d) < sq(cc, d)):
                    continue
                delta = dist(a, cc) - dist(a, b)
                if d >= 0:
                    delta += dist(b, d) - dist(cc, d)
                if delta < -EPS:
                    path[i + 1:j + 1] = path[i + 1:j + 1][::-1]
                    improved = True
        if not improved:
            break
    return [here[k - 1].key for k in path[1:]] + nowhere


def district_start(centroid: tuple[Optional[float], Optional[float]], points: Sequence[Point]) -> Optional[tuple[float, float]]:
    """Where a district's walk starts: its centroid, else the mean of its people's positions."""
    if isinstance(centroid[0], (int, float)) and isinstance(centroid[1], (int, float)):
        return float(centroid[0]), float(centroid[1])
    here = sorted((p for p in points if _located(p)), key=lambda p: p.key)
    if not here:
        return None
    lon = lat = 0.0
    for p in here:
        lon += p.lon
        lat += p.lat
    return lon / len(here), lat / len(here)
