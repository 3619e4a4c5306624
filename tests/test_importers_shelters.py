"""Shelter importers: the GSI 指定避難所 CSV and the project's own shelter CSV."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from server.importers.report import ImportFileError
from server.importers.shelters_csv import import_shelters
from server.importers.shelters_gsi import capacity_from_notes, parse_target_groups
from server.models import Shelter

from .csv_helpers import OWN_HEADER, add_districts, count, csv_bytes, own_csv, own_row, shelters

GSI_HEADER = ["NO", "共通ID", "都道府県名及び市町村名", "施設・場所名", "住所", "指定緊急避難場所との住所同一",
              "その他市町村長が必要と認める事項", "受入対象者", "緯度", "経度", "備考"]


def gsi_row(common_id="E1321400002121", name="福祉センター", targets="要配慮者", notes="", lat="35.708091",
            lon="139.455656", address="東京都国分寺市戸倉4-14") -> list[str]:
    return ["1", common_id, "東京都国分寺市", name, address, "", "", targets, lat, lon, notes]


def gsi_csv(*rows: list[str]) -> bytes:
    return csv_bytes(GSI_HEADER, rows, encoding="utf-8-sig", newline="\n")


def errors_of(report) -> list[tuple[int, str]]:
    return [(issue.line, issue.column) for issue in report.errors]


# ---- GSI --------------------------------------------------------------------------------------

def test_gsi_sample(engine, fixtures_dir):
    data = (fixtures_dir / "gsi_shelters_sample.csv").read_bytes()
    report = import_shelters(engine, data)
    assert report.source_format == "gsi_shelters" and report.encoding == "UTF-8 (BOM付き)"
    assert (report.rows, report.valid, report.created, report.errors) == (6, 6, 6, [])
    assert count(engine, Shelter) == 0

    report = import_shelters(engine, data, apply=True)
    assert report.created == 6
    stored = shelters(engine)
    kinds = {cid: row["kind"] for cid, row in stored.items()}
    assert kinds == {"E1321400001111": "designated", "E1321400002121": "designated_welfare",
                     "E1321400006121": "designated_welfare", "E1321400007111": "designated",
                     "E1321400014122": "designated_welfare", "E1321400019121": "designated_welfare"}
    welfare = stored["E1321400002121"]
    # 要配慮者 covers every welfare group, 妊産婦・乳幼児 included.
    assert welfare["target_groups"] == ["elderly", "disabled", "pregnant_infant", "medical_care"]
    assert welfare["target_groups_text"] == "要配慮者" and welfare["accepts_carers"] is None
    assert stored["E1321400006121"]["target_groups"] == ["pregnant_infant"]
    assert stored["E1321400001111"]["target_groups"] == []
    assert welfare["municipality_code"] == "132144" and welfare["name"] == "福祉センター・生きがいセンターとくら"
    assert (welfare["lon"], welfare["lat"]) == (139.455656, 35.708091)
    assert welfare["capacity"] is None and welfare["seismic_class"] == "unknown"
    # Nothing in a GSI file says capacity or 耐震: every shelter is listed for staff to complete.
    assert {item.common_id for item in report.incomplete} == set(stored)
    assert all(item.missing == ["capacity", "building_permit_date"] for item in report.incomplete)

    again = import_shelters(engine, data, apply=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


def test_gsi_capacity_from_notes_and_empty_target_groups():
    assert capacity_from_notes("収容人数 120人") == 120
    assert capacity_from_notes("想定収容人数：１，２００") == 1200
    assert capacity_from_notes("定員30名（福祉スペース）") == 30
    assert capacity_from_notes("駐車場あり") is None
    assert parse_target_groups("要配慮者、乳幼児") == ["elderly", "disabled", "pregnant_infant", "medical_care"]
    assert parse_target_groups("高齢者") == ["elderly"]


def test_gsi_rows_with_capacity_and_without_target_groups(engine):
    data = gsi_csv(gsi_row(notes="想定収容人数：120"), gsi_row(common_id="E1321400005121", name="光公民館", targets=""))
    report = import_shelters(engine, data, apply=True)
    assert report.errors == []
    stored = shelters(engine)
    assert stored["E1321400002121"]["capacity"] == 120 and stored["E1321400002121"]["notes"] == "想定収容人数：120"
    missing = {item.common_id: item.missing for item in report.incomplete}
    assert missing == {"E1321400002121": ["building_permit_date"],
                       "E1321400005121": ["capacity", "building_permit_date", "target_groups"]}


def test_gsi_reimport_keeps_what_staff_filled_in(engine):
    import_shelters(engine, gsi_csv(gsi_row()), apply=True)
    with engine.begin() as conn:
        t = Shelter.__table__
        conn.execute(sa.update(t).values(capacity=35, target_groups=["elderly"], building_permit_date=date(1975, 5, 1),
                                         seismic_diagnosis_done=True, is_value=0.72, notes="職員メモ", version=2))
    # GSI renamed the facility and moved the point; 受入対象者 still says 要配慮者, 備考 gives a capacity.
    report = import_shelters(engine, gsi_csv(gsi_row(name="福祉センターとくら", lat="35.7081", notes="収容人数 200人")),
                             apply=True)
    assert (report.updated, report.errors) == (1, [])
    row = shelters(engine)["E1321400002121"]
    assert row["name"] == "福祉センターとくら" and row["lat"] == 35.7081
    assert (row["capacity"], row["target_groups"], row["notes"]) == (35, ["elderly"], "職員メモ")
    assert (row["building_permit_date"], row["is_value"]) == (date(1975, 5, 1), 0.72)
    assert row["seismic_class"] == "old_low_risk" and row["version"] == 3
    assert report.incomplete == []


@pytest.mark.parametrize("common_id", ["E13214000021", "X1321400002121", "E1321400002131", "Ｅ１３２１４", ""])
def test_gsi_bad_common_id(engine, common_id):
    report = import_shelters(engine, gsi_csv(gsi_row(common_id="E1321400001111"), gsi_row(common_id=common_id)),
                             apply=True)
    assert errors_of(report) == [(3, "共通ID")]
    assert count(engine, Shelter) == 1


def test_gsi_evacuation_site_is_not_a_shelter(engine):
    report = import_shelters(engine, gsi_csv(gsi_row(common_id="E1321400002201")), apply=True)
    assert errors_of(report) == [(2, "共通ID")] and "evacuation site" in report.errors[0].reason
    assert count(engine, Shelter) == 0


@pytest.mark.parametrize("cells, column", [
    ({"lat": "135.7", "lon": "35.4"}, "経度"), ({"lat": "-35.7"}, "緯度"),
    ({"name": ""}, "施設・場所名"), ({"lon": "x"}, "経度"),
])
def test_gsi_bad_rows(engine, cells, column):
    report = import_shelters(engine, gsi_csv(gsi_row(**cells)), apply=True)
    assert errors_of(report) == [(2, column)]
    assert count(engine, Shelter) == 0


def test_gsi_duplicate_common_id(engine):
    report = import_shelters(engine, gsi_csv(gsi_row(), gsi_row(name="別名")), apply=True)
    assert errors_of(report) == [(3, "共通ID")] and "2行目" in report.errors[0].reason
    assert shelters(engine)["E1321400002121"]["name"] == "福祉センター"


# ---- own format ------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_own_format_full_row(engine, encoding):
    districts = add_districts(engine, "C010")
    report = import_shelters(engine, own_csv(own_row(町丁目コード="C010", 耐震診断="実施済", **{"Is値": "0.45"})),
                             apply=True)
    assert report.source_format == "shelters_csv" and report.errors == [] and report.created == 1
    row = shelters(engine)["E1321400003121"]
    assert row["kind"] == "designated_welfare" and row["target_groups"] == ["elderly", "disabled"]
    assert row["capabilities"] == ["wheelchair_access", "backup_power"] and row["capacity"] == 40
    assert row["building_permit_date"] == date(1985, 4, 1) and row["district_id"] == districts["C010"]
    # 建築確認 in 1985 is 新耐震, whatever the Is値 says
    assert row["seismic_class"] == "new_standard"
    assert report.incomplete == []


@pytest.mark.parametrize("cells, expected", [
    ({"建築確認日": "1975-01-01"}, "old_undiagnosed"),
    ({"建築確認日": "1975-01-01", "耐震診断": "実施済", "Is値": "0.2"}, "old_high_risk"),
    ({"建築確認日": "1975-01-01", "耐震診断": "はい", "Is値": "０．４５"}, "old_some_risk"),
    ({"建築確認日": "1975-01-01", "耐震改修": "実施済"}, "old_retrofitted"),
    ({"建築確認日": "", "Is値": "0.8", "耐震診断": "1"}, "old_low_risk"),
    ({"建築確認日": ""}, "unknown"),
])
def test_seismic_class_is_stored(engine, cells, expected):
    assert import_shelters(engine, own_csv(own_row(**cells)), apply=True).errors == []
    assert shelters(engine)["E1321400003121"]["seismic_class"] == expected


def test_agreement_shelter_without_common_id_matched_by_name(engine):
    row = own_row(共通ID="", 施設名="特養 試験の里", 種別="協定福祉避難所", 受入対象者="高齢者", 市区町村コード="")
    assert import_shelters(engine, own_csv(row), apply=True).created == 1
    report = import_shelters(engine, own_csv({**row, "受入可能人数": "25"}), apply=True)
    assert (report.created, report.updated) == (0, 1)
    stored = shelters(engine)["特養 試験の里"]
    assert stored["capacity"] == 25 and stored["common_id"] is None and stored["kind"] == "agreement_welfare"


def test_gsi_links_a_shelter_entered_by_hand_instead_of_duplicating_it(engine):
    import_shelters(engine, own_csv(own_row(共通ID="", 施設名="福祉センター", 受入可能人数="60")), apply=True)
    report = import_shelters(engine, gsi_csv(gsi_row()), apply=True)
    assert (report.created, report.updated) == (0, 1)
    assert [(w.line, w.column) for w in report.warnings] == [(2, "共通ID")]
    stored = shelters(engine)
    assert list(stored) == ["E1321400002121"] and stored["E1321400002121"]["capacity"] == 60


def test_blank_cells_do_not_erase(engine):
    import_shelters(engine, own_csv(own_row(耐震改修="実施済")), apply=True)
    blanks = {h: "" for h in OWN_HEADER if h not in ("共通ID", "施設名", "種別")}
    report = import_shelters(engine, own_csv(own_row(**blanks)), apply=True)
    assert report.unchanged == 1
    row = shelters(engine)["E1321400003121"]
    assert row["capacity"] == 40 and row["retrofit_done"] is True and row["target_groups"] == ["elderly", "disabled"]


def _own_bad(engine, **cells) -> list[tuple[int, str]]:
    report = import_shelters(engine, own_csv(own_row(共通ID="E1321400001111", 施設名="よい避難所"), own_row(**cells)),
                             apply=True)
    assert report.created == 1 and report.invalid == 1
    assert set(shelters(engine)) == {"E1321400001111"}
    return errors_of(report)


@pytest.mark.parametrize("cells, column", [
    ({"種別": "城"}, "種別"),
    ({"種別": ""}, "種別"),
    ({"受入対象者": "高齢者、宇宙人"}, "受入対象者"),
    ({"受入対象者": "一般"}, "受入対象者"),          # a welfare shelter names its groups
    ({"受入可能人数": "-5"}, "受入可能人数"),
    ({"受入可能人数": "たくさん"}, "受入可能人数"),
    ({"Is値": "3.5", "耐震診断": "実施済"}, "Is値"),
    ({"Is値": "-0.1", "耐震診断": "実施済"}, "Is値"),
    ({"Is値": "0.5", "耐震診断": "未実施"}, "Is値"),
    ({"経度": "0"}, "経度"),
    ({"緯度": "50.1"}, "緯度"),
    ({"共通ID": "E132140000312"}, "共通ID"),
    ({"共通ID": "ABC"}, "共通ID"),
    ({"設備": "ヘリポート"}, "設備"),
    ({"建築確認日": "昭和65年1月1日"}, "建築確認日"),
    ({"耐震改修": "たぶん"}, "耐震改修"),
    ({"町丁目コード": "C404"}, "町丁目コード"),
    ({"施設名": ""}, "施設名"),
])
def test_own_format_bad_rows(engine, cells, column):
    assert _own_bad(engine, **cells) == [(3, column)]


def test_own_format_duplicates(engine):
    data = own_csv(own_row(), own_row(施設名="別"), own_row(共通ID="", 施設名="協定A", 種別="協定福祉避難所"),
                   own_row(共通ID="", 施設名="協定A", 種別="協定福祉避難所"))
    report = import_shelters(engine, data, apply=True)
    assert errors_of(report) == [(3, "共通ID"), (5, "施設名")]
    assert count(engine, Shelter) == 2


def test_kind_disagreeing_with_common_id_is_a_warning(engine):
    report = import_shelters(engine, own_csv(own_row(種別="指定避難所", 受入対象者="")), apply=True)
    assert report.errors == [] and [(w.line, w.column) for w in report.warnings] == [(2, "種別")]


def test_header_that_is_no_shelter_csv(engine):
    with pytest.raises(ImportFileError) as caught:
        import_shelters(engine, csv_bytes(["氏名", "住所"], [["a", "b"]]), apply=True)
    assert "施設名" in caught.value.message and count(engine, Shelter) == 0


def test_own_format_missing_required_column(engine):
    with pytest.raises(ImportFileError) as caught:
        import_shelters(engine, csv_bytes(["施設名", "住所"], [["a", "b"]]), apply=True)
    assert "種別" in caught.value.message


def test_shelter_file_with_mixed_encodings(engine):
    data = own_csv(own_row(), encoding="utf-8") + "E1321400004121,132144,試験,,指定福祉避難所\r\n".encode("cp932")
    with pytest.raises(ImportFileError) as caught:
        import_shelters(engine, data, apply=True)
    assert caught.value.line == 3 and count(engine, Shelter) == 0
