"""The coverage page (支援のつながり) in a real browser at 1280×800, on a hand-built city of
three people: the whole city's numbers, a click through to the people behind a number, the
review list; axe finds no violations on each. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.domain.japan_time import today_jst
from server.migrate import upgrade
from tests import factories
from tests.browser.conftest import ROOT, LiveServer
from tests.browser.pwa_helpers import assert_no_axe, office_page


@pytest.fixture
def small_city_server(tmp_path, request):
    """A server on an empty database with three people in one 町丁目 (no demo city)."""
    from server.db import make_engine

    path = tmp_path / "small.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    server = LiveServer(path, tmp_path / "server.log").start()
    admin = server.add_user("admin")
    token = server.token(admin.username)

    def create(kind, payload):
        status, body = server.request("POST", f"/api/{kind}", token, payload)
        assert status == 201, body
        return body

    area = create("districts", {"municipality_code": "132144", "code": "W1", "name": "北圏域", "kind": "welfare_area"})
    chome = create("districts", {"municipality_code": "132144", "code": "C1", "name": "戸倉一丁目", "kind": "chome",
                                 "parent_id": area["id"]})
    shelter = create("shelters", factories.shelter())
    today = today_jst()
    done = create("people", factories.person(register_no="BC-1", name="完了 一子", district_id=chome["id"]))
    nobody = create("people", factories.person(register_no="BC-2", name="未定 二郎", district_id=chome["id"]))
    draft = create("people", factories.person(register_no="BC-3", name="途中 三子", district_id=chome["id"]))
    create("plans", {"person_id": done["id"], "status": "done", "destination_shelter_id": shelter["id"],
                     "supporters": [{"name": "近所 一"}, {"name": "近所 二"}], "consent": True,
                     "consent_date": "2025-04-01", "review_due": (today + timedelta(days=90)).isoformat()})
    create("plans", {"person_id": draft["id"], "status": "drafting", "destination_shelter_id": shelter["id"],
                     "supporters": [{"name": "近所 三"}], "review_due": (today - timedelta(days=5)).isoformat()})
    server.people = {"BC-1": done, "BC-2": nobody, "BC-3": draft}
    yield server
    server.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"---- server log ----\n{server.log()[-20000:]}")




def test_coverage_numbers_and_a_click_through(small_city_server, browser):
    server = small_city_server
    staff = server.add_user("welfare_staff")
    context, page = office_page(browser, server, staff, "/workbench/coverage")
    try:
        page.wait_for_selector("#coverage")
        city = page.locator('#coverage tr[data-key="city"] td')
        shown = dict(zip([c.get_attribute("data-figure") or "" for c in page.locator(
            '#coverage tr[data-key="city"] td a').all()], [c.inner_text() for c in page.locator(
                '#coverage tr[data-key="city"] td a').all()]))
        assert shown == {"registered": "3", "consented": "3", "plan_not_started": "1", "plan_drafting": "1",
                         "plan_done": "1", "supporters_0": "1", "supporters_1": "1", "supporters_2plus": "1",
                         "review_overdue": "1"}
        assert city.count() == 17 and [c.inner_text() for c in city.all()].count("0") == 8
        area_row = page.locator("#coverage tbody tr").nth(1)
        assert "北圏域" in area_row.inner_text()
        folder = ROOT / "test-artifacts"
        folder.mkdir(exist_ok=True)
        page.screenshot(path=str(folder / "workbench-coverage.png"), full_page=True)
        assert_no_axe(page)

        page.click('#coverage tr[data-key="city"] a[data-figure="supporters_0"]')
        page.wait_for_selector("#coverage-people")
        assert page.locator("#wb-count strong").inner_text() == "1"
        assert page.locator("#coverage-people tbody tr").count() == 1
        assert "未定 二郎" in page.locator("#coverage-people").inner_text()
        assert_no_axe(page)

        page.click("#coverage-people a")  # on to the person's page
        page.wait_for_url(f"**/workbench/people/{server.people['BC-2']['id']}")

        page.goto("/workbench/reviews")
        page.wait_for_selector("#reviews")
        assert "途中 三子" in page.locator("#reviews").inner_text()
        assert page.locator("#reviews tbody tr").count() == 1
        assert_no_axe(page)
    finally:
        context.close()
