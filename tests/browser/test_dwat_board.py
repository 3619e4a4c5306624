"""The DWAT dispatch board (/dwat) in a real browser at 1280×800 on the demo city: open
requests with suggested teams, confirm one, see the new deployment in the table and in the
rotation chart (Gantt), and axe finds nothing. A screenshot goes to test-artifacts/dwat-board.png."""

from __future__ import annotations


import pytest
import sqlalchemy as sa

from server.models import DwatDeployment, DwatRequest
from tests.browser.conftest import ROOT
from tests.browser.pwa_helpers import assert_no_axe, office_page


@pytest.fixture
def board_page(live_server, browser):
    context, page = office_page(browser, live_server, live_server.add_user("welfare_staff"), "/dwat")
    yield page
    context.close()




def test_confirm_a_suggestion_and_see_the_deployment_and_the_gantt(live_server, board_page):
    page = board_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    accepted = page.locator("article.dwat-request[data-step=accepted]").first
    accepted.wait_for()
    request_id = accepted.get_attribute("data-request")
    site = accepted.locator("h4").inner_text().split("\n")[0].split(" 緊急度")[0].strip()
    first = accepted.locator("table.dwat-suggestions tbody tr").first
    team = first.locator("th[scope=row]").inner_text().strip()
    assert first.locator("ul.reasons li").count() >= 3  # the reasons are shown
    assert page.locator("#dwat-gantt .g-bar").count() > 0
    assert_no_axe(page)
    with live_server.session() as session:
        before = session.execute(sa.select(sa.func.count()).select_from(DwatDeployment)).scalar_one()

    first.locator("button.dwat-confirm").click()
    page.wait_for_selector(f"article[data-request='{request_id}']", state="detached")  # reloaded, no longer open

    row = page.locator("#dwat-deployments tbody tr", has_text=team).filter(has_text=site)
    assert row.count() == 1 and "派遣予定" in row.inner_text()
    assert page.locator("#dwat-gantt .g-bar title", has_text=team).count() >= 1
    with live_server.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(DwatDeployment)).scalar_one() == before + 1
        stored = session.get(DwatRequest, __import__("uuid").UUID(request_id))
        assert stored.step == "team_assigned" and stored.deployment_id is not None
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / "dwat-board.png"), full_page=True)
    assert_no_axe(page)
    assert errors == []


def test_accept_then_what_if(live_server, board_page):
    page = board_page
    requested = page.locator("article.dwat-request[data-step=requested]").first
    request_id = requested.get_attribute("data-request")
    requested.locator("button.dwat-accept").click()
    page.wait_for_selector(f"article[data-request='{request_id}'][data-step=accepted] button.dwat-confirm")
    page.click("#dwat-whatif button[type=submit]")
    page.wait_for_selector("#whatif-result h4")
    assert "離脱" in page.inner_text("#whatif-result")
    assert_no_axe(page)
