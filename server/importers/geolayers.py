"""Reading polygon layers (GeoJSON, Shapefile, GeoPackage, any CRS) for the district and hazard
importers: CRS required, converted to JGD2011 (EPSG:6668), polygons validated and repaired
only where the repair is unambiguous. docs/geodata.md describes the rules and messages.

A report names features by their index in the file (0 = first feature) and by code — never
by anything personal (layers hold no personal data anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..domain.geo import STORAGE_EPSG, Zone, to_plane, zone_for

# A repair is accepted when GEOS's two repair methods agree to within this share of the area.
REPAIR_TOLERANCE = 0.001
MIN_AREA_M2 = 1.0


class LayerFileError(ValueError):
    """The whole layer is refused (unreadable, no CRS, missing column); nothing was written."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class FeatureIssue:
    feature: int  # 0-based index in the file
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "field": self.field, "reason": self.reason}


@dataclass
class LayerReport:
    kind: str
    file: str
    source_crs: str = ""
    zone: str = ""
    applied: bool = False
    features: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    replaced: int = 0
    area_km2: float = 0.0
    repaired: list[FeatureIssue] = field(default_factory=list)
    errors: list[FeatureIssue] = field(default_factory=list)
    warnings: list[FeatureIssue] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self, feature: int, field_name: str, reason: str) -> None:
        self.errors.append(FeatureIssue(feature, field_name, reason))

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("repaired", "errors", "warnings")}
        for name in ("repaired", "errors", "warnings"):
            data[name] = [i.to_dict() for i in getattr(self, name)]
        return data


def read_layer(path: Path | str, assume_crs: Optional[str] = None):
    """The layer as a GeoDataFrame in its own CRS; LayerFileError when it cannot be used."""
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise LayerFileError(f"{path.name}: no such file")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several DataSourceError kinds
        raise LayerFileError(f"{path.name}: cannot be read as GeoJSON, Shapefile or GeoPackage ({exc})") from None
    if frame.crs is None:
        if not assume_crs:
            raise LayerFileError(
                f"{path.name}: the layer has no coordinate reference system (CRS). A Shapefile needs its .prj "
                "file; otherwise give the CRS explicitly, e.g. --crs EPSG:6668 (JGD2011 lon/lat) or EPSG:6677 "
                "(JGD2011 zone IX)")
        frame = frame.set_crs(assume_crs)
    return frame


def repair_polygon(geometry) -> tuple[Any, Optional[str], Optional[str]]:
    """(geometry, repair note, error). A valid polygon is returned as it is. An invalid one is
    repaired when the result is unambiguous: GEOS's `linework` and `structure` repair methods
    give the same area (a bow-tie, a ring touching itself, a duplicated vertex, reversed
    rings). Otherwise — a hole outside its shell, overlapping parts, a ring with no area —
    the feature is refused with the reason."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    if geometry is None or geometry.is_empty:
        return None, None, "no geometry"
    if not isinstance(geometry, (Polygon, MultiPolygon)):
        return None, None, f"{geometry.geom_type} is not a polygon"
    if geometry.is_valid:
        return geometry, None, None
    reason = shapely.is_valid_reason(geometry)
    linework = _polygonal(shapely.make_valid(geometry, method="linework"))
    structure = _polygonal(shapely.make_valid(geometry, method="structure", keep_collapsed=False))
    if linework is None or linework.area == 0:
        return None, None, f"invalid polygon ({reason}); it has no area left to repair"
    if structure is None or abs(linework.area - structure.area) > REPAIR_TOLERANCE * linework.area \
            or linework.symmetric_difference(structure).area > REPAIR_TOLERANCE * linework.area:
        return None, None, f"invalid polygon ({reason}); the repair is ambiguous, fix it in a GIS"
    return linework, f"repaired: {reason}", None


def _polygonal(geometry):
    from shapely.geometry import GeometryCollection, MultiPolygon, Polygon

    if isinstance(geometry, (Polygon, MultiPolygon)):
        return geometry
    if isinstance(geometry, GeometryCollection):
        parts = [g for g in geometry.geoms if isinstance(g, (Polygon, MultiPolygon))]
        if not parts:
            return None
        polygons = [p for g in parts for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
        return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
    return None


@dataclass
class CleanFeature:
    index: int
    geometry: Any          # shapely, EPSG:6668
    area_m2: float
    centroid: tuple[float, float]
    properties: dict


def clean_polygons(frame, report: LayerReport, municipality_code: Optional[str] = None
                   ) -> tuple[list[CleanFeature], Zone]:
    """Convert to EPSG:6668, validate and repair, and measure areas in the plane zone chosen
    from the layer's centroid (and municipality code)."""
    import shapely
    from pyproj import CRS

    report.source_crs = CRS.from_user_input(frame.crs).to_string()
    report.features = len(frame)
    frame = frame.to_crs(STORAGE_EPSG)
    bounds = frame.total_bounds
    if not np.all(np.isfinite(bounds)):
        raise LayerFileError(f"{report.file}: the layer has no geometries")
    zone = zone_for((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, municipality_code)
    report.zone = zone.name
    clean: list[CleanFeature] = []
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for index, (geometry, values) in enumerate(zip(frame.geometry, frame[columns].itertuples(index=False))):
        fixed, note, error = repair_polygon(geometry)
        if error:
            report.error(index, "geometry", error)
            continue
        planar = shapely.transform(fixed, lambda xy: to_plane(xy[:, 0], xy[:, 1], zone))
        if planar.area < MIN_AREA_M2:
            report.error(index, "geometry", f"the polygon's area is {planar.area:.2f} m²: too small to be real")
            continue
        if note:
            report.repaired.append(FeatureIssue(index, "geometry", note))
        centre = planar.centroid
        lon, lat = _from_plane(centre.x, centre.y, zone)
        properties = {c: _plain(v) for c, v in zip(columns, values)}
        clean.append(CleanFeature(index, fixed, float(planar.area), (round(lon, 6), round(lat, 6)), properties))
    return clean, zone


def _from_plane(x: float, y: float, zone: Zone) -> tuple[float, float]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(zone.epsg, STORAGE_EPSG, always_xy=True).transform(x, y)
    return float(lon), float(lat)


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def pick_column(columns: list[str], wanted: Optional[str], candidates: tuple[str, ...], what: str,
                file: str, required: bool = True) -> Optional[str]:
    """The column named by the option, else the first candidate present."""
    if wanted:
        if wanted not in columns:
            raise LayerFileError(f"{file}: no column {wanted!r} for the {what}; columns: {', '.join(columns)}")
        return wanted
    for candidate in candidates:
        if candidate in columns:
            return candidate
    if required:
        raise LayerFileError(f"{file}: no column for the {what} (looked for {', '.join(candidates)}); "
                             f"name it with an option. Columns: {', '.join(columns)}")
    return None


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def geojson(geometry) -> dict:
    """GeoJSON dict with coordinates rounded to 1e-7° (about 1 cm)."""
    from shapely.geometry import mapping

    return _rounded(mapping(geometry))


def _rounded(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), 7) for v in obj]
        return [_rounded(v) for v in obj]
    return obj
