"""The demo city's map: 30 町丁目 on a jittered grid, grouped into 6 福祉圏域.

The map is built from a grid whose corner points are jittered and whose edges get two
jittered midpoints, so blocks look hand-drawn. Neighbouring 町丁目 share the very same
vertex coordinates (rounded to 1e-6 degree, about 0.1 m), so the cover has no gaps or
overlaps by construction, and the welfare areas and the city outline are traced from the
shared edges in plain Python. No GEOS call is involved, so the coordinates are identical
on every machine; shapely is only used by the tests to check the result.

Coordinates are JGD2011 lon/lat (EPSG:6668). The grid lies in the Tama area of Tokyo,
about lon 139.40–139.50, lat 35.66–35.72.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .names import CHOME_NUMERALS, TOWNS, WELFARE_AREAS

Point = tuple[float, float]
Ring = list[Point]  # counter-clockwise, first point not repeated

# South-west corner of the grid and the size of one cell (about 0.9 km x 1.0 km).
ORIGIN_LON = 139.41
ORIGIN_LAT = 35.67
STEP_LON = 0.010
STEP_LAT = 0.009
DIGITS = 6

# One character per grid cell, north row first; "." is outside the city.
# AREA_LAYOUT gives the 福祉圏域 (1-6), TOWN_LAYOUT the town (a-l, index into TOWNS).
AREA_LAYOUT = (
    ".1112...",
    ".112222.",
    "33344555",
    "33444655",
    "..6666..",
)
TOWN_LAYOUT = (
    ".aaab...",
    ".ccbbdd.",
    "eeegghhh",
    "ffiigkjj",
    "..llkk..",
)
NX = len(AREA_LAYOUT[0])
NY = len(AREA_LAYOUT)

# Jitter as a share of a cell's size; small enough that no block can fold over itself.
CORNER_JITTER = 0.12
EDGE_JITTER = 0.06


@dataclass(frozen=True)
class Chome:
    """A 町丁目: one grid cell."""

    code: str
    name: str
    name_kana: str
    town: int  # index into names.TOWNS
    area_code: str
    ring: Ring
    centroid: Point


@dataclass(frozen=True)
class WelfareArea:
    """A 福祉圏域: the union of its 町丁目."""

    code: str
    name: str
    name_kana: str
    ring: Ring


@dataclass(frozen=True)
class CityMap:
    areas: list[WelfareArea]
    chome: list[Chome]
    boundary: Ring


def build_map(rng: random.Random) -> CityMap:
    """Draw the city: jitter the grid, cut it into 町丁目, trace areas and the outline."""
    corners, h_edges, v_edges = _jittered_grid(rng)
    cells: dict[tuple[int, int], Ring] = {}
    for row, line in enumerate(AREA_LAYOUT):
        for col, mark in enumerate(line):
            if mark != ".":
                cells[(row, col)] = _cell_ring(col, NY - 1 - row, corners, h_edges, v_edges)

    chome: list[Chome] = []
    numbers: dict[int, int] = {}
    # Reading order (north to south, west to east) numbers the 丁目 of each town.
    for (row, col), ring in sorted(cells.items()):
        town = ord(TOWN_LAYOUT[row][col]) - ord("a")
        numbers[town] = numbers.get(town, 0) + 1
        numeral, numeral_kana = CHOME_NUMERALS[numbers[town] - 1]
        town_name, town_kana, _, _ = TOWNS[town]
        chome.append(Chome(
            code=f"{town + 1:04d}{numbers[town]:02d}",  # like a 町丁・字等コード: town + 丁目
            name=f"{town_name}{numeral}丁目",
            name_kana=f"{town_kana}{numeral_kana}チョウメ",
            town=town,
            area_code=WELFARE_AREAS[int(AREA_LAYOUT[row][col]) - 1][0],
            ring=ring,
            centroid=centroid(ring),
        ))
    chome.sort(key=lambda c: c.code)

    areas = []
    for index, (code, name, kana) in enumerate(WELFARE_AREAS, start=1):
        members = [ring for (row, col), ring in cells.items() if AREA_LAYOUT[row][col] == str(index)]
        areas.append(WelfareArea(code=code, name=name, name_kana=kana, ring=outline(members)))
    return CityMap(areas=areas, chome=chome, boundary=outline(list(cells.values())))


def _jittered_grid(rng: random.Random):
    def r(value: float) -> float:
        return round(value, DIGITS)

    corners = {}
    for i in range(NX + 1):
        for j in range(NY + 1):
            corners[(i, j)] = (
                r(ORIGIN_LON + (i + rng.uniform(-CORNER_JITTER, CORNER_JITTER)) * STEP_LON),
                r(ORIGIN_LAT + (j + rng.uniform(-CORNER_JITTER, CORNER_JITTER)) * STEP_LAT),
            )

    def midpoints(a: Point, b: Point, along_lon: bool) -> list[Point]:
        points = []
        for t in (1 / 3, 2 / 3):
            lon = a[0] + (b[0] - a[0]) * t
            lat = a[1] + (b[1] - a[1]) * t
            if along_lon:
                lat += rng.uniform(-EDGE_JITTER, EDGE_JITTER) * STEP_LAT
            else:
                lon += rng.uniform(-EDGE_JITTER, EDGE_JITTER) * STEP_LON
            points.append((r(lon), r(lat)))
        return points

    # Edge (i, j) runs east from corner (i, j), resp. north from it; midpoints in that direction.
    h_edges = {(i, j): midpoints(corners[(i, j)], corners[(i + 1, j)], True)
               for j in range(NY + 1) for i in range(NX)}
    v_edges = {(i, j): midpoints(corners[(i, j)], corners[(i, j + 1)], False)
               for i in range(NX + 1) for j in range(NY)}
    return corners, h_edges, v_edges


def _cell_ring(i: int, j: int, corners, h_edges, v_edges) -> Ring:
    """Counter-clockwise ring of grid cell (i, j), counted from the south-west."""
    return ([corners[(i, j)]] + h_edges[(i, j)]
            + [corners[(i + 1, j)]] + v_edges[(i + 1, j)]
            + [corners[(i + 1, j + 1)]] + h_edges[(i, j + 1)][::-1]
            + [corners[(i, j + 1)]] + v_edges[(i, j)][::-1])


def outline(rings: list[Ring]) -> Ring:
    """The outer ring of a union of rings that share edges exactly.

    An edge inside the union appears once in each direction; the others form the outline.
    The layouts avoid cells touching only at a corner, so the outline is one simple ring.
    """
    edges = {(ring[k], ring[(k + 1) % len(ring)]) for ring in rings for k in range(len(ring))}
    following = {a: b for a, b in edges if (b, a) not in edges}
    start = min(following)  # the westernmost point, so the result does not depend on set order
    result = [start]
    point = following[start]
    while point != start:
        result.append(point)
        point = following[point]
    if len(result) != len(following):
        raise ValueError("the cells do not form one simple region")
    return result


def centroid(ring: Ring) -> Point:
    """Area centroid of a simple ring (shoelace formula), rounded like the vertices."""
    area2 = cx = cy = 0.0
    for k, (x0, y0) in enumerate(ring):
        x1, y1 = ring[(k + 1) % len(ring)]
        cross = x0 * y1 - x1 * y0
        area2 += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return round(cx / (3 * area2), DIGITS), round(cy / (3 * area2), DIGITS)


def geojson_polygon(ring: Ring) -> dict:
    """A GeoJSON Polygon (RFC 7946: exterior ring counter-clockwise, closed)."""
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring] + [list(ring[0])]]}


class PointSampler:
    """Random points inside a ring, kept a few metres away from its edges (a house is
    never on a district line, and rounding cannot push it out)."""

    MARGIN = 0.0001  # degrees, about 9-11 m

    def __init__(self, ring: Ring):
        self.edges = [(ring[k], ring[(k + 1) % len(ring)]) for k in range(len(ring))]
        lons = [p[0] for p in ring]
        lats = [p[1] for p in ring]
        self.box = (min(lons), min(lats), max(lons), max(lats))

    def sample(self, rng: random.Random) -> Point:
        west, south, east, north = self.box
        while True:
            lon = round(rng.uniform(west, east), DIGITS)
            lat = round(rng.uniform(south, north), DIGITS)
            if self.contains(lon, lat):
                return lon, lat

    def contains(self, x: float, y: float) -> bool:
        inside = False
        for (x0, y0), (x1, y1) in self.edges:
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
        if not inside:
            return False
        margin2 = self.MARGIN ** 2
        for (x0, y0), (x1, y1) in self.edges:
            dx, dy = x1 - x0, y1 - y0
            t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)))
            if (x0 + t * dx - x) ** 2 + (y0 + t * dy - y) ** 2 < margin2:
                return False
        return True
