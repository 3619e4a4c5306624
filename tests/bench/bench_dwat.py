"""Benchmarks for the DWAT domain (docs/dwat.md).

    .venv/bin/python tests/bench/bench_dwat.py

Targets: suggestions for 200 open requests over 300 teams ≤ 1 s; a 30-day rotation plan for
300 teams ≤ 2 s. Inputs are synthetic and deterministic (tests/dwat_cases.py): teams of 4–6
with mixed professions around the Tama area, 70% standby, some on site, resting or stood
down, a fifth with members available only from a later day. Each figure is the median of 5
runs after one warm-up run (imports, the projection's set-up).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RUNS = 5


def timed(fn) -> tuple[float, object]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(RUNS):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def bench_suggest() -> dict:
    from server.domain.dwat.request_flow import NeedKind, new_request
    from server.domain.dwat.suggest import suggest
    from tests.dwat_cases import at, day, synthetic_sites, synthetic_teams

    rng = random.Random(3)
    teams = synthetic_teams(300)
    sites = {s.id: s for s in synthetic_sites(200)}
    kinds = list(NeedKind)
    requests = []
    for i, site_id in enumerate(sites):
        needs = {k.value: rng.randint(1, 15) for k in rng.sample(kinds, rng.randint(1, 4))}
        requests.append(new_request(f"R{i:03d}", site_id, needs, rng.choice(["high", "medium", "low"]),
                                    day(rng.randint(0, 6)), by="bench", at=at(0)))
    seconds, result = timed(lambda: suggest(requests, teams, sites))
    return {"case": "suggest 200 requests x 300 teams", "seconds_median": round(seconds, 3), "target_s": 1.0,
            "requests_with_suggestions": sum(1 for r in result if r.suggestions)}


def bench_rotation(n_sites: int) -> dict:
    from server.domain.dwat.rotation import SiteNeed, plan_rotation
    from tests.dwat_cases import day, synthetic_sites, synthetic_teams

    teams = synthetic_teams(300)
    needs = [SiteNeed(s, day(i % 3), 30, teams=2 if i % 4 == 0 else 1)
             for i, s in enumerate(synthetic_sites(n_sites))]
    slots = sum(n.teams for n in needs)
    seconds, plan = timed(lambda: plan_rotation(needs, teams))
    return {"case": f"30-day rotation, {n_sites} sites ({slots} slots), 300 teams",
            "seconds_median": round(seconds, 3),
            "target_s": 2.0, "deployments": len(plan.deployments), "gaps": len(plan.gaps),
            "gap_site_days": sum(1 for days in plan.coverage.values() for d in days if d.gap)}


if __name__ == "__main__":
    # 80 sites ask more than 240 usable teams resting 7 days between stays can give (gaps);
    # 60 sites are within the pool's reach.
    for result in (bench_suggest(), bench_rotation(80), bench_rotation(60)):
        print(json.dumps(result, ensure_ascii=False))
