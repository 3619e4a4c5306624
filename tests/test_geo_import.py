"""Importing district and hazard layers: formats, CRS, polygon repair, errors, placement."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Polygon, box
from sqlmodel import Session, select

from server.domain.placement import assign_districts, hazard_counts, people_in_hazard_areas
from server.importers.districts import import_districts
from server.importers.geolayers import LayerFileError
from server.importers.hazards import import_hazards
from server.models import District, HazardArea, Person, Shelter
from server.models.hazards import HazardKind
from server.models.vocab import DistrictKind

MUNI = "132144"
LON0, LAT0, STEP = 139.45, 35.69, 0.01


def cell(col: int, row: int) -> Polygon:
    return box(LON0 + col * STEP, LAT0 + row * STEP, LON0 + (col + 1) * STEP, LAT0 + (row + 1) * STEP)


def grid_frame(**extra_columns) -> gpd.GeoDataFrame:
    cells = [(c, r) for r in range(2) for c in range(2)]
    data = {"code": [f"C{c}{r}" for c, r in cells], "name": [f"町{c}{r}丁目" for c, r in cells],
            "name_kana": ["チョウ"] * 4, **extra_columns}
    return gpd.GeoDataFrame(data, geometry=[cell(c, r) for c, r in cells], crs="EPSG:6668")


def write(frame: gpd.GeoDataFrame, path: Path, driver: str | None = None) -> Path:
    frame.to_file(path, driver=driver, engine="pyogrio")
    return path


def add_person(engine, register_no: str, lon: float | None, lat: float | None) -> None:
    with Session(engine) as s:
        s.add(Person(register_no=register_no, municipality_code=MUNI, name="試験", birth_date=date(1940, 1, 1),
                     sex="female", address="住所", lon=lon, lat=lat, reasons=["care_level_3plus"]))
        s.commit()


def districts(engine) -> dict[str, District]:
    with Session(engine) as s:
        return {d.code: d for d in s.exec(select(District)).all()}


@pytest.mark.parametrize("suffix, driver, crs", [
    ("geojson", "GeoJSON", "EPSG:4326"),
    ("shp", "ESRI Shapefile", "EPSG:6677"),    # plane zone IX metres
    ("gpkg", "GPKG", "EPSG:6668"),
])
def test_import_any_format_and_crs_stores_jgd2011(engine, tmp_path, suffix, driver, crs):
    path = write(grid_frame().to_crs(crs), tmp_path / f"chome.{suffix}", driver)
    report = import_districts(engine, path, municipality_code=MUNI, apply=True)
    assert report.applied and report.created == 4 and not report.errors
    assert "IX" in report.zone and report.source_crs.endswith(crs.split(":")[1])
    assert 3.5 < report.area_km2 < 4.1  # four cells of about 0.9 km × 1.1 km
    stored = districts(engine)["C00"]
    assert stored.kind == DistrictKind.chome and stored.municipality_code == MUNI
    (x0, y0, x1, y1) = cell(0, 0).bounds
    ring = stored.geometry["coordinates"][0]
    assert all(x0 - 1e-6 <= x <= x1 + 1e-6 and y0 - 1e-6 <= y <= y1 + 1e-6 for x, y in ring)
    assert abs(stored.centroid_lon - (x0 + x1) / 2) < 1e-5 and abs(stored.centroid_lat - (y0 + y1) / 2) < 1e-5


def test_dry_run_writes_nothing_and_apply_updates_by_code(engine, tmp_path):
    path = write(grid_frame(), tmp_path / "chome.geojson")
    assert not import_districts(engine, path, municipality_code=MUNI).applied
    assert districts(engine) == {}
    import_districts(engine, path, municipality_code=MUNI, apply=True)
    renamed = grid_frame()
    renamed.loc[0, "name"] = "新しい町名"
    report = import_districts(engine, write(renamed, tmp_path / "chome2.geojson"), municipality_code=MUNI, apply=True)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    stored = districts(engine)
    assert stored["C00"].name == "新しい町名" and stored["C00"].version == 2 and stored["C10"].version == 1


def test_missing_crs_is_a_clear_error_naming_the_file(engine, tmp_path):
    path = write(grid_frame(), tmp_path / "no_crs.shp")
    path.with_suffix(".prj").unlink()
    with pytest.raises(LayerFileError, match=r"no_crs\.shp: the layer has no coordinate reference system"):
        import_districts(engine, path, municipality_code=MUNI)
    report = import_districts(engine, path, municipality_code=MUNI, assume_crs="EPSG:6668")
    assert report.valid == 4


def test_bow_tie_is_repaired_and_reported(engine, tmp_path):
    frame = grid_frame()
    x0, y0, x1, y1 = cell(0, 0).bounds
    frame.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])  # a bow-tie
    report = import_districts(engine, write(frame, tmp_path / "bowtie.geojson"), municipality_code=MUNI, apply=True)
    assert report.applied and [r.feature for r in report.repaired] == [0]
    assert "Self-intersection" in report.repaired[0].reason
    assert districts(engine)["C00"].geometry["type"] == "MultiPolygon"


def test_ambiguous_or_broken_geometries_are_refused_with_feature_and_reason(engine, tmp_path):
    frame = grid_frame()
    shell = cell(0, 0)
    x0, y0, _, _ = cell(1, 1).bounds
    frame.loc[0, "geometry"] = Polygon(shell.exterior.coords,
                                       [[(x0, y0), (x0 + 0.002, y0), (x0 + 0.002, y0 + 0.002), (x0, y0 + 0.002)]])
    frame.loc[1, "geometry"] = LineString([(LON0, LAT0), (LON0 + 0.01, LAT0)])
    frame.loc[2, "geometry"] = Polygon([(LON0, LAT0), (LON0 + 0.01, LAT0), (LON0 + 0.02, LAT0), (LON0, LAT0)])
    report = import_districts(engine, write(frame, tmp_path / "broken.gpkg", "GPKG"), municipality_code=MUNI,
                              apply=True)
    reasons = {e.feature: e.reason for e in report.errors}
    assert "Hole lies outside shell" in reasons[0] and "ambiguous" in reasons[0]
    assert "LineString is not a polygon" in reasons[1]
    assert "no area" in reasons[2] or "too small" in reasons[2]
    assert not report.applied and report.invalid == 3
    assert districts(engine) == {}  # a boundary layer with errors is not written at all


def test_row_errors_duplicates_and_unknown_parent(engine, tmp_path):
    frame = grid_frame(welfare_area_code=["W1", "W1", "W9", "W1"])
    frame.loc[1, "code"] = "C00"
    frame.loc[3, "name"] = None
    areas = gpd.GeoDataFrame({"code": ["W1"], "name": ["北部"]}, geometry=[box(LON0, LAT0, LON0 + .02, LAT0 + .02)],
                             crs="EPSG:6668")
    import_districts(engine, write(areas, tmp_path / "areas.geojson"), municipality_code=MUNI,
                     kind=DistrictKind.welfare_area, apply=True)
    report = import_districts(engine, write(frame, tmp_path / "chome.geojson"), municipality_code=MUNI)
    errors = {(e.feature, e.field): e.reason for e in report.errors}
    assert "already used by feature 0" in errors[(1, "code")]
    assert "no welfare area with code W9" in errors[(2, "parent_code")]
    assert "name is empty" in errors[(3, "name")]


def test_missing_columns_and_unreadable_files(engine, tmp_path):
    frame = grid_frame().rename(columns={"code": "KEY"})
    path = write(frame, tmp_path / "nocode.geojson")
    with pytest.raises(LayerFileError, match="no column for the district code"):
        import_districts(engine, path, municipality_code=MUNI)
    assert import_districts(engine, path, municipality_code=MUNI, code_column="KEY").valid == 4
    with pytest.raises(LayerFileError, match="municipality"):
        import_districts(engine, path, code_column="KEY")
    bad = tmp_path / "bad.geojson"
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(LayerFileError, match="bad.geojson: cannot be read"):
        import_districts(engine, bad, municipality_code=MUNI)


def test_people_and_shelters_outside_every_district_are_reported(engine, tmp_path):
    add_person(engine, "IN-1", LON0 + 0.005, LAT0 + 0.005)
    add_person(engine, "OUT-1", LON0 + 0.05, LAT0 + 0.05)
    report = import_districts(engine, write(grid_frame(), tmp_path / "c.geojson"), municipality_code=MUNI)
    assert report.extra["people_outside"] == 1 and report.extra["people_outside_sample"] == ["OUT-1"]


def test_geo_assign_places_people_and_shelters_by_point_in_polygon(engine, tmp_path):
    import_districts(engine, write(grid_frame(), tmp_path / "c.geojson"), municipality_code=MUNI, apply=True)
    add_person(engine, "A", LON0 + 0.015, LAT0 + 0.005)
    add_person(engine, "B", LON0 + 0.5, LAT0)
    add_person(engine, "C", None, None)
    with Session(engine) as s:
        s.add(Shelter(name="S", kind="designated_welfare", municipality_code=MUNI, lon=LON0 + 0.005,
                      lat=LAT0 + 0.015))
        s.commit()
    with Session(engine) as s:
        dry = assign_districts(s, MUNI, apply=False)
        assert dry.people_placed == 1 and dry.people_outside == ["B"] and dry.people_without_location == 1
        assert s.exec(select(Person).where(Person.register_no == "A")).one().district_id is None
        report = assign_districts(s, MUNI)
        s.commit()
    assert report.shelters_placed == 1
    codes = {d.id: d.code for d in districts(engine).values()}
    with Session(engine) as s:
        person = s.exec(select(Person).where(Person.register_no == "A")).one()
        shelter = s.exec(select(Shelter)).one()
        assert codes[person.district_id] == "C10" and person.version == 2
        assert codes[shelter.district_id] == "C01"


def test_hazard_import_flags_the_people_inside(engine, tmp_path):
    add_person(engine, "WET", LON0 + 0.005, LAT0 + 0.001)
    add_person(engine, "DRY", LON0 + 0.005, LAT0 + 0.009)
    strip = gpd.GeoDataFrame({"名称": ["川沿い"], "浸水深": ["0.5-3.0m"]},
                             geometry=[box(LON0, LAT0, LON0 + 0.03, LAT0 + 0.003)], crs="EPSG:6668").to_crs(6677)
    path = write(strip, tmp_path / "flood.shp")
    report = import_hazards(engine, path, kind=HazardKind.flood, municipality_code=MUNI, apply=True)
    assert report.applied and report.extra["people_inside"] == 1
    with Session(engine) as s:
        area = s.exec(select(HazardArea)).one()
        assert (area.kind, area.name, area.level) == (HazardKind.flood, "川沿い", "0.5-3.0m")
        assert 8.6e5 < area.area_m2 < 9.4e5  # 0.03° × 0.003° ≈ 2.71 km × 0.33 km
        flags = people_in_hazard_areas(s, MUNI)
        wet = s.exec(select(Person).where(Person.register_no == "WET")).one()
        assert flags == {wet.id: ["flood"]}
        assert hazard_counts(s) == {"flood": 1}
    again = import_hazards(engine, path, kind=HazardKind.flood, municipality_code=MUNI, apply=True)
    assert again.replaced == 1


def test_hazard_kind_from_a_column_and_the_demo_layer(engine):
    path = Path(__file__).resolve().parent.parent / "geodata" / "hazards" / "hazards.geojson"
    report = import_hazards(engine, path, kind=None, municipality_code="132993")
    assert report.valid == report.features >= 8 and not report.errors
    assert set(report.extra["kinds"]) == {"flood", "landslide_warning", "landslide_special"}


def test_committed_hazard_layer_matches_its_generator():
    from server.domain.hazards_demo import hazards_geojson

    path = Path(__file__).resolve().parent.parent / "geodata" / "hazards" / "hazards.geojson"
    assert path.read_text(encoding="utf-8") == hazards_geojson()


def test_hazard_areas_and_the_people_inside_over_http(engine, client, client_for, tmp_path):
    add_person(engine, "WET", LON0 + 0.005, LAT0 + 0.001)
    strip = gpd.GeoDataFrame({"name": ["川沿い"]}, geometry=[box(LON0, LAT0, LON0 + 0.03, LAT0 + 0.003)],
                             crs="EPSG:6668")
    import_hazards(engine, write(strip, tmp_path / "flood.geojson"), kind=HazardKind.flood, municipality_code=MUNI,
                   apply=True)
    layer = client_for("district_supporter").get("/api/hazards", params={"kind": "flood"})
    assert layer.status_code == 200
    feature = layer.json()["features"][0]
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["kind_label"] == "浸水想定区域"
    assert client.get("/api/hazards", params={"kind": "landslide_warning"}).json()["features"] == []
    assert client.get("/api/hazards", params={"kind": "lava"}).status_code == 422
    inside = client_for("hq_viewer").get("/api/hazards/people").json()
    with Session(engine) as s:
        wet = s.exec(select(Person).where(Person.register_no == "WET")).one()
    assert inside == {"items": [{"person_id": str(wet.id), "kinds": ["flood"]}], "total": 1}
    assert client_for("district_supporter").get("/api/hazards/people").status_code == 403
