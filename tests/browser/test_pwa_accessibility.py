"""JIS X 8341-3 (WCAG 2.x) level AA: axe-core, from npm, finds no violations on any screen of the
field app — dialogs and error states included (the scan screen with the camera on is checked in
test_pwa_scan.py, whose Chromium has a fake camera), Japanese and English — on a 10-inch tablet
(1280×800), on a phone, and at 320 CSS px (reflow). Large touch targets, and no sideways
scrolling, are checked too."""

from __future__ import annotations

import datetime as dt

import pytest

from .pwa_helpers import PHONE, TABLET, new_device, run_axe, sign_in
from .test_pwa_offline import busiest_shelter
from .test_pwa_screens import deploy_team

# tablet, phone, and the width WCAG 1.4.10 asks content to reflow to (a phone zoomed to 400 %, or small)
SIZES = {"tablet": TABLET, "phone": PHONE, "reflow": {"width": 320, "height": 480}}


def check(page, screen, seen):
    violations = run_axe(page)
    assert not violations, f"{screen}: {violations}"
    # touch targets: every button and nav link at least 44×44 CSS px (WCAG 2.5.5 asks 44, we aim for 48)
    small = page.evaluate("""() => [...document.querySelectorAll('main button, main a.button, nav a, #sheet button, header button')]
      .filter(el => el.offsetParent !== null || el.closest('dialog[open]'))
      .map(el => [el.textContent.trim().slice(0, 20), el.getBoundingClientRect()])
      .filter(([, r]) => r.width > 0 && (r.width < 44 || r.height < 44)).map(([t, r]) => `${t} ${r.width}x${r.height}`)""")
    assert not small, f"{screen}: small touch targets {small}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{screen}: the page scrolls sideways by {overflow}px"
    seen.append(screen)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_screen_has_no_axe_violations(live_server, browser, size):
    seen: list[str] = []
    staff = live_server.add_user("welfare_staff", display_name="福祉 花子")
    context, page = new_device(browser, live_server, SIZES[size])
    page.goto("/app/")
    page.wait_for_selector("#signin-username")
    check(page, "sign-in", seen)
    page.click("form button[type=submit]")  # empty: the error message
    page.wait_for_selector("#signin-error:not(:empty)")
    check(page, "sign-in error", seen)

    sign_in(page, staff.username)
    check(page, "people", seen)
    page.click("button[data-filter=unchecked]")
    page.fill("#people-search", "さ")
    page.wait_for_selector(".people-list[data-query='さ']")  # the search applies after a pause in typing
    check(page, "people filtered", seen)
    page.fill("#people-search", "")
    person_id = page.get_attribute("li.person", "data-id")
    page.wait_for_selector(f"li.person[data-id='{person_id}'] button.check")
    page.click(f"li.person[data-id='{person_id}'] button.check")
    page.wait_for_selector("#sheet[open]")
    check(page, "safety sheet", seen)
    page.click("#sheet button[data-outcome=evacuated]")
    page.wait_for_selector("#where-other")
    check(page, "safety sheet: where", seen)
    page.click("#sheet .actions button.secondary")
    page.wait_for_selector("#sheet", state="hidden")

    page.goto(f"/app/#/person/{person_id}")
    page.wait_for_selector("#plan-h")
    check(page, "person", seen)
    page.goto(f"/app/#/person/{person_id}/plan")
    page.wait_for_selector("#plan-route_note")
    check(page, "plan edit", seen)
    page.goto("/app/#/scan")
    page.wait_for_selector("#scan-camera-state[data-state=failed]")  # this browser has no camera
    check(page, "scan (no camera)", seen)
    page.fill("#scan-code", "not a code")
    page.click("#scan-open")
    page.wait_for_selector("#scan-result:not(:empty)")
    check(page, "scan: not a Tsunagu code", seen)
    page.goto("/app/#/shelter-report")
    page.wait_for_selector("#n-occupancy")
    check(page, "shelter report", seen)
    page.fill("#n-occupancy", "1")
    page.fill("#n-group-elderly", "3")
    page.click("form button[type=submit]")
    page.wait_for_selector("#shelter-error:not(:empty)")
    check(page, "shelter report error", seen)

    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2))  # a refused record
    page.goto("/app/#/people")
    page.click("button[data-filter=all]")  # the list remembers its filter; this person is checked now
    page.click(f"li.person[data-id='{person_id}'] button.check")
    page.click("#sheet button[data-outcome=safe_home]")
    page.wait_for_selector("#sync-bar[data-rejected='1']")
    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc))
    page.goto("/app/#/sync")
    page.wait_for_selector("section[aria-labelledby=rejected-h] .item")
    check(page, "sync status", seen)
    page.click("#sign-out")
    page.wait_for_selector("#confirm[open]")
    check(page, "sign-out warning", seen)
    page.click("#confirm button[value=cancel]")

    page.click("#lang")
    page.goto("/app/#/people")
    page.wait_for_selector("html[lang=en]")
    check(page, "people (English)", seen)
    page.click("#lang")

    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=80))
    page.goto("/app/#/sync")
    page.wait_for_selector("#signin-password")
    check(page, "locked", seen)
    context.close()

    member = deploy_team(live_server)
    leader = live_server.add_user("dwat_member", dwat_member_id=member.id)
    context, page = new_device(browser, live_server, SIZES[size])
    sign_in(page, leader.username)
    page.goto("/app/#/dwat-report")
    page.wait_for_selector("#dwat-activities")
    check(page, "DWAT report", seen)
    context.close()

    shelter_staff = live_server.add_user("shelter_staff", shelter_ids=[busiest_shelter(live_server)])
    context, page = new_device(browser, live_server, SIZES[size])
    sign_in(page, shelter_staff.username)
    page.goto("/app/#/shelter-report")
    page.wait_for_selector("#n-occupancy")
    check(page, "shelter report (shelter staff)", seen)
    context.close()
    assert len(seen) == 18
