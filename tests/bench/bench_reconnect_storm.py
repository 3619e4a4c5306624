"""Reconnect storm: many field devices come back online at once and push their outboxes.

    .venv/bin/python tests/bench/bench_reconnect_storm.py [--devices 500] [--per-device 20]
        [--synchronous full|normal|both] [--runs 1]

One server process (`tsunagu serve`) on SQLite with the demo city in disaster mode; each simulated
device is a district supporter with its own token and a batch of safety checks (安否確認) for people
in its district. All devices push at the same moment; a device retries with backoff when its
request fails or times out, exactly like the PWA's outbox. Afterwards every mutation must be stored
exactly once — then all devices push the same batches again (a replay) and nothing may change.
Prints throughput and p50 / p99 latency (from first send to acknowledgement, retries included).

`--synchronous` picks SQLite's `synchronous` level of the server: `full` (what Tsunagu runs
with: an acknowledged record survives a power cut), `normal` (the earlier setting: it survives a
crash of the process only), or `both`, which runs the storm `--runs` times with each, alternating
(every run on a fresh copy of the same prepared database), and prints the medians and what FULL
costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from server.auth.mode import switch_mode  # noqa: E402
from server.auth.tokens import DEVICE, issue_token  # noqa: E402
from server.db import make_engine  # noqa: E402
from server.demo_city import build_demo_city, load_demo_city  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import District, Person, SafetyCheck  # noqa: E402
from server.models.auth import Mode, User  # noqa: E402
from server.models.sync import SyncMutation  # noqa: E402

JST = timezone(timedelta(hours=9))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(db: Path, devices: int, per_device: int) -> list[tuple[str, list[dict]]]:
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    load_demo_city(engine, build_demo_city(people=5000))
    rng = random.Random(7)
    out = []
    with Session(engine, expire_on_commit=False) as s:
        switch_mode(s, Mode.disaster, "bench: reconnect storm", None)
        by_chome: dict = {}
        for pid, did in s.exec(select(Person.id, Person.district_id)).all():
            by_chome.setdefault(did, []).append(pid)
        chome = [d for d in s.exec(select(District).where(District.kind == "chome")).all() if d.id in by_chome]
        observed = (datetime.now(JST) - timedelta(minutes=30)).isoformat()
        for n in range(devices):
            district = chome[n % len(chome)]
            user = User(username=f"storm-{n:04d}", role="district_supporter", password_hash="x",
                        district_ids=[district.id])
            s.add(user)
            s.flush()
            secret, _ = issue_token(s, user, DEVICE, timedelta(days=1), f"storm tablet {n}")
            people = rng.sample(by_chome[district.id], min(per_device, len(by_chome[district.id])))
            while len(people) < per_device:
                people.append(rng.choice(by_chome[district.id]))
            mutations = [{"id": str(uuid.uuid4()), "entity": "safety-checks", "op": "create",
                          "data": {"id": str(uuid.uuid4()), "person_id": str(pid), "observed_at": observed,
                                   "outcome": rng.choice(["safe_home", "evacuated", "needs_help", "unreachable"]),
                                   "device_id": f"storm-{n}"}} for pid in people]
            out.append((secret, mutations))
        s.commit()
    engine.dispose()
    return out


async def device(client: httpx.AsyncClient, secret: str, mutations: list[dict], start: asyncio.Event,
                 latencies: list[float], statuses: list[str]) -> int:
    await start.wait()
    began = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        try:
            r = await client.post("/api/sync/mutations", json={"device_id": "storm", "mutations": mutations},
                                  headers={"Authorization": f"Bearer {secret}"}, timeout=120)
            if r.status_code == 200:
                latencies.append(time.perf_counter() - began)
                statuses.extend(res["status"] for res in r.json()["results"])
                return attempt
        except httpx.HTTPError:
            pass
        await asyncio.sleep(min(8.0, 0.25 * 2 ** attempt) * random.random())  # jittered backoff, like the PWA


async def storm(base: str, work: list[tuple[str, list[dict]]]) -> tuple[float, list[float], list[str], list[int]]:
    limits = httpx.Limits(max_connections=len(work), max_keepalive_connections=len(work))
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:
        start = asyncio.Event()
        latencies: list[float] = []
        statuses: list[str] = []
        tasks = [asyncio.create_task(device(client, secret, muts, start, latencies, statuses)) for secret, muts in work]
        t0 = time.perf_counter()
        start.set()
        attempts = await asyncio.gather(*tasks)
        return time.perf_counter() - t0, latencies, statuses, attempts


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# `tsunagu serve` with SQLite's synchronous level set for the benchmark (server.db.SQLITE_SYNCHRONOUS).
SERVE = ("import sys, server.db; server.db.SQLITE_SYNCHRONOUS = sys.argv[1]; "
         "from server.cli import main; sys.exit(main(sys.argv[2:]))")


def checkpoint(db: Path) -> None:
    engine = make_engine(f"sqlite:///{db}")
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
        engine.dispose()


def run_once(template: Path, work: list, synchronous: str, devices: int, per_device: int) -> tuple[bool, float, float]:
    """One storm and its replay against a fresh copy of `template`; returns (ok, seconds, p50)."""
    db = template.with_name(f"run-{uuid.uuid4().hex[:8]}.sqlite3")
    shutil.copyfile(template, db)
    total = devices * per_device
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TSUNAGU_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-c", SERVE, synchronous.upper(), "serve", "--port", str(port)],
                              cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        elapsed, latencies, statuses, attempts = asyncio.run(storm(base, work))
        replay_elapsed, _, replay_statuses, _ = asyncio.run(storm(base, work))
    finally:
        server.terminate()
        server.wait(10)
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        stored = s.exec(select(sa.func.count()).select_from(SafetyCheck)).one()
        recorded = s.exec(select(sa.func.count()).select_from(SyncMutation)).one()
    engine.dispose()
    print(f"reconnect storm: {devices} devices × {per_device} mutations = {total}, one server process, "
          f"SQLite synchronous={synchronous.upper()}")
    print(f"  all acknowledged in {elapsed:.1f} s → {total / elapsed:.0f} mutations/s, {devices / elapsed:.1f} batches/s")
    print(f"  latency first send → ack: p50 {pct(latencies, 50):.2f} s, p99 {pct(latencies, 99):.2f} s, "
          f"max {max(latencies):.2f} s; median attempts {statistics.median(attempts):.0f}, max {max(attempts)}")
    print(f"  results: {statuses.count('applied')} applied, {statuses.count('duplicate')} duplicate (a retry after a "
          f"lost answer), {len(statuses) - statuses.count('applied') - statuses.count('duplicate')} other")
    print(f"  stored safety checks: {stored} (expected {total}); mutation records: {recorded}")
    print(f"  replay of every batch: {replay_statuses.count('duplicate')} duplicate of {total} in {replay_elapsed:.1f} s; "
          f"stored afterwards: {stored}")
    acknowledged = statuses.count("applied") + statuses.count("duplicate")
    ok = stored == total == recorded and acknowledged == total and replay_statuses.count("duplicate") == total
    print("  exactly once: " + ("yes" if ok else "NO"))
    return ok, elapsed, pct(latencies, 50)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--per-device", type=int, default=20)
    parser.add_argument("--synchronous", choices=("full", "normal", "both"), default="full",
                        help="SQLite's synchronous level on the server (default: full, what Tsunagu uses)")
    parser.add_argument("--runs", type=int, default=1, help="storms per synchronous level (default 1)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tsunagu-storm-"))
    template = tmp / "storm.sqlite3"
    t0 = time.perf_counter()
    work = prepare(template, args.devices, args.per_device)
    checkpoint(template)
    print(f"setup: demo city, {args.devices} devices × {args.per_device} queued safety checks "
          f"in {time.perf_counter() - t0:.1f} s; machine: {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    levels = ("normal", "full") if args.synchronous == "both" else (args.synchronous,)
    results: dict[str, list[tuple[float, float]]] = {level: [] for level in levels}
    all_ok = True
    for _ in range(args.runs):
        for level in levels:  # alternating, so a change in the machine's load hits both alike
            ok, seconds, p50 = run_once(template, work, level, args.devices, args.per_device)
            all_ok = all_ok and ok
            results[level].append((seconds, p50))
    shutil.rmtree(tmp, ignore_errors=True)
    total = args.devices * args.per_device
    print(f"summary ({args.runs} run(s) each, median; load average now {os.getloadavg()[0]:.1f}):")
    medians = {}
    for level in levels:
        seconds = statistics.median(s for s, _ in results[level])
        p50 = statistics.median(p for _, p in results[level])
        medians[level] = seconds
        print(f"  synchronous={level.upper():6} all acknowledged in {seconds:.1f} s ({total / seconds:.0f} mutations/s), "
              f"p50 latency {p50:.2f} s; runs: " + ", ".join(f"{s:.1f} s" for s, _ in results[level]))
    if len(levels) == 2:
        print(f"  cost of FULL: {medians['full'] / medians['normal']:.2f}× the time of NORMAL "
              f"({medians['full'] - medians['normal']:+.1f} s)")
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
