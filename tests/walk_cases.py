"""Hand-built districts for the walking order (歩く順), shared by the Python and browser tests."""

from __future__ import annotations

import math

# An L-shaped street: four houses going east from the start, then three going north from the
# corner. Register numbers are shuffled so that neither number nor kana order is the walk.
START = (135.0, 35.0)
L_STREET = [
    ("0007", 135.0005, 35.0), ("0003", 135.0010, 35.0), ("0005", 135.0015, 35.0), ("0001", 135.0020, 35.0),
    ("0006", 135.0020, 35.0005), ("0002", 135.0020, 35.0010), ("0004", 135.0020, 35.0015),
]
L_STREET_WALK = ["0007", "0003", "0005", "0001", "0006", "0002", "0004"]


def scattered(n: int, seed: int = 1) -> list[tuple[str, float, float]]:
    """n houses spread over a 町丁目-sized square (a deterministic generator, no random module state)."""
    out, s = [], seed
    for i in range(n):
        s = (s * 16807) % 2147483647
        x = s / 2147483647
        s = (s * 16807) % 2147483647
        y = s / 2147483647
        out.append((f"R{i:05d}", 135.0 + x * 0.006, 35.0 + y * 0.005))
    return out


def walk_length(order, houses, start) -> float:
    """Metres-ish length of a walk (equirectangular, good enough to compare two walks)."""
    pos = {k: (lon, lat) for k, lon, lat in houses}
    c = math.cos(math.radians(start[1]))
    total, (x0, y0) = 0.0, start
    for key in order:
        lon, lat = pos[key]
        total += math.hypot((lon - x0) * c, lat - y0) * 111_000
        x0, y0 = lon, lat
    return total
