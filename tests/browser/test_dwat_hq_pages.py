"""HQ's DWAT pages in a real browser: daily reports by site and day with the SVG chart (the demo
city's reports), the chronology, the referral list; axe finds no violations at 390×844 and
1280×800, and the pages do not scroll sideways (wide tables scroll in their own region)."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import PASSWORD, ROOT
from tests.browser.pwa_helpers import PHONE, TABLET, run_axe


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["390x844", "1280x800"])
def test_reports_and_referrals_pages(live_server, browser, viewport):
    viewer = live_server.add_user("hq_viewer")
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto("/dwat/reports")  # not signed in: the sign-in page, then back here
    page.fill("#username", viewer.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dwat/reports")
    # the demo city's teams have filed reports: rows, bars and a chronology
    assert page.locator("#site-days tbody tr[data-day]").count() > 0
    assert page.locator("svg g.bar").count() > 0
    assert page.locator("#chronology li[data-kind=report]").count() > 0
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"dwat-reports-{viewport['width']}.png"), full_page=True)
    for check in ("reports", "referrals"):
        if check == "referrals":
            page.click("a[href^='/dwat/referrals']")
            page.wait_for_selector("#referrals")
        violations = run_axe(page)
        assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{check}: scrolls sideways by {overflow}px"
    context.close()
