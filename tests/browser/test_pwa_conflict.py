"""Two devices edit the same field of a plan offline. The first to reconnect wins the field; the
second device's value is kept in a conflict record (nothing lost) and shown on that device."""

from __future__ import annotations

import sqlalchemy as sa

from server.models import EvacuationPlan, PlanVersion
from server.models.sync import SyncConflict

from .pwa_helpers import new_device, sign_in, wait_synced


def edit_route(page, person_id, text, timing=None):
    page.goto(f"/app/#/person/{person_id}/plan")
    page.fill("#plan-route_note", text)
    if timing is not None:
        page.fill("#plan-timing_note", timing)
    page.click("form button[type=submit]")
    page.wait_for_selector(f"#plan-h >> xpath=.. >> text={text}")  # back on the person's page, showing the edit


def test_same_field_edited_on_two_devices_keeps_both_values(live_server, browser):
    with live_server.session() as session:
        plan = session.exec(sa.select(EvacuationPlan).order_by(EvacuationPlan.id).limit(1)).scalar_one()
    person_id, original = str(plan.person_id), plan.route_note
    alice = live_server.add_user("welfare_staff", display_name="福祉 一郎")
    bob = live_server.add_user("welfare_staff", display_name="福祉 二郎")
    context_a, page_a = new_device(browser, live_server)
    context_b, page_b = new_device(browser, live_server)
    sign_in(page_a, alice.username)
    sign_in(page_b, bob.username)

    context_a.set_offline(True)
    context_b.set_offline(True)
    edit_route(page_a, person_id, "北側の坂を通って公民館へ（Aさん確認）")
    edit_route(page_b, person_id, "南の大通り経由で学校へ（Bさん確認）", timing="高齢者等避難の発令で出発")
    assert "この端末での変更が未送信です" in page_b.inner_text("section[aria-labelledby=plan-h]")  # its own unsent edit

    context_a.set_offline(False)
    wait_synced(page_a)
    context_b.set_offline(False)
    wait_synced(page_b)
    page_b.wait_for_selector("#sync-bar[data-conflicts='1']")

    with live_server.session() as session:
        stored = session.get(EvacuationPlan, plan.id)
        conflicts = session.exec(sa.select(SyncConflict).where(SyncConflict.record_id == plan.id)).scalars().all()
        versions = session.exec(sa.select(sa.func.count()).select_from(PlanVersion)
                                .where(PlanVersion.plan_id == plan.id)).scalar_one()
    assert stored.route_note == "北側の坂を通って公民館へ（Aさん確認）"  # first to arrive
    assert stored.timing_note == "高齢者等避難の発令で出発"             # B's other field merged
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict.field == "route_note"
    assert conflict.base_value == original
    assert conflict.server_value == "北側の坂を通って公民館へ（Aさん確認）"
    assert conflict.client_value == "南の大通り経由で学校へ（Bさん確認）"
    assert conflict.user_id == bob.id and conflict.resolved_at is None
    assert versions == 2  # each save kept the version before it

    page_b.goto("/app/#/sync")
    conflicts_card = page_b.inner_text("section[aria-labelledby=conflicts-h]")
    assert "南の大通り経由で学校へ（Bさん確認）" in conflicts_card and "北側の坂を通って公民館へ" in conflicts_card
    page_b.goto(f"/app/#/person/{person_id}")
    page_b.wait_for_selector("text=北側の坂を通って公民館へ（Aさん確認）")  # the device now shows the server's value
    assert not page_a.errors and not page_b.errors
    context_a.close()
    context_b.close()
