"""Welfare staff resolve a sync conflict on the /conflicts page, in a real browser."""

from __future__ import annotations

import uuid

from sqlmodel import select

from server.models import EvacuationPlan
from tests.browser.conftest import PASSWORD


def test_welfare_staff_take_the_device_value(live_server, browser):
    staff = live_server.add_user("welfare_staff")
    token_1, token_2 = live_server.token(staff.username), live_server.token(staff.username)
    with live_server.session() as s:
        plan = s.exec(select(EvacuationPlan).order_by(EvacuationPlan.id)).first()
    edit = lambda text: {"mutations": [{  # noqa: E731
        "id": str(uuid.uuid4()), "entity": "plans", "op": "update", "record_id": str(plan.id),
        "base_version": plan.version, "base": {"route_note": plan.route_note}, "changes": {"route_note": text}}]}
    assert live_server.request("POST", "/api/sync/mutations", token_1, edit("北の坂道"))[1]["results"][0]["status"] == "applied"
    assert live_server.request("POST", "/api/sync/mutations", token_2, edit("南の大通り"))[1]["results"][0]["status"] == "merged"

    page = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800}).new_page()
    page.goto("/conflicts")
    page.fill("#username", staff.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/conflicts")
    row = page.locator("#conflicts tbody tr")
    row.wait_for()
    assert "北の坂道" in row.inner_text() and "南の大通り" in row.inner_text()
    row.get_by_role("button", name="端末の値").click()
    page.get_by_text("端末の値を採用しました").wait_for()
    status, current = live_server.request("GET", f"/api/plans/{plan.id}", token_1)
    assert status == 200 and current["route_note"] == "南の大通り"
    assert live_server.request("GET", "/api/conflicts", token_1)[1]["items"] == []
