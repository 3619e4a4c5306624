"""Benchmark: a whole drill, self-contained (demo city, server on a free port, virtual tablets).

Run: ``.venv/bin/python tests/bench/bench_drill.py [--people 5000] [--scenario drills/scenarios/tama-east-m73.toml]``

Prints the time to build the city and start the server, the time to script the response
(pure), the time of the run over HTTP (reading the city, sending every record, reading the
figures back, matching) with records per second, and the shaking over 50,000 points.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--scenario", default=str(ROOT / "drills" / "scenarios" / "tama-east-m73.toml"))
    args = parser.parse_args()

    import numpy as np

    from server.drills.cli import local_server
    from server.drills.runner import Api, report_text, run_drill
    from server.drills.scenario import load_scenario
    from server.drills.shaking import intensity_at
    from server.drills.simulate import script

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    scenario = load_scenario(Path(args.scenario))
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(139.35, 139.55, 50_000), rng.uniform(35.62, 35.76, 50_000)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        intensity_at(scenario, lons, lats)
        times.append(time.perf_counter() - started)
    print(f"shaking at 50,000 points: median {statistics.median(times) * 1000:.1f} ms of 5")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with local_server(Path(tmp) / "drill.sqlite3", args.people) as (url, username, password):
            print(f"demo city of {args.people:,} people and server ready in {time.perf_counter() - started:.1f} s")
            api = Api(url)
            api.sign_in(username, password)
            people, plans = api.read_all("/api/people"), api.read_all("/api/plans")
            shelters, districts = api.read_all("/api/shelters"), api.read_all("/api/districts")
            started = time.perf_counter()
            drill = script(scenario, people=people, plans=plans, shelters=shelters, districts=districts)
            print(f"script (pure): {len(drill.actions):,} records in {time.perf_counter() - started:.2f} s")
            started = time.perf_counter()
            result = run_drill(api, scenario)
            wall = time.perf_counter() - started
            print(f"run over HTTP: {wall:.1f} s in all = {result.sent / wall:.0f} records/s "
                  f"(reading the city, scripting, sending {result.sent:,} records from {result.tablets} tablets, "
                  f"reading the figures back, matching)")
            started = time.perf_counter()
            again = run_drill(api, scenario, quake_at=result.quake_at)
            print(f"rerun (all duplicates: {again.statuses.get('duplicate', 0):,}): {time.perf_counter() - started:.1f} s")
            print(report_text(result))
            api.close()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
