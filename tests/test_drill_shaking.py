"""Shaking and damage for drills: the published formulas, checked against arithmetic written
out here independently, plus properties (monotonic, vectorised = scalar) and the demo city."""

from __future__ import annotations

import itertools
import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from server.drills.damage import (
    DEFAULT_FRAGILITY,
    collapse_probability,
    fragility_table,
    people_intensity,
    shelter_damage,
)
from server.drills.scenario import load_scenario
from server.drills.shaking import (
    amplification,
    distance_km,
    fault_length_km,
    intensity_at,
    jma_intensity,
    mw_from_mj,
    pgv_bedrock,
    shindo,
)
from server.models.vocab import SeismicClass
from tests.test_drill_scenario import MINIMAL, SCENARIOS

D_TERM = {"crustal": 0.0, "interplate": -0.02, "intraslab": 0.12}


def published_pgv(mw: float, depth: float, x: float, kind: str) -> float:
    """Si & Midorikawa (1999), written out with math.log10."""
    log_pgv = (0.58 * mw + 0.0038 * depth + D_TERM[kind] - 1.29
               - math.log10(x + 0.0028 * 10 ** (0.5 * mw)) - 0.002 * x)
    return 10 ** log_pgv


def published_intensity(mw: float, depth: float, x: float, kind: str, avs30: float) -> float:
    arv = 10 ** (2.367 - 0.852 * math.log10(avs30))
    return 2.68 + 1.72 * math.log10(published_pgv(mw, depth, x, kind) * arv)


def scenario_text(magnitude=7.3, kind="crustal", depth=10.0, trace="[[139.45, 35.69]]", extra=""):
    return (MINIMAL.replace("magnitude_jma = 7.0", f"magnitude_jma = {magnitude}")
            .replace('kind = "crustal"', f'kind = "{kind}"')
            .replace("depth_km = 10.0", f"depth_km = {depth}{extra}")
            .replace("trace = [[139.45, 35.69]]", f"trace = {trace}"))


def scenario(**kwargs):
    return load_scenario(scenario_text(**kwargs))


TO_6677 = Transformer.from_crs(6668, 6677, always_xy=True)


# ---- the formulas ----

def test_magnitude_and_fault_length():
    assert mw_from_mj(7.3) == pytest.approx(7.129)
    assert mw_from_mj(7.4) == pytest.approx(7.229)
    assert fault_length_km(7.0) == pytest.approx(10 ** (3.5 - 1.85))
    assert fault_length_km(7.129) == pytest.approx(51.8, abs=0.1)


@pytest.mark.parametrize("mw, depth, x, kind", [
    (7.129, 10.0, 10.0, "crustal"),
    (7.129, 25.0, 3.0, "interplate"),
    (7.229, 10.0, 30.0, "crustal"),
    (6.5, 50.0, 60.0, "intraslab"),
    (8.0, 30.0, 100.0, "interplate"),
    (5.0, 5.0, 3.0, "crustal"),
])
def test_pgv_bedrock_is_the_published_formula(mw, depth, x, kind):
    assert pgv_bedrock(mw, depth, x, kind) == pytest.approx(published_pgv(mw, depth, x, kind), rel=1e-12)


def test_pgv_kind_terms():
    crustal = pgv_bedrock(7.0, 20.0, 30.0, "crustal")
    assert pgv_bedrock(7.0, 20.0, 30.0, "interplate") == pytest.approx(crustal * 10 ** -0.02)
    assert pgv_bedrock(7.0, 20.0, 30.0, "intraslab") == pytest.approx(crustal * 10 ** 0.12)
    with pytest.raises(ValueError):
        pgv_bedrock(7.0, 20.0, 30.0, "volcanic")


def test_literal_sanity_values():
    # M7.3 crustal at 10 km depth, X = 10 km, AVS30 = 300: strong shaking, 6弱–6強.
    intensity = jma_intensity(pgv_bedrock(mw_from_mj(7.3), 10.0, 10.0, "crustal") * amplification(300.0))
    assert 5.5 <= intensity <= 6.5
    assert intensity == pytest.approx(5.80, abs=0.01)
    # A small, distant event barely felt on firm ground.
    far = jma_intensity(pgv_bedrock(5.0, 10.0, 150.0, "crustal") * amplification(600.0))
    assert 0.5 <= far < 2.5
    assert amplification(300.0) == pytest.approx(1.80, abs=0.01)
    assert jma_intensity(100.0) == pytest.approx(6.12)
    assert jma_intensity(10.0) == pytest.approx(4.40)


def test_amplification_is_one_on_bedrock_and_larger_on_soft_ground():
    assert amplification(600.0) == pytest.approx(1.0, abs=1e-3)
    assert amplification(200.0) > amplification(300.0) > amplification(600.0) > amplification(1000.0)
    assert amplification(150.0) == pytest.approx(10 ** (2.367 - 0.852 * math.log10(150.0)))


@pytest.mark.parametrize("intensity, label", [
    (-1.0, "0"), (0.0, "0"), (0.49, "0"), (0.5, "1"), (1.49, "1"), (1.5, "2"), (2.5, "3"),
    (3.49, "3"), (3.5, "4"), (4.49, "4"), (4.5, "5弱"), (4.99, "5弱"), (5.0, "5強"), (5.49, "5強"),
    (5.5, "6弱"), (5.99, "6弱"), (6.0, "6強"), (6.49, "6強"), (6.5, "7"), (7.2, "7"),
])
def test_shindo_boundaries(intensity, label):
    assert shindo(intensity) == label


def test_shindo_of_arrays_and_nan():
    labels = shindo(np.array([3.4, 4.6, 5.2, 5.7, 6.2, 6.8, np.nan]))
    assert labels.tolist() == ["3", "5弱", "5強", "6弱", "6強", "7", None]
    assert shindo(float("nan")) is None


# ---- distance ----

def test_point_source_distance_is_hypocentral_minus_half_length():
    s = scenario(magnitude=6.0, depth=10.0)
    mw = s.mw
    lon0, lat0 = s.fault.trace[0]
    lons = np.array([lon0, 139.60, 139.80])
    lats = np.array([lat0, 35.60, 35.50])
    x0, y0 = TO_6677.transform(lon0, lat0)
    xs, ys = TO_6677.transform(lons, lats)
    expected = [max(math.hypot(math.hypot(x - x0, y - y0) / 1000, 10.0) - fault_length_km(mw) / 2, 3.0)
                for x, y in zip(xs, ys)]
    assert distance_km(s.fault, mw, lons, lats) == pytest.approx(expected, rel=1e-9)
    # Above the hypocentre of a M6: 10 km deep, L/2 ≈ 3.1 km.
    assert distance_km(s.fault, mw, [lon0], [lat0])[0] == pytest.approx(10.0 - fault_length_km(mw) / 2)


def test_trace_distance_is_horizontal_to_polyline_and_depth():
    s = scenario(trace="[[139.40, 35.70], [139.50, 35.70], [139.50, 35.60]]", depth=10.0, extra="\ntop_km = 4")
    nodes = [TO_6677.transform(lon, lat) for lon, lat in s.fault.trace]

    def brute(lon, lat):  # the nearest of many points along the polyline
        px, py = TO_6677.transform(lon, lat)
        best = math.inf
        for (ax, ay), (bx, by) in itertools.pairwise(nodes):
            for t in np.linspace(0, 1, 20001):
                best = min(best, math.hypot(px - (ax + t * (bx - ax)), py - (ay + t * (by - ay))))
        return math.hypot(best / 1000, 4.0)

    lons = [139.45, 139.45, 139.55, 139.30, 139.47]
    lats = [35.70, 35.75, 35.65, 35.72, 35.66]
    got = distance_km(s.fault, s.mw, lons, lats)
    for value, lon, lat in zip(got, lons, lats):
        assert value == pytest.approx(max(brute(lon, lat), 3.0), abs=0.01)
    assert got[0] == pytest.approx(4.0, abs=1e-6)  # on the trace: the upper edge's depth


def test_distance_is_at_least_3_km_and_nan_without_coordinates():
    s = scenario(trace="[[139.40, 35.70], [139.50, 35.70]]", depth=1.0)
    got = distance_km(s.fault, s.mw, [139.45, np.nan, 139.45], [35.70, 35.70, np.nan])
    assert got[0] == 3.0
    assert np.isnan(got[1]) and np.isnan(got[2])
    assert np.isnan(intensity_at(s, [np.nan], [np.nan])).all()


# ---- intensity at sites ----

def test_intensity_at_matches_hand_computation():
    s = scenario(magnitude=7.3, kind="intraslab", depth=40.0)
    lon, lat = 139.70, 35.55
    px, py = TO_6677.transform(lon, lat)
    ex, ey = TO_6677.transform(*s.fault.trace[0])
    x = max(math.hypot(math.hypot(px - ex, py - ey) / 1000, 40.0) - 10 ** (0.5 * (7.3 - 0.171) - 1.85) / 2, 3.0)
    expected = published_intensity(7.3 - 0.171, 40.0, x, "intraslab", 250.0)
    assert intensity_at(s, [lon], [lat], [250.0])[0] == pytest.approx(expected, abs=1e-9)
    assert intensity_at(s, [lon], [lat])[0] == pytest.approx(
        published_intensity(7.3 - 0.171, 40.0, x, "intraslab", 300.0), abs=1e-9)


@pytest.mark.parametrize("text", [
    {"magnitude": 7.3, "kind": "interplate", "depth": 25.0},
    {"magnitude": 7.4, "trace": "[[139.28, 35.79], [139.48, 35.66]]", "depth": 10.0, "extra": "\ntop_km = 3"},
])
def test_intensity_decreases_with_distance(text):
    s = scenario(**text)
    end_lon, end_lat = s.fault.trace[-1]
    # Walking away south-east from the fault's end: never stronger, and clearly weaker far away.
    steps = np.linspace(0, 1.5, 200)
    intensity = intensity_at(s, end_lon + steps, end_lat - steps * 0.6)
    assert np.all(np.diff(intensity) <= 1e-12)
    assert intensity[-1] < intensity[0] - 1.0


def test_softer_ground_shakes_more():
    s = scenario()
    got = intensity_at(s, [139.6] * 3, [35.6] * 3, [200.0, 300.0, 600.0])
    assert got[0] > got[1] > got[2]
    assert got[0] - got[2] == pytest.approx(1.72 * 0.852 * math.log10(600 / 200), abs=1e-9)


sites = st.lists(st.tuples(st.floats(139.0, 140.2), st.floats(35.2, 36.2), st.floats(120.0, 1200.0)),
                 min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(sites=sites, point=st.booleans(), magnitude=st.floats(5.0, 8.5),
       kind=st.sampled_from(["crustal", "interplate", "intraslab"]), depth=st.floats(1.0, 80.0))
def test_vectorised_equals_scalar(sites, point, magnitude, kind, depth):
    trace = "[[139.45, 35.69]]" if point else "[[139.28, 35.79], [139.41, 35.705], [139.48, 35.66]]"
    s = scenario(magnitude=round(magnitude, 2), kind=kind, depth=round(depth, 1), trace=trace)
    lons, lats, avs30s = (np.array(v) for v in zip(*sites))
    together = intensity_at(s, lons, lats, avs30s)
    one_by_one = [intensity_at(s, [lon], [lat], [avs30])[0] for lon, lat, avs30 in zip(lons, lats, avs30s)]
    assert together == pytest.approx(one_by_one, rel=1e-12)
    x = distance_km(s.fault, s.mw, lons, lats)
    pgv = pgv_bedrock(s.mw, s.fault.depth_km, x, kind)
    assert pgv == pytest.approx([pgv_bedrock(s.mw, s.fault.depth_km, float(v), kind) for v in x], rel=1e-12)
    assert shindo(together).tolist() == [shindo(float(v)) for v in together]


def test_fifty_thousand_points_in_one_call():
    # How fast this is: tests/bench/bench_drill.py prints it (a busy machine must not fail a test).
    s = load_scenario(SCENARIOS / "tachikawa-m74.toml")
    rng = np.random.default_rng(1)
    lons = rng.uniform(139.40, 139.50, 50_000)
    lats = rng.uniform(35.66, 35.72, 50_000)
    avs30s = rng.uniform(200.0, 500.0, 50_000)
    got = intensity_at(s, lons, lats, avs30s)
    assert got.shape == (50_000,) and np.isfinite(got).all()
    assert got[:5] == pytest.approx(intensity_at(s, lons[:5], lats[:5], avs30s[:5]), rel=1e-12)


# ---- damage ----

def test_collapse_probability_is_the_normal_cdf_of_intensity():
    curve = DEFAULT_FRAGILITY[SeismicClass.old_high_risk]
    assert collapse_probability(curve.median_intensity, "old_high_risk") == pytest.approx(0.5)
    for intensity in (5.0, 5.8, 6.3, 7.0):
        z = (intensity - curve.median_intensity) / curve.sigma
        expected = 0.5 * (1 + math.erf(z / math.sqrt(2)))
        assert collapse_probability(intensity, SeismicClass.old_high_risk) == pytest.approx(expected)


def test_default_table_values():
    expected = {"new_standard": 7.3, "old_retrofitted": 7.1, "old_low_risk": 7.0, "old_some_risk": 6.6,
                "old_high_risk": 6.2, "old_undiagnosed": 6.5, "unknown": 6.6}
    assert {c.value: curve.median_intensity for c, curve in DEFAULT_FRAGILITY.items()} == expected
    assert DEFAULT_FRAGILITY[SeismicClass.new_standard].sigma == 0.35
    assert DEFAULT_FRAGILITY[SeismicClass.old_retrofitted].sigma == 0.35
    assert set(DEFAULT_FRAGILITY) == set(SeismicClass)


def test_weaker_classes_fail_more_and_stronger_shaking_breaks_more():
    order = ["new_standard", "old_retrofitted", "old_low_risk", "old_some_risk", "old_high_risk"]
    at_6_2 = [collapse_probability(6.2, c) for c in order]
    assert at_6_2 == sorted(at_6_2)
    assert collapse_probability(6.0, "new_standard") < 0.01  # 6強's lower edge: new standard holds
    assert collapse_probability(np.array([5.0, 5.5, 6.0, 6.5, 7.0]), "old_some_risk").tolist() == sorted(
        collapse_probability(np.array([5.0, 5.5, 6.0, 6.5, 7.0]), "old_some_risk").tolist())
    assert collapse_probability(6.0, None) == collapse_probability(6.0, "unknown")
    assert np.isnan(collapse_probability(float("nan"), "unknown"))


def test_per_item_classes_and_overrides():
    got = collapse_probability(np.array([6.0, 6.0]), ["new_standard", "old_high_risk"])
    assert got.tolist() == [collapse_probability(6.0, "new_standard"), collapse_probability(6.0, "old_high_risk")]
    overrides = {"old_high_risk": {"median_intensity": 5.6, "sigma": 0.4}}
    assert collapse_probability(5.6, "old_high_risk", overrides) == pytest.approx(0.5)
    s = load_scenario(MINIMAL.replace("seed = 1", "seed = 1\n[fragility.new_standard]\nmedian_intensity = 6.0\n"
                                      "[fragility.old_high_risk]\nsigma = 0.8\n"))
    assert collapse_probability(6.0, "new_standard", s) == pytest.approx(0.5)
    table = fragility_table(s.fragility)
    assert table[SeismicClass.new_standard].sigma == 0.35  # only the median was overridden
    assert table[SeismicClass.old_high_risk].median_intensity == DEFAULT_FRAGILITY[SeismicClass.old_high_risk].median_intensity
    assert table[SeismicClass.old_high_risk].sigma == 0.8


def test_shelter_damage_and_people_intensity_on_api_shaped_dicts():
    s = load_scenario(MINIMAL.replace("seed = 1", "seed = 1\n[avs30_by_district]\nW6 = 200\n\"000105\" = 500\n"))
    districts = {
        "d-w6": {"id": "d-w6", "code": "W6", "parent_id": None, "centroid_lon": 139.46, "centroid_lat": 35.68},
        "d-c1": {"id": "d-c1", "code": "000101", "parent_id": "d-w6", "centroid_lon": 139.47, "centroid_lat": 35.67},
        "d-c5": {"id": "d-c5", "code": "000105", "parent_id": "d-w6", "centroid_lon": 139.48, "centroid_lat": 35.69},
    }
    shelters = [
        {"id": "s1", "name": "A", "lon": 139.47, "lat": 35.67, "seismic_class": "new_standard", "district_id": "d-c1"},
        {"id": "s2", "name": "B", "lon": None, "lat": None, "seismic_class": "old_high_risk", "district_id": "d-c5"},
        {"id": "s3", "name": "C", "lon": None, "lat": None, "seismic_class": "unknown", "district_id": None},
    ]
    rows = shelter_damage(s, shelters, districts)
    assert [r["id"] for r in rows] == ["s1", "s2", "s3"]
    # s1: its 町丁目 has no AVS30 of its own; its 福祉圏域 W6 has.
    assert rows[0]["avs30"] == 200.0 and rows[0]["located"] == "own"
    expected = intensity_at(s, [139.47], [35.67], [200.0])[0]
    assert rows[0]["intensity"] == pytest.approx(expected, abs=1e-3)
    assert rows[0]["shindo"] == shindo(expected)
    assert rows[0]["collapse_probability"] == pytest.approx(collapse_probability(expected, "new_standard"), abs=1e-4)
    # s2: no coordinates, placed at its district's centroid, with that district's own AVS30.
    assert rows[1]["located"] == "district_centroid" and rows[1]["avs30"] == 500.0
    assert rows[1]["intensity"] == pytest.approx(intensity_at(s, [139.48], [35.69], [500.0])[0], abs=1e-3)
    # s3: nowhere to place it.
    assert rows[2]["intensity"] is None and rows[2]["shindo"] is None and rows[2]["collapse_probability"] is None
    assert rows[2]["avs30"] == 300.0

    people = [
        {"id": "p1", "lon": 139.47, "lat": 35.67, "district_id": "d-c1"},
        {"id": "p2", "lon": None, "lat": None, "district_id": "d-c1"},
        {"id": "p3", "lon": None, "lat": None, "district_id": "elsewhere"},
    ]
    got = people_intensity(s, people, districts)
    assert got[0] == rows[0]["intensity"]
    # p2: at the centroid of its 町丁目, with the AVS30 of the 福祉圏域 above it.
    assert got[1] == pytest.approx(intensity_at(s, [139.47], [35.67], [200.0])[0], abs=1e-3)
    assert got[2] is None
    # The districts may also come as the API's list.
    assert people_intensity(s, people, list(districts.values())) == got
    assert shelter_damage(s, shelters, list(districts.values())) == rows
    assert people_intensity(s, [], districts) == []


@pytest.mark.parametrize("file_name", ["tama-east-m73.toml", "tachikawa-m74.toml"])
def test_demo_city_gets_strong_but_plausible_shaking(file_name):
    from server.demo_city.city import build_demo_city

    city = build_demo_city(people=300, now=date(2026, 11, 27))
    s = load_scenario(SCENARIOS / file_name)
    districts = {str(d.id): d.model_dump(mode="json") for d in city.districts}
    people = people_intensity(s, [p.model_dump(mode="json") for p in city.people], districts)
    values = [v for v in people if v is not None]
    assert len(values) == len(people)
    assert 5.5 <= min(values) and max(values) < 6.5  # 6弱–6強 across the city
    shelters = shelter_damage(s, [x.model_dump(mode="json") for x in city.shelters], districts)
    assert all(0.0 <= r["collapse_probability"] <= 1.0 for r in shelters)
    by_class = {}
    for r in shelters:
        by_class.setdefault(r["seismic_class"], []).append(r["collapse_probability"])
    assert max(by_class["new_standard"]) < min(by_class.get("old_high_risk", [1.0]))
