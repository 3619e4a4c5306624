"""Benchmark: printing individual evacuation plans as PDF.

Run: ``.venv/bin/python tests/bench/bench_print.py [--plans 1000] [--runs 5] [--duplex]``

- one plan: context built from the database and rendered to PDF, median of `--runs` runs
  after one warm-up (the first print of a process starts Chromium);
- a batch of `--plans` plans (the demo city, selected with ``by=selection``): run in a fresh
  subprocess, which reports wall time, pages, pages per second and peak memory. Memory is
  sampled every 0.2 s as the proportional set size (PSS: shared pages divided among the
  processes sharing them) summed over the process and all its descendants — the Playwright
  driver and every Chromium process — so it is the whole cost of printing.

The machine's load is printed too: on a shared machine wall time grows with it.
Targets: one plan ≤ 1 s; 1,000 plans ≤ 60 s and ≤ 1 GiB on 2 cores.
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
import threading
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


def tree_pss_kib(root: int) -> int:
    """PSS of `root` and all its descendants, in KiB (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class PeakMemory:
    def __init__(self):
        self.peak_kib, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.2):
            self.peak_kib = max(self.peak_kib, tree_pss_kib(os.getpid()))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def batch_child(db: Path, plans: int, duplex: bool = False) -> dict:
    from sqlmodel import Session, select

    from server.db import make_engine
    from server.models import EvacuationPlan
    from server.printing.selection import Scope
    from server.printing.service import run_batch

    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        ids = list(s.exec(select(EvacuationPlan.id).order_by(EvacuationPlan.id).limit(plans)).all())
    cpu = time.process_time()
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = run_batch(engine, ids, "benchmark", Scope(), now=NOW, duplex=duplex)
        wall = time.perf_counter() - started
    return {"plans": result.plans, "pages": result.pages, "wall": wall, "parent_cpu": time.process_time() - cpu,
            "pages_per_second": result.pages / wall, "bytes": len(result.pdf),
            "self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_pss_mib": memory.peak_kib / 1024,
            "timings": {k: round(v, 1) for k, v in (result.timings or {}).items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duplex", action="store_true", help="the batch for double-sided printing")
    parser.add_argument("--child", nargs=2, metavar=("DB", "PLANS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(batch_child(Path(args.child[0]), int(args.child[1]), args.duplex)))
        return 0

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        started = time.perf_counter()
        make_db(db, args.plans)
        print(f"demo city loaded in {time.perf_counter() - started:.1f} s")
        times, cpu = one_plan(db, args.runs)
        print(f"one plan: median {statistics.median(times):.2f} s over {len(times)} runs "
              f"(min {min(times):.2f}, max {max(times):.2f}; CPU of this Python process {statistics.median(cpu):.2f} s; target ≤ 1 s)")
        command = [sys.executable, __file__, "--child", str(db), str(args.plans)] + (["--duplex"] if args.duplex else [])
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"batch: {r['plans']} plans, {r['pages']} pages in {r['wall']:.1f} s = {r['pages_per_second']:.1f} pages/s "
              f"(target ≤ 60 s); PDF {r['bytes'] / 1e6:.1f} MB")
        print(f"steps (s): {r['timings']}; parent CPU {r['parent_cpu']:.1f} s")
        print(f"peak memory: {r['peak_pss_mib']:.0f} MiB PSS for Python, the driver and Chromium together "
              f"(target ≤ 1024 MiB); the Python process alone peaked at {r['self_mib']:.0f} MiB RSS")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
