"""``tsunagu import hazards FILE [--kind flood]``: hazard areas (土砂災害警戒区域, 浸水想定区域 …)
from GeoJSON, Shapefile or GeoPackage, in any CRS (stored as JGD2011 lon/lat).

Official files hold one kind each: give it with ``--kind``. Without it the layer needs a
``kind`` column (code or Japanese label, e.g. ``flood`` or ``浸水想定区域``). Hazard areas have
no stable codes, so a file replaces the areas previously imported from a file of the same
name for the same municipality. Optional columns: name — ``name``,
``名称``, ``区域名``, ``A33_004`` (国土数値情報 土砂災害警戒区域 区域名); level — ``level``,
``浸水深``, ``depth_rank``, ``A31_001`` … Dry run unless ``apply``; with ``apply`` in one
transaction, only when every feature is usable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..domain.placement import people_in_hazard_areas
from ..models import HazardArea
from ..models.geo import normalize_municipality_code
from ..models.hazards import HazardKind
from .geolayers import LayerFileError, LayerReport, clean_polygons, geojson, pick_column, read_layer, text

NAME = ("name", "名称", "区域名", "A33_004", "A31_004")
KIND = ("kind", "種別", "区域種別")
LEVEL = ("level", "浸水深", "depth_rank", "rank", "A31_001", "A33_001")


def import_hazards(engine: Engine, path: Path | str, *, kind: Optional[HazardKind], municipality_code: str,
                   apply: bool = False, name_column: Optional[str] = None, level_column: Optional[str] = None,
                   assume_crs: Optional[str] = None) -> LayerReport:
    path = Path(path)
    try:
        municipality = normalize_municipality_code(municipality_code)
    except ValueError as exc:
        raise LayerFileError(f"--municipality-code: {exc}") from None
    report = LayerReport(kind="hazards", file=path.name)
    frame = read_layer(path, assume_crs)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    name_col = pick_column(columns, name_column, NAME, "area name", path.name, required=False)
    level_col = pick_column(columns, level_column, LEVEL, "level", path.name, required=False)
    kind_col = None if kind is not None else pick_column(columns, None, KIND, "hazard kind (or give --kind)",
                                                            path.name)
    features, _ = clean_polygons(frame, report, municipality)
    kinds = {}
    for feature in features:
        try:
            kinds[feature.index] = kind or HazardKind.parse(text(feature.properties.get(kind_col)))
        except ValueError as exc:
            report.error(feature.index, kind_col, str(exc))
    features = [f for f in features if f.index in kinds]
    report.valid, report.invalid = len(features), report.features - len(features)
    report.area_km2 = round(sum(f.area_m2 for f in features) / 1e6, 3)
    with Session(engine) as session:
        same_source = (HazardArea.municipality_code == municipality) & (HazardArea.source == path.name[:200])
        report.replaced = session.execute(sa.delete(HazardArea).where(same_source)).rowcount or 0
        for feature in features:
            props = feature.properties
            session.add(HazardArea(municipality_code=municipality, kind=kinds[feature.index], source=path.name[:200],
                                   name=text(props.get(name_col))[:200] if name_col else "",
                                   level=text(props.get(level_col))[:60] if level_col else "",
                                   geometry=geojson(feature.geometry), area_m2=round(feature.area_m2, 1)))
        report.created = len(features)
        session.flush()
        people = people_in_hazard_areas(session, municipality, {str(k) for k in kinds.values()})
        report.extra["people_inside"] = len(people)
        report.extra["kinds"] = sorted({str(k) for k in kinds.values()})
        if apply and not report.errors:
            session.commit()
            report.applied = True
        else:
            session.rollback()
    return report
