"""The HQ map (/hq) in Debian's Chromium: every layer draws with no internet (tiles blocked),
a shelter's new state arrives live without a reload, details follow the role, no axe
violations outside the map canvas. Writes test-artifacts/hq-map.png for people to look at."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlmodel import select

from server.models import DwatDeployment, DwatRequest, HazardArea, Person, Shelter
from server.models.vocab import ShelterKind
from tests.browser.conftest import PASSWORD
from tests.factories import now_jst
from tests.hq_situation import add_situation

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
TILES = re.compile(r"^https?://(?!127\.0\.0\.1)")  # anything not from the test server: no internet here


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/ (gitignored): what a person should look at after the run."""
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def situation(live_server):
    """The demo city (300 people) with safety checks, shelter reports, DWAT teams and a hazard area more."""
    result = add_situation(live_server.engine, seed=7)
    with live_server.session() as s:
        lons, lats = zip(*s.exec(select(Shelter.lon, Shelter.lat).where(Shelter.lon.is_not(None))).all())
        w, e, south, n = min(lons), max(lons), min(lats), max(lats)
        ring = [[w, south], [w + (e - w) / 3, south], [w + (e - w) / 3, south + (n - south) / 3], [w, south + (n - south) / 3],
                [w, south]]
        s.add(HazardArea(kind="flood", name="浸水想定区域（訓練用）", level="0.5–3.0m",
                         geometry={"type": "Polygon", "coordinates": [ring]}))
        s.commit()
    return result


@pytest.fixture
def signed_in(browser, live_server):
    """signed_in(role) -> a page of a new context signed in as a new user of that role; tiles
    from the internet are refused (there is none here). Contexts close before the server stops."""
    contexts = []

    def make(role: str, bypass_csp: bool = False, **fields):
        user = live_server.add_user(role, **fields)
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900},
                                      locale="ja-JP", bypass_csp=bypass_csp)
        contexts.append(context)
        answer = context.request.post("/auth/login", data={"username": user.username, "password": PASSWORD})
        assert answer.ok, answer.text()
        context.route(TILES, lambda route: route.abort())
        page = context.new_page()
        page.csrf = answer.json()["csrf_token"]
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        return page

    yield make
    for context in contexts:
        context.close()


def open_map(page):
    page.goto("/hq")
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)
    page.wait_for_selector("body[data-live='open']", timeout=10_000)
    return page


def js(page, expression: str):
    return page.evaluate(f"() => {{ const {{ map, store, layers }} = window.tsunaguHq; return {expression}; }}")


def test_every_layer_draws_without_internet(signed_in, live_server, situation, artifacts):
    page = open_map(signed_in("hq_viewer"))
    page.wait_for_selector("body[data-tiles='failing']")  # GSI tiles were refused …
    notice = page.locator("#notice")
    assert notice.is_visible() and "背景地図を読み込めません" in notice.inner_text()
    # People are the district choropleth at first (test_hq_readable.py); ask for the points too.
    page.get_by_label("要配慮者（安否）").check()
    # … and the project's own layers are all there.
    counts = js(page, """({
        layers: Object.fromEntries(Object.entries(layers).map(([k, l]) => [k, Boolean(l && map.hasLayer(l))])),
        people: layers.people.shown, shelters: layers.shelters.drawnCount, dwat: layers.dwat.drawnCount,
        districts: layers.districts.getLayers().length, hazards: layers.hazards.getLayers().length })""")
    assert all(counts["layers"].values()), counts
    assert counts["people"] == 300 and counts["shelters"] == 35 and counts["districts"] == 30
    with live_server.session() as s:
        hazard_areas = len(s.exec(select(HazardArea.id)).all())
        # the demo's own (two teams on site, one planned) and the situation's; one mark per shelter
        current = s.exec(select(DwatDeployment.shelter_id).where(DwatDeployment.state.in_(["planned", "active"]))).all()
        # shelters whose requests still wait for a team have a mark too (要請中)
        waiting = s.exec(select(DwatRequest.shelter_id).where(DwatRequest.state == "open")).all()
    assert len(current) == situation.deployments + 3
    assert set(waiting) - set(current)
    assert counts["dwat"] == len(set(current) | set(waiting)) >= 2 and counts["hazards"] == hazard_areas >= 1
    assert page.locator("#district-table tbody tr").count() == 30
    assert page.locator("#shelter-table tbody tr").count() == 35
    assert page.locator("dd[data-total='people']").inner_text() == "300人"
    assert page.locator("#live").get_attribute("data-state") == "open"
    assert page.locator("details.legend").get_attribute("open") is not None  # open on the first visit
    page.screenshot(path=str(artifacts / "hq-map.png"), full_page=False)
    # Zooming with the keyboard still works with no tiles.
    zoom = js(page, "map.getZoom()")
    page.locator("#map").focus()
    page.keyboard.press("+")
    page.wait_for_function(f"() => window.tsunaguHq.map.getZoom() > {zoom}")
    assert page.errors == []


def test_a_shelter_report_arrives_live_without_reload(signed_in, live_server, situation):
    page = open_map(signed_in("hq_viewer"))
    page.evaluate("() => { window.__sameDocument = true; }")
    with live_server.session() as s:
        shelter = s.exec(select(Shelter).where(Shelter.kind == ShelterKind.designated).order_by(Shelter.name)).first()
        person_id = s.exec(select(Person.id).order_by(Person.register_no)).first()
    row = page.locator(f"tr[data-shelter='{shelter.id}']")
    assert row.locator("td[data-state]").get_attribute("data-state") == "none"  # no report yet
    assert "不明 /" in row.inner_text()  # occupancy unknown, not 0

    staff = signed_in("welfare_staff")
    assert shelter.capacity  # more people than places: accepted, and shown as overflow
    answer = staff.request.post("/api/shelter-reports", headers={"X-CSRF-Token": staff.csrf}, data=json.dumps(
        {"shelter_id": str(shelter.id), "open_state": "full", "occupancy": shelter.capacity + 23,
         "observed_at": now_jst(1)}),
        )
    assert answer.status == 201, answer.text()
    page.wait_for_selector(f"tr[data-shelter='{shelter.id}'] td[data-state='full']", timeout=10_000)
    assert f"{shelter.capacity + 23} / {shelter.capacity}（+23人超過）" in row.inner_text()
    assert "満員" in row.inner_text() and row.locator("td[data-overflow='23']").count() == 1
    assert js(page, f"store.shelters.get('{shelter.id}').open_state") == "full"

    # A safety check moves the totals and the district tallies, too.
    unchecked = int(page.locator("dd[data-total='unchecked']").inner_text())
    was = js(page, f"store.people.status[store.people.index.get('{person_id}')]")
    answer = staff.request.post("/api/safety-checks", headers={"X-CSRF-Token": staff.csrf}, data=json.dumps(
        {"person_id": str(person_id), "outcome": "injured", "observed_at": now_jst(0)}))
    assert answer.status == 201, answer.text()
    expected = unchecked - 1 if was == 0 else unchecked
    page.wait_for_function(f"() => window.tsunaguHq.store.people.status["
                           f"window.tsunaguHq.store.people.index.get('{person_id}')] === 4")
    assert int(page.locator("dd[data-total='unchecked']").inner_text()) == expected
    assert page.evaluate("() => window.__sameDocument") is True  # no reload happened
    assert page.errors == []


def _click_a_person(page) -> None:
    """Zoom to a person away from shelters and click their dot."""
    point = page.evaluate("""() => {
        const { map, store } = window.tsunaguHq;
        const p = store.people;
        const shelters = [...store.shelters.values()];
        let best = -1, bestDistance = -1;
        for (let i = 0; i < p.ids.length; i += 1) {
            const d = Math.min(...shelters.map((s) => (s.lat - p.lat[i]) ** 2 + (s.lon - p.lon[i]) ** 2));
            if (d > bestDistance) { best = i; bestDistance = d; }
        }
        map.setView([p.lat[best], p.lon[best]], 18, { animate: false });
        const pt = map.latLngToContainerPoint([p.lat[best], p.lon[best]]);
        const box = map.getContainer().getBoundingClientRect();
        return { x: box.left + pt.x, y: box.top + pt.y, cx: pt.x, cy: pt.y };
    }""")
    # The canvas redraws on moveend: wait until the drawn dot is what a click there would hit.
    page.wait_for_function("""([x, y]) => {
        const hit = window.tsunaguHq.layers.people.hit({ x, y });
        return !!hit && hit.kind === "person";
    }""", arg=[point["cx"], point["cy"]], timeout=15_000)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector(".leaflet-popup .popup-fields", timeout=15_000)


def test_person_details_follow_the_role(signed_in, situation):
    hq = open_map(signed_in("hq_viewer"))
    _click_a_person(hq)
    text = hq.locator(".leaflet-popup").inner_text()
    assert "登録者番号" in text and "氏名" not in text and "住所" not in text

    office = open_map(signed_in("welfare_staff"))
    _click_a_person(office)
    text = office.locator(".leaflet-popup").inner_text()
    assert "登録者番号" in text and "氏名" in text and "住所" in text


def test_a_shelter_opens_from_the_panel_with_the_keyboard(signed_in, situation):
    page = open_map(signed_in("hq_viewer"))
    button = page.locator("#shelter-table tbody tr th button").first
    name = button.inner_text()
    button.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup")
    popup.wait_for()
    assert name in popup.inner_text() and "耐震" in popup.inner_text()


def test_filters_hide_layers_and_shelters(signed_in, situation):
    page = open_map(signed_in("hq_viewer"))
    page.get_by_label("要配慮者（安否）").check()  # people points are not the first view any more
    assert js(page, "map.hasLayer(layers.people)") is True
    page.select_option("#kind-filter", "welfare")
    assert page.locator("#shelter-table tbody tr").count() == 20
    assert js(page, "layers.shelters.drawnCount") == 20
    page.locator("#status-filter input").first.uncheck()  # 未確認
    unchecked = js(page, "store.people.status.filter((s) => s === 0).length")
    assert js(page, "layers.people.shown") == 300 - unchecked
    page.get_by_label("要配慮者（安否）").uncheck()
    assert js(page, "map.hasLayer(layers.people)") is False


def test_english_labels_on_request(signed_in, situation):
    page = open_map(signed_in("hq_viewer"))
    assert page.locator("h1").inner_text().endswith("本部マップ")
    page.click("#lang-toggle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "HQ map" in page.locator("h1").inner_text()
    assert page.locator("#district-table th").first.inner_text() == "District"
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator("html").get_attribute("lang") == "en"  # remembered


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_accessibility_violations_outside_the_map_canvas(signed_in, situation, lang):
    # axe is injected as an inline script, which the page's CSP (rightly) refuses: bypass it here only.
    page = open_map(signed_in("hq_viewer", bypass_csp=True))
    if lang == "en":
        page.click("#lang-toggle")
    assert page.locator("details.legend").get_attribute("open") is not None  # the legend is checked too
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run({ exclude: [["#map"]] }, { resultTypes: ["violations"] });
        return { passed: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact,
                 help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })) };
    }""")
    assert result["violations"] == [], json.dumps(result["violations"], ensure_ascii=False, indent=1)
    assert result["passed"] >= 20  # axe really looked at the page: tables, forms, landmarks, contrast …


def test_roles_without_hq_access_do_not_get_the_page(signed_in):
    page = signed_in("district_supporter")
    answer = page.goto("/hq")
    assert answer.status == 403
