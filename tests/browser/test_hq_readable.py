"""The HQ map readable at a glance (/hq) at three screen sizes in Debian's Chromium: shelters on
top of people and 30 px across, overflow and unknown occupancy drawn so nobody misses them, the
district choropleth as the first view (people points only when zoomed in or asked for), the
legend open on the first visit, and the decision strip counting a hand-built situation right.
Screenshots go to test-artifacts/hq-readable-*.png."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from server.models import District, DwatRequest, Person, SafetyCheck, Shelter
from server.models.vocab import ShelterKind
from tests.browser.conftest import PASSWORD
from tests.factories import now_jst
from tests.hq_situation import add_situation

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
TILES = re.compile(r"^https?://(?!127\.0\.0\.1)")
SIZES = {"desktop": (1280, 800), "tablet": (800, 1280), "phone": (390, 844)}
CONFIRMED = {"safe_home", "evacuated", "needs_help", "injured"}  # docs/hq-map.md: 連絡つかず confirms nothing
PALETTE = {"overflow": (0xB0, 0x00, 0x20), "unknown": (0x8A, 0x8A, 0x8A)}


@pytest.fixture
def artifacts() -> Path:
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def hand_built(live_server):
    """The demo city's situation (seed 7) plus, by hand: two shelters over capacity, one
    reported unusable, one that never reported, two open DWAT requests and one closed."""
    add_situation(live_server.engine, seed=7)
    staff = live_server.add_user("welfare_staff")
    token = live_server.token(staff.username)
    with live_server.session() as s:
        welfare = s.exec(select(Shelter).where(Shelter.kind != ShelterKind.designated, Shelter.capacity.is_not(None))
                         .order_by(Shelter.name)).all()
        never = s.exec(select(Shelter).where(Shelter.kind == ShelterKind.designated).order_by(Shelter.name)).first()
    over = {welfare[0].id: 7, welfare[1].id: 2}
    for shelter in welfare[:2]:
        status, body = live_server.request("POST", "/api/shelter-reports", token, {
            "shelter_id": str(shelter.id), "open_state": "full", "occupancy": shelter.capacity + over[shelter.id],
            "observed_at": now_jst(1)})
        assert status == 201, body
    unusable = welfare[2]
    status, body = live_server.request("POST", "/api/shelter-reports", token, {
        "shelter_id": str(unusable.id), "open_state": "closed", "occupancy": 0, "damage": "unusable",
        "observed_at": now_jst(1)})
    assert status == 201, body
    with live_server.session() as s:
        # The demo city has open requests of its own (its DWAT disaster in progress).
        already_open = len(s.exec(select(DwatRequest).where(DwatRequest.state == "open")).all())
        for shelter, state in [(welfare[3], "open"), (welfare[4], "open"), (welfare[5], "closed")]:
            s.add(DwatRequest(shelter_id=shelter.id, needs=["介護福祉士2名"], state=state))
        s.commit()
    return {"overflow": {str(k): v for k, v in over.items()}, "unusable": str(unusable.id),
            "never": str(never.id), "requests": already_open + 2}


def unconfirmed_by_district(live_server) -> dict[str, int]:
    """District name → people whose latest check (by observed time) confirms nothing, counted here
    from the rows themselves, not from the server's tallies."""
    with live_server.session() as s:
        names = {d.id: d.name for d in s.exec(select(District)).all()}
        people = s.exec(select(Person.id, Person.district_id)).all()
        latest: dict = {}
        for person_id, outcome, observed in s.exec(select(SafetyCheck.person_id, SafetyCheck.outcome,
                                                          SafetyCheck.observed_at)).all():
            if person_id not in latest or observed > latest[person_id][1]:
                latest[person_id] = (outcome, observed)
    counts: Counter = Counter()
    for person_id, district_id in people:
        outcome = latest.get(person_id, (None,))[0]
        if district_id in names and getattr(outcome, "value", outcome) not in CONFIRMED:
            counts[names[district_id]] += 1
    return dict(counts)


@pytest.fixture
def open_hq(browser, live_server):
    contexts = []

    def make(size: tuple[int, int], bypass_csp: bool = False):
        user = live_server.add_user("hq_viewer")
        context = browser.new_context(base_url=live_server.url, viewport={"width": size[0], "height": size[1]},
                                      locale="ja-JP", bypass_csp=bypass_csp)
        contexts.append(context)
        answer = context.request.post("/auth/login", data={"username": user.username, "password": PASSWORD})
        assert answer.ok, answer.text()
        context.route(TILES, lambda route: route.abort())
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        load(page)
        return page

    yield make
    for context in contexts:
        context.close()


def load(page) -> None:
    page.goto("/hq")
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)


def js(page, expression: str, arg=None):
    return page.evaluate(f"(arg) => {{ const {{ map, store, layers }} = window.tsunaguHq; return {expression}; }}", arg)


def shelter_pixels(page, shelter_id: str, zoom: int | None = None) -> dict:
    """Centre the map on a shelter and read its canvas: the symbol's width across its middle
    row, the colour right of its occupancy bar and the colours inside the bar."""
    page.evaluate("""([id, zoom]) => { const { map, store } = window.tsunaguHq; const s = store.shelters.get(id);
                      map.setView([s.lat, s.lon], zoom ?? map.getZoom(), { animate: false }); }""", [shelter_id, zoom])
    return page.evaluate("""(id) => {
        const { map, store, layers } = window.tsunaguHq;
        const s = store.shelters.get(id);
        const canvas = layers.shelters._canvas;
        const ratio = window.devicePixelRatio || 1;
        // The canvas begins `pad` beyond the container's top left (canvas-layer.js).
        const pad = map.getSize().multiplyBy(0.25).round();
        const pt = map.latLngToContainerPoint([s.lat, s.lon]);
        const cx = (pt.x + pad.x) * ratio, cy = (pt.y + pad.y) * ratio;
        const ctx = canvas.getContext("2d");
        const alpha = (x, y) => ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data[3];
        let left = cx, right = cx;
        while (alpha(left - 1, cy) > 0 && cx - left < 80 * ratio) left -= 1;
        while (alpha(right + 1, cy) > 0 && right - cx < 80 * ratio) right += 1;
        const pixel = (dx, dy) => Array.from(ctx.getImageData(Math.round(cx + dx * ratio), Math.round(cy + dy * ratio), 1, 1).data);
        const bar = [];
        for (let dx = -16; dx <= 16; dx += 1) bar.push(pixel(dx, 15 + 3 + 3.5));
        return { width: (right - left + 1) / ratio, pastBar: pixel(18 + 3, 15 + 3 + 3.5), bar };
    }""", shelter_id)


def near(rgba, rgb, tolerance=24) -> bool:
    return rgba[3] > 200 and all(abs(a - b) <= tolerance for a, b in zip(rgba, rgb))


@pytest.mark.parametrize("size", list(SIZES))
def test_readable_at_a_glance(open_hq, live_server, hand_built, artifacts, size):
    page = open_hq(SIZES[size], bypass_csp=True)
    page.screenshot(path=str(artifacts / f"hq-readable-{size}.png"), full_page=False)

    # Shelters' pane sits above the people's (and DWAT above both), by computed z-index.
    panes = js(page, """Object.fromEntries(["districts", "people", "shelters", "dwat"].map((n) =>
        [n, Number(getComputedStyle(map.getPane(n)).zIndex)]))""")
    assert panes["districts"] < panes["people"] < panes["shelters"] < panes["dwat"], panes

    # The first view: the district choropleth, no people clusters.
    assert js(page, "map.hasLayer(layers.districts) && !map.hasLayer(layers.people)") is True
    assert js(page, "map.getZoom()") < js(page, "16")
    fills = js(page, "layers.districts.getLayers().map((l) => l.options.fillColor)")
    assert len(set(fills)) >= 2, fills  # shaded by share, not one colour

    # A shelter is 30 px across at the default zoom (≥ 28), overflow is a red bar past the end.
    over_id, _ = max(hand_built["overflow"].items(), key=lambda kv: kv[1])
    drawn = shelter_pixels(page, over_id)
    assert drawn["width"] >= 28, drawn["width"]
    assert near(drawn["pastBar"], PALETTE["overflow"]), drawn["pastBar"]
    # A shelter that never reported: a hatched bar (grey stripes on white), not an empty one (= 0).
    unknown = shelter_pixels(page, hand_built["never"], zoom=15)  # still the choropleth; neighbours apart
    assert any(near(p, PALETTE["unknown"], 40) for p in unknown["bar"]), unknown["bar"]
    assert any(near(p, (255, 255, 255), 8) for p in unknown["bar"])
    assert "不明 /" in page.locator(f"tr[data-shelter='{hand_built['never']}']").inner_text()
    assert not near(unknown["pastBar"], PALETTE["overflow"])

    # The legend is open on the first visit.
    assert page.locator("#legend-box").get_attribute("open") is not None
    assert page.locator("#legend-box [data-legend='legend.shelters'] li").count() >= 8

    # The decision strip counts the hand-built situation.
    strip = page.locator("#decisions")
    assert strip.locator("[data-decision='overflow'] button").get_attribute("data-count") == "2"
    assert strip.locator("[data-decision='unusable'] button").get_attribute("data-count") == "1"
    assert strip.locator("[data-decision='requests'] button").get_attribute("data-count") == str(hand_built["requests"])
    expected = unconfirmed_by_district(live_server)
    shown = strip.locator("[data-decision='unconfirmed'] button")
    assert shown.count() == 3
    top = sorted(expected.values(), reverse=True)[:3]
    assert [int(shown.nth(i).get_attribute("data-count")) for i in range(3)] == top
    for i in range(3):
        name = shown.nth(i).locator(".name").inner_text()
        assert expected[name] == int(shown.nth(i).get_attribute("data-count")), name

    # axe: no violations outside the map canvas (the decision strip and the open legend included).
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run({ exclude: [["#map"]] }, { resultTypes: ["violations"] });
        return { passed: r.passes.length, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact,
                 help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })) };
    }""")
    assert result["violations"] == [], json.dumps(result["violations"], ensure_ascii=False, indent=1)
    assert result["passed"] >= 20
    assert page.errors == []


def test_decision_figures_take_the_map_there(open_hq, live_server, hand_built):
    page = open_hq(SIZES["desktop"])
    page.wait_for_selector("body[data-live='open']", timeout=10_000)
    # A new DWAT request arrives live and is counted at once.
    token = live_server.token(live_server.add_user("welfare_staff").username)
    status, body = live_server.request("POST", "/api/dwat-requests", token, {
        "shelter_id": hand_built["never"], "needs": ["看護師1名"]})
    assert status == 201, body
    page.wait_for_selector(f"[data-decision='requests'] button[data-count='{hand_built['requests'] + 1}']",
                           timeout=10_000)
    page.locator("[data-decision='overflow'] button").click()
    # Two shelters: the map fits them both.
    page.wait_for_function("""(ids) => { const { map, store } = window.tsunaguHq;
        return ids.every((id) => { const s = store.shelters.get(id); return map.getBounds().contains([s.lat, s.lon]); }); }""",
                           arg=list(hand_built["overflow"]))
    page.locator("[data-decision='unusable'] button").click()
    popup = page.locator(".leaflet-popup")
    popup.wait_for()
    assert "使用不可" in popup.inner_text()
    first = page.locator("[data-decision='unconfirmed'] button").first
    name = first.locator(".name").inner_text()
    first.click()
    page.wait_for_function("(name) => document.querySelector('.leaflet-popup')?.innerText.includes(name)", arg=name)
    assert page.errors == []


def test_people_points_only_when_zoomed_in_or_asked_for(open_hq):
    page = open_hq(SIZES["desktop"])
    assert js(page, "map.hasLayer(layers.people)") is False
    js(page, "map.setZoom(16, { animate: false })")
    page.wait_for_function("() => { const { map, layers } = window.tsunaguHq; return map.hasLayer(layers.people) "
                           "&& layers.people._drawnClusters > 0; }")
    js(page, "map.setZoom(13, { animate: false })")
    page.wait_for_function("() => !window.tsunaguHq.map.hasLayer(window.tsunaguHq.layers.people)")

    # Asked for: clusters at any zoom, and the choice survives a reload.
    page.get_by_label("要配慮者（安否）の点を常に表示").check()
    page.wait_for_function("() => { const { map, layers } = window.tsunaguHq; return map.hasLayer(layers.people) "
                           "&& layers.people._drawnClusters > 0; }")
    assert js(page, "layers.people.shown") == 300
    page.reload()
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)
    assert js(page, "map.getZoom() < 16 && map.hasLayer(layers.people)") is True
    assert page.errors == []


def test_legend_stays_closed_once_closed(open_hq):
    page = open_hq(SIZES["phone"])
    legend = page.locator("#legend-box")
    assert legend.get_attribute("open") is not None
    legend.locator("summary").click()
    page.wait_for_function("() => !document.getElementById('legend-box').open")
    page.reload()
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)
    assert legend.get_attribute("open") is None
    assert page.errors == []
