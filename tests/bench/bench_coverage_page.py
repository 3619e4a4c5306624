"""Benchmark: the coverage page (支援のつながり) for the whole city, through the whole app.

    /work/main/.venv/bin/python tests/bench/bench_coverage_page.py [--people 50000] [--runs 7]

Target (issue 12): on 50,000 people the coverage page for the whole city ≤ 1 s. The demo city
is built into a SQLite file; requests go in-process through the app (middleware, bearer
sign-in, records layer, audit, template). "cold" clears the figures' cache before every
request (the first request after any write: the whole read and count); "cached" is a
repeated view with nothing written between. Also the steps of a cold request (read, count)
and the list behind a number, the CSV and the HQ figures. The page counts from columns
(`workbench_coverage_count`); the domain path (`load` + `coverage`) is timed for comparison. Prints medians (wall and CPU time
of this process: the machine is shared, so wall time includes waiting for a core).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_city import big_city  # noqa: E402

from sqlmodel import Session, select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from server.api import workbench_coverage_data as data  # noqa: E402
from server.api.workbench_coverage_count import count, gc_paused  # noqa: E402
from server.app import create_app  # noqa: E402
from server.auth.tokens import DEVICE, issue_token  # noqa: E402
from server.domain.japan_time import today_jst  # noqa: E402
from server.domain.workbench.coverage import coverage  # noqa: E402
from server.models import District  # noqa: E402
from server.models.auth import User  # noqa: E402
from server.records.access import UNRESTRICTED  # noqa: E402


def median_of(fn, runs: int, before=None) -> tuple[float, float]:
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        if before:
            before()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    engine = big_city(args.people, "tsunagu-bench-cov-")
    with Session(engine, expire_on_commit=False) as s:
        staff = User(username="bench-fukushi", role="welfare_staff", password_hash="x")
        s.add(staff)
        s.flush()
        secret, _ = issue_token(s, staff, DEVICE, timedelta(days=1))
        s.commit()
        chome = s.exec(select(District.id).where(District.kind == "chome")).first()
    client = TestClient(create_app(engine=engine))
    client.headers["Authorization"] = f"Bearer {secret}"

    def get(url):
        def run():
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.status_code)
        return run

    print(f"load average (1 min) {os.getloadavg()[0]:.1f}")
    today = today_jst()
    with Session(engine) as s:
        inputs = data.load(s, UNRESTRICTED, UNRESTRICTED, today)
    print(f"{len(inputs[0])} people, {len(inputs[1])} plans, {len(inputs[2])} plans with register-matched supporters")

    def read():
        with Session(engine) as s:
            data.load(s, UNRESTRICTED, UNRESTRICTED, today)

    def count_columns():
        with Session(engine) as s, gc_paused():
            count(s, UNRESTRICTED, UNRESTRICTED, today, data.SUPPORTER_ENTRIES(s))

    rows = [("step: cold count from columns (what the page runs)", count_columns, None),
            ("domain path: read the inputs (load), first", read, data.clear_cache),
            ("domain path: read the inputs, unchanged rows kept", read, None),
            ("domain path: count (domain.coverage)", lambda: coverage(*inputs, today), None)]
    for level in ("welfare_area", "chome", "minsei"):
        rows.append((f"page by {level}, first view after start", get(f"/workbench/coverage?level={level}"),
                     data.clear_cache))
        rows.append((f"page by {level}, first view after a write", get(f"/workbench/coverage?level={level}"),
                     lambda: data.clear_cache(rows=False)))
    rows += [("page by 町丁目, cached", get("/workbench/coverage?level=chome"), None),
             ("list behind a number (city, 支援者0人), cold", get(
                 "/workbench/coverage/list?level=city&key=city&figure=supporters_0"), data.clear_cache),
             ("list behind a number (one 町丁目), cached",
              get(f"/workbench/coverage/list?level=chome&key={chome}&figure=registered"), None),
             ("CSV by 町丁目, cached", get("/workbench/coverage.csv?level=chome"), None),
             ("HQ figures, cold", get("/api/hq/coverage"), data.clear_cache)]
    for label, fn, before in rows:
        wall, cpu = median_of(fn, args.runs, before)
        print(f"{label:48s} wall p50 {wall:7.1f} ms   cpu p50 {cpu:7.1f} ms")
    print("target: the page for the whole city ≤ 1000 ms")


if __name__ == "__main__":
    main()
