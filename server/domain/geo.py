"""Coordinates, plane rectangular zones and point-in-polygon placement.

Storage is JGD2011 longitude/latitude (EPSG:6668). Distances and areas are never computed in
degrees: they are computed in the JGD2011 plane rectangular coordinate system (平面直角座標系)
zone that covers the data — zones I–XIX are EPSG:6669–6687; Tokyo mainland is zone IX,
EPSG:6677.

Choosing the zone (`zone_for`):
1. With a municipality code, the statutory table applies: the zone of the prefecture
   (first two digits of the code). Prefectures split between zones are decided by the
   point: Hokkaido by longitude (XI west of 141.2°E, XIII east of 142.9°E, XII between —
   an approximation of the 振興局 boundaries), Tokyo's southern islands (south of 28°N) XIV,
   Okinotorishima XVIII, Minamitorishima XIX, Okinawa XV/XVI/XVII by longitude, and
   Kagoshima's western islands (west of 130°E) zone I.
2. Without one, the zone whose origin is nearest to the data's centroid (on a sphere).
   Zones of neighbouring prefectures differ by well under 0.1% in scale, so a near miss
   at a prefecture border does not change a walking distance by more than a few metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

STORAGE_EPSG = 6668  # JGD2011 geographic (lon/lat)

# Zone number → (EPSG code, origin latitude, origin longitude), from the 国土交通省告示.
ZONES: dict[int, tuple[int, float, float]] = {
    1: (6669, 33.0, 129.5), 2: (6670, 33.0, 131.0), 3: (6671, 36.0, 132 + 10 / 60),
    4: (6672, 33.0, 133.5), 5: (6673, 36.0, 134 + 20 / 60), 6: (6674, 36.0, 136.0),
    7: (6675, 36.0, 137 + 10 / 60), 8: (6676, 36.0, 138.5), 9: (6677, 36.0, 139 + 50 / 60),
    10: (6678, 40.0, 140 + 50 / 60), 11: (6679, 44.0, 140.25), 12: (6680, 44.0, 142.25),
    13: (6681, 44.0, 144.25), 14: (6682, 26.0, 142.0), 15: (6683, 26.0, 127.5),
    16: (6684, 26.0, 124.0), 17: (6685, 26.0, 131.0), 18: (6686, 20.0, 136.0),
    19: (6687, 26.0, 154.0),
}
ROMAN = ("", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV",
         "XV", "XVI", "XVII", "XVIII", "XIX")

# Prefecture code (JIS X 0401) → zone, for prefectures wholly in one zone.
PREFECTURE_ZONE: dict[str, int] = {
    "02": 10, "03": 10, "04": 10, "05": 10, "06": 10, "07": 9, "08": 9, "09": 9, "10": 9, "11": 9,
    "12": 9, "14": 9, "15": 8, "16": 7, "17": 7, "18": 6, "19": 8, "20": 8, "21": 7, "22": 8,
    "23": 7, "24": 6, "25": 6, "26": 6, "27": 6, "28": 5, "29": 6, "30": 6, "31": 5, "32": 3,
    "33": 5, "34": 3, "35": 3, "36": 4, "37": 4, "38": 4, "39": 4, "40": 2, "41": 2, "42": 1,
    "43": 2, "44": 2, "45": 2,
}


@dataclass(frozen=True)
class Zone:
    number: int
    epsg: int

    @property
    def name(self) -> str:
        return f"JGD2011 平面直角座標系 {ROMAN[self.number]}系 (EPSG:{self.epsg})"


def _zone(number: int) -> Zone:
    return Zone(number, ZONES[number][0])


def _nearest_origin(lon: float, lat: float) -> int:
    def distance(number: int) -> float:
        _, lat0, lon0 = ZONES[number]
        dlon = math.radians(lon - lon0) * math.cos(math.radians((lat + lat0) / 2))
        return math.hypot(dlon, math.radians(lat - lat0))
    return min(ZONES, key=distance)


def zone_for(lon: float, lat: float, municipality_code: str | None = None) -> Zone:
    """The plane rectangular zone for data centred at (lon, lat); see the module docstring."""
    prefecture = (municipality_code or "")[:2]
    if prefecture in PREFECTURE_ZONE:
        return _zone(PREFECTURE_ZONE[prefecture])
    if prefecture == "01":  # Hokkaido
        return _zone(11 if lon < 141.2 else 13 if lon > 142.9 else 12)
    if prefecture == "13":  # Tokyo: mainland and Izu islands IX; Ogasawara XIV; two lone islands
        if lat < 21:
            return _zone(18)
        if lon > 150:
            return _zone(19)
        return _zone(14 if lat < 28 else 9)
    if prefecture == "47":  # Okinawa
        return _zone(16 if lon < 126 else 17 if lon > 130 else 15)
    if prefecture == "46":  # Kagoshima
        return _zone(1 if lon < 130.0 else 2)
    return _zone(_nearest_origin(lon, lat))


@lru_cache(maxsize=64)
def _transformer(source: int, target: int):
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def to_plane(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, zone: Zone) -> np.ndarray:
    """JGD2011 lon/lat arrays → (n, 2) metres (easting, northing) in `zone`."""
    x, y = _transformer(STORAGE_EPSG, zone.epsg).transform(np.asarray(lon, dtype=float),
                                                            np.asarray(lat, dtype=float))
    return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])


def centroid_of(lon: Iterable[float], lat: Iterable[float]) -> tuple[float, float]:
    """Mean of points, ignoring missing ones; (nan, nan) when there are none."""
    lon_a = np.asarray([v for v in lon if v is not None], dtype=float)
    lat_a = np.asarray([v for v in lat if v is not None], dtype=float)
    if not len(lon_a):
        return float("nan"), float("nan")
    return float(lon_a.mean()), float(lat_a.mean())


# ---- point in polygon ----

def polygons_from_geojson(geometries: Sequence[dict]) -> list:
    """Shapely geometries from GeoJSON dicts (empty dicts give None)."""
    from shapely.geometry import shape

    return [shape(g) if g else None for g in geometries]


def locate_points(lon: np.ndarray, lat: np.ndarray, polygons: Sequence, prefer_smallest: bool = True) -> np.ndarray:
    """Index of the polygon containing each point, -1 when none does (or the point is missing).

    Vectorised with shapely's STRtree. A point on a shared border, or inside overlapping
    polygons, goes to the smallest polygon, then the lowest index — the same answer every time.
    """
    import shapely
    from shapely.strtree import STRtree

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    result = np.full(len(lon), -1, dtype=np.int64)
    valid = ~(np.isnan(lon) | np.isnan(lat))
    indices = [i for i, p in enumerate(polygons) if p is not None and not p.is_empty]
    if not valid.any() or not indices:
        return result
    geoms = [polygons[i] for i in indices]
    tree = STRtree(geoms)
    points = shapely.points(lon[valid], lat[valid])
    point_idx, geom_idx = tree.query(points, predicate="intersects")
    if not len(point_idx):
        return result
    areas = np.array([g.area for g in geoms])
    key_area = areas[geom_idx] if prefer_smallest else np.zeros(len(geom_idx))
    order = np.lexsort((geom_idx, key_area, point_idx))
    point_idx, geom_idx = point_idx[order], geom_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    valid_positions = np.flatnonzero(valid)
    result[valid_positions[point_idx[first]]] = np.asarray(indices)[geom_idx[first]]
    return result


def points_in_any(lon: np.ndarray, lat: np.ndarray, polygons: Sequence) -> list[list[int]]:
    """For each polygon, the indices of the points inside it (a point may be in several)."""
    import shapely
    from shapely.strtree import STRtree

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    inside: list[list[int]] = [[] for _ in polygons]
    valid = np.flatnonzero(~(np.isnan(lon) | np.isnan(lat)))
    indices = [i for i, p in enumerate(polygons) if p is not None and not p.is_empty]
    if not len(valid) or not indices:
        return inside
    tree = STRtree([polygons[i] for i in indices])
    point_idx, geom_idx = tree.query(shapely.points(lon[valid], lat[valid]), predicate="intersects")
    for p, g in zip(point_idx.tolist(), geom_idx.tolist()):
        inside[indices[g]].append(int(valid[p]))
    return inside
