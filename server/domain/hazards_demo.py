"""Synthetic hazard areas for the demo city つなぎ市 — invented, but shaped like the real thing.

- 浸水想定区域 (flood): a river meanders west → east across the south of the city, like the
  浅川 or the 多摩川 in the Tama area. Two bands follow it: 0.5–3.0 m deep within about 220 m
  of the channel, and under 0.5 m on the low north bank out to about 520 m.
- 土砂災害警戒区域 (landslide warning, 急傾斜地の崩壊): six small areas strung along a terrace
  scarp running south-west → north-east, like the 国分寺崖線; the two steepest also carry a
  土砂災害特別警戒区域 (special warning) core.

Plain arithmetic with a seeded random stream, coordinates rounded to 1e-6°, so the file is
identical on every machine. `python -m server.domain.hazards_demo` rewrites
geodata/hazards/hazards.geojson.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from ..models.hazards import HazardArea, HazardKind

SEED = 20261127
MUNICIPALITY_CODE = "132993"  # つなぎ市 (fictional; see geodata/README.md)
SOURCE = "demo:hazards.geojson"
DIGITS = 6
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(35.69))

RIVER_WEST, RIVER_EAST = 139.400, 139.500
RIVER_LAT = 35.6765
SCARP = ((139.414, 35.6885), (139.487, 35.7055))


def _river_lat(lon: float, phase: float) -> float:
    t = (lon - RIVER_WEST) / (RIVER_EAST - RIVER_WEST)
    return RIVER_LAT + 0.0022 * math.sin(2 * math.pi * (1.6 * t + phase)) + 0.0010 * math.sin(2 * math.pi * 4.1 * t)


def _band(rng: random.Random, phase: float, south_m: float, north_m: float, steps: int = 40) -> list[list[float]]:
    """A strip between `south_m` south and `north_m` north of the river line (negative = south)."""
    lons = [RIVER_WEST + (RIVER_EAST - RIVER_WEST) * i / steps for i in range(steps + 1)]
    wobble = [1 + 0.12 * (rng.random() - 0.5) for _ in lons]
    north = [[lon, _river_lat(lon, phase) + north_m * w / M_PER_DEG_LAT] for lon, w in zip(lons, wobble)]
    south = [[lon, _river_lat(lon, phase) + south_m * w / M_PER_DEG_LAT] for lon, w in zip(lons, wobble)]
    ring = south + north[::-1]  # counter-clockwise: east along the south edge, back along the north
    ring.append(ring[0])
    return [[round(x, DIGITS), round(y, DIGITS)] for x, y in ring]


def _blob(rng: random.Random, lon: float, lat: float, along_m: float, across_m: float, angle: float,
          points: int = 18) -> list[list[float]]:
    ring = []
    for k in range(points):
        a = 2 * math.pi * k / points
        r = 1 + 0.15 * (rng.random() - 0.5)
        x, y = along_m * r * math.cos(a), across_m * r * math.sin(a)
        dx = x * math.cos(angle) - y * math.sin(angle)
        dy = x * math.sin(angle) + y * math.cos(angle)
        ring.append([round(lon + dx / M_PER_DEG_LON, DIGITS), round(lat + dy / M_PER_DEG_LAT, DIGITS)])
    ring.append(ring[0])
    return ring


def demo_hazard_features(seed: int = SEED) -> list[dict]:
    """GeoJSON features (JGD2011 lon/lat) of the demo city's hazard areas."""
    rng = random.Random(seed)
    phase = rng.random()
    features = [
        _feature("flood-1", HazardKind.flood, "つなぎ川 洪水浸水想定区域（想定最大規模）", "0.5m以上3.0m未満",
                 _band(rng, phase, -220, 220)),
        _feature("flood-2", HazardKind.flood, "つなぎ川 洪水浸水想定区域（想定最大規模）", "0.5m未満",
                 _band(rng, phase, 220, 520)),
    ]
    (lon0, lat0), (lon1, lat1) = SCARP
    angle = math.atan2((lat1 - lat0) * M_PER_DEG_LAT, (lon1 - lon0) * M_PER_DEG_LON)
    for n in range(6):
        t = (n + 0.5 + 0.3 * (rng.random() - 0.5)) / 6
        lon, lat = lon0 + (lon1 - lon0) * t, lat0 + (lat1 - lat0) * t
        along, across = 90 + 60 * rng.random(), 35 + 20 * rng.random()
        name = f"つなぎ崖線 急傾斜地 No.{n + 1}"
        features.append(_feature(f"slope-{n + 1}", HazardKind.landslide_warning, name, "急傾斜地の崩壊",
                                 _blob(rng, lon, lat, along, across, angle)))
        if n in (1, 4):
            features.append(_feature(f"slope-{n + 1}-special", HazardKind.landslide_special, name, "急傾斜地の崩壊",
                                     _blob(rng, lon, lat, along * 0.45, across * 0.4, angle)))
    return features


def _feature(feature_id: str, kind: HazardKind, name: str, level: str, ring: list) -> dict:
    return {"type": "Feature", "id": feature_id, "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"kind": kind.value, "kind_label": kind.ja, "name": name, "level": level}}


def hazards_geojson(seed: int = SEED) -> str:
    """The text of geodata/hazards/hazards.geojson (one feature per line, like the other layers)."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in demo_hazard_features(seed)]
    return '{"type":"FeatureCollection","name":"hazards","features":[\n' + ",\n".join(lines) + "\n]}\n"


def demo_hazard_rows(seed: int = SEED) -> list[HazardArea]:
    """HazardArea rows for the demo loader (municipality 132993, source demo:hazards.geojson)."""
    from shapely.geometry import shape

    from .geo import to_plane, zone_for

    zone = zone_for(139.45, 35.69, MUNICIPALITY_CODE)
    rows = []
    for f in demo_hazard_features(seed):
        ring = f["geometry"]["coordinates"][0]
        xy = to_plane([p[0] for p in ring], [p[1] for p in ring], zone)
        area = abs(shape({"type": "Polygon", "coordinates": [xy.tolist()]}).area)
        rows.append(HazardArea(municipality_code=MUNICIPALITY_CODE, kind=HazardKind(f["properties"]["kind"]),
                               name=f["properties"]["name"], level=f["properties"]["level"], source=SOURCE,
                               geometry=f["geometry"], area_m2=round(area, 1)))
    return rows


# Beside, not inside, the demo city's own layers: tests/test_demo_city.py expects geodata/*.geojson
# to be exactly what server.demo_city writes.
DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "geodata" / "hazards"


def write_hazards(directory: Path | str = DEFAULT_DIRECTORY) -> Path:
    path = Path(directory) / "hazards.geojson"
    path.write_text(hazards_geojson(), encoding="utf-8", newline="\n")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_hazards())
