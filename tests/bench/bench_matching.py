"""Benchmarks for shelter matching (issue 5).

    .venv/bin/python tests/bench/bench_matching.py            # all cases
    .venv/bin/python tests/bench/bench_matching.py --case lp-100000x1000   # HiGHS at full size

Each case runs in its own subprocess, so peak memory (ru_maxrss) is that case's alone.
Instances are synthetic and deterministic (server/domain/matching/synthetic.py). Times are
for `propose` (plan destinations, edges, exact min-cost flow, reasons, summary) after one
warm-up run of a small instance (imports, projection set-up); the cold first call is shown
too. The LP case solves the same instance with HiGHS and checks the objective, the placed
people per level and the total walking distance are equal. Targets: 5,000 × 35 ≤ 0.3 s;
100,000 × 1,000 ≤ 10 s and ≤ 2 GiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# name: (people, shelters, repeats[, share of plans naming an alternate 第二避難先])
CASES = {"5000x35": (5000, 35, 5), "100000x1000": (100_000, 1000, 1), "lp-20000x200": (20_000, 200, 1),
         "lp-100000x1000": (100_000, 1000, 1), "alt-5000x35": (5000, 35, 5, 0.5),
         "alt-100000x1000": (100_000, 1000, 1, 0.5)}
DEFAULT = ("5000x35", "100000x1000", "lp-20000x200", "alt-5000x35")  # the full-size LP takes a minute or two


def run_case(name: str) -> dict:
    from server.domain.matching import MatchParams, propose
    from server.domain.matching.synthetic import instance

    n_people, n_shelters, repeats, *alternates = CASES[name]
    t0 = time.perf_counter()
    warm_people, warm_shelters = instance(200, 5, seed=2)
    propose(warm_people, warm_shelters)
    warm_up = time.perf_counter() - t0
    people, shelters = instance(n_people, n_shelters, seed=1, alternates=alternates[0] if alternates else 0.0)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        flow = propose(people, shelters, MatchParams(solver="flow"))
        times.append(time.perf_counter() - t0)
    result = {"case": name, "people": n_people, "shelters": n_shelters, "seconds_min": min(times),
              "seconds_median": sorted(times)[len(times) // 2], "first_call_s": warm_up,
              "placed": flow.summary["placed"], "placed_by_alternate": flow.summary.get("placed_by_alternate", 0), "unplaced": flow.summary["unplaced"],
              "total_walking_km": flow.summary["total_walking_m"] / 1000, "objective": flow.summary["objective"]}
    if name.startswith("lp"):
        t0 = time.perf_counter()
        lp = propose(people, shelters, MatchParams(solver="lp"))
        result["lp_seconds"] = time.perf_counter() - t0
        result["lp_objective"] = lp.summary["objective"]
        result["lp_equal"] = (lp.summary["objective"] == flow.summary["objective"]
                              and lp.summary["by_level"] == flow.summary["by_level"]
                              and lp.summary["total_walking_m"] == flow.summary["total_walking_m"])
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=list(CASES))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.case)))
        return
    for name in ([args.case] if args.case else DEFAULT):
        out = subprocess.run([sys.executable, __file__, "--case", name, "--child"], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        line = (f"{r['case']:>13}: propose {r['seconds_median']:.3f} s median ({r['seconds_min']:.3f} min; "
                f"first call in a fresh process {r['first_call_s']:.2f} s, small instance), "
                f"peak RSS {r['peak_rss_mib']:.0f} MiB; placed {r['placed']}, unplaced {r['unplaced']}, "
                f"walking {r['total_walking_km']:.1f} km"
                + (f", at a plan's alternate {r['placed_by_alternate']}" if r.get("placed_by_alternate") else ""))
        if "lp_seconds" in r:
            line += f"; HiGHS LP {r['lp_seconds']:.1f} s, same optimum: {r['lp_equal']}"
        print(line)


if __name__ == "__main__":
    main()
