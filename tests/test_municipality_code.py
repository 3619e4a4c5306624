"""全国地方公共団体コード: the check digit, against the real codes of Tokyo's 62 municipalities."""

from __future__ import annotations

import pytest

from server.importers.people_csv import import_people
from server.importers.shelters_csv import import_shelters
from server.models.geo import municipality_check_digit, normalize_municipality_code

from .csv_helpers import people, people_csv, person_row, shelters
from .test_importers_shelters import gsi_csv, gsi_row

# The published codes (総務省 全国地方公共団体コード), not computed here: 23 special wards,
# 26 cities, 13 towns and villages.
TOKYO = {
    "千代田区": "131016", "中央区": "131024", "港区": "131032", "新宿区": "131041", "文京区": "131059",
    "台東区": "131067", "墨田区": "131075", "江東区": "131083", "品川区": "131091", "目黒区": "131105",
    "大田区": "131113", "世田谷区": "131121", "渋谷区": "131130", "中野区": "131148", "杉並区": "131156",
    "豊島区": "131164", "北区": "131172", "荒川区": "131181", "板橋区": "131199", "練馬区": "131202",
    "足立区": "131211", "葛飾区": "131229", "江戸川区": "131237",
    "八王子市": "132012", "立川市": "132021", "武蔵野市": "132039", "三鷹市": "132047", "青梅市": "132055",
    "府中市": "132063", "昭島市": "132071", "調布市": "132080", "町田市": "132098", "小金井市": "132101",
    "小平市": "132110", "日野市": "132128", "東村山市": "132136", "国分寺市": "132144", "国立市": "132152",
    "福生市": "132187", "狛江市": "132195", "東大和市": "132209", "清瀬市": "132217", "東久留米市": "132225",
    "武蔵村山市": "132233", "多摩市": "132241", "稲城市": "132250", "羽村市": "132276", "あきる野市": "132284",
    "西東京市": "132292",
    "瑞穂町": "133035", "日の出町": "133051", "檜原村": "133078", "奥多摩町": "133086", "大島町": "133612",
    "利島村": "133621", "新島村": "133639", "神津島村": "133647", "三宅村": "133817", "御蔵島村": "133825",
    "八丈町": "134015", "青ヶ島村": "134023", "小笠原村": "134210",
}


def _remainder(code: str) -> int:
    return sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2))) % 11


def test_the_table_is_complete_and_has_both_special_remainders():
    assert len(TOKYO) == 62 and len(set(TOKYO.values())) == 62
    # Remainder 0 (check digit 1) and remainder 1 (check digit 0) are the cases the rule singles out.
    assert {"新宿区", "荒川区", "足立区", "立川市", "利島村"} == {n for n, c in TOKYO.items() if _remainder(c) == 0}
    assert {"渋谷区", "調布市", "小平市", "稲城市", "小笠原村"} == {n for n, c in TOKYO.items() if _remainder(c) == 1}


@pytest.mark.parametrize("name, code", sorted(TOKYO.items(), key=lambda item: item[1]))
def test_every_tokyo_code(name, code):
    assert municipality_check_digit(code[:5]) == code[5], name
    assert normalize_municipality_code(code) == code
    assert normalize_municipality_code(code[:5]) == code  # the 5-digit form is completed
    wrong = code[:5] + str((int(code[5]) + 1) % 10)
    with pytest.raises(ValueError, match=f"should be {code[5]}"):
        normalize_municipality_code(wrong)


def test_remainder_zero_gives_one_and_remainder_one_gives_zero():
    assert municipality_check_digit("13202") == "1"  # 6+15+8+0+4 = 33 ≡ 0 (mod 11)
    assert municipality_check_digit("13113") == "0"  # 6+15+4+3+6 = 34 ≡ 1 (mod 11)
    with pytest.raises(ValueError, match="should be 1"):
        normalize_municipality_code("132020")  # what the old rule produced for 立川市


def test_a_shinjuku_gsi_file_stores_131041(engine):
    report = import_shelters(engine, gsi_csv(gsi_row(common_id="E1310400001121", address="東京都新宿区西新宿2-8-1",
                                                     lat="35.689487", lon="139.691706")), apply=True)
    assert report.errors == []
    assert shelters(engine)["E1310400001121"]["municipality_code"] == "131041"


def test_people_of_tachikawa_are_accepted_with_the_real_code(engine):
    data = people_csv(person_row(市区町村コード="132021", 登録者番号="T-1", 町丁目コード=""),
                      person_row(市区町村コード="13202", 登録者番号="T-2", 町丁目コード=""))
    report = import_people(engine, data, apply=True)
    assert report.errors == []
    assert {row["municipality_code"] for row in people(engine).values()} == {"132021"}
