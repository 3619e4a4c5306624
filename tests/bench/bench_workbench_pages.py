"""Benchmarks for the workbench screens (issue 12): register search and the person page.

    /work/main/.venv/bin/python tests/bench/bench_workbench_pages.py [--people 50000] [--runs 40]

Targets: on 50,000 people, register search p50 ≤ 100 ms server-side; a person page ≤ 200 ms.
The demo city (server/demo_city) is built into a SQLite file; requests go through the whole
app in-process (middleware, sign-in by bearer token, records layer, audit, templates), so the
time is the server's, without a network. Prints medians and p90; not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_city import big_city  # noqa: E402

from sqlmodel import Session, select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from server.app import create_app  # noqa: E402
from server.auth.tokens import DEVICE, issue_token  # noqa: E402
from server.models import District, EvacuationPlan, Person  # noqa: E402
from server.models.auth import User  # noqa: E402


def measure(client: TestClient, urls: list[str], runs: int) -> tuple[float, float, float]:
    """Median and p90 wall time, and median CPU time of this process (the machine is shared:
    the wall time also measures waiting for a core, the CPU time what the request costs)."""
    samples, cpu = [], []
    client.get(urls[0])  # warm-up
    for i in range(runs):
        url = urls[i % len(urls)]
        t0, c0 = time.perf_counter(), time.process_time()
        answer = client.get(url)
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert answer.status_code == 200, (url, answer.status_code)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.9)] * 1000, statistics.median(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    engine = big_city(args.people, "tsunagu-bench-wb-")
    with Session(engine, expire_on_commit=False) as s:
        staff = User(username="bench-fukushi", role="welfare_staff", password_hash="x")
        s.add(staff)
        s.flush()
        secret, _ = issue_token(s, staff, DEVICE, timedelta(days=1))
        s.commit()
        people = s.exec(select(Person).order_by(Person.register_no).limit(2000)).all()[::50]
        with_plans = s.exec(select(EvacuationPlan.person_id).limit(2000)).all()[::50]
        area = s.exec(select(District.id).where(District.kind == "welfare_area")).first()
        supporter = next(p.supporters[0]["name"] for p in s.exec(select(EvacuationPlan).limit(50)).all()
                         if p.supporters)
    client = TestClient(create_app(engine=engine))
    client.headers["Authorization"] = f"Bearer {secret}"
    searches = {
        "no filter, page 1": ["/workbench"],
        "kana (hiragana → either)": [f"/workbench?kana={p.name_kana[:2]}" for p in people if p.name_kana],
        "登録者番号 prefix": [f"/workbench?register_no={p.register_no[:-2]}" for p in people],
        "address contains": ["/workbench?address=1-2"],
        "福祉圏域 + plan status": [f"/workbench?district={area}&plan_status=done"],
        "needs + consent": ["/workbench?need=wheelchair&consent=yes"],
        "supporter name": [f"/workbench?supporter={supporter[:2]}"],
        "last page": ["/workbench?page=900"],
    }
    medians = []
    for label, urls in searches.items():
        p50, p90, cpu = measure(client, urls, args.runs)
        medians.append(p50)
        print(f"register search, {label:28s} p50 {p50:7.1f} ms   p90 {p90:7.1f} ms   cpu p50 {cpu:7.1f} ms")
    print(f"register search, median of the medians: {statistics.median(medians):.1f} ms (target ≤ 100 ms)")
    p50, p90, cpu = measure(client, [f"/workbench/people/{pid}" for pid in with_plans], args.runs)
    print(f"person page (plan, history, checks)          p50 {p50:7.1f} ms   p90 {p90:7.1f} ms   cpu p50 {cpu:7.1f} ms"
          " (target ≤ 200 ms)")
    p50, p90, cpu = measure(client, [f"/workbench/people/{pid}/plan" for pid in with_plans], args.runs)
    print(f"plan form (shelter options ranked)           p50 {p50:7.1f} ms   p90 {p90:7.1f} ms   cpu p50 {cpu:7.1f} ms")


if __name__ == "__main__":
    main()
