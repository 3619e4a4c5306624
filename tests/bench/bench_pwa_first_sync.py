"""Benchmark: the field app's first sync of a district with about 2,000 people and their plans.

Run: ``.venv/bin/python tests/bench/bench_pwa_first_sync.py [--people 12000] [--runs 3]``

A real server (uvicorn, SQLite file with the demo city, disaster mode) and Debian's headless
Chromium. The demo city is built with ``--people`` registered people (12,000 gives six 福祉圏域
of about 2,000 each); a district supporter is given the largest 福祉圏域. Each run is a fresh
browser profile (empty IndexedDB; the service worker installs while the sign-in form is shown,
as it would while a person types): the clock starts when the sign-in button is pressed and stops when the people list is drawn from the completed sync (every person
of the district on screen, the app usable offline from then on). Measured: wall time (median
of the runs), and the bytes on the wire of the API answers of the first sync (compressed: the
server gzips them) next to their uncompressed size. Target: ≤ 3 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, PASSWORD, LiveServer, prepare_database  # noqa: E402

TARGET_SECONDS = 3.0


def largest_area(server) -> tuple[str, int, int]:
    import sqlalchemy as sa

    from server.models import District, EvacuationPlan, Person

    with server.session() as session:
        chome = sa.orm.aliased(District)
        rows = session.execute(
            sa.select(chome.parent_id, sa.func.count(Person.id)).join(chome, Person.district_id == chome.id)
            .group_by(chome.parent_id).order_by(sa.func.count(Person.id).desc())).all()
        area_id, people = rows[0]
        plans = session.execute(
            sa.select(sa.func.count()).select_from(EvacuationPlan).join(Person, EvacuationPlan.person_id == Person.id)
            .join(chome, Person.district_id == chome.id).where(chome.parent_id == area_id)).scalar_one()
    return str(area_id), people, plans


def one_run(browser, server, username: str, people: int, at_once: bool = False) -> dict:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800}, locale="ja-JP")
    page = context.new_page()
    wire: list[int] = []
    raw: list[int] = []

    def finished(request):
        if "/api/" in request.url or "/auth/" in request.url:
            sizes = request.sizes()
            wire.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])
            response = request.response()
            if response is not None and "/api/sync/changes" in request.url:
                raw.append(len(response.body()))

    page.on("requestfinished", finished)
    page.goto("/app/")
    # A person takes a few seconds to type; by then the service worker has installed. Wait for that
    # here too, so the figure is the sign-in and the sync, not the app's own installation.
    if not at_once:
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=30000)
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    started = time.perf_counter()
    page.click("form button[type=submit]")
    page.wait_for_selector(f".people-list[data-count='{people}'][data-synced]:not([data-synced=''])", timeout=120000)
    seconds = time.perf_counter() - started
    rows = page.eval_on_selector_all("li.person", "rows => rows.length")
    page.wait_for_timeout(300)  # let the last response events arrive
    context.close()
    assert rows == people, (rows, people)
    return {"seconds": seconds, "wire_bytes": sum(wire), "changes_raw_bytes": sum(raw), "requests": len(wire)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=12000, help="people in the demo city (default 12000)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--at-once", action="store_true",
                        help="press sign-in as soon as the page has loaded, while the service worker still installs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        database = Path(tmp) / "bench.sqlite3"
        prepare_database(database, people=args.people)
        server = LiveServer(database, Path(tmp) / "server.log").start()
        try:
            area_id, people, plans = largest_area(server)
            user = server.add_user("district_supporter", district_ids=[area_id])
            print(f"prepared in {time.perf_counter() - started:.1f} s: a 福祉圏域 with {people} people and {plans} plans "
                  f"(city of {args.people})")
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                runs = []
                for i in range(args.runs):
                    run = one_run(browser, server, user.username, people, args.at_once)
                    runs.append(run)
                    print(f"run {i + 1}: {run['seconds']:.2f} s, {run['wire_bytes'] / 1024:.0f} KiB on the wire "
                          f"({run['requests']} API requests; feed uncompressed {run['changes_raw_bytes'] / 1024:.0f} KiB)")
                browser.close()
        finally:
            server.stop()
    median = statistics.median(r["seconds"] for r in runs)
    wire = statistics.median(r["wire_bytes"] for r in runs)
    raw = statistics.median(r["changes_raw_bytes"] for r in runs)
    verdict = "OK" if median <= TARGET_SECONDS else "OVER TARGET"
    print(f"first sync, sign-in to usable list: median {median:.2f} s (target ≤ {TARGET_SECONDS:.0f} s) {verdict}; "
          f"{wire / 1024:.0f} KiB compressed on the wire, {raw / 1024:.0f} KiB uncompressed")
    print(json.dumps({"people": people, "plans": plans, "median_seconds": round(median, 3), "wire_bytes": wire,
                      "changes_raw_bytes": raw, "runs": runs}))
    return 0 if median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
