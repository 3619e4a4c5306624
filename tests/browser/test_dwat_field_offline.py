"""DWAT on site in the field app without a network: welfare triage (a person of the shelter, and
someone not on the register added on the spot) and the J-SPEED-like daily report with steppers,
each sent exactly once through the service worker's outbox when the network returns; a shelter
asks for a team with need counts. axe finds no violations at 390×844 and 1280×800, and the
report fits 800×1280 with text at 150 %."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.models import DwatActivityReport, DwatRequest, Person
from server.models.dwat_field import DwatTriage

from .pwa_helpers import PHONE, TABLET, count_rows, expect_pending, new_device, run_axe, sign_in, sync_now, wait_synced
from .test_pwa_offline import busiest_shelter
from .test_pwa_screens import deploy_team


def dwat_device(live_server, browser, viewport=TABLET):
    member = deploy_team(live_server)
    user = live_server.add_user("dwat_member", dwat_member_id=member.id, display_name="班長 一郎")
    context, page = new_device(browser, live_server, viewport)
    sign_in(page, user.username)
    return member, context, page


def test_triage_and_daily_report_offline_arrive_once(live_server, browser):
    with live_server.session() as session:  # the demo's own triages (its teams on site have made some)
        demo = set(session.exec(sa.select(DwatTriage.id)).scalars().all())
    member, context, page = dwat_device(live_server, browser)
    page.goto("/app/#/dwat-triage")
    page.wait_for_selector("#triage-people button")
    context.set_offline(True)
    page.reload()  # no network: the screens come from the service worker
    page.wait_for_selector("#triage-people button")
    person_id = page.get_attribute("#triage-people button", "data-id")
    page.click(f"#triage-people button[data-id='{person_id}']")
    page.wait_for_selector("#triage-chosen")
    page.click("label[for=outcome-welfare_room]")
    page.check("#triage-needs input[value=elderly_care]")
    page.fill("#triage-notes", "夜間のトイレ介助が必要")
    page.click("form button[type=submit]")
    expect_pending(page, 1)

    page.wait_for_selector("#triage-add")
    page.click("#triage-add")
    page.fill("#np-name", "現地 一郎")
    page.fill("#np-kana", "げんち いちろう")
    page.fill("#np-birth", "1938-04-01")
    page.click("label[for=outcome-stay_with_support]")
    page.click("form button[type=submit]")
    expect_pending(page, 2)
    page.wait_for_selector("#triage-list li >> text=現地 一郎")

    page.goto("/app/#/dwat-report")
    page.wait_for_selector("#dwat-activities")
    for _ in range(3):
        page.click("#dwat-activities [data-name=consultation] button[aria-label$='1増やす']")
    page.click("#dwat-activities [data-name=environment] button[aria-label$='1増やす']")
    page.click("#dwat-triage [data-name=welfare_room] button[aria-label$='1増やす']")
    page.click("#dwat-triage [data-name=stay_with_support] button[aria-label$='1増やす']")
    page.fill("#dwat-handover", "Aさんの服薬を次の班へ")
    page.click("form button[type=submit]")
    expect_pending(page, 3)

    page.reload()  # still offline: the outbox survives a reload
    page.wait_for_selector("#sync-bar[data-pending='3']")
    assert count_rows(live_server, DwatTriage) == 0
    assert count_rows(live_server, DwatActivityReport, reporter="班長 一郎") == 0

    context.set_offline(False)  # the `online` event flushes the outbox
    wait_synced(page)
    with live_server.session() as session:
        triages = session.exec(sa.select(DwatTriage).where(DwatTriage.id.not_in(demo or [uuid.uuid4()]))
                               .order_by(DwatTriage.observed_at)).scalars().all()
        assert len(triages) == 2
        assert [(str(t.person_id) == person_id, t.outcome, t.registered_on_site) for t in triages][0] == \
            (True, "welfare_room", False)
        added = triages[1]
        assert added.outcome == "stay_with_support" and added.registered_on_site
        assert session.get(Person, added.person_id).name == "現地 一郎"
        report = session.exec(sa.select(DwatActivityReport).where(DwatActivityReport.reporter == "班長 一郎")).scalar_one()
        assert report.counts == {"consultation": 3, "environment": 1}
        assert report.triage_counts == {"welfare_room": 1, "stay_with_support": 1}
        assert report.handover == "Aさんの服薬を次の班へ" and report.consultations == 3

    sync_now(page)  # another round changes nothing on the server
    assert count_rows(live_server, DwatTriage) == 2
    assert count_rows(live_server, DwatActivityReport, reporter="班長 一郎") == 1
    assert page.get_attribute("#sync-bar", "data-pending") == "0"
    assert not page.errors
    context.close()


def test_shelter_staff_request_a_team_offline(live_server, browser):
    shelter_id = busiest_shelter(live_server)
    user = live_server.add_user("shelter_staff", shelter_ids=[shelter_id])
    context, page = new_device(browser, live_server, PHONE)
    sign_in(page, user.username)
    before = count_rows(live_server, DwatRequest, shelter_id=shelter_id)
    page.goto("/app/#/dwat-request")
    page.wait_for_selector("#request-needs")
    context.set_offline(True)
    page.click("form button[type=submit]")  # nothing asked for: told so, nothing queued
    page.wait_for_selector("#request-error:not(:empty)")
    for _ in range(4):
        page.click("#request-needs [data-name=elderly_care] button[aria-label$='1増やす']")
    page.click("#request-needs [data-name=mental_health] button[aria-label$='1増やす']")
    page.click("label[for=priority-high]")
    page.click("form button[type=submit]")
    expect_pending(page, 1)
    context.set_offline(False)
    wait_synced(page)
    with live_server.session() as session:
        rows = session.exec(sa.select(DwatRequest).where(DwatRequest.shelter_id == shelter_id)
                            .order_by(DwatRequest.created_at.desc())).scalars().all()
    assert len(rows) == before + 1
    assert rows[0].need_counts == {"elderly_care": 4, "mental_health": 1} and rows[0].priority == "high"
    assert not page.errors
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["390x844", "1280x800"])
def test_dwat_field_screens_have_no_axe_violations(live_server, browser, viewport):
    _, context, page = dwat_device(live_server, browser, viewport)
    for screen, ready in (("#/dwat-triage", "#triage-people"), ("#/dwat-report", "#dwat-activities")):
        page.goto(f"/app/{screen}")
        page.wait_for_selector(ready)
        violations = run_axe(page)
        assert not violations, f"{screen}: {violations}"
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{screen}: scrolls sideways by {overflow}px"
    page.goto("/app/#/dwat-triage")
    page.wait_for_selector("#triage-add")
    page.click("#triage-add")
    page.wait_for_selector("#triage-newcomer")
    assert not run_axe(page)
    small = page.evaluate("""() => [...document.querySelectorAll('main button')].filter(el => el.offsetParent !== null)
      .map(el => el.getBoundingClientRect()).filter(r => r.width > 0 && (r.width < 44 || r.height < 44)).length""")
    assert small == 0
    context.close()
    staff = live_server.add_user("shelter_staff", shelter_ids=[busiest_shelter(live_server)])
    context, page = new_device(browser, live_server, viewport)
    sign_in(page, staff.username)
    page.goto("/app/#/dwat-request")
    page.wait_for_selector("#request-needs")
    assert not run_axe(page)
    context.close()


def test_the_report_fits_a_portrait_tablet_at_150_percent_text(live_server, browser):
    _, context, page = dwat_device(live_server, browser, {"width": 800, "height": 1280})
    page.goto("/app/#/dwat-report")
    page.wait_for_selector("#dwat-activities")
    page.evaluate("() => { document.documentElement.style.fontSize = '150%'; }")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    plus = page.locator("#dwat-activities [data-name=consultation] button").last.bounding_box()
    assert plus["width"] >= 44 and plus["height"] >= 44
    context.close()
