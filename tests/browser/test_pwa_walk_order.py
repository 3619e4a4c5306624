"""歩く順 on the field app (the field-app usability issue, item 1): every row has its address, the
list is in walking order — the same order as the printed 安否確認リスト, computed by the same
algorithm (pwa/js/walk-order.js here, server/domain/walk_order.py there) — or kana order, or
nearest first when the device knows where it is; the choice is kept; an offline district map
shows the people as numbered points. At 1280×800, 800×1280 and 390×844, with axe-core."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlmodel import select

from server.domain.walk_order import Point, district_start, walk_order
from server.models import District, Person
from tests.walk_cases import L_STREET, L_STREET_WALK, START, scattered

from .pwa_helpers import PHONE, TABLET, new_device, run_axe, sign_in
from .test_pwa_server_killed import supporter_for_one_area

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"tablet": TABLET, "portrait": {"width": 800, "height": 1280}, "phone": PHONE}

JS_WALK = """async ({ houses, start }) => {
  const m = await import('/app/js/walk-order.js');
  const points = houses.map(([key, lon, lat]) => ({ key, lon, lat }));
  return { walk: m.walkOrder(points, { lon: start[0], lat: start[1] }),
           centre: m.districtStart(null, points) };
}"""


def shot(page, name, size):
    folder = ROOT / "test-artifacts" / "walk-order"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{size}.png"))


def sections(page):
    """[(district id, [person ids in the list's order])] as the list shows them."""
    page.wait_for_function("() => document.querySelector('.people-list[data-placed]') && document.querySelectorAll('li.person').length > 0")
    return page.eval_on_selector_all("section.district", """secs => secs.map(s => [
      s.getAttribute('aria-labelledby').slice(2), [...s.querySelectorAll('li.person')].map(r => r.dataset.id)])""")


def expected_walk(server, ids, start=None):
    """The Python order of these people (the printout's algorithm), from `start` or the district centre."""
    with server.session() as session:
        people = session.exec(select(Person).where(Person.id.in_([uuid.UUID(i) for i in ids]))).all()
        district = session.get(District, people[0].district_id)
        points = [Point(p.register_no, p.lon, p.lat) for p in people]
        start = start or district_start((district.centroid_lon, district.centroid_lat), points)
        by_no = {p.register_no: str(p.id) for p in people}
    return [by_no[k] for k in walk_order(points, start)]


def test_the_device_and_the_printout_walk_in_the_same_order(live_server, browser):
    context, page = new_device(browser, live_server)
    page.goto("/app/")
    page.wait_for_selector("html[data-ready=true]")
    got = page.evaluate(JS_WALK, {"houses": L_STREET, "start": list(START)})
    assert got["walk"] == L_STREET_WALK
    for n, seed in ((60, 3), (500, 7), (1200, 11)):
        houses = scattered(n, seed)
        houses[5] = (houses[5][0], None, None)  # one without a position
        got = page.evaluate(JS_WALK, {"houses": houses, "start": [135.003, 35.0025]})
        assert got["walk"] == walk_order([Point(k, lon, lat) for k, lon, lat in houses], (135.003, 35.0025)), n
        assert tuple(got["centre"].values()) == district_start((None, None), [Point(k, lon, lat) for k, lon, lat in houses])
    assert not page.errors
    context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_list_walks_the_district_with_addresses_and_a_map(live_server, browser, size):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server, viewport=SIZES[size])
    sign_in(page, user.username)
    assert page.get_attribute(".people-list", "data-sort") == "walk"  # a 民生委員's default
    assert page.get_attribute("[data-sort='walk']", "aria-pressed") == "true"
    # Every row says where: the address.
    addresses = page.eval_on_selector_all("li.person", "rows => rows.map(r => (r.querySelector('.address') || {}).textContent || '')")
    assert addresses and all(a.strip() for a in addresses)
    shown = sections(page)
    for _, ids in shown:
        assert ids == expected_walk(live_server, ids)  # the printout's order, from the district centre
    numbers = page.eval_on_selector_all("li.person .seq", "els => els.map(e => parseInt(e.textContent))")
    assert numbers == list(range(1, len(numbers) + 1))
    assert not run_axe(page)
    shot(page, "walk", size)

    # あいうえお順, kept across a reload.
    page.click("[data-sort='kana']")
    page.wait_for_selector(".people-list[data-sort='kana']")
    page.reload()
    page.wait_for_selector(".people-list[data-sort='kana'][data-placed]")
    assert page.get_attribute("[data-sort='kana']", "aria-pressed") == "true"
    assert page.eval_on_selector_all("section.district", """secs => secs.every(s => {
      const k = [...s.querySelectorAll('li.person .kana')].map(e => e.textContent);
      return k.length > 1 && k.every((x, i) => i === 0 || k[i - 1].localeCompare(x, 'ja') <= 0); })""")
    assert not page.query_selector("li.person .seq")  # numbers are the walk's, not shown in kana order
    page.click("[data-sort='walk']")
    page.wait_for_selector(".people-list[data-sort='walk']")

    # The district map, drawn offline from the stored outlines: numbered people, shelters.
    context.set_offline(True)
    page.click("#map-details summary")
    page.wait_for_selector("svg#district-map")
    assert page.text_content("svg#district-map title#map-title")
    stops = page.eval_on_selector_all("svg#district-map g.stop text", "els => els.map(e => parseInt(e.textContent))")
    assert sorted(stops) == stops and len(stops) == len(numbers)
    assert page.eval_on_selector_all("svg#district-map polygon.outline", "els => els.length") >= 1
    assert not run_axe(page)
    shot(page, "map", size)
    # Tapping the map starts the walk from there.
    box = page.eval_on_selector("svg#district-map", "el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; }")
    page.click("svg#district-map", position={"x": box[0] * 0.15, "y": box[1] * 0.15})
    page.wait_for_function("() => (JSON.parse(sessionStorage.getItem('tsunagu.people')) || {}).start")
    start = json.loads(page.evaluate("() => sessionStorage.getItem('tsunagu.people')"))["start"]
    assert start["kind"] == "point"
    page.wait_for_function("() => document.querySelector('#walk-start') && document.querySelector('#walk-start').value === 'point'")
    for _, ids in sections(page):
        assert ids == expected_walk(live_server, ids, (start["lon"], start["lat"]))
    assert not page.errors
    context.close()


def test_nearest_first_when_the_device_knows_where_it_is(live_server, browser):
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server, viewport=PHONE)
    sign_in(page, user.username)
    assert page.is_disabled("[data-sort='near']")  # no position yet
    shown = sections(page)
    first_ids = shown[0][1]
    with live_server.session() as session:
        someone = session.get(Person, uuid.UUID(first_ids[-1]))
        here = (someone.lon, someone.lat)
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": here[0], "latitude": here[1]})
    page.click("#use-position")
    page.wait_for_selector("[data-sort='near']:not([disabled])")
    # Walking now starts from where the device is.
    page.wait_for_function("(id) => document.querySelector('li.person').dataset.id === id", arg=first_ids[-1])
    for _, ids in sections(page):
        assert ids == expected_walk(live_server, ids, here)
    page.click("[data-sort='near']")
    page.wait_for_selector(".people-list[data-sort='near']")
    ids = sections(page)[0][1]
    assert ids[0] == first_ids[-1]  # the person whose door the device stands at
    with live_server.session() as session:
        people = {str(p.id): p for p in session.exec(select(Person).where(Person.id.in_([uuid.UUID(i) for i in ids]))).all()}
    import math
    dist = [math.hypot((people[i].lon - here[0]) * math.cos(math.radians(here[1])), people[i].lat - here[1]) for i in ids]
    assert dist == sorted(dist)
    assert not run_axe(page)
    assert not page.errors
    context.close()


def test_two_cities_people_with_one_register_number_are_both_listed(live_server, browser):
    """Each municipality numbers its own register: a device of two cities may hold two people
    without a 町丁目 (one group) with one 登録者番号; the walk order keys them apart, so neither
    row is lost. (City B's person is put on the device as a sync of two cities would.)"""
    user = supporter_for_one_area(live_server)
    context, page = new_device(browser, live_server)
    sign_in(page, user.username)
    page.wait_for_selector("html[data-ready=true]")
    sections(page)
    ids = page.evaluate("""async () => {
      const { db } = await import('/app/js/sync.js');
      const [person] = await db.all('people');
      const out = [];
      for (const code of ['132144', '132985']) {
        const twin = { ...person, id: crypto.randomUUID(), municipality_code: code, district_id: null,
                       register_no: 'TWIN-1', name: `双子${code}`, lon: person.lon, lat: person.lat };
        await db.put('people', twin);
        out.push(twin.id);
      }
      return out;
    }""")
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    listed = dict(sections(page))
    assert sorted(listed.get("none", [])) == sorted(ids)
    assert not page.errors
    context.close()
