"""The server dies while a device is pushing, and comes back: the device retries on its own,
and the server ends up with every record exactly once."""

from __future__ import annotations

import time
import uuid

from server.models import SafetyCheck

from .pwa_helpers import count_rows, expect_pending, new_device, record_safety, sign_in, wait_synced


def supporter_for_one_area(server):
    from sqlmodel import select

    from server.models import District
    from server.models.vocab import DistrictKind

    with server.session() as session:
        area = session.exec(select(District).where(District.kind == DistrictKind.welfare_area)
                            .order_by(District.code)).first()
    return server.add_user("district_supporter", district_ids=[area.id])


UNDO_MS = 10_000  # pwa/js/safety.js


def test_killed_during_push_then_restarted(live_server, browser):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    page.clock.install()  # to move past the safety checks' undo window without waiting for it
    sign_in(page, user.username)
    people = page.eval_on_selector_all("li.person", "rows => rows.slice(0, 5).map(r => r.dataset.id)")

    # 1. The answer is lost: the server commits the batch, then dies before the device hears back.
    attempts = []

    def commit_then_die(route):
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            route.fetch()          # reaches the server, which applies and commits the batch
            live_server.kill()     # … and dies before the answer gets out
            route.abort("connectionreset")
        else:
            route.continue_()      # later attempts meet a dead server (connection refused) until it is back

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("li.person")
    for person_id in people[:3]:
        record_safety(page, person_id, "needs_help", note="持病の薬が切れそう")
    expect_pending(page, 3)
    page.clock.fast_forward(UNDO_MS + 1000)  # each is held 10 s for undo: past that, the three go in one batch
    # Routed only from now on: Playwright's routing makes the page bypass its service worker.
    context.route("**/api/sync/mutations", commit_then_die)
    context.set_offline(False)
    deadline = time.monotonic() + 20
    while len(attempts) < 2 and time.monotonic() < deadline:  # it retried against the dead server
        page.wait_for_timeout(200)
    assert len(attempts) >= 2, "the device did not retry"
    assert count_rows(live_server, SafetyCheck) == 3  # committed before the crash
    expect_pending(page, 3)                          # … but the device never heard so: kept

    live_server.start()
    wait_synced(page, timeout=60000)  # retried on its own, with back-off
    assert count_rows(live_server, SafetyCheck) == 3  # the retry was recognised: no duplicates
    for person_id in people[:3]:
        assert count_rows(live_server, SafetyCheck, person_id=uuid.UUID(person_id)) == 1

    # 2. The server is gone before the request arrives.
    context.unroute("**/api/sync/mutations")
    attempts.clear()

    def die_first(route):
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            live_server.kill()
        route.continue_()

    context.set_offline(True)
    for person_id in people[3:5]:
        record_safety(page, person_id, "safe_home")
    expect_pending(page, 2)
    page.clock.fast_forward(UNDO_MS + 1000)
    context.route("**/api/sync/mutations", die_first)
    context.set_offline(False)
    deadline = time.monotonic() + 20
    while not attempts and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert attempts and count_rows(live_server, SafetyCheck) == 3
    expect_pending(page, 2)
    live_server.start()
    wait_synced(page, timeout=60000)
    assert count_rows(live_server, SafetyCheck) == 5
    assert not page.errors
    context.close()
