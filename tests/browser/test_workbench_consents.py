"""The reply-entry screen for 同意確認書 slips in a real browser at 1280×800: the code typed (or
scanned, ending with Enter), the answers chosen with the keyboard, saved, and straight on to the
next slip; a reply dated in the future is refused with nothing saved; axe finds no violations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from server.domain.japan_time import today_jst
from server.models import PersonConsent, ShareHandover
from server.printing.consent_letters import slip_code
from tests import factories
from tests.browser.conftest import ROOT
from tests.browser.pwa_helpers import assert_no_axe, office_page


@pytest.fixture
def staff_page(live_server, browser):
    staff = live_server.add_user("welfare_staff")
    context, page = office_page(browser, live_server, staff, "/workbench/consents")
    page.staff = staff
    yield page
    context.close()




def _answers(live_server, person_id) -> set:
    with live_server.session() as s:
        rows = s.exec(select(PersonConsent).where(PersonConsent.person_id == person_id)).all()
        return {(r.recipient, r.answer, r.method, r.answered_on.isoformat()) for r in rows}


def test_record_reply_slips_with_the_keyboard(live_server, staff_page):
    page = staff_page
    token = live_server.token(page.staff.username)
    made = []
    for n in (1, 2):
        status, person = live_server.request("POST", "/api/people", token, factories.person(
            register_no=f"CONSENT-{n}", name=f"返信 太郎{n}", consent="not_asked", consent_date=None))
        assert status == 201, person
        made.append(person)
    assert_no_axe(page)
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / "workbench-consent-replies.png"), full_page=True)

    # the code field has the focus; a scanner types the code and ends with Enter: on to the answers
    import uuid
    first = made[0]
    assert page.evaluate("document.activeElement.id") == "f-code"
    page.keyboard.type(slip_code(first["register_no"], uuid.UUID(first["id"])))
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "c_minsei"
    page.keyboard.press("Space")  # 民生委員: 同意
    page.check("#c-fire-yes")
    page.check("#c-police-no")
    page.click("#reply-save")
    page.wait_for_selector("#reply-saved")
    assert "返信 太郎1" in page.locator("#reply-saved").inner_text()
    assert page.evaluate("document.activeElement.id") == "f-code"  # ready for the next slip
    today = today_jst().isoformat()
    assert _answers(live_server, uuid.UUID(first["id"])) == {
        ("minsei", "consented", "written", today), ("fire", "consented", "written", today),
        ("police", "refused", "written", today)}
    assert_no_axe(page)

    # the next slip: everyone refused, with the button; a date in the future is refused first
    second = made[1]
    page.keyboard.type(second["register_no"])
    page.click("button[data-all=refused]")
    page.fill("#f-answered_on", (today_jst() + timedelta(days=3)).isoformat())
    page.click("#reply-save")
    # the browser itself refuses the date (max = today) …
    assert page.eval_on_selector("#f-answered_on", "e => e.validity.rangeOverflow") is True
    assert _answers(live_server, uuid.UUID(second["id"])) == set()
    # … and so does the server, for a browser that does not check it
    page.eval_on_selector("#f-answered_on", "e => e.removeAttribute('max')")
    page.click("#reply-save")
    page.wait_for_selector("#reply-errors")
    assert page.locator("[data-field=answered_on]").count() == 1
    assert _answers(live_server, uuid.UUID(second["id"])) == set()
    assert page.input_value("#f-code") == second["register_no"]  # nothing typed is lost
    assert_no_axe(page)
    page.fill("#f-answered_on", today)
    page.click("#reply-save")
    page.wait_for_selector("#reply-saved")
    assert len(_answers(live_server, uuid.UUID(second["id"]))) == 7
    assert {a[1] for a in _answers(live_server, uuid.UUID(second["id"]))} == {"refused"}

    page.goto("/workbench/consents?lang=en")
    page.wait_for_selector("html[lang=en]")
    assert_no_axe(page)
    page.goto("/workbench/sharing")
    assert_no_axe(page)


def test_the_print_page_names_the_recipient_of_a_print(live_server, staff_page):
    """On /print the office chooses for whom (Art. 49-11): the PDF links and the batch carry it."""
    page = staff_page
    page.goto("/print")
    page.wait_for_selector("#share-form")
    assert_no_axe(page)
    page.select_option("#share-recipient", "fire")
    page.fill("#share-name", "東消防署")
    link = page.locator("a[data-share]").first.get_attribute("href")
    assert "recipient=fire" in link and "recipient_name=" in link
    answer = page.request.get(link)
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    with live_server.session() as s:
        handover = s.exec(select(ShareHandover).where(ShareHandover.recipient_name == "東消防署")).one()
    assert handover.recipient == "fire" and handover.handed_by == page.staff.username
    page.select_option("#share-recipient", "")
    assert "recipient=" not in page.locator("a[data-share]").first.get_attribute("href")
