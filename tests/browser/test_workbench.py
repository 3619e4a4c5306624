"""The workbench screens in a real browser at 1280×800: register search, a plan authored from
nothing, a 409 merge where another session saved meanwhile, and axe on each screen.
Screenshots go to test-artifacts/workbench-*.png for people to look at."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlmodel import select

from server.domain.japan_time import today_jst
from server.models import EvacuationPlan, Person
from tests import factories
from tests.browser.conftest import ROOT
from tests.browser.pwa_helpers import assert_no_axe, office_page


@pytest.fixture
def artifacts():
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def staff_page(live_server, browser):
    staff = live_server.add_user("welfare_staff")
    context, page = office_page(browser, live_server, staff, "/workbench")
    page.staff = staff
    yield page
    context.close()




def _hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def test_search_the_register(live_server, staff_page, artifacts):
    page = staff_page
    with live_server.session() as s:
        person = s.exec(select(Person).where(Person.name_kana != "").order_by(Person.register_no)).first()
    kana = _hiragana(person.name_kana.split()[0] if " " in person.name_kana else person.name_kana[:3])
    page.fill("#f-kana", kana)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#wb-results")
    assert person.register_no in page.locator("#wb-results").inner_text()
    assert re.search(r"\d+", page.locator("#wb-count").inner_text())
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-register.png"))
    page.click(f"#wb-results a[href='/workbench/people/{person.id}']")
    page.wait_for_selector("#h-plan")
    assert person.register_no in page.content()
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-person.png"), full_page=True)
    page.click("a[hreflang=en]")
    page.wait_for_selector("html[lang=en]")
    assert_no_axe(page)


def test_author_a_plan_from_nothing(live_server, staff_page, artifacts):
    page = staff_page
    token = live_server.token(page.staff.username)
    status, person = live_server.request("POST", "/api/people", token, factories.person(
        register_no="WB-NEW-1", name="新規 幸子", name_kana="しんき さちこ"))
    assert status == 201, person
    page.goto(f"/workbench/people/{person['id']}")
    assert "計画はまだありません" in page.content()
    page.click("#edit-plan")
    page.wait_for_selector("#p-destination_shelter_id")
    assert_no_axe(page)
    page.fill("#p-s1_name", "新規 太一")
    page.fill("#p-s1_relation", "長男")
    page.fill("#p-s1_phone", "090-1111-2222")
    first_allowed = page.locator("#p-destination_shelter_id option:not([disabled]):not([value=''])").first
    destination = first_allowed.get_attribute("value")
    page.select_option("#p-destination_shelter_id", destination)
    page.fill("#p-timing_note", "高齢者等避難で避難開始")
    page.check("#p-consent")
    page.fill("#p-consent_date", today_jst().isoformat())
    page.fill("#p-author", "福祉課 試験")
    page.select_option("#p-status", "done")
    page.screenshot(path=str(artifacts / "workbench-plan-form.png"), full_page=True)
    page.click("#save-plan")
    page.wait_for_selector("#saved")
    assert_no_axe(page)
    with live_server.session() as s:
        plan = s.exec(select(EvacuationPlan).where(EvacuationPlan.person_id == uuid.UUID(person["id"]))).one()
    assert plan.status == "done" and str(plan.destination_shelter_id) == destination
    assert plan.supporters[0]["name"] == "新規 太一" and plan.timing_note == "高齢者等避難で避難開始"


def test_a_409_becomes_a_merge_and_nothing_typed_is_lost(live_server, staff_page, artifacts):
    page = staff_page
    with live_server.session() as s:
        plan = s.exec(select(EvacuationPlan).where(EvacuationPlan.status == "drafting")
                      .order_by(EvacuationPlan.id)).first()
    page.goto(f"/workbench/people/{plan.person_id}/plan")
    page.wait_for_selector("#p-route_note")
    page.fill("#p-route_note", "裏の坂道を通って公民館へ")
    page.fill("#p-care-allergies", "そば")
    # another session saves meanwhile
    token = live_server.token(page.staff.username)
    status, _ = live_server.request("PATCH", f"/api/plans/{plan.id}", token,
                                    {"version": plan.version, "route_note": "表通りを通る"})
    assert status == 200
    page.click("#save-plan")
    page.wait_for_selector("#conflict")
    assert page.evaluate("document.body.dataset.status") == "409"
    table = page.locator(".wb-merge").inner_text()
    assert "表通りを通る" in table and "裏の坂道を通って公民館へ" in table and "そば" in table
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-merge.png"), full_page=True)
    page.click("#save-merge")
    page.wait_for_selector("#saved")
    with live_server.session() as s:
        stored = s.get(EvacuationPlan, plan.id)
    assert stored.route_note == "裏の坂道を通って公民館へ" and stored.care["allergies"] == "そば"
    assert stored.version == plan.version + 2


def test_new_person_from_the_register_page(live_server, staff_page, artifacts):
    page = staff_page
    page.click("#new-person")
    page.wait_for_selector("#e-register_no")
    assert_no_axe(page)
    page.fill("#e-register_no", "WB-NEW-2")
    page.fill("#e-municipality_code", "132144")
    page.fill("#e-name", "登録 花")
    page.fill("#e-name_kana", "とうろく はな")
    page.fill("#e-birth_date", "1941-02-03")
    page.fill("#e-address", "東京都国分寺市本町1-1")
    page.check("#e-reasons-care_level_3plus")
    page.check("#e-care_needs-wheelchair")
    page.fill("#e-birth_date", "2999-01-01")  # a mistake first: refused, nothing lost
    page.click("#save-person")
    page.wait_for_selector("#err-birth_date")
    assert page.input_value("#e-name") == "登録 花" and page.is_checked("#e-care_needs-wheelchair")
    page.fill("#e-birth_date", "1941-02-03")
    page.click("#save-person")
    page.wait_for_selector("#h-plan")
    assert "/workbench/people/" in page.url and "WB-NEW-2" in page.content()
    page.screenshot(path=str(artifacts / "workbench-new-person.png"), full_page=True)
    with live_server.session() as s:
        person = s.exec(select(Person).where(Person.register_no == "WB-NEW-2")).one()
    assert person.care_needs == ["wheelchair"] and person.reasons == ["care_level_3plus"]
