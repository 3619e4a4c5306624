"""Driving the field app like a person would, for the browser tests and the benchmark.

The page's Content-Security-Policy forbids eval, so waits use selectors or functions written as
`() => …` (Playwright runs those without eval).
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

from sqlmodel import Session, func, select

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def new_device(browser, server, viewport=TABLET):
    """A fresh browser profile: its own IndexedDB, caches and service worker — one tablet."""
    context = browser.new_context(base_url=server.url, viewport=viewport, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: _console_error(page, message))
    return context, page


def _console_error(page, message):
    # A failed fetch while offline or while the server is down is expected and handled by the app;
    # Chromium still logs it. Anything else logged as an error is a bug.
    if message.type == "error" and not any(x in message.text for x in ("net::ERR_", "Failed to load resource")):
        page.errors.append(message.text)


def sign_in(page, username, password=PASSWORD, timeout=30000):
    page.goto("/app/")
    page.fill("#signin-username", username)
    page.fill("#signin-password", password)
    page.click("form button[type=submit]")
    wait_list(page, timeout)
    wait_controlled(page)


def wait_list(page, timeout=30000):
    """Until the people list is drawn from a completed sync: the moment the app is usable."""
    page.wait_for_selector(".people-list[data-synced]:not([data-synced=''])", timeout=timeout)


def wait_controlled(page, timeout=15000):
    """Until the service worker controls the page (so a reload can come from its cache)."""
    page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=timeout)


def wait_synced(page, timeout=30000):
    page.wait_for_selector("#sync-bar[data-state=idle][data-pending='0']", timeout=timeout)


def sync_now(page):
    """Ask for a sync and wait until it is done (the sync screen's button, as a user would)."""
    before = page.get_attribute("#sync-bar", "data-last-sync")
    page.goto("/app/#/sync")
    page.click("#sync-now")
    page.wait_for_function(
        "(before) => { const b = document.getElementById('sync-bar'); return b.dataset.state !== 'syncing' && b.dataset.lastSync !== before; }",
        arg=before, timeout=30000)


def expect_pending(page, n: int, timeout=10000) -> None:
    """Until the status bar counts `n` records waiting to be sent."""
    page.wait_for_selector(f"#sync-bar[data-pending='{n}']", timeout=timeout)


def record_safety(page, person_id, outcome, note=""):
    """Two taps from the list: the row's 安否確認 button, then the outcome."""
    page.click(f"li.person[data-id='{person_id}'] button.check")
    if note:
        page.fill("#safety-note", note)
    page.click(f"#sheet button[data-outcome='{outcome}']")
    if outcome == "evacuated":
        page.click("#sheet .actions button.secondary")  # where: unknown / later
    page.wait_for_selector("#sheet", state="hidden")


def run_axe(page):
    """axe-core's violations on the page as it is now (all rules, WCAG 2.x A/AA and best practice)."""
    if not page.evaluate("() => !!window.axe"):
        # Not add_script_tag: that injects an inline <script>, which the app's CSP (rightly) refuses.
        # Evaluating the source through the DevTools protocol leaves the CSP in force.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def wait_rows(server, model, expected: int, timeout: float = 30, **where) -> None:
    """Until the server holds `expected` rows more than the demo did (see count_rows): what matters
    is the server, not the page's word."""
    deadline = time.monotonic() + timeout
    while (found := count_rows(server, model, **where)) != expected:
        assert time.monotonic() < deadline, f"{model.__name__}: {found} rows, expected {expected}"
        time.sleep(0.1)


def create_upgraded_app():
    """The app as if a new version had been deployed: same files, another service worker VERSION.
    (A `--factory` for LiveServer; see test_update_available_then_applied.)"""
    from server import field_app
    from server.app import create_app

    original = field_app.shell_version
    field_app.shell_version = lambda root=field_app.PWA_DIR: "upgraded-" + original(root)
    return create_app()


def count_rows(server, model, **where) -> int:
    """The rows the test has added (or, negative, removed): the count on the server's database less
    the same count on the demo database it was copied from. The demo has records of its own (its
    DWAT teams' triages, the safety checks of people who arrived at a receiving shelter …), and a
    test's "sent exactly once" is about the records it made, whatever the demo holds."""
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    with server.session() as session:
        now = session.exec(query).one()
    if server.copied_from is None:
        return now
    with Session(_template_engine(server.copied_from)) as session:
        return now - session.exec(query).one()


@functools.lru_cache(maxsize=None)
def _template_engine(path):
    from server.db import make_engine

    return make_engine(f"sqlite:///{path}")


def office_page(browser, server, user, path: str, viewport=TABLET):
    """A browser context at `path` on a server page (workbench, board), signed in there as `user`
    through the sign-in form the page redirects to: (context, page)."""
    context = browser.new_context(base_url=server.url, viewport=viewport)
    page = context.new_page()
    page.goto(path)
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return context, page


def assert_no_axe(page, what: str = "") -> None:
    """No axe-core violations on the page as it is now; the message lists them."""
    violations = run_axe(page)
    assert violations == [], (what + ": " if what else "") + json.dumps(violations, ensure_ascii=False, indent=1)
