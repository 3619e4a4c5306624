"""The field app's screens doing their jobs: a safety check in two taps, the DWAT daily report,
rejected records kept until fixed or discarded, the offline window, "update available"."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.models import DwatActivityReport, DwatDeployment, DwatMember, SafetyCheck, Shelter, ShelterReport
from server.models.vocab import ShelterKind

from .pwa_helpers import count_rows, expect_pending, new_device, sign_in, wait_rows, wait_synced
from .test_pwa_offline import busiest_shelter
from .test_pwa_server_killed import supporter_for_one_area


def deploy_team(server) -> DwatMember:
    """An active deployment of a demo team (made through the API, as HQ would), and its leader.
    The team is one the demo city has not sent anywhere yet (it has teams on site already)."""
    admin = server.add_user("admin")
    token = server.token(admin.username)
    with server.session() as session:
        sent = sa.select(DwatDeployment.team_id)
        member = session.exec(sa.select(DwatMember).where(DwatMember.team_id.not_in(sent))
                              .order_by(DwatMember.name).limit(1)).scalar_one()
        shelter = session.exec(sa.select(Shelter).where(Shelter.kind == ShelterKind.designated_welfare)
                               .order_by(Shelter.name).limit(1)).scalar_one()
    status, body = server.request("POST", "/api/dwat-deployments", token, {
        "team_id": str(member.team_id), "shelter_id": str(shelter.id), "start_date": dt.date.today().isoformat(),
        "state": "active"})
    assert status == 201, body
    return member


def test_safety_check_is_two_taps_from_the_list(live_server, browser):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    person_id = page.get_attribute("li.person", "data-id")
    page.click(f"li.person[data-id='{person_id}'] button.check")   # tap 1
    page.click("#sheet button[data-outcome='needs_help']")           # tap 2: saved
    page.wait_for_selector("#sheet", state="hidden")
    wait_rows(live_server, SafetyCheck, 1, person_id=uuid.UUID(person_id), outcome="needs_help")
    page.wait_for_selector(f"li.person[data-id='{person_id}'] .chip.s-needs_help")
    page.click("button[data-filter=help]")
    assert page.eval_on_selector_all("li.person", "rows => rows.map(r => r.dataset.id)") == [person_id]
    assert not page.errors
    context.close()


def test_dwat_leader_files_the_daily_report(live_server, browser):
    member = deploy_team(live_server)
    user = live_server.add_user("dwat_member", dwat_member_id=member.id)
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    page.click("nav a[href='#/dwat-report']")
    page.wait_for_selector("#dwat-activities")
    page.fill("#act-assessment", "14")  # a count can be typed as well as stepped
    page.fill("#act-consultation", "6")
    page.fill("#act-transfer", "2")
    page.fill("#dwat-handover", "避難者のスクリーニング、福祉避難所への移送調整")
    page.fill("#dwat-requests_to_hq", "夜間の介護職員2名")
    page.click("form button[type=submit]")
    # the demo's teams filed theirs for the past days; today's is this one
    wait_rows(live_server, DwatActivityReport, 1, report_date=dt.date.today())
    with live_server.session() as session:
        report = session.exec(sa.select(DwatActivityReport).where(DwatActivityReport.report_date == dt.date.today())
                              ).scalar_one()
    assert report.counts == {"consultation": 6, "assessment": 14, "transfer": 2}
    assert (report.people_assessed, report.consultations, report.referrals) == (14, 6, 2)  # kept in step
    assert report.report_date == dt.date.today() and report.requests_to_hq == "夜間の介護職員2名"
    page.wait_for_selector("section[aria-labelledby=dwat-earlier] li")
    assert "22" in page.inner_text("section[aria-labelledby=dwat-earlier]")
    assert not page.errors
    context.close()


def test_rejected_records_stay_until_fixed_or_discarded(live_server, browser):
    shelter_id = busiest_shelter(live_server)
    user = live_server.add_user("shelter_staff", shelter_ids=[shelter_id])
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    now = dt.datetime.now(dt.timezone.utc)

    page.clock.set_system_time(now + dt.timedelta(hours=2))  # the tablet's clock runs two hours fast
    page.goto("/app/#/shelter-report")
    page.click("label[for=damage-none]")  # nothing is preselected: the user says it
    page.click("label[for=open_state-open]")
    page.fill("#n-occupancy", "30")
    page.click("form button[type=submit]")
    page.wait_for_selector("#sync-bar[data-rejected='1']")
    assert count_rows(live_server, ShelterReport) == 0
    page.goto("/app/#/sync")
    rejected = page.inner_text("section[aria-labelledby=rejected-h]")
    assert "避難所の状況報告" in rejected and "future" in rejected
    page.click("#sync-now")  # the next sync sees the server's time and names the cause
    page.wait_for_selector(".notice.warn >> text=約120分進んでいます")

    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc))  # clock corrected
    page.click("section[aria-labelledby=rejected-h] a.button")   # 修正する
    page.wait_for_selector(".notice.error")
    assert page.input_value("#n-occupancy") == "30"               # what was typed is still there
    page.click("form button[type=submit]")
    wait_rows(live_server, ShelterReport, 1, occupancy=30)
    page.wait_for_selector("#sync-bar[data-rejected='0'][data-pending='0']")

    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2))
    page.goto("/app/#/people")
    page.click("li.person button.check")
    page.click("#sheet button[data-outcome='safe_home']")
    page.wait_for_selector("#sync-bar[data-rejected='1']")
    page.goto("/app/#/sync")
    page.click("section[aria-labelledby=rejected-h] button.danger")  # 破棄する
    assert "破棄" in page.inner_text("#confirm")
    page.click("#confirm button[value=ok]")
    page.wait_for_selector("#sync-bar[data-rejected='0']")
    page.wait_for_selector("section[aria-labelledby=rejected-h] >> text=ありません")
    assert count_rows(live_server, SafetyCheck) == 0

    page.goto("/app/#/people")  # once more, and this time fixed: the sheet opens again for the person
    person_id = page.get_attribute("li.person", "data-id")
    page.click(f"li.person[data-id='{person_id}'] button.check")
    page.fill("#safety-note", "ベランダから声かけ")
    page.click("#sheet button[data-outcome='needs_help']")
    page.wait_for_selector("#sync-bar[data-rejected='1']")
    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc))
    page.goto("/app/#/sync")
    page.click("section[aria-labelledby=rejected-h] a.button")
    page.wait_for_selector("#sheet[open]")
    assert page.input_value("#safety-note") == "ベランダから声かけ"
    page.click("#sheet button[data-outcome='needs_help']")
    wait_rows(live_server, SafetyCheck, 1, person_id=uuid.UUID(person_id), note="ベランダから声かけ")
    page.wait_for_selector("#sync-bar[data-rejected='0'][data-pending='0']")
    assert not page.errors
    context.close()


def test_offline_window_locks_and_keeps_unsent_records(live_server, browser):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    context.set_offline(True)
    page.click("li.person button.check")
    page.click("#sheet button[data-outcome='unreachable']")
    page.wait_for_selector("#sync-bar[data-pending='1']")

    page.clock.set_system_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=73))  # past the 72 hours
    page.goto("/app/#/sync")
    page.wait_for_selector("#signin-password")
    assert "オフラインで使える期限" in page.inner_text("main")
    assert page.input_value("#signin-username") == user.username
    assert not page.query_selector("li.person")
    expect_pending(page, 1)

    context.set_offline(False)
    page.fill("#signin-password", "correct horse battery staple")
    page.click("form button[type=submit]")
    wait_rows(live_server, SafetyCheck, 1, outcome="unreachable")
    wait_synced(page)
    assert not page.errors
    context.close()


def test_update_available_then_applied(live_server, browser):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    first = page.evaluate("() => caches.keys()")
    live_server.factory = "tests.browser.pwa_helpers:create_upgraded_app"  # a new version is deployed
    live_server.restart()
    page.evaluate("async () => { const reg = await navigator.serviceWorker.getRegistration('/app/'); await reg.update(); }")
    page.wait_for_selector("#banner:not([hidden]) #update-now")
    assert "新しいバージョン" in page.inner_text("#banner")
    with page.expect_navigation():
        page.click("#update-now")
    page.wait_for_selector("li.person")
    page.wait_for_function("async () => (await caches.keys()).some(k => k.includes('upgraded-'))")
    later = page.evaluate("() => caches.keys()")
    assert len(first) == 1 and len(later) == 1 and later != first  # the old cache is gone
    assert not page.errors
    context.close()
