"""Benchmark: the HQ map (/hq) with 50,000 people and 1,000 shelters, interactive in headless
Chromium within 3 s of navigation.

Run: ``.venv/bin/python tests/bench/bench_hq.py [--people 50000] [--shelters 1000] [--runs 3]``

The database (SQLite, built once per invocation): the demo city with ``--people`` people,
safety checks for 60% of them, reports from the welfare shelters, three DWAT deployments
(tests/hq_situation.py), and designated shelters added up to ``--shelters``. One server process
(``uvicorn``, as `tsunagu serve` runs it) serves every run after one uncounted warm-up load, as
an HQ server that has been up for a while would. Before each run a safety check arrives through
the API, so nothing is answered from the server's cache of latest outcomes; each run uses a
fresh browser context (empty cache, signed in as an HQ viewer, map tiles refused as on a machine
without internet), navigates to /hq and waits for ``<body data-ready>`` — set by the page after
the first render of every layer and the panel. "Interactive" is that moment plus the main thread answering
(a task queued after it runs), measured from the start of navigation with the browser's own
clock (``performance.now()``). The figure printed is the median of the runs; the wall-clock
time seen by the test driver and the server's time for the people points are shown beside it.

The first view is the 町丁目 choropleth (share confirmed) with the decision strip; the people
points are loaded but not clustered until asked for. Each run then also measures asking for them
("always show" in the layer control): building the cluster index of every person and drawing it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from server.auth.service import create_user  # noqa: E402
from server.db import make_engine  # noqa: E402
from server.demo_city import build_demo_city, load_demo_city  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models.auth import UserCreate  # noqa: E402
from tests.hq_situation import add_situation, extra_shelters  # noqa: E402

TARGET_SECONDS = 3.0
CHROMIUM = os.environ.get("TSUNAGU_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
USERNAME, STAFF, PASSWORD = "bench-hq", "bench-staff", "correct horse battery staple"


def build_database(path: Path, people: int, shelters: int) -> dict:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    city = build_demo_city(people=people)
    load_demo_city(engine, city)
    situation = add_situation(engine, seed=1)
    extra_shelters(engine, max(0, shelters - len(city.shelters)))
    with Session(engine) as session:
        create_user(session, UserCreate(username=USERNAME, password=PASSWORD, role="hq_viewer", display_name="bench"))
        create_user(session, UserCreate(username=STAFF, password=PASSWORD, role="welfare_staff", display_name="bench"))
        session.commit()
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    engine.dispose()
    return {"people": people, "shelters": max(shelters, len(city.shelters)), "checks": situation.checks}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "TSUNAGU_LOG_LEVEL": "WARNING"}
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app", "--host",
                                    "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
                                    "--timeout-graceful-shutdown", "1"], cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start:\n" + log.read_text(errors="replace")[-3000:])


def report_a_check(url: str, n: int) -> None:
    """A safety check through the API, as the field would send it during a disaster."""
    import json
    from datetime import datetime, timedelta, timezone

    def call(path: str, payload: dict | None = None, token: str = "") -> dict:
        request = urllib.request.Request(url + path, data=json.dumps(payload).encode() if payload else None,
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    token = call("/auth/token", {"username": STAFF, "password": PASSWORD, "label": "bench"})["token"]
    person = call("/api/people?limit=1&offset=" + str(n), token=token)["items"][0]
    observed = (datetime.now(timezone.utc) - timedelta(seconds=30)).isoformat()
    call("/api/safety-checks", {"person_id": person["id"], "outcome": "safe_home", "observed_at": observed}, token)


def measure_once(browser, url: str) -> dict:
    context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 900})
    try:
        answer = context.request.post("/auth/login", data={"username": USERNAME, "password": PASSWORD})
        assert answer.ok, answer.text()
        context.route("https://**", lambda route: route.abort())  # no internet: tiles fail, the map must not wait
        page = context.new_page()
        started = time.perf_counter()
        page.goto("/hq", wait_until="commit")
        page.wait_for_selector("body[data-ready='true']", timeout=60_000)
        # Interactive: after the first render the main thread takes the next task at once.
        interactive_ms = page.evaluate("() => new Promise((done) => setTimeout(() => done(performance.now()), 0))")
        wall = time.perf_counter() - started
        timing = page.evaluate("""() => {
            const r = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/hq/people-points'));
            const mark = (name) => { const m = performance.getEntriesByName(name)[0]; return m ? m.startTime : null; };
            const requests = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/hq/')).length;
            return { ready: Number(document.body.dataset.readyMs), data: mark('hq:data'), layers: mark('hq:layers'),
                     panel: mark('hq:panel'), people: mark('hq:people'), requests,
                     points: r ? r.responseEnd - r.requestStart : null, bytes: r ? r.encodedBodySize : null,
                     loaded: window.tsunaguHq.store.people.ids.length,
                     choropleth: window.tsunaguHq.map.hasLayer(window.tsunaguHq.layers.districts)
                       && !window.tsunaguHq.map.hasLayer(window.tsunaguHq.layers.people),
                     decisions: document.querySelectorAll('#decision-list [data-decision]').length,
                     shelters: window.tsunaguHq.store.shelters.size };
        }""")
        # On request: every person clustered and drawn (the layer control's "always show").
        timing.update(page.evaluate("""() => new Promise((done) => {
            const started = performance.now();
            document.querySelector('#filters input[name="layer"][value="people"]').click();
            setTimeout(() => done({ points_on_request: performance.now() - started,
                                    shown: window.tsunaguHq.layers.people.shown }), 0);
        })"""))
        return {"interactive": interactive_ms / 1000, "wall": wall, **timing}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--shelters", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.sqlite3"
        started = time.perf_counter()
        sizes = build_database(template, args.people, args.shelters)
        print(f"database: {sizes['people']} people ({sizes['checks']} with a safety check), "
              f"{sizes['shelters']} shelters; built in {time.perf_counter() - started:.1f} s")
        results = []
        log = Path(tmp) / "server.log"
        database = Path(tmp) / "run.sqlite3"
        shutil.copyfile(template, database)
        process, url = start_server(database, log)
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                measure_once(browser, url)  # warm-up, not counted: a server that has just started
                for run in range(args.runs):
                    report_a_check(url, run)  # the situation moves: nothing is served from a cache
                    result = measure_once(browser, url)
                    assert result["loaded"] == args.people and result["shelters"] == sizes["shelters"], result
                    assert result["choropleth"] and result["decisions"] == 4, result
                    assert result["shown"] == args.people, result
                    results.append(result)
                    print(f"run {run + 1}: interactive {result['interactive']:.2f} s after navigation "
                          f"(first render {result['ready'] / 1000:.2f} s; driver wall clock {result['wall']:.2f} s; "
                          f"small layers drawn {result['layers'] / 1000:.2f} s, "
                          f"people drawn {result['people'] / 1000:.2f} s; "
                          f"people points request {result['points'] / 1000:.2f} s, "
                          f"{result['bytes'] / 1e6:.1f} MB on the wire; {result['requests']} data requests; "
                          f"people clustered and drawn on request {result['points_on_request'] / 1000:.2f} s; "
                          f"load average {os.getloadavg()[0]:.1f})")
                browser.close()
        finally:
            process.terminate()
            process.wait(10)
    median = statistics.median(r["interactive"] for r in results)
    verdict = "ok" if median <= TARGET_SECONDS else "TOO SLOW"
    print(f"median interactive: {median:.2f} s (target ≤ {TARGET_SECONDS:.0f} s) — {verdict}")
    return 0 if median <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
