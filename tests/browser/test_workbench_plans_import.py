"""Plans in bulk on the workbench, in a real browser at 1280×800: upload a plan CSV, read the
dry run's report (a bad file: every row named, no apply button), then a good file: apply, and
the plan is saved through the records layer (version + 1). axe finds no violations on each step.
Screenshots go to test-artifacts/workbench-plans-import-*.png."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from server.models import EvacuationPlan, Person
from tests.browser.conftest import ROOT
from tests.browser.pwa_helpers import assert_no_axe, office_page

HEADER = "登録者番号,支援者1氏名,支援者1続柄,支援者1電話,避難のタイミング\r\n"


@pytest.fixture
def staff_page(live_server, browser):
    staff = live_server.add_user("welfare_staff")
    context, page = office_page(browser, live_server, staff, "/workbench/plans/import")
    page.staff = staff
    yield page
    context.close()




def _upload(page, text: str) -> None:
    data = text.encode("utf-8-sig")
    page.set_input_files("#f-file", files=[{"name": "plans.csv", "mimeType": "text/csv", "buffer": data}])
    page.click("form[data-wb-upload] button[type=submit]")
    # The answer replaces <main>; the report names the file it checked by its SHA-256.
    page.wait_for_selector(f"#import-report[data-digest='{hashlib.sha256(data).hexdigest()}']")


def test_upload_dry_run_then_apply(live_server, staff_page):
    page = staff_page
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with live_server.session() as s:
        person, plan = s.exec(select(Person, EvacuationPlan).join(EvacuationPlan, EvacuationPlan.person_id == Person.id)
                              .order_by(Person.register_no)).first()
    assert_no_axe(page)
    # the export link works with the page's sign-in (the session cookie), as a download
    exported = page.request.get(page.locator("#export-plans").get_attribute("href"))
    assert exported.ok and exported.body().decode("utf-8-sig").startswith("登録者番号,氏名,支援者1氏名")

    _upload(page, HEADER + "NO-SUCH-1,,,,\r\n" + f"{person.register_no},近所 一郎,近隣住民,,\r\n")
    errors = page.locator("#import-errors").inner_text()
    assert "名簿にありません" in errors and "電話番号" in errors
    assert page.locator("#apply-form").count() == 0  # all or nothing: nothing to apply
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-plans-import-errors.png"), full_page=True)

    good = HEADER + f"{person.register_no},近所 一郎,近隣住民,090-1234-5678,高齢者等避難で家族と避難\r\n"
    _upload(page, good)
    assert page.locator("#count-updated").inner_text() == "1"
    assert page.locator("#import-report").get_attribute("data-applied") == "false"
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-plans-import-dry-run.png"), full_page=True)
    with live_server.session() as s:
        assert s.get(EvacuationPlan, plan.id).version == plan.version  # the dry run wrote nothing

    page.click("#apply-form button[type=submit]")
    page.wait_for_selector("#import-report[data-applied=true]")
    assert "取り込みました" in page.locator("#import-status").inner_text()
    assert_no_axe(page)
    page.screenshot(path=str(artifacts / "workbench-plans-import-applied.png"), full_page=True)
    with live_server.session() as s:
        saved = s.get(EvacuationPlan, plan.id)
        assert saved.version == plan.version + 1 and saved.timing_note == "高齢者等避難で家族と避難"
        assert saved.supporters[0]["name"] == "近所 一郎"
