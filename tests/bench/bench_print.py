"""Benchmark: printing individual evacuation plans as PDF.

Run: ``.venv/bin/python tests/bench/bench_print.py [--plans 1000] [--workers N] [--runs 5]``

- one plan: context built from the database and rendered to PDF, median of `--runs` runs
  after one warm-up (the first render of a process loads fonts);
- a batch of `--plans` plans (the demo city, selected with ``by=selection``): run in a fresh
  subprocess, which reports wall time, pages, pages per second and peak RSS (``ru_maxrss``) of
  itself and of its largest render worker; "peak total" adds the workers' peak to the parent's
  (an upper bound: they do not all peak at once).

The machine's load is printed too: on a shared machine wall time grows with it, CPU time
much less. Targets: one plan ≤ 1 s; 1,000 plans ≤ 60 s and ≤ 1 GiB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
NOW = date(2026, 11, 27)


def make_db(path: Path, plans: int) -> None:
    from server.db import make_engine
    from server.demo_city import build_demo_city, load_demo_city
    from server.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    people = int(plans / 0.84) + 50  # about 85% of the demo city's people have a plan
    load_demo_city(engine, build_demo_city(people=people, now=NOW))
    engine.dispose()


def one_plan(db: Path, runs: int) -> tuple[list[float], list[float]]:
    from sqlmodel import Session, select

    from server.db import make_engine
    from server.models import EvacuationPlan
    from server.printing import render
    from server.printing.context import Reader, plan_prints

    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        plan_id = s.exec(select(EvacuationPlan.id).where(EvacuationPlan.status == "done")).first()
    times, cpu = [], []
    for _ in range(runs + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        with Session(engine) as s:
            [context] = plan_prints(s, [s.get(EvacuationPlan, plan_id)], Reader("bench"), now=NOW)
        render.plan_pdf(context)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return times[1:], cpu[1:]


def batch_child(db: Path, plans: int, workers: int | None) -> dict:
    from sqlmodel import Session, select

    from server.db import make_engine
    from server.models import EvacuationPlan
    from server.printing.selection import Scope
    from server.printing.service import run_batch

    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        ids = list(s.exec(select(EvacuationPlan.id).order_by(EvacuationPlan.id).limit(plans)).all())
    cpu = time.process_time()
    started = time.perf_counter()
    result = run_batch(engine, ids, "benchmark", Scope(), workers=workers, now=NOW)
    wall = time.perf_counter() - started
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"plans": result.plans, "pages": result.pages, "wall": wall, "parent_cpu": time.process_time() - cpu,
            "pages_per_second": result.pages / wall, "bytes": len(result.pdf), "self_mib": self_kib / 1024,
            "worker_mib": worker_kib / 1024, "workers": workers or 0,
            "timings": {k: round(v, 1) for k, v in (result.timings or {}).items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="render processes (default: one per core)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("DB", "PLANS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(batch_child(Path(args.child[0]), int(args.child[1]), args.workers)))
        return 0

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        started = time.perf_counter()
        make_db(db, args.plans)
        print(f"demo city loaded in {time.perf_counter() - started:.1f} s")
        times, cpu = one_plan(db, args.runs)
        print(f"one plan: median {statistics.median(times):.2f} s over {len(times)} runs "
              f"(min {min(times):.2f}, max {max(times):.2f}; CPU median {statistics.median(cpu):.2f} s; target ≤ 1 s)")
        command = [sys.executable, __file__, "--child", str(db), str(args.plans)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        total = r["self_mib"] + r["worker_mib"] * max(1, r["workers"] or (os.cpu_count() or 1))
        print(f"batch: {r['plans']} plans, {r['pages']} pages in {r['wall']:.1f} s = {r['pages_per_second']:.1f} pages/s "
              f"(target ≤ 60 s); PDF {r['bytes'] / 1e6:.1f} MB")
        print(f"steps (s): {r['timings']}; parent CPU {r['parent_cpu']:.1f} s")
        print(f"peak RSS: parent {r['self_mib']:.0f} MiB, largest worker {r['worker_mib']:.0f} MiB, "
              f"total at most {total:.0f} MiB (target ≤ 1024 MiB)")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
