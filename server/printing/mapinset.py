"""The plan's map inset: an SVG drawn from the project's own geodata, no tiles, no network.

Coordinates (JGD2011 lon/lat, EPSG:6668) are projected to the plane rectangular zone IX
(EPSG:6677, metres; Tokyo mainland), where distances are true enough for a scale bar.
The inset shows the home's 町丁目 outline, the home, the destination and the alternate,
and a straight line from home to each (there is no road network in the geodata, and the
printout says the line is not the route). Grid north in zone IX is within a degree of true
north around Tokyo, so the north arrow points straight up.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape

WIDTH, HEIGHT = 170.0, 44.0   # millimetres on paper (the SVG's user units)
PAD = 8.0                      # margin inside the frame, mm
NICE_LENGTHS = (25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000)


@dataclass(frozen=True)
class MapPoint:
    lon: float
    lat: float
    label: str
    kind: str  # home | destination | alternate


@lru_cache(maxsize=1)
def _transformer():
    from pyproj import Transformer

    # always_xy: (lon, lat) in, (easting, northing) out — whatever the CRS's axis order.
    return Transformer.from_crs("EPSG:6668", "EPSG:6677", always_xy=True)


def project(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if not points:
        return []
    xs, ys = _transformer().transform([p[0] for p in points], [p[1] for p in points])
    return list(zip(xs, ys))


def _rings(geometry: dict | None) -> list[list[tuple[float, float]]]:
    if not geometry:
        return []
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    return [[(float(x), float(y)) for x, y, *_ in ring] for polygon in polygons for ring in polygon if ring]


def _scale_length(metres_across: float) -> int:
    target = metres_across / 4
    best = NICE_LENGTHS[0]
    for length in NICE_LENGTHS:
        if length <= target:
            best = length
    return best


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def map_svg(points: list[MapPoint], district: dict | None, district_label: str = "",
            scale_label: str = "", north_label: str = "N") -> str | None:
    """An inline SVG (width 170 mm) or None when there is no home point to draw."""
    if not any(p.kind == "home" for p in points):
        return None
    rings = _rings(district)
    flat = [(p.lon, p.lat) for p in points] + [xy for ring in rings for xy in ring]
    projected = project(flat)
    xs, ys = [x for x, _ in projected], [y for _, y in projected]
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    # At least 400 m across, so a home alone is not drawn at an absurd scale.
    span = max(max_x - min_x, (max_y - min_y) * (WIDTH - 2 * PAD) / (HEIGHT - 2 * PAD), 400.0)
    scale = (WIDTH - 2 * PAD) / span                        # mm per metre
    cx, cy = (min_x + max_x) / 2, (min_y + max_y) / 2

    def to_svg(x: float, y: float) -> tuple[float, float]:
        return WIDTH / 2 + (x - cx) * scale, HEIGHT / 2 - (y - cy) * scale

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {_fmt(WIDTH)} {_fmt(HEIGHT)}" '
             f'width="{_fmt(WIDTH)}mm" height="{_fmt(HEIGHT)}mm">',
             f'<rect x="0" y="0" width="{_fmt(WIDTH)}" height="{_fmt(HEIGHT)}" fill="#ffffff" stroke="#000000" '
             'stroke-width="0.4"/>']
    offset = len(points)
    for ring in rings:
        ring_xy = [to_svg(*xy) for xy in projected[offset:offset + len(ring)]]
        offset += len(ring)
        path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in ring_xy)
        parts.append(f'<polygon points="{path}" fill="#eef3e6" stroke="#4a6b2a" stroke-width="0.5" '
                     'stroke-dasharray="2 1"/>')
    if rings and district_label:
        ring_xy = [to_svg(*xy) for xy in projected[len(points):len(points) + len(rings[0])]]
        top = min(ring_xy, key=lambda p: p[1])
        parts.append(f'<text x="{_fmt(top[0])}" y="{_fmt(max(top[1] - 1.5, 4))}" font-size="{DISTRICT_FONT}" '
                     'fill="#4a6b2a" '
                     f'text-anchor="middle">{escape(district_label)}</text>')
    placed = {p.kind: to_svg(*xy) for p, xy in zip(points, projected)}
    home = placed["home"]
    for kind, dash in (("alternate", "1.2 1.2"), ("destination", "")):
        if kind in placed:
            x, y = placed[kind]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{_fmt(home[0])}" y1="{_fmt(home[1])}" x2="{_fmt(x)}" y2="{_fmt(y)}" '
                         f'stroke="#b00020" stroke-width="{0.5 if dash else 0.9}"{dash_attr}/>')
    spots = [to_svg(*xy) for xy in projected[:len(points)]]
    for point, (x, y) in zip(points, spots):
        parts.append(_marker(point.kind, x, y))
    obstacles = [_marker_box(x, y) for x, y in spots] + [NORTH_BOX, _scale_box(span, scale, scale_label)]
    if rings and district_label:
        obstacles.append(_text_box(district_label, top[0], max(top[1] - 1.5, 4), "middle", DISTRICT_FONT))
    for point, spot, label in zip(points, spots, place_labels([(p.label, xy) for p, xy in zip(points, spots)],
                                                              obstacles)):
        if label.leader:
            lx, ly = _nearest(label.box, spot)
            parts.append(f'<line x1="{_fmt(spot[0])}" y1="{_fmt(spot[1])}" x2="{_fmt(lx)}" y2="{_fmt(ly)}" '
                         'stroke="#000000" stroke-width="0.25"/>')
        parts.append(f'<rect x="{_fmt(label.box.x0)}" y="{_fmt(label.box.y0)}" width="{_fmt(label.box.width)}" '
                     f'height="{_fmt(label.box.height)}" fill="#ffffff" fill-opacity="0.8"/>'
                     f'<text x="{_fmt(label.x)}" y="{_fmt(label.y)}" font-size="{_fmt(LABEL_FONT)}" '
                     f'font-weight="bold" text-anchor="{label.anchor}" fill="#000000" '
                     f'data-kind="{point.kind}">{escape(point.label)}</text>')
    parts.append(_scale_bar(span, scale, scale_label))
    parts.append(_north_arrow(north_label))
    parts.append("</svg>")
    return "".join(parts)


# ---- labels that never collide ----
# Each label (自宅, 避難先, 第二避難先) is tried at positions around its marker — beside it, above,
# below, at the corners, then further out with a leader line — and takes the first position
# where its box overlaps no label placed before it, no marker, neither the north arrow nor the
# scale bar, and stays inside the frame. Boxes are estimated from the characters (a full-width
# character is 1 em wide, others at most 0.85 em in BIZ UD Gothic bold: "m") with a margin, so the
# estimate is never smaller than the printed text (tests/browser/test_print_page.py measures it).

LABEL_FONT = 3.6     # mm
DISTRICT_FONT = 3.2
GAP = 3.2            # marker centre to label, mm
MARGIN = 0.5         # around every label box, mm


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def overlap(self, other: "Box") -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def outside(self) -> float:
        """How far the box reaches out of the frame (0 when inside)."""
        return max(0.0, 1 - self.x0) + max(0.0, self.x1 - (WIDTH - 1)) + max(0.0, 1 - self.y0) + \
            max(0.0, self.y1 - (HEIGHT - 1))


@dataclass(frozen=True)
class PlacedLabel:
    x: float          # the text's anchor point and baseline
    y: float
    anchor: str       # start | middle | end
    box: Box          # the space the text takes (with MARGIN)
    leader: bool      # drawn away from its marker, with a line to it


NORTH_BOX = Box(WIDTH - 12.0, 5.0, WIDTH - 4.0, 20.0)


def text_width(text: str, size: float) -> float:
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.85 * size for ch in text)


def _text_box(text: str, x: float, y: float, anchor: str, size: float = LABEL_FONT) -> Box:
    width = text_width(text, size)
    x0 = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
    return Box(x0 - MARGIN, y - 0.9 * size - MARGIN, x0 + width + MARGIN, y + 0.25 * size + MARGIN)


def _marker_box(x: float, y: float) -> Box:
    return Box(x - 2.7, y - 2.8, x + 2.7, y + 2.3)


def _candidates(text: str, x: float, y: float):
    """(text x, baseline y, anchor, leader) around a marker, nearest first."""
    size = LABEL_FONT
    sides = ["start", "end"] if x < WIDTH / 2 else ["end", "start"]
    for ring in range(1, 9):
        gap = GAP + (ring - 1) * (size + 1.2)
        leader = ring > 1
        for anchor in sides:  # beside the marker, on the side with more room first
            yield (x + gap if anchor == "start" else x - gap), y + 0.33 * size, anchor, leader
        yield x, y - gap - 0.25 * size, "middle", leader          # above
        yield x, y + gap + 0.9 * size, "middle", leader           # below
        for anchor in sides:                                        # the corners
            dx = gap if anchor == "start" else -gap
            yield x + dx, y - gap + 0.4 * size, anchor, leader
            yield x + dx, y + gap + 0.5 * size, anchor, leader


def place_labels(labels: list[tuple[str, tuple[float, float]]], obstacles: list[Box]) -> list[PlacedLabel]:
    """A position for each (text, marker point), in order: never on a label placed before it.

    The first candidate touching nothing wins; if every candidate touches something, the one
    that overlaps no label, stays in the frame and covers the least of the rest."""
    placed: list[PlacedLabel] = []
    for text, (x, y) in labels:
        best, best_score = None, None
        for cx, cy, anchor, leader in _candidates(text, x, y):
            box = _text_box(text, cx, cy, anchor)
            score = (sum(box.overlap(p.box) for p in placed), box.outside(),
                     sum(box.overlap(o) for o in obstacles))
            if best_score is None or score < best_score:
                best, best_score = PlacedLabel(cx, cy, anchor, box, leader), score
            if score == (0.0, 0.0, 0.0):
                break
        placed.append(best)
    return placed


def _nearest(box: Box, point: tuple[float, float]) -> tuple[float, float]:
    return min(max(point[0], box.x0), box.x1), min(max(point[1], box.y0), box.y1)


def _marker(kind: str, x: float, y: float) -> str:
    if kind == "home":  # a house: square with a roof
        return (f'<path d="M{_fmt(x - 2.2)},{_fmt(y + 2)} v-2.4 l2.2,-2 l2.2,2 v2.4 z" fill="#0b5cad" '
                'stroke="#000000" stroke-width="0.3"/>')
    if kind == "destination":
        return (f'<rect x="{_fmt(x - 2.2)}" y="{_fmt(y - 2.2)}" width="4.4" height="4.4" fill="#b00020" '
                'stroke="#000000" stroke-width="0.3"/>')
    return (f'<path d="M{_fmt(x)},{_fmt(y - 2.6)} l2.4,4.4 h-4.8 z" fill="#ffffff" stroke="#b00020" '
            'stroke-width="0.6"/>')


def _scale_box(span_m: float, scale: float, label: str) -> Box:
    bar = _scale_length(span_m) * scale
    return Box(6.0 - 1.5, HEIGHT - 12.0, 6.0 + max(bar, text_width(label, 3) + 10) + 1.5, HEIGHT - 4.0)


def _scale_bar(span_m: float, scale: float, label: str) -> str:
    length = _scale_length(span_m)
    bar = length * scale
    x, y = 6.0, HEIGHT - 6.0
    text = f"{length // 1000} km" if length >= 1000 and length % 1000 == 0 else f"{length} m"
    return (f'<rect x="{_fmt(x - 1.5)}" y="{_fmt(y - 6)}" width="{_fmt(bar + 3)}" height="8" fill="#ffffff" '
            'fill-opacity="0.85"/>'
            f'<path d="M{_fmt(x)},{_fmt(y - 1.5)} v1.5 h{_fmt(bar)} v-1.5" fill="none" stroke="#000000" '
            'stroke-width="0.5"/>'
            f'<text x="{_fmt(x + bar / 2)}" y="{_fmt(y - 2.5)}" font-size="3" text-anchor="middle">'
            f'{escape(text)}{(" " + str(escape(label))) if label else ""}</text>')


def _north_arrow(label: str) -> str:
    x, y = WIDTH - 8.0, 7.0
    return (f'<path d="M{_fmt(x)},{_fmt(y)} l2.4,7 l-2.4,-1.8 l-2.4,1.8 z" fill="#000000"/>'
            f'<text x="{_fmt(x)}" y="{_fmt(y + 11)}" font-size="3.4" font-weight="bold" '
            f'text-anchor="middle">{escape(label)}</text>')


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line distance in metres between two lon/lat points (in zone IX)."""
    (ax, ay), (bx, by) = project([a, b])
    return math.hypot(ax - bx, ay - by)
