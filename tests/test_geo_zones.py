"""Plane rectangular zones, projection and point-in-polygon placement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from server.domain.geo import locate_points, points_in_any, to_plane, zone_for


@pytest.mark.parametrize("lon, lat, code, epsg", [
    (139.48, 35.70, "132144", 6677),   # 国分寺市: Tokyo mainland, zone IX
    (139.48, 35.70, None, 6677),       # the same by nearest origin
    (142.19, 27.09, "134210", 6682),   # 小笠原村 父島: XIV
    (136.08, 20.42, "134210", 6686),   # 沖ノ鳥島: XVIII
    (153.98, 24.28, "134210", 6687),   # 南鳥島: XIX
    (141.35, 43.06, "011002", 6680),   # 札幌市: XII
    (140.73, 41.77, "012025", 6679),   # 函館市: XI
    (144.38, 42.98, "012068", 6681),   # 釧路市: XIII
    (127.68, 26.21, "472018", 6683),   # 那覇市: XV
    (124.16, 24.34, "472077", 6684),   # 石垣市: XVI
    (135.50, 34.69, "271004", 6674),   # 大阪市: VI
    (135.19, 34.69, "281000", 6673),   # 神戸市: V (by prefecture, although VI's origin is nearer)
    (129.49, 28.38, "462225", 6669),   # 奄美市: I
    (130.56, 31.60, "462012", 6670),   # 鹿児島市: II
    (138.38, 34.98, None, 6676),       # 静岡市 by nearest origin: VIII
])
def test_zone_choice(lon, lat, code, epsg):
    assert zone_for(lon, lat, code).epsg == epsg


def test_distances_are_metres_in_the_zone():
    zone = zone_for(139.45, 35.69, "132993")
    xy = to_plane([139.45, 139.45, 139.46], [35.69, 35.70, 35.69], zone)
    north = math.dist(xy[0], xy[1])
    east = math.dist(xy[0], xy[2])
    assert 1105 < north < 1112          # 0.01° of latitude
    assert 900 < east < 908             # 0.01° of longitude at 35.69°N


def test_points_go_to_the_containing_polygon_and_borders_are_decided_once():
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    lon = np.array([0.5, 1.5, 1.0, 5.0, np.nan])
    lat = np.array([0.5, 0.5, 0.5, 5.0, np.nan])
    found = locate_points(lon, lat, [left, right])
    assert found.tolist()[:2] == [0, 1]
    assert found[2] in (0, 1)            # on the shared border: one of them, the same every time
    assert found.tolist()[3:] == [-1, -1]  # outside every polygon; missing point


def test_overlap_goes_to_the_smallest_polygon():
    big, small = box(0, 0, 10, 10), box(2, 2, 3, 3)
    assert locate_points(np.array([2.5]), np.array([2.5]), [big, small]).tolist() == [1]


def test_hundred_thousand_points_each_in_its_cell():
    # How fast this is: tests/bench/bench_geo.py (a busy machine must not fail a test).
    rng = np.random.default_rng(1)
    cells = [box(x, y, x + 1, y + 1) for x in range(10) for y in range(10)]
    lon, lat = rng.uniform(0, 10, 100_000), rng.uniform(0, 10, 100_000)
    found = locate_points(lon, lat, cells)
    expected = np.floor(lon).astype(int) * 10 + np.floor(lat).astype(int)
    assert (found == expected).mean() > 0.999  # the rest lie exactly on cell borders


def test_points_in_any_lists_every_polygon_a_point_is_in():
    a, b = box(0, 0, 2, 2), Polygon([(1, 1), (3, 1), (3, 3), (1, 3)])
    inside = points_in_any(np.array([0.5, 1.5, 2.5, 9.0]), np.array([0.5, 1.5, 2.5, 9.0]), [a, b])
    assert inside == [[0, 1], [1, 2]]
