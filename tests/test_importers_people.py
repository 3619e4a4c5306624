"""People CSV importer: encodings, headers, row errors with line and column, dry run, apply, re-import."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from server.importers.people_csv import import_people
from server.importers.report import ImportFileError
from server.models import Person

from .csv_helpers import PEOPLE_HEADER, add_districts, count, csv_bytes, people, people_csv, person_row


@pytest.fixture
def districts(engine):
    return add_districts(engine, "C001", "C002")


def errors_of(report) -> list[tuple[int, str]]:
    return [(issue.line, issue.column) for issue in report.errors]


# ---- the happy path -----------------------------------------------------------------------

def test_sample_file_cp932_dry_run_then_apply(engine, districts, fixtures_dir):
    data = (fixtures_dir / "people_sample_cp932.csv").read_bytes()
    report = import_people(engine, data)
    assert report.errors == []
    assert (report.rows, report.valid, report.created, report.applied) == (4, 4, 4, False)
    assert report.encoding == "Shift_JIS (CP932)"
    assert count(engine, Person) == 0  # a dry run writes nothing

    report = import_people(engine, data, apply=True)
    assert report.applied and report.created == 4 and report.errors == []
    stored = people(engine)
    assert set(stored) == {"T-0001", "T-0002", "T-0003", "T-0004"}
    first = stored["T-0001"]  # typed with full-width digits and half-width kana
    assert first["municipality_code"] == "132144"
    assert first["name"] == "試験　一郎" and first["name_kana"] == "シケン イチロウ"
    assert first["birth_date"] == date(1940, 3, 3)
    assert first["postal_code"] == "185-0003" and first["phone"] == "042-325-0011"
    assert first["address"] == "東京都国分寺市戸倉3-5-1"
    assert first["reasons"] == ["care_level_3plus", "physical_disability"]
    assert first["care_needs"] == ["wheelchair", "oxygen"]
    assert first["district_id"] == districts["C001"]
    assert first["consent"] == "yes" and first["consent_date"] == date(2023, 4, 1)
    assert first["emergency_contacts"] == [{"name": "試験　花子", "relation": "長女", "phone": "090-1111-2222"}]
    assert first["household"] == "alone" and first["version"] == 1
    third = stored["T-0003"]
    assert third["municipality_code"] == "132144"  # 5-digit code completed with its check digit
    assert third["postal_code"] == "185-0024" and third["preferred_language"] == "ja-easy"
    assert third["notes"] == "停電時は\r\n電源確保が必要"
    assert [c["name"] for c in third["emergency_contacts"]] == ["試験　四郎", "試験　五子"]
    assert stored["T-0004"]["preferred_language"] == "en" and stored["T-0004"]["sex"] == "other"


@pytest.mark.parametrize("encoding, label", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM付き)"),
                                             ("cp932", "Shift_JIS (CP932)")])
def test_each_encoding(engine, districts, encoding, label):
    data = people_csv(person_row(), person_row(登録者番号="T-0002", 氏名="試験　髙橋"), encoding=encoding)
    report = import_people(engine, data, apply=True)
    assert report.encoding == label and report.errors == [] and report.created == 2
    assert people(engine)["T-0002"]["name"] == "試験　髙橋"


@pytest.mark.parametrize("text", ["令和元年5月1日", "R1.5.1", "R01/05/01", "2019/5/1", "2019-05-01", "2019年5月1日",
                                  "20190501", "２０１９／５／１", "Ｒ１．５．１"])
def test_every_date_form(engine, districts, text):
    report = import_people(engine, people_csv(person_row(生年月日=text)), apply=True)
    assert report.errors == []
    assert people(engine)["T-0001"]["birth_date"] == date(2019, 5, 1)


def test_english_headers_and_default_municipality_code(engine, districts):
    header = ["register_no", "name", "birth_date", "sex", "address", "reasons", "district_code", "Emergency_Contact_1_Name"]
    data = csv_bytes(header, [["E-1", "Test Taro", "1950-01-02", "male", "東京都国分寺市本町1-1", "要介護3以上", "C002", "Hanako"]])
    report = import_people(engine, data, apply=True, default_municipality_code="13214")
    assert report.errors == [] and report.created == 1
    person = people(engine)["E-1"]
    assert person["municipality_code"] == "132144" and person["district_id"] == districts["C002"]
    assert person["emergency_contacts"] == [{"name": "Hanako", "relation": "", "phone": ""}]


def test_blank_rows_are_skipped_and_unknown_columns_warned(engine, districts):
    header = PEOPLE_HEADER + ["趣味"]
    data = csv_bytes(header, [person_row(), [""] * len(header), person_row(登録者番号="T-0002")])
    report = import_people(engine, data)
    assert report.rows == 2 and report.valid == 2
    assert [(w.line, w.column) for w in report.warnings] == [(1, "趣味")]


# ---- whole-file errors: nothing written ---------------------------------------------------------

def _refused(engine, data: bytes, **options) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        import_people(engine, data, apply=True, **options)
    assert count(engine, Person) == 0
    return caught.value


def test_missing_required_column(engine, districts):
    header = [h for h in PEOPLE_HEADER if h not in ("生年月日", "住所")]
    error = _refused(engine, people_csv(person_row(), header=header))
    assert "生年月日" in error.message and "住所" in error.message and "birth_date" in error.message
    assert error.line == 1 and error.to_dict()["errors"] == [{"field": "file", "message": error.message}]


def test_municipality_column_required_without_a_default(engine, districts):
    header = [h for h in PEOPLE_HEADER if h != "市区町村コード"]
    error = _refused(engine, people_csv(person_row(), header=header))
    assert "市区町村コード" in error.message
    assert import_people(engine, people_csv(person_row(), header=header), default_municipality_code="132144").ok


def test_bad_default_municipality_code(engine):
    _refused(engine, people_csv(person_row()), default_municipality_code="132145")


def test_file_valid_in_no_encoding(engine):
    data = people_csv(person_row()) + b"T-0002,132144,\xff\xfe\x80,,1940/1/1,\x85\x40,,x\r\n"
    error = _refused(engine, data)
    assert error.line == 3 and "UTF-8" in error.message


def test_mixed_utf8_and_cp932_lines(engine, districts):
    data = people_csv(person_row(), encoding="utf-8") + people_csv(person_row(登録者番号="T-0002"), encoding="cp932").split(b"\r\n", 1)[1]
    error = _refused(engine, data)
    assert error.line == 3 and "混在" in error.message and "mixed encodings" in error.message


def test_cp932_file_with_a_utf8_line(engine, districts):
    data = people_csv(person_row(), encoding="cp932") + people_csv(person_row(登録者番号="T-0002"), encoding="utf-8").split(b"\r\n", 1)[1]
    error = _refused(engine, data)
    assert error.line == 3 and "line 1 is Shift_JIS/CP932 but line 3 is UTF-8" in error.message


def test_bom_file_with_a_cp932_line(engine, districts):
    data = people_csv(person_row(), encoding="utf-8-sig") + "T-0002,132144,試験\r\n".encode("cp932")
    error = _refused(engine, data)
    assert error.line == 3 and "BOM" in error.message


@pytest.mark.parametrize("data, words", [(b"", "empty"), (b"PK\x03\x04rest", ".xlsx"),
                                         ("登録者番号".encode("utf-16"), "UTF-16"), (b"a,b\n\x00\x01", "NUL")])
def test_not_a_csv(engine, data, words):
    assert words in _refused(engine, data).message


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_named_with_how_to_save_as_csv(engine, districts, encoding):
    text = people_csv(person_row(), person_row(登録者番号="T-0002")).decode("utf-8")
    error = _refused(engine, text.encode(encoding))
    assert "UTF-16" in error.message and "NUL" not in error.message
    assert "CSV UTF-8" in error.message and "Save As" in error.message


def test_two_digit_and_year_only_birth_dates_say_why(engine, districts):
    report = import_people(engine, people_csv(person_row(生年月日="40/3/3"), person_row(登録者番号="T-0002",
                                                                                       生年月日="大正14年")))
    assert errors_of(report) == [(2, "生年月日"), (3, "生年月日")]
    assert "ambiguous" in report.errors[0].reason and "incomplete" in report.errors[1].reason


def test_broken_quote_late_in_the_file_rolls_everything_back(engine, districts):
    rows = [person_row(登録者番号=f"T-{n:04d}") for n in range(1, 2500)]
    data = people_csv(*rows) + b'T-9999,132144,"unclosed,1940/1/1\r\n'
    error = _refused(engine, data)
    assert error.line == 2501 and "quote" in error.message


# ---- row errors: line, column, and the bad row is not written ------------------------------------

def _one_bad_row(engine, **cells) -> list[tuple[int, str]]:
    """Import a good row (line 2) and a bad one (line 3); the good one is written, the bad one is not."""
    report = import_people(engine, people_csv(person_row(), person_row(**{"登録者番号": "T-0002", **cells})), apply=True)
    assert report.valid == 1 and report.invalid == 1 and report.created == 1
    assert set(people(engine)) == {"T-0001"}
    return errors_of(report)



@pytest.mark.parametrize("text", ["そのうち", "令和0年4月1日", "2023年2月30日", "昭和64年1月8日", "平成32年1月1日", ""])
def test_bad_birth_dates(engine, districts, text):
    assert _one_bad_row(engine, 生年月日=text) == [(3, "生年月日")]


def test_future_birth_date(engine, districts):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    report = import_people(engine, people_csv(person_row(生年月日=tomorrow)), apply=True)
    assert errors_of(report) == [(2, "生年月日")] and "未来" in report.errors[0].reason
    assert count(engine, Person) == 0


@pytest.mark.parametrize("lon, lat, columns", [
    ("-73.98", "-40.75", [(3, "経度"), (3, "緯度")]),
    ("139.45", "55.0", [(3, "緯度")]),
    ("200", "35.7", [(3, "経度")]),
    ("35.70832", "139.45423", [(3, "経度")]),         # swapped
    ("139.45", "", [(3, "緯度")]),
    ("東経139度", "35.7", [(3, "経度")]),
])
def test_coordinates_outside_japan_or_incomplete(engine, districts, lon, lat, columns):
    assert _one_bad_row(engine, 経度=lon, 緯度=lat) == columns


def test_duplicate_register_numbers_in_one_file(engine, districts):
    data = people_csv(person_row(), person_row(登録者番号="T-0002"), person_row(氏名="別人"),
                      person_row(登録者番号="Ｔ－０００１"))
    report = import_people(engine, data, apply=True)
    assert errors_of(report) == [(4, "登録者番号"), (5, "登録者番号")]
    assert all("2行目" in issue.reason and "line 2" in issue.reason for issue in report.errors)
    stored = people(engine)
    assert set(stored) == {"T-0001", "T-0002"} and stored["T-0001"]["name"] == "試験　一郎"


@pytest.mark.parametrize("cells, column", [
    ({"性別": "男子"}, "性別"), ({"事由": "要介護3以上、風邪"}, "事由"), ({"同意": "たぶん"}, "同意"),
    ({"町丁目コード": "C999"}, "町丁目コード"), ({"電話番号": "03-1234-5678 内線5"}, "電話番号"),
    ({"電話番号": "12345"}, "電話番号"), ({"電話番号": "042325001199999"}, "電話番号"),
    ({"郵便番号": "185"}, "郵便番号"), ({"市区町村コード": "132145"}, "市区町村コード"),
    ({"同意日": ""}, "同意日"), ({"氏名": ""}, "氏名"), ({"住所": " "}, "住所"), ({"登録者番号": ""}, "登録者番号"),
])
def test_bad_cells(engine, districts, cells, column):
    assert _one_bad_row(engine, **cells) == [(3, column)]


def test_every_bad_cell_of_a_row_is_reported_in_column_order(engine, districts):
    report = import_people(engine, people_csv(person_row(生年月日="?", 性別="?", 経度="0", 緯度="0", 同意日="?")))
    assert errors_of(report) == [(2, "生年月日"), (2, "性別"), (2, "経度"), (2, "緯度"), (2, "同意日")]


def test_line_numbers_are_physical_lines(engine, districts):
    header = PEOPLE_HEADER + ["申し伝え事項"]
    data = csv_bytes(header, [person_row(申し伝え事項="一行目\r\n二行目\r\n三行目"),
                              person_row(登録者番号="T-0002", 性別="?")])
    assert errors_of(import_people(engine, data)) == [(5, "性別")]


def test_cells_beyond_the_header(engine, districts):
    data = people_csv(person_row()) + "T-0002,132144,x,x,1940/1/1,男,,住所,,,,,,,,余分\r\n".encode()
    report = import_people(engine, data)
    assert errors_of(report) == [(3, "(行)")]


def test_impossible_emergency_contact_number_names_its_column(engine, districts):
    header = PEOPLE_HEADER + ["緊急連絡先1氏名", "緊急連絡先1電話"]
    report = import_people(engine, csv_bytes(header, [person_row(緊急連絡先1氏名="試験 太郎", 緊急連絡先1電話="12345")]))
    assert errors_of(report) == [(2, "緊急連絡先1電話")] and "not a possible phone number" in report.errors[0].reason


def test_phone_numbers_are_stored_in_the_national_format(engine, districts):
    report = import_people(engine, people_csv(person_row(電話番号="0423250011"),
                                              person_row(登録者番号="T-0002", 電話番号="+81 90 1234 5678")), apply=True)
    assert report.errors == []
    assert {k: v["phone"] for k, v in people(engine).items()} == {"T-0001": "042-325-0011", "T-0002": "090-1234-5678"}


def test_emergency_contact_without_a_name(engine, districts):
    header = PEOPLE_HEADER + ["緊急連絡先1氏名", "緊急連絡先1電話"]
    report = import_people(engine, csv_bytes(header, [person_row(緊急連絡先1電話="03-1000-0000")]))
    assert errors_of(report) == [(2, "緊急連絡先1氏名")]


def test_reports_never_contain_personal_values(engine, districts):
    row = person_row(氏名="秘密　花子", 住所="東京都国分寺市秘密町9-9", 生年月日="昭和64年1月8日", 性別="秘密",
                     事由="秘密の病気", 電話番号="秘密")
    report = import_people(engine, people_csv(row))
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert len(report.errors) == 4 and "秘密" not in text and "昭和64年1月8日" not in text


def test_private_use_characters_are_warned(engine, districts):
    report = import_people(engine, people_csv(person_row(氏名="試験\ue000子")))
    assert report.valid == 1 and [(w.line, w.column) for w in report.warnings] == [(2, "氏名")]


def test_report_as_json(engine, districts):
    report = import_people(engine, people_csv(person_row(), person_row(登録者番号="T-0002", 性別="?")))
    body = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert body["applied"] is False and body["kind"] == "people" and body["format"] == "people_csv"
    assert body["counts"] == {"rows": 2, "valid": 1, "invalid": 1, "created": 1, "updated": 0, "unchanged": 0}
    assert body["errors"] == [{"line": 3, "column": "性別", "reason": report.errors[0].reason}]


# ---- re-import ---------------------------------------------------------------------------

def test_reimport_updates_by_register_number(engine, districts):
    import_people(engine, people_csv(person_row(), person_row(登録者番号="T-0002")), apply=True)
    before = people(engine)
    report = import_people(engine, people_csv(person_row(電話番号="042-199-0000"), person_row(登録者番号="T-0002")),
                           apply=True)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    after = people(engine)
    assert count(engine, Person) == 2
    assert after["T-0001"]["phone"] == "042-199-0000" and after["T-0001"]["version"] == 2
    assert after["T-0001"]["updated_at"] > before["T-0001"]["updated_at"]
    assert after["T-0001"]["id"] == before["T-0001"]["id"] and after["T-0001"]["created_at"] == before["T-0001"]["created_at"]
    assert after["T-0002"]["version"] == 1 and after["T-0002"]["updated_at"] == before["T-0002"]["updated_at"]


def test_dry_run_counts_what_would_change(engine, districts):
    import_people(engine, people_csv(person_row()), apply=True)
    report = import_people(engine, people_csv(person_row(氏名="試験　一朗"), person_row(登録者番号="T-0002")))
    assert (report.created, report.updated, report.unchanged, report.applied) == (1, 1, 0, False)
    assert people(engine)["T-0001"]["name"] == "試験　一郎" and count(engine, Person) == 1


def test_absent_column_keeps_the_field_and_blank_cell_clears_it(engine, districts):
    import_people(engine, people_csv(person_row()), apply=True)
    header = [h for h in PEOPLE_HEADER if h != "電話番号"]
    report = import_people(engine, people_csv(person_row(), header=header), apply=True)
    assert report.unchanged == 1 and people(engine)["T-0001"]["phone"] == "042-325-0011"
    report = import_people(engine, people_csv(person_row(電話番号="", 町丁目コード="")), apply=True)
    assert report.updated == 1
    person = people(engine)["T-0001"]
    assert person["phone"] == "" and person["district_id"] is None and person["version"] == 2


def test_reimport_of_a_large_file_in_chunks(engine, districts):
    rows = [person_row(登録者番号=f"T-{n:05d}") for n in range(2300)]
    assert import_people(engine, people_csv(*rows), apply=True).created == 2300
    rows[2200] = person_row(登録者番号="T-02200", 氏名="試験　変更")
    report = import_people(engine, people_csv(*rows), apply=True)
    assert (report.updated, report.unchanged) == (1, 2299)
    assert count(engine, Person) == 2300


# ---- concurrent changes -----------------------------------------------------------------

def test_person_changed_during_the_import_rolls_back(engine, districts, monkeypatch):
    from server.importers import people_csv as module
    from server.importers.report import ImportConflictError

    import_people(engine, people_csv(person_row(), person_row(登録者番号="T-0002")), apply=True)
    read = module._PeopleImport._existing

    def stale(self, conn, register_nos):  # as if another user saved T-0001 after the import read it
        rows = read(self, conn, register_nos)
        rows["T-0001"][0]["version"] -= 1  # the one person holding T-0001
        return rows

    monkeypatch.setattr(module._PeopleImport, "_existing", stale)
    with pytest.raises(ImportConflictError):
        import_people(engine, people_csv(person_row(氏名="変更"), person_row(登録者番号="T-0002", 氏名="変更")),
                      apply=True)
    assert {p["name"] for p in people(engine).values()} == {"試験　一郎"}


def test_register_number_added_during_the_import_rolls_back(engine, districts, monkeypatch):
    from server.importers import people_csv as module
    from server.importers.report import ImportConflictError

    import_people(engine, people_csv(person_row()), apply=True)
    monkeypatch.setattr(module._PeopleImport, "_existing", lambda self, conn, nos: {})  # "did not exist yet"
    with pytest.raises(ImportConflictError):
        import_people(engine, people_csv(person_row(登録者番号="T-0002"), person_row()), apply=True)
    assert set(people(engine)) == {"T-0001"}
