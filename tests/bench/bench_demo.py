"""Benchmark: build the demo city and load it into a fresh SQLite database.

Run: ``.venv/bin/python tests/bench/bench_demo.py [--people 5000 50000] [--runs 3]``

For each size, ``build_demo_city`` and ``load_demo_city`` are timed separately, each run
loading into a new, migrated SQLite file (migration not timed); the figures printed are
the medians of the runs. Target: 5,000 people built and loaded in ≤ 20 s.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.db import make_engine  # noqa: E402
from server.demo_city import build_demo_city, load_demo_city  # noqa: E402
from server.migrate import upgrade  # noqa: E402

TARGET_PEOPLE = 5000
TARGET_SECONDS = 20.0
NOW = date(2026, 11, 27)


def measure(people: int, runs: int) -> tuple[float, float]:
    """Median build and load seconds over `runs` runs."""
    builds, loads = [], []
    for run in range(runs):
        gc.collect()
        started = time.perf_counter()
        city = build_demo_city(people=people, now=NOW)
        builds.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
            upgrade(engine)
            started = time.perf_counter()
            counts = load_demo_city(engine, city)
            loads.append(time.perf_counter() - started)
            engine.dispose()
        assert counts["people"] == people
        del city
    return statistics.median(builds), statistics.median(loads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[TARGET_PEOPLE, 50_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    failed = False
    print(f"demo city, median of {args.runs} runs (SQLite)")
    for people in args.people:
        build, load = measure(people, args.runs)
        line = f"{people:>7,} people: build {build:6.2f} s, load {load:6.2f} s, total {build + load:6.2f} s"
        if people == TARGET_PEOPLE:
            ok = build + load <= TARGET_SECONDS
            failed |= not ok
            line += f"  [{'ok' if ok else 'SLOW'}: target ≤ {TARGET_SECONDS:.0f} s]"
        print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
