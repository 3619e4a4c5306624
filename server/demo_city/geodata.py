"""The demo city's map layers as GeoJSON files (RFC 7946), for `geodata/` and map clients.

Only places: districts, welfare areas, shelters and the city outline. People are personal
data and never go into these files, not even invented ones, so no one copies the habit.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..models.vocab import DistrictKind
from .city import DemoCity
from .geography import geojson_polygon

LAYERS = ("city_boundary.geojson", "welfare_areas.geojson", "districts.geojson", "shelters.geojson")


def geodata_layers(city: DemoCity) -> dict[str, str]:
    """File name → file text of every layer; what `write_geodata` writes."""
    areas = {d.id: d for d in city.districts if d.kind == DistrictKind.welfare_area}
    chome = [d for d in city.districts if d.kind == DistrictKind.chome]
    municipality = city.municipality
    boundary = [_feature(municipality.municipality_code, geojson_polygon(city.map.boundary), {
        "municipality_code": municipality.municipality_code, "name": municipality.name,
        "name_kana": municipality.name_kana, "prefecture": municipality.prefecture,
    })]
    welfare_areas = [_feature(a.code, a.geometry, {"code": a.code, "name": a.name, "name_kana": a.name_kana})
                     for a in areas.values()]
    districts = [_feature(d.code, d.geometry, {
        "code": d.code, "name": d.name, "name_kana": d.name_kana,
        "welfare_area_code": areas[d.parent_id].code, "welfare_area_name": areas[d.parent_id].name,
    }) for d in chome]
    # A 協定福祉避難所 has no 共通ID, so features carry the database id (also deterministic).
    shelters = [_feature(str(s.id), {"type": "Point", "coordinates": [s.lon, s.lat]}, {
        "common_id": s.common_id, "name": s.name, "name_kana": s.name_kana,
        "kind": s.kind.value, "kind_label": s.kind.ja, "capacity": s.capacity,
        "target_groups": [g.value for g in s.target_groups],
        "seismic_class": s.seismic_class.value, "seismic_class_label": s.seismic_class.ja,
    }) for s in sorted(city.shelters, key=lambda s: (s.common_id is None, s.common_id or "", s.name))]
    return {
        "city_boundary.geojson": _collection("city_boundary", boundary),
        "welfare_areas.geojson": _collection("welfare_areas", welfare_areas),
        "districts.geojson": _collection("districts", districts),
        "shelters.geojson": _collection("shelters", shelters),
    }


def write_geodata(city: DemoCity, directory: Path) -> list[Path]:
    """Write the GeoJSON layers into `directory` (created if missing); returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in geodata_layers(city).items():
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def _feature(feature_id: str, geometry: dict, properties: dict) -> dict:
    return {"type": "Feature", "id": feature_id, "geometry": geometry, "properties": properties}


def _collection(name: str, features: list[dict]) -> str:
    # One feature per line: small, reviewable diffs when the generator changes.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    return ('{"type":"FeatureCollection","name":"' + name + '","features":[\n'
            + ",\n".join(lines) + "\n]}\n")
