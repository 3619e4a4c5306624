"""Browser tests: Debian's Chromium driven by Playwright, against a real server.

The server runs as a separate `uvicorn` process (so a test can kill it in the middle of a
request and start it again) on a free port, with a file SQLite database holding the demo
city. Everything here is shared by the field app (PWA) and the HQ map tests: extend it,
do not copy it.

    def test_something(live_server, browser):
        user = live_server.add_user("district_supporter", district_ids=[...])
        page = browser.new_context(base_url=live_server.url).new_page()

The browser tests exercise the clients; the database behaviour behind them is covered by
the API tests on SQLite and PostgreSQL, so here the server always uses SQLite, and
`scripts/test` leaves tests/browser out of its PostgreSQL run (they would test the same
thing twice).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TSUNAGU_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PASSWORD = "correct horse battery staple"
DEMO_PEOPLE = 300  # small: enough for every screen, quick to build and to sync


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's Chromium and Playwright, both installed by scripts/setup.
    Missing ones make the tests fail with the reason — never a silent skip."""
    problem = ""
    if os.environ.get("TSUNAGU_TEST_DATABASE_URL"):
        problem = ("browser tests run against their own SQLite server; run them without "
                   "TSUNAGU_TEST_DATABASE_URL (scripts/test leaves them out of the PostgreSQL run)")
    elif not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM} (run scripts/setup, or set TSUNAGU_CHROMIUM)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "Playwright is not installed (run scripts/setup)"
    if problem:
        here = Path(__file__).parent

        def fail(message=problem):
            pytest.fail(message, pytrace=False)

        for item in items:
            if here in Path(str(item.fspath)).parents:
                item.runtest = fail


# ---------------------------------------------------------------- the browser

@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    """One Chromium for the whole run; each test opens its own contexts (separate devices)."""
    instance = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield instance
    instance.close()


# ---------------------------------------------------------------- the database

def prepare_database(path: Path, people: int = DEMO_PEOPLE, disaster: bool = True) -> str:
    """A migrated SQLite file with the demo city; in disaster mode unless told otherwise
    (supporters then see everyone in their districts, not only those who consented)."""
    from sqlmodel import Session

    from server.auth.mode import switch_mode
    from server.db import make_engine
    from server.demo_city import build_demo_city, load_demo_city
    from server.migrate import upgrade
    from server.models.auth import Mode

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    load_demo_city(engine, build_demo_city(people=people))
    if disaster:
        with Session(engine) as session:
            switch_mode(session, Mode.disaster, "browser tests: 訓練", None)
            session.commit()
    engine.dispose()
    # Everything into the main file, so that copying that one file copies the whole database.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return url


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """Built once per run; every test gets a copy."""
    path = tmp_path_factory.mktemp("browser-template") / "demo.sqlite3"
    prepare_database(path)
    return path


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real server process on a free port; `kill()` it mid-request, `start()` it again."""

    def __init__(self, database_path: Path, log_path: Path, env: dict[str, str] | None = None,
                 copied_from: Path | None = None):
        self.database_path = database_path
        self.copied_from = copied_from  # the database file this one started as a copy of (see pwa_helpers.count_rows)
        self.database_url = f"sqlite:///{database_path}"
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self._engine = None
        self.factory = "server.app:create_app"  # what `uvicorn --factory` runs; a test may swap it

    def start(self, timeout: float = 30) -> "LiveServer":
        env = {**os.environ, "DATABASE_URL": self.database_url, "TSUNAGU_LOG_LEVEL": "WARNING", **self.env}
        env.pop("TSUNAGU_TEST_DATABASE_URL", None)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", self.factory, "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, like a power cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def restart(self) -> "LiveServer":
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    @property
    def engine(self):
        """Direct access to the server's database, for setting up and for counting rows."""
        if self._engine is None:
            from server.db import make_engine

            self._engine = make_engine(self.database_url)
        return self._engine

    def session(self):
        from sqlmodel import Session

        return Session(self.engine, expire_on_commit=False)

    def request(self, method: str, path: str, token: str | None = None, json_body=None) -> tuple[int, dict]:
        """An HTTP call to the running server (JSON in and out); returns (status, body)."""
        data = None if json_body is None else json.dumps(json_body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def token(self, username: str, password: str = PASSWORD) -> str:
        """A device bearer token, as the field app gets it."""
        status, body = self.request("POST", "/auth/token", json_body={"username": username, "password": password,
                                                                     "label": "browser test"})
        assert status == 201, body
        return body["token"]

    def add_user(self, role: str, username: str | None = None, password: str = PASSWORD, **fields):
        """Create an account (see server.auth.service.create_user); returns the User row."""
        from server.auth.service import create_user
        from server.models.auth import UserCreate

        data = UserCreate(username=username or f"{role.replace('_', '-')}-{uuid.uuid4().hex[:6]}",
                          password=password, role=role, **{"display_name": role, **fields})
        with self.session() as session:
            user = create_user(session, data)
            session.commit()
            return user


@pytest.fixture
def live_server(demo_database, tmp_path, request):
    """A running server on a fresh copy of the demo database; its log is printed if the test fails."""
    path = tmp_path / "live.sqlite3"
    shutil.copyfile(demo_database, path)
    server = LiveServer(path, tmp_path / "server.log", copied_from=demo_database).start()
    yield server
    server.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"---- server log ({server.log_path}) ----\n{server.log()[-20000:]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
