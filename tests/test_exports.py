"""CSV exports: format (BOM, CRLF, Japanese headers and labels) and the round trip through the importers."""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa

from server.importers.export import export_people_csv, export_shelters_csv, iter_people_csv
from server.importers.people_columns import PEOPLE_COLUMNS
from server.importers.people_csv import import_people
from server.importers.shelters_csv import SHELTER_COLUMNS, import_shelters
from server.models import Person

from .csv_helpers import add_districts, own_csv, own_row, people, people_csv, person_row, shelters


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_people_export_format(engine, fixtures_dir):
    add_districts(engine, "C001", "C002")
    import_people(engine, (fixtures_dir / "people_sample_cp932.csv").read_bytes(), apply=True)
    data = export_people_csv(engine)
    assert data.count(b"\r\n") == data.count(b"\n")  # every line ends CRLF (the note's own CRLF included)
    rows = _rows(data)
    header = rows[0]
    expected = [c.ja for c in PEOPLE_COLUMNS]
    contacts = [f"緊急連絡先{n}{part}" for n in (1, 2, 3) for part in ("氏名", "続柄", "電話")]
    position = expected.index("世帯備考") + 1
    assert header == expected[:position] + contacts + expected[position:]
    first = dict(zip(header, rows[1]))
    assert first["登録者番号"] == "T-0001" and first["性別"] == "男" and first["生年月日"] == "1940-03-03"
    assert first["事由"] == "要介護3以上、身体障害者手帳1・2級" and first["配慮事項"] == "車いす、在宅酸素"
    assert first["同意"] == "同意" and first["同意日"] == "2023-04-01" and first["世帯構成"] == "独居"
    assert first["使用言語"] == "日本語" and first["町丁目コード"] == "C001" and first["緊急連絡先1続柄"] == "長女"
    assert [r[0] for r in rows[1:]] == ["T-0001", "T-0002", "T-0003", "T-0004"]


def test_people_round_trip(engine, fixtures_dir):
    add_districts(engine, "C001", "C002")
    import_people(engine, (fixtures_dir / "people_sample_cp932.csv").read_bytes(), apply=True)
    before = people(engine)
    data = export_people_csv(engine)

    dry = import_people(engine, data)
    assert (dry.errors, dry.valid, dry.unchanged, dry.created, dry.updated) == ([], 4, 4, 0, 0)
    applied = import_people(engine, data, apply=True)
    assert (applied.errors, applied.unchanged) == ([], 4)
    assert people(engine) == before  # versions and timestamps untouched
    assert export_people_csv(engine) == data


def test_people_round_trip_with_many_contacts_and_many_rows(engine):
    rows = [person_row(登録者番号=f"R-{n:05d}", 町丁目コード="", 生年月日=f"19{40 + n % 50}-0{1 + n % 9}-1{n % 9}")
            for n in range(4500)]
    import_people(engine, people_csv(*rows), apply=True)
    contacts = [{"name": f"連絡先{i}", "relation": "", "phone": f"03-1000-000{i}"} for i in range(5)]
    with engine.begin() as conn:
        t = Person.__table__
        conn.execute(sa.update(t).where(t.c.register_no == "R-00007").values(emergency_contacts=contacts))
    chunks = list(iter_people_csv(engine))
    assert len(chunks) > 2  # streamed, not built in one piece
    data = b"".join(chunks)
    header = _rows(data)[0]
    assert "緊急連絡先5電話" in header and "緊急連絡先6氏名" not in header
    report = import_people(engine, data, apply=True)
    assert (report.rows, report.unchanged, report.errors) == (4500, 4500, [])
    assert people(engine)["R-00007"]["emergency_contacts"] == contacts


def test_empty_export_is_just_the_header(engine):
    assert len(_rows(export_people_csv(engine))) == 1
    assert _rows(export_shelters_csv(engine)) == [[c.ja for c in SHELTER_COLUMNS]]


def test_shelters_round_trip(engine, fixtures_dir):
    add_districts(engine, "C010")
    import_shelters(engine, (fixtures_dir / "gsi_shelters_sample.csv").read_bytes(), apply=True)
    import_shelters(engine, own_csv(
        own_row(町丁目コード="C010", 耐震診断="実施済", **{"Is値": "0.45", "建築確認日": "1975-01-01"}),
        own_row(共通ID="", 施設名="特養 試験の里", 種別="協定福祉避難所", 受入対象者="高齢者、医療的ケアが必要な人",
                耐震改修="未実施", 備考="複数行の\n備考")), apply=True)
    before = shelters(engine)
    data = export_shelters_csv(engine)
    rows = _rows(data)
    assert rows[0] == [c.ja for c in SHELTER_COLUMNS]
    by_name = {row[2]: dict(zip(rows[0], row)) for row in rows[1:]}
    plaza = by_name["ひかりプラザ"]
    assert plaza["種別"] == "指定福祉避難所" and plaza["受入対象者"] == "高齢者、障害者" and plaza["Is値"] == "0.45"
    assert plaza["耐震診断"] == "実施済" and plaza["耐震区分"] == "旧耐震・Is値0.3以上0.6未満"
    assert plaza["建築確認日"] == "1975-01-01" and plaza["設備"] == "車いす対応、非常用電源"
    assert rows[-1][2] == "特養 試験の里" and by_name["特養 試験の里"]["耐震改修"] == "未実施"

    dry = import_shelters(engine, data)
    assert (dry.errors, dry.unchanged, dry.rows) == ([], 8, 8)
    applied = import_shelters(engine, data, apply=True)
    assert (applied.errors, applied.unchanged) == ([], 8)
    assert shelters(engine) == before
    assert shelters(engine)["E1321400003121"]["building_permit_date"] == date(1975, 1, 1)


def test_cells_excel_would_run_as_formulas_are_escaped_and_come_back_unchanged(engine):
    """CSV injection: a cell starting with = + - @ is exported with a leading ' (Excel shows it as
    text instead of running it); the importer removes it, so the round trip still holds."""
    add_districts(engine, "C001")
    notes = '=HYPERLINK("http://example.invalid","開く")'
    rows = [person_row(申し伝え事項=notes), person_row(登録者番号="T-0002", 申し伝え事項="-階段に注意",
                                                  電話番号="+44 20 7946 0958", 自治会="@自治会"),
            person_row(登録者番号="T-0003", 申し伝え事項="'=そのまま")]
    header = [*person_row(), "申し伝え事項", "自治会"]
    imported = import_people(engine, people_csv(*rows, header=header), apply=True)
    assert imported.errors == [], imported.errors
    # a ' before = + - @ in any imported file is Excel's text prefix: it is removed
    assert people(engine)["T-0003"]["notes"] == "=そのまま"
    with engine.begin() as conn:  # a value typed with a leading ' (through the API) must survive too
        conn.execute(sa.update(Person.__table__).where(Person.__table__.c.register_no == "T-0003")
                     .values(notes="'=そのまま"))
    before = people(engine)
    assert before["T-0001"]["notes"] == notes
    data = export_people_csv(engine)
    cells = [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
    assert "'" + notes in cells and "'-階段に注意" in cells and "'+442079460958" in cells and "'@自治会" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]  # nothing Excel would evaluate
    assert "''=そのまま" in cells
    again = import_people(engine, data, apply=True)
    assert (again.errors, again.unchanged) == ([], 3)
    assert people(engine) == before and export_people_csv(engine) == data
