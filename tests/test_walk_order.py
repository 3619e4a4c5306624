"""The walking order (歩く順): the printed 安否確認リスト and the field app share it
(server/domain/walk_order.py here; pwa/js/walk-order.js is compared with it in
tests/browser/test_pwa_walk_order.py)."""

from __future__ import annotations

import math

from sqlmodel import Session, select

from server.domain.walk_order import MAX_PASSES, Point, cos_deg, district_start, walk_order
from server.models import District, Person
from server.printing.selection import Scope, district_list
from tests.printing_helpers import NOW, load_city
from tests.walk_cases import L_STREET, L_STREET_WALK, START, scattered, walk_length


def points(houses):
    return [Point(k, lon, lat) for k, lon, lat in houses]


def nearest_neighbour(houses, start):
    left, here, out = list(houses), start, []
    while left:
        best = min(left, key=lambda h: (math.hypot((h[1] - here[0]) * cos_deg(start[1]), h[2] - here[1]), h[0]))
        left.remove(best)
        out.append(best[0])
        here = (best[1], best[2])
    return out


def test_a_street_is_walked_house_by_house_from_the_start():
    assert walk_order(points(L_STREET), START) == L_STREET_WALK
    # From the far end of the street the walk comes back the other way.
    assert walk_order(points(L_STREET), (135.0020, 35.0020)) == list(reversed(L_STREET_WALK))


def test_improves_on_the_nearest_neighbour_walk():
    houses = scattered(300)
    walk = walk_order(points(houses), START)
    assert sorted(walk) == sorted(k for k, _, _ in houses)
    assert walk_length(walk, houses, START) < 0.97 * walk_length(nearest_neighbour(houses, START), houses, START)


def test_people_without_a_position_come_last_by_register_number():
    houses = points(L_STREET) + [Point("0009", None, None), Point("0000", None, None)]
    assert walk_order(houses, START) == L_STREET_WALK + ["0000", "0009"]
    assert walk_order([Point("0002", None, None), Point("0001", None, None)], START) == ["0001", "0002"]


def test_ties_go_to_the_lower_register_number():
    twins = [Point("0002", 135.001, 35.0), Point("0001", 135.001, 35.0), Point("0003", 134.999, 35.0)]
    assert walk_order(twins, START)[:2] == ["0001", "0002"]


def test_start_is_the_centroid_else_the_mean_position():
    assert district_start((135.1, 35.2), points(L_STREET)) == (135.1, 35.2)
    lon, lat = district_start((None, None), points(L_STREET))
    assert math.isclose(lon, sum(h[1] for h in L_STREET) / 7) and math.isclose(lat, sum(h[2] for h in L_STREET) / 7)
    assert district_start((None, None), [Point("1", None, None)]) is None


def test_cosine_without_the_math_library_is_exact_enough():
    for deg in (20.0, 24.3, 35.0, 43.1, 45.5):
        assert abs(cos_deg(deg) - math.cos(math.radians(deg))) < 1e-9
    assert MAX_PASSES >= 1


def test_the_printed_district_list_is_in_walking_order_from_the_district_centre(engine):
    load_city(engine)
    with Session(engine) as s:
        chome = next(d for d in s.exec(select(District).order_by(District.code)).all()
                     if len(s.exec(select(Person).where(Person.district_id == d.id)).all()) >= 4)
        people = s.exec(select(Person).where(Person.district_id == chome.id)).all()
        listing = district_list(s, chome.code, Scope(), now=NOW)
    by_no = {p.register_no: p for p in people}
    expected = walk_order([Point(p.register_no, p.lon, p.lat) for p in people], (chome.centroid_lon, chome.centroid_lat))
    assert [r.register_no for r in listing.rows] == expected
    assert [r.sequence for r in listing.rows] == list(range(1, len(people) + 1))
    # Not merely the old address order (the demo's addresses do not follow the walk).
    assert expected != sorted(by_no, key=lambda k: by_no[k].address or "") or len(people) < 3
