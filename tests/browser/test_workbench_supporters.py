"""The supporter register in a real browser at 1280×800: create a supporter, link them to a plan
from the plan form's search-as-you-type, see their load on their page; axe on every new screen.
Screenshots go to test-artifacts/workbench-supporter-*.png."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from server.models import EvacuationPlan, SupporterRecord
from tests import factories
from tests.browser.conftest import ROOT
from tests.browser.pwa_helpers import assert_no_axe, office_page


@pytest.fixture
def staff_page(live_server, browser):
    staff = live_server.add_user("welfare_staff")
    context, page = office_page(browser, live_server, staff, "/workbench/supporters")
    page.staff = staff
    yield page
    context.close()




def test_create_a_supporter_link_them_from_the_plan_form_and_see_the_load(live_server, staff_page):
    page = staff_page
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.wait_for_selector("#wb-count")
    assert_no_axe(page)
    page.click("#new-supporter")
    page.wait_for_selector("#s-name")
    assert_no_axe(page)
    page.select_option("#s-kind", "jishubo")
    page.fill("#s-name", "試験町自主防災会 班長 防災 守")
    page.fill("#s-name_kana", "ぼうさい まもる")
    page.fill("#s-phone", "abc")  # a mistake first: refused, nothing lost
    page.select_option("#s-availability", "night_ok")
    page.click("#save-supporter")
    page.wait_for_selector("#err-phone")
    assert page.input_value("#s-name") == "試験町自主防災会 班長 防災 守"
    page.fill("#s-phone", "０９０－２２２２－３３３３")
    page.click("#save-supporter")
    page.wait_for_selector("#supporter-load")
    assert "090-2222-3333" in page.locator("#supporter-phone").inner_text()
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-supporter-page.png"), full_page=True)
    with live_server.session() as s:
        entry = s.exec(select(SupporterRecord).where(SupporterRecord.name_kana == "ぼうさい まもる")).one()

    token = live_server.token(page.staff.username)
    status, person = live_server.request("POST", "/api/people", token, factories.person(
        register_no=f"WB-SUP-{uuid.uuid4().hex[:4]}", name="支援 受子", name_kana="しえん うけこ"))
    assert status == 201, person
    page.goto(f"/workbench/people/{person['id']}/plan")
    page.wait_for_selector("#p-s1_search")
    page.fill("#p-s1_search", "ぼうさい")
    page.locator("#p-s1_results button").first.wait_for()
    assert "計画 0 件" in page.locator("#p-s1_results").inner_text()
    page.locator("#p-s1_results button").first.click()
    assert page.input_value("#p-s1_name") == "試験町自主防災会 班長 防災 守"
    assert page.input_value("#p-s1_supporter_id") == str(entry.id)
    page.fill("#p-s1_relation", "自主防災組織")
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-supporter-plan-form.png"), full_page=True)
    page.click("#save-plan")
    page.wait_for_selector("#saved")
    assert "計画 1 件" in page.locator("#p-s1_linked").inner_text()  # the load, shown on the form
    with live_server.session() as s:
        plan = s.exec(select(EvacuationPlan).where(EvacuationPlan.person_id == uuid.UUID(person["id"]))).one()
    assert plan.supporters[0]["supporter_id"] == str(entry.id)

    page.goto(f"/workbench/supporters/{entry.id}")
    page.wait_for_selector("#supporter-plans")
    assert page.locator("#supporter-load strong").inner_text() == "1"
    assert "支援 受子" in page.locator("#supporter-plans").inner_text()
    assert "日中は不在" in page.content()  # away by day: the plan may get no help in a daytime disaster
    page.goto("/workbench/supporters?overloaded=1")
    page.wait_for_selector("#wb-count")
    assert_no_axe(page)
    page.goto("/workbench/supporters/candidates")
    page.wait_for_selector("h1")
    assert_no_axe(page)
    page.goto(f"/workbench/supporters/{entry.id}/edit?lang=en")
    page.wait_for_selector("#s-name")
    assert_no_axe(page)
