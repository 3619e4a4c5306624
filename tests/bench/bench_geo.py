"""Benchmark: point-in-polygon placement (`server.domain.geo.locate_points`).

Run: ``.venv/bin/python tests/bench/bench_geo.py [--points 100000] [--runs 5]``

Places random points on a 10 × 10 grid of unit cells (what `tsunagu geo assign` does with
people and 町丁目) and prints the median time of the runs and the share placed in the right
cell. The test suite checks that the placement is right (tests/test_geo_zones.py); how fast it
is belongs here, where a busy machine cannot fail a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import numpy as np
    from shapely.geometry import box

    from server.domain.geo import locate_points

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    rng = np.random.default_rng(1)
    cells = [box(x, y, x + 1, y + 1) for x in range(10) for y in range(10)]
    lon, lat = rng.uniform(0, 10, args.points), rng.uniform(0, 10, args.points)
    expected = np.floor(lon).astype(int) * 10 + np.floor(lat).astype(int)
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        found = locate_points(lon, lat, cells)
        times.append(time.perf_counter() - started)
    print(f"locate_points: {args.points:,} points in 100 polygons, median {statistics.median(times):.3f} s "
          f"of {args.runs} (min {min(times):.3f} s); {(found == expected).mean() * 100:.2f} % in the expected cell")
    return 0


if __name__ == "__main__":
    sys.exit(main())
