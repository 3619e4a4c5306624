"""Signing in again (past the offline window) reopens the user's database: while it opens, no
screen may read it (the flaky "Cannot read properties of null (reading 'all')" page error).

The race is made deterministic by holding the user's database open request for a while during
the second sign-in (an init script wraps indexedDB.open), so every event that fires meanwhile —
the status bar, the people list's redraws, the sync screen — meets the database mid-reopen."""

from __future__ import annotations

import datetime as dt

from server.models import SafetyCheck

from .pwa_helpers import expect_pending, new_device, sign_in, wait_rows, wait_synced
from .test_pwa_server_killed import supporter_for_one_area

# While window.__holdOpen is set, a user database's open "succeeds" only that many ms later.
HOLD_OPEN = """
(() => {
  const open = IDBFactory.prototype.open;
  const setter = Object.getOwnPropertyDescriptor(IDBRequest.prototype, 'onsuccess').set;
  IDBFactory.prototype.open = function (name, ...rest) {
    const req = open.call(this, name, ...rest);
    const hold = window.__holdOpen;
    if (hold && String(name).startsWith('tsunagu-user-')) {
      window.__held = (window.__held || 0) + 1;
      Object.defineProperty(req, 'onsuccess', { configurable: true,
        set(fn) { setter.call(req, (event) => setTimeout(() => fn.call(req, event), hold)); } });
    }
    return req;
  };
})();
"""


def test_signing_in_again_never_reads_a_closed_database(live_server, browser):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    context.add_init_script(HOLD_OPEN)
    sign_in(page, user.username)
    context.set_offline(True)
    page.click("li.person button.check")
    page.click("#sheet button[data-outcome='unreachable']")
    page.wait_for_selector("#sync-bar[data-pending='1']")

    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=73))
    page.goto("/app/#/sync")
    page.wait_for_selector("#signin-password")
    expect_pending(page, 1)

    context.set_offline(False)
    page.evaluate("() => { window.__holdOpen = 1500; }")
    page.fill("#signin-password", "correct horse battery staple")
    page.click("form button[type=submit]")
    # While the database is held mid-reopen, the user switches the language (the header's button is
    # always there): the app draws the current screen again, and it must wait for the database.
    page.wait_for_function("() => window.__held >= 1")
    page.click("#lang")
    wait_rows(live_server, SafetyCheck, 1, outcome="unreachable")
    wait_synced(page)
    page.wait_for_selector(".people-list[data-placed]")
    assert page.evaluate("() => window.__held") >= 1  # the reopen was really held
    assert not page.errors
    context.close()
