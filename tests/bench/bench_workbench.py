"""Benchmarks for the workbench domain (docs/workbench.md).

    /work/main/.venv/bin/python tests/bench/bench_workbench.py

Targets (the issue): the coverage page for a whole city of 50,000 people ≤ 1 s; a 50,000-row
plan CSV import ≤ 60 s and ≤ 1 GiB. Inputs are synthetic and deterministic
(tests/workbench_cases.synthetic_city): 12 福祉圏域, 480 町丁目 and 民生委員, 80% with plans,
supporters from a pool of n/3. Times are the median of 5 runs after one warm-up. The CSV
parse runs in a fresh subprocess per run so that ru_maxrss is that run's peak (it includes
the interpreter and imports; the CSV file is generated first, outside the measurement).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RUNS = 5
N = 50_000


def timed(fn) -> tuple[float, float, object]:
    """Median wall time and median CPU time of this process: on a shared, loaded machine the
    wall time mostly measures waiting for a core, the CPU time what the code costs."""
    fn()  # warm-up
    times, cpu, result = [], [], None
    for _ in range(RUNS):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), statistics.median(cpu), result


def bench_coverage() -> dict:
    from server.domain.workbench.coverage import coverage
    from tests.workbench_cases import TODAY, synthetic_city

    people, plans, links, entries, shelters = synthetic_city(N)
    seconds, cpu, cov = timed(lambda: coverage(people, plans, links, entries, shelters, TODAY))
    t0 = time.perf_counter()
    listed = sum(len(f.ids) for area in cov.chome.values() for f in area.figures.values())
    open_all = time.perf_counter() - t0
    return {"case": f"coverage, {N} people, city + 12 welfare areas + 480 町丁目 + 民生委員",
            "seconds_median": round(seconds, 3), "cpu_seconds_median": round(cpu, 3), "target_s": 1.0,
            "load_average_1min": round(os.getloadavg()[0], 1), "areas": len(cov.chome),
            "seconds_to_open_every_chome_list_once": round(open_all, 3), "ids_listed": listed}


def write_csv(path: Path) -> None:
    from server.domain.workbench.common import Care, Plan, PlanSupporter
    from server.importers.plans_csv import iter_plans_csv_bytes
    from tests.workbench_cases import SHELTERS
    from server.importers.plans_csv import ShelterIndex
    from server.models.vocab import PlanStatus
    from datetime import date

    index = ShelterIndex((s.id, s.common_id, s.name) for s in SHELTERS.values())
    shelter_ids = list(SHELTERS)

    def rows():
        for i in range(N):
            sup = tuple(PlanSupporter(f"支援者{i}-{k}", "近隣住民", "府中市宮西町1-2", f"090-{i % 10000:04d}-{k:04d}")
                        for k in range(i % 4))
            yield (f"{i:06d}", f"氏名{i}", Plan(None, f"P{i}", PlanStatus.drafting, sup, shelter_ids[i % 6], None,
                                                  "北側の道を通る", "高齢者等避難で避難開始",
                                                  Care(walking_ability="杖歩行", items_to_carry="常用薬"),
                                                  True, date(2025, 5, 1), "福祉課", date(2027, 5, 1)))

    with path.open("wb") as f:
        for chunk in iter_plans_csv_bytes(rows(), index):
            f.write(chunk)


_CHILD = """
import json, resource, sys, time
from datetime import date
sys.path.insert(0, {root!r})
from server.importers.plans_csv import ShelterIndex, iter_plans_csv
from server.importers.report import ImportReport
from tests.workbench_cases import SHELTERS
data = open({path!r}, "rb").read()
people = {{f"{{i:06d}}": f"P{{i}}" for i in range({n})}}
index = ShelterIndex((s.id, s.common_id, s.name) for s in SHELTERS.values())
t0, c0 = time.perf_counter(), time.process_time()
report = ImportReport("plans", "plans_csv")
plans = list(iter_plans_csv(data, people, index, date(2026, 12, 1), report))
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({{"seconds": seconds, "cpu": cpu, "valid": report.valid, "errors": len(report.errors),
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def bench_csv() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plans.csv"
        write_csv(path)
        size = path.stat().st_size
        code = _CHILD.format(root=str(ROOT), path=str(path), n=N)
        runs = []
        for _ in range(RUNS + 1):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout))
        runs = runs[1:]  # the first run warms the disk cache
    return {"case": f"plan CSV parse, {N} rows ({size / 1e6:.1f} MB, UTF-8 BOM), all plans kept in memory",
            "seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
            "cpu_seconds_median": round(statistics.median(r["cpu"] for r in runs), 2), "target_s": 60,
            "peak_rss_mib_median": round(statistics.median(r["maxrss_kib"] for r in runs) / 1024, 1),
            "target_mib": 1024, "valid": runs[0]["valid"], "errors": runs[0]["errors"]}


if __name__ == "__main__":
    for result in (bench_coverage(), bench_csv()):
        print(json.dumps(result, ensure_ascii=False))
