"""Benchmarks for the JSON API's people list (issue 2) and for access control + audit (issue 3).

    .venv/bin/python tests/bench/bench_api.py [--people 50000] [--runs 300]

Prints medians; not a test. The machine is shared: quote medians and the with/without ratio,
which is measured side by side (interleaved) in one run.
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

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from server.records.registry import PEOPLE  # noqa: E402
from server.records.access import Access  # noqa: E402
from server.records.rows import list_rows  # noqa: E402
from server.auth.audit import record  # noqa: E402
from server.auth.policy import rule_for  # noqa: E402
from server.auth.principal import load_principal  # noqa: E402
from server.auth.tokens import DEVICE, find_token, issue_token  # noqa: E402
from server.models import District, Person  # noqa: E402
from server.models.auth import ModeSwitch, User  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    engine = big_city(args.people, "tsunagu-bench-")

    with Session(engine, expire_on_commit=False) as s:
        # the busiest 町丁目, so a page of 100 is full
        district_id = s.exec(select(Person.district_id)
                             .group_by(Person.district_id).order_by(sa.func.count().desc())).first()
        area_id = s.get(District, district_id).parent_id
        supporter = User(username="bench-minsei", role="district_supporter", password_hash="x", district_ids=[area_id])
        s.add(supporter)
        s.add(ModeSwitch(mode="disaster", reason="bench"))  # everyone in scope: the page is as big as without
        s.flush()
        secret, _ = issue_token(s, supporter, DEVICE, timedelta(days=1))
        s.commit()
    clauses = [Person.district_id == district_id]

    def without() -> int:
        with Session(engine) as s:
            return len(list_rows(PEOPLE, s, clauses, 100, 0)["items"])

    def with_access() -> int:
        with Session(engine) as s:
            token, user = find_token(s, secret)
            principal = load_principal(s, user, token)
            access = Access(principal, rule_for("people", principal))
            page = list_rows(PEOPLE, s, clauses, 100, 0, access)
            record(s, "list", principal=principal, resource="people", record_ids=[i["id"] for i in page["items"]])
            s.commit()
            return len(page["items"])

    assert without() == 100 and with_access() == 100
    for _ in range(20):  # warm up
        without(), with_access()
    plain, guarded = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        t = time.perf_counter(); without(); plain.append(time.perf_counter() - t)
        t = time.perf_counter(); with_access(); guarded.append(time.perf_counter() - t)
    m_plain, m_guarded = median_ms(plain), median_ms(guarded)
    print(f"people list, 100 of {args.people} filtered by 町丁目, in-process (median of {args.runs}):")
    print(f"  without access control and audit: {m_plain:.2f} ms  (target ≤ 15 ms)")
    print(f"  with token check, scope, field shaping and audit entry: {m_guarded:.2f} ms")
    print(f"  ratio with/without: {m_guarded / m_plain:.2f}  (target ≤ 1.3)")

    from starlette.testclient import TestClient

    from server.app import create_app

    with TestClient(create_app(engine=engine)) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        url = f"/api/people?district_id={district_id}&limit=100"
        assert len(client.get(url).json()["items"]) == 100
        http = []
        for _ in range(min(args.runs, 100)):
            t = time.perf_counter(); client.get(url); http.append(time.perf_counter() - t)
    print(f"  whole HTTP request through the app (ASGI in-process, JSON encoding): {median_ms(http):.2f} ms")


if __name__ == "__main__":
    main()
