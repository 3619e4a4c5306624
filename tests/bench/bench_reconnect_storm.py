"""Reconnect storm: many field devices come back online at once and push their outboxes.

    .venv/bin/python tests/bench/bench_reconnect_storm.py [--devices 500] [--per-device 20]

One server process (`tsunagu serve`) on SQLite with the demo city in disaster mode; each simulated
device is a district supporter with its own token and a batch of safety checks (安否確認) for people
in its district. All devices push at the same moment; a device retries with backoff when its
request fails or times out, exactly like the PWA's outbox. Afterwards every mutation must be stored
exactly once — then all devices push the same batches again (a replay) and nothing may change.
Prints throughput and p50 / p99 latency (from first send to acknowledgement, retries included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--per-device", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tsunagu-storm-"))
    db = tmp / "storm.sqlite3"
    t0 = time.perf_counter()
    work = prepare(db, args.devices, args.per_device)
    total = args.devices * args.per_device
    print(f"setup: demo city, {args.devices} devices × {args.per_device} queued safety checks "
          f"in {time.perf_counter() - t0:.1f} s")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TSUNAGU_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + "/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
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
    print(f"reconnect storm: {args.devices} devices × {args.per_device} mutations = {total}, one server process, SQLite")
    print(f"  all acknowledged in {elapsed:.1f} s → {total / elapsed:.0f} mutations/s, {args.devices / elapsed:.1f} batches/s")
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
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
