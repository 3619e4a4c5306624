"""Benchmarks for the supporter register (issue 12 item 3): the migration of free-text supporters
on 50,000 plans, and the supporter list page on a city of 50,000 people.

    /work/main/.venv/bin/python tests/bench/bench_supporters.py [--people 50000] [--plans 50000] [--runs 30]

The demo city (bench_city.big_city) is loaded after the migrations, so its plans hold free text.
People without a plan get one whose supporters are copied from existing plans (the same
neighbours and 民生委員 named on many plans, as in a real city) until there are `--plans` plans.
Then `migrate_supporters` (what migration 0011 runs) is timed in a transaction that is rolled
back, once for time and once under tracemalloc for its peak Python memory; then run for real and
the list page is requested through the whole app in-process. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_city import big_city  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from server.app import create_app  # noqa: E402
from server.auth.tokens import DEVICE, issue_token  # noqa: E402
from server.models import District, EvacuationPlan, Person, SupporterRecord  # noqa: E402
from server.models.auth import User  # noqa: E402
from server.models.base import utcnow  # noqa: E402
from server.records.supporter_migration import migrate_supporters  # noqa: E402


def fill_plans(engine, wanted: int) -> int:
    """Plans for people who have none, until `wanted` plans exist; returns the plan count."""
    rng = random.Random(12)
    with engine.begin() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(EvacuationPlan)).scalar_one()
        pool = [s for (lines,) in conn.execute(sa.select(EvacuationPlan.supporters)) for s in lines or ()]
        planned = sa.select(EvacuationPlan.person_id)
        free = [pid for (pid,) in conn.execute(sa.select(Person.id).where(Person.id.not_in(planned)))]
        rows = []
        now = utcnow()
        for pid in free[: max(0, wanted - have)]:
            rows.append({"id": uuid.uuid4(), "person_id": pid, "status": "drafting", "version": 1,
                         "created_at": now, "updated_at": now, "supporters": rng.sample(pool, k=min(len(pool), 2)),
                         "care": {}, "route_note": "", "timing_note": "", "carer_accompanies": False,
                         "consent": False, "author": ""})
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(EvacuationPlan.__table__), rows[start:start + 5000])
        return have + len(rows)


def time_migration(engine) -> None:
    lines = 0
    with engine.connect() as conn:
        for (sup,) in conn.execute(sa.select(EvacuationPlan.supporters)):
            lines += len(sup or ())
    for traced in (False, True):
        with engine.connect() as conn:
            tx = conn.begin()
            if traced:
                tracemalloc.start()
            t0, c0 = time.perf_counter(), time.process_time()
            report = migrate_supporters(conn)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            peak = tracemalloc.get_traced_memory()[1] if traced else 0
            if traced:
                tracemalloc.stop()
            tx.rollback()
        if not traced:
            print(f"migration of free text: {lines} supporter lines on the plans → {report.entries_created} entries, "
                  f"{report.plans_changed} plans linked, {report.candidates} candidate pairs")
            print(f"migration of free text: wall {wall:.1f} s, cpu {cpu:.1f} s")
        else:
            print(f"migration of free text: peak Python memory {peak / 2**20:.0f} MiB (under tracemalloc, "
                  f"wall {wall:.1f} s); process max RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def measure(client: TestClient, urls: list[str], runs: int) -> tuple[float, float, float]:
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
    parser.add_argument("--plans", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    engine = big_city(args.people, "tsunagu-bench-sup-")
    print(f"plans: {fill_plans(engine, args.plans)}")
    time_migration(engine)
    with engine.begin() as conn:
        migrate_supporters(conn)
    with Session(engine, expire_on_commit=False) as s:
        staff = User(username="bench-fukushi", role="welfare_staff", password_hash="x")
        s.add(staff)
        s.flush()
        secret, _ = issue_token(s, staff, DEVICE, timedelta(days=1))
        s.commit()
        entries = s.exec(select(SupporterRecord).order_by(SupporterRecord.id).limit(2000)).all()[::100]
        chome = s.exec(select(District.id).where(District.kind == "chome")).first()
        total = s.exec(select(sa.func.count()).select_from(SupporterRecord)).one()
    print(f"supporter register: {total} entries")
    client = TestClient(create_app(engine=engine))
    client.headers["Authorization"] = f"Bearer {secret}"
    pages = {
        "list, no filter, page 1": ["/workbench/supporters"],
        "list, name/kana search": [f"/workbench/supporters?q={e.name[:2]}" for e in entries],
        "list, kind = 民生委員": ["/workbench/supporters?kind=minsei"],
        "list, district": [f"/workbench/supporters?district={chome}"],
        "list, overloaded only": ["/workbench/supporters?overloaded=1"],
        "supporter page": [f"/workbench/supporters/{e.id}" for e in entries],
        "plan form's search (JSON)": [f"/workbench/supporters/search?q={e.name[:2]}" for e in entries],
    }
    for label, urls in pages.items():
        p50, p90, cpu = measure(client, urls, args.runs)
        print(f"{label:30s} p50 {p50:7.1f} ms   p90 {p90:7.1f} ms   cpu p50 {cpu:7.1f} ms")


if __name__ == "__main__":
    main()
