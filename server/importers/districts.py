"""``tsunagu import districts FILE``: 町丁目 or 福祉圏域 boundaries from GeoJSON, Shapefile or
GeoPackage, in any CRS (stored as JGD2011 lon/lat).

Columns (first match wins; options name others): code — ``code``, ``district_code``,
``KEY_CODE`` (e-Stat 小地域), ``町丁目コード``; name — ``name``, ``S_NAME`` (e-Stat),
``町丁目名``, ``名称``; kana — ``name_kana``, ``ふりがな``, ``カナ``; parent 福祉圏域 code —
``parent_code``, ``welfare_area_code``, ``福祉圏域コード``; municipality — ``municipality_code``,
``市区町村コード``, or e-Stat's ``PREF`` + ``CITY``.

Dry run unless ``apply``; with ``apply`` every valid feature is written in one transaction,
updating districts by (municipality_code, code). After the check, the people and shelters
of the municipality whose points fall outside every district of the layer are counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..domain.geo import locate_points
from ..models import District, Person, Shelter
from ..models.base import utcnow
from ..models.geo import normalize_municipality_code
from ..models.vocab import DistrictKind
from .geolayers import LayerFileError, LayerReport, clean_polygons, geojson, pick_column, read_layer, text

CODE = ("code", "district_code", "KEY_CODE", "町丁目コード", "地区コード", "コード")
NAME = ("name", "S_NAME", "町丁目名", "地区名", "名称")
KANA = ("name_kana", "ふりがな", "フリガナ", "カナ", "かな")
PARENT = ("parent_code", "welfare_area_code", "福祉圏域コード")
MUNICIPALITY = ("municipality_code", "市区町村コード", "全国地方公共団体コード")
SAMPLE = 20  # ids listed per kind of outside point
CENTROID_SAME = 2e-6  # degrees (~0.2 m): centroids computed another way are not a change


def import_districts(engine: Engine, path: Path | str, *, apply: bool = False,
                     kind: DistrictKind = DistrictKind.chome, municipality_code: Optional[str] = None,
                     code_column: Optional[str] = None, name_column: Optional[str] = None,
                     kana_column: Optional[str] = None, parent_column: Optional[str] = None,
                     assume_crs: Optional[str] = None) -> LayerReport:
    path = Path(path)
    report = LayerReport(kind="districts", file=path.name, applied=False)
    default_code = normalize_municipality_code(municipality_code) if municipality_code else None
    frame = read_layer(path, assume_crs)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    code_col = pick_column(columns, code_column, CODE, "district code", path.name)
    name_col = pick_column(columns, name_column, NAME, "district name", path.name)
    kana_col = pick_column(columns, kana_column, KANA, "kana", path.name, required=False)
    parent_col = pick_column(columns, parent_column, PARENT, "parent welfare area code", path.name,
                             required=False) if kind == DistrictKind.chome else None
    muni_col = pick_column(columns, None, MUNICIPALITY, "municipality code", path.name, required=False)
    estat = muni_col is None and {"PREF", "CITY"} <= set(columns)
    if muni_col is None and not estat and default_code is None:
        raise LayerFileError(f"{path.name}: no municipality_code column; give --municipality-code")
    features, _ = clean_polygons(frame, report, default_code)

    rows: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    for feature in features:
        props = feature.properties
        try:
            if muni_col and text(props.get(muni_col)):
                muni = normalize_municipality_code(text(props[muni_col]))
            elif estat:
                muni = normalize_municipality_code(text(props["PREF"]).zfill(2) + text(props["CITY"]).zfill(3))
            else:
                muni = default_code
        except ValueError as exc:
            report.error(feature.index, muni_col or "PREF+CITY", str(exc))
            continue
        code, name = text(props.get(code_col)), text(props.get(name_col))
        if not code:
            report.error(feature.index, code_col, "the district code is empty")
            continue
        if not name:
            report.error(feature.index, name_col, "the district name is empty")
            continue
        if len(code) > 40 or len(name) > 100:
            report.error(feature.index, code_col if len(code) > 40 else name_col, "too long")
            continue
        if (muni, code) in seen:
            report.error(feature.index, code_col, f"code {code} already used by feature {seen[(muni, code)]}")
            continue
        seen[(muni, code)] = feature.index
        rows.append({"index": feature.index, "municipality_code": muni, "code": code, "name": name,
                     "name_kana": text(props.get(kana_col)) if kana_col else "",
                     "parent_code": text(props.get(parent_col)) if parent_col else "",
                     "geometry": geojson(feature.geometry), "shape": feature.geometry,
                     "centroid_lon": feature.centroid[0], "centroid_lat": feature.centroid[1]})
        report.area_km2 += feature.area_m2 / 1e6
    report.area_km2 = round(report.area_km2, 3)

    with Session(engine) as session:
        _resolve_parents(session, rows, report)
        valid = [r for r in rows if "error" not in r]
        report.valid, report.invalid = len(valid), report.features - len(valid)
        _outside(session, valid, report)
        _write(session, valid, kind, report)
        if apply and not report.errors:
            session.commit()
            report.applied = True
        else:
            session.rollback()
    return report


def _resolve_parents(session: Session, rows: list[dict], report: LayerReport) -> None:
    wanted = {(r["municipality_code"], r["parent_code"]) for r in rows if r["parent_code"]}
    if not wanted:
        return
    found = {(d.municipality_code, d.code): d.id for d in session.exec(
        select(District).where(District.kind == DistrictKind.welfare_area,
                               District.code.in_([c for _, c in wanted]))).all()}
    for row in rows:
        if row["parent_code"]:
            parent = found.get((row["municipality_code"], row["parent_code"]))
            if parent is None:
                report.error(row["index"], "parent_code",
                             f"no welfare area with code {row['parent_code']}; import the welfare areas first")
                row["error"] = True
            row["parent_id"] = parent


def _outside(session: Session, rows: list[dict], report: LayerReport) -> None:
    """People and shelters of the layer's municipalities lying outside every polygon."""
    municipalities = sorted({r["municipality_code"] for r in rows})
    if not municipalities:
        return
    shapes = [r["shape"] for r in rows]
    for model, label, key in ((Person, "people", Person.register_no), (Shelter, "shelters", Shelter.id)):
        points = session.exec(select(key, model.lon, model.lat).where(
            model.municipality_code.in_(municipalities), model.lon.is_not(None))).all()
        if not points:
            continue
        found = locate_points(np.array([p[1] for p in points]), np.array([p[2] for p in points]), shapes)
        outside = [str(p[0]) for p, f in zip(points, found.tolist()) if f < 0]
        report.extra[f"{label}_outside"] = len(outside)
        report.extra[f"{label}_outside_sample"] = sorted(outside)[:SAMPLE]


def _write(session: Session, rows: list[dict], kind: DistrictKind, report: LayerReport) -> None:
    existing = {(d.municipality_code, d.code): d for d in session.exec(
        select(District).where(District.code.in_([r["code"] for r in rows]))).all()} if rows else {}
    now = utcnow()
    for row in rows:
        values = {k: row[k] for k in ("municipality_code", "code", "name", "name_kana", "geometry",
                                      "centroid_lon", "centroid_lat")}
        values["kind"] = kind
        if row.get("parent_id") is not None:
            values["parent_id"] = row["parent_id"]
        current = existing.get((row["municipality_code"], row["code"]))
        if current is None:
            session.add(District(**values))
            report.created += 1
            continue
        if current.kind != kind:
            report.error(row["index"], "code", f"code {row['code']} is a {current.kind} already, not a {kind}")
            continue
        changed = {k: v for k, v in values.items() if getattr(current, k) != v
                   and not (k in ("centroid_lon", "centroid_lat") and getattr(current, k) is not None
                            and abs(getattr(current, k) - v) <= CENTROID_SAME)}
        if not changed:
            report.unchanged += 1
            continue
        result = session.execute(sa.update(District).where(District.id == current.id,
                                                           District.version == current.version)
                                 .values(**changed, version=current.version + 1, updated_at=now))
        if result.rowcount != 1:
            report.error(row["index"], "code", "the district changed during the import; run it again")
            continue
        report.updated += 1
    session.flush()
