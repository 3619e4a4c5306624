"""Plan CSV (server/importers/plans_csv.py): round trip, CP932, 和暦, and every bad
input named by line, column and reason."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from server.domain.workbench.common import Care, Plan, PlanSupporter
from server.domain.workbench.plan_rules import destination_problems
from server.importers.plans_csv import (ShelterIndex, export_header, export_plans_csv, iter_plans_csv_bytes,
                                               parse_plans_csv)
from server.domain.textnorm import normalize_phone
from server.importers.report import ImportFileError
from server.models.vocab import PlanStatus
from tests.workbench_cases import SHELTERS, person

TODAY = date(2026, 12, 1)
PEOPLE = {"A-001": "P1", "A-002": "P2", "A-003": "P3"}
INDEX = ShelterIndex([("SH-SAFE", "E13206000012", "府中福祉センター"), ("SH-SCHOOL", "E13206000021", "第一小学校"),
                      ("SH-KIDS", None, "こども園"), ("SH-X1", None, "みどり園"), ("SH-X2", None, "みどり園")])
HEADER = "登録者番号,氏名,支援者1氏名,支援者1続柄,支援者1電話,支援者1住所,支援者2氏名,支援者2電話,避難先,第二避難先,同意,同意日,次回見直し日,状態"


def parse(text: str, encoding: str = "utf-8", **kw):
    return parse_plans_csv(text.encode(encoding), PEOPLE, INDEX, TODAY, **kw)


def issues(report) -> list[tuple[int, str]]:
    return [(e.line, e.column) for e in report.errors]


def sample_plans() -> list[tuple[str, str, Plan]]:
    full = Plan(None, "P1", PlanStatus.done,
                # Stored phones are normalised ones (whatever normalize_phone makes of them).
                (PlanSupporter("山田 花子", "近隣住民", "府中市宮西町1-2", normalize_phone("090-1111-2222")),
                 PlanSupporter("=HYPERLINK(\"x\")", "長男", "", normalize_phone("+81-90-3333-4444"))),
                "SH-SAFE", "SH-KIDS", "北側の道を通る,\n坂を避ける", "高齢者等避難で避難開始",
                Care(walking_ability="杖歩行", allergies="卵", blood_type="A", building_structure="木造2階建"),
                True, date(2025, 5, 1), "福祉課 佐藤", date(2027, 5, 1), carer_accompanies=True)
    empty = Plan(None, "P2")
    drafting = Plan(None, "P3", PlanStatus.drafting, (), "SH-SCHOOL")
    return [("A-001", "府中 太郎", full), ("A-002", "府中 次郎", empty), ("A-003", "-三郎", drafting)]


def test_export_then_import_round_trips():
    data = export_plans_csv(sample_plans(), INDEX)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    assert b"'=HYPERLINK" in data  # formula escaped for Excel
    report, parsed = parse_plans_csv(data, PEOPLE, INDEX, TODAY)
    assert report.ok and report.rows == 3 and report.valid == 3, report.errors
    assert [p.plan for p in parsed] == [plan for _, _, plan in sample_plans()]
    assert [p.line for p in parsed] == [2, 4, 5]  # the route note spans two physical lines


def test_carer_column_written_and_read_in_every_usual_spelling():
    rows = list(csv.reader(io.StringIO(export_plans_csv(sample_plans(), INDEX).decode("utf-8-sig"))))
    column = rows[0].index("介助者の同行")
    assert [row[column] for row in rows[1:]] == ["あり", "なし", "なし"]
    spellings = {"あり": True, "有": True, "○": True, "TRUE": True, "１": True,
                 "なし": False, "無": False, "×": False, "false": False, "0": False}
    for alias in ("介助者の同行", "介助者同行"):
        for cell, expected in spellings.items():
            report, parsed = parse(f"登録者番号,{alias}\nA-003,{cell}\n")
            assert report.ok, (cell, report.errors)
            assert parsed[0].plan.carer_accompanies is expected, cell


def test_carer_cell_not_understood_is_named_with_its_line():
    report, parsed = parse("登録者番号,介助者の同行\nA-001,あり\nA-002,たぶん\nA-003,同意\n")
    assert [p.register_no for p in parsed] == ["A-001"]
    assert issues(report) == [(3, "介助者の同行"), (4, "介助者の同行")]
    assert "あり" in report.errors[0].reason and "たぶん" not in report.errors[0].reason


def test_same_named_shelters_without_common_id_round_trip():
    """みどり園 ×2, neither with a 共通ID: the export's システムID picks the one each plan names."""
    rows = [("A-001", "", Plan(None, "P1", PlanStatus.drafting, (), "SH-X2", "SH-X1")),
            ("A-002", "", Plan(None, "P2", PlanStatus.drafting, (), "SH-X1", "SH-SAFE"))]
    data = export_plans_csv(rows, INDEX)
    assert "みどり園" in data.decode("utf-8-sig")  # staff still read the name
    report, parsed = parse_plans_csv(data, PEOPLE, INDEX, TODAY)
    assert report.ok, report.errors
    assert [p.plan for p in parsed] == [plan for _, _, plan in rows]


def test_shelter_id_must_agree_with_the_name_and_names_alone_still_work():
    header = "登録者番号,避難先,避難先システムID,第二避難先,第二避難先システムID"
    report, parsed = parse("\n".join([
        header,
        "A-001,第一小学校,,こども園,",            # unique names, no id: as before
        "A-002,みどり園,sh-x2,E13206000012,SH-SAFE",  # id among the name's shelters; 共通ID with its id
        "A-003,第一小学校,SH-X1,,",                # edited name, stale id: refused, not guessed
        "A-003,みどり園,SH-NOPE,,",                # unknown id (and a duplicate person)
    ]) + "\n")
    assert [(p.plan.destination_id, p.plan.alternate_id) for p in parsed] == [("SH-SCHOOL", "SH-KIDS"),
                                                                           ("SH-X2", "SH-SAFE")]
    assert (4, "避難先") in issues(report) and (5, "避難先") in issues(report)
    assert "別の施設" in next(e.reason for e in report.errors if e.line == 4)
    assert "システムID" in next(e.reason for e in report.errors if e.line == 5 and e.column == "避難先")
    lone, _ = parse("登録者番号,避難先システムID\nA-001,SH-X1\n")
    assert [(w.line, w.column) for w in lone.warnings] == [(1, "避難先システムID")]


def test_export_streams_in_chunks_with_the_layout_header():
    chunks = list(iter_plans_csv_bytes(sample_plans() * 3, INDEX, chunk_rows=2))
    assert len(chunks) == 5
    header = b"".join(chunks).decode("utf-8-sig").split("\r\n")[0].split(",")
    assert header == export_header()
    assert header[:6] == ["登録者番号", "氏名", "支援者1氏名", "支援者1続柄", "支援者1電話", "支援者1住所"]
    assert "支援者3住所" in header and header[-1] == "状態"


def test_cp932_and_wareki_dates():
    text = (HEADER + "\r\n"
            "Ａ－００１,府中 太郎,山田 花子,近隣住民,０９０（１１１１）２２２２,,,,府中福祉センター,,有,令和7年5月1日,R9.5.1,作成済\r\n")
    report, parsed = parse(text, "cp932")
    assert report.ok and report.encoding == "Shift_JIS (CP932)"
    plan = parsed[0].plan
    assert plan.person_id == "P1" and plan.destination_id == "SH-SAFE"
    assert plan.consent_date == date(2025, 5, 1) and plan.review_due == date(2027, 5, 1)
    assert plan.supporters[0].phone == normalize_phone("090-1111-2222") and plan.status == PlanStatus.done


def test_destination_by_common_id():
    report, parsed = parse(HEADER + "\nA-001,,,,,,,,E13206000021,府中福祉センター,,,,\n")
    assert report.ok and (parsed[0].plan.destination_id, parsed[0].plan.alternate_id) == ("SH-SCHOOL", "SH-SAFE")
    assert parsed[0].plan.status == PlanStatus.drafting  # blank status: something is filled in


def test_every_bad_row_named():
    text = "\n".join([
        HEADER,
        "A-001,,山田 花子,近隣住民,,,,,府中福祉センター,,,,,",        # 2: supporter without phone
        "A-002,,,,,,,,どこか園,,,,,",                                  # 3: unknown shelter
        "A-001,,,,,,,,,,,,,",                                          # 4: duplicate person (first on 2)
        "Z-999,,,,,,,,,,,,,",                                          # 5: unknown register number
        "A-003,,,,,,,,みどり園,,,,,",                                  # 6: ambiguous shelter name
        "A-003,,,,,,,,,,有,2026-12-02,令和99年13月1日,",               # 7: future consent, bad date (also dup)
        "A-002,,,,,,,,,,,,,作成済",                                     # 8: done but incomplete (dup)
        "A-002,,,近隣,090-1,,,,,,,,,",                                 # 9: relation without a name
        "A-002,,x,,abc,,,,,,,,,",                                       # 10: bad phone
    ])
    report, parsed = parse(text)
    assert parsed == [] and report.rows == 9 and report.invalid == 9
    found = issues(report)
    assert (2, "支援者1電話") in found
    assert (3, "避難先") in found
    assert (4, "登録者番号") in found and "2行目" in next(e.reason for e in report.errors if e.line == 4)
    assert (5, "登録者番号") in found
    assert (6, "避難先") in found and "共通ID" in next(e.reason for e in report.errors if e.line == 6)
    assert (7, "同意日") in found and (7, "次回見直し日") in found
    assert "未来" in next(e.reason for e in report.errors if e.column == "同意日")
    assert (8, "状態") in found
    assert (9, "支援者1氏名") in found
    assert (10, "支援者1電話") in found
    # Reasons never repeat personal data from the cells.
    assert not any("山田" in e.reason for e in report.errors)


def test_valid_rows_kept_beside_bad_ones():
    report, parsed = parse(HEADER + "\nA-001,,,,,,,,どこか,,,,,\nA-002,,,,,,,,第一小学校,,,,,\n")
    assert [p.register_no for p in parsed] == ["A-002"] and report.valid == 1 and report.invalid == 1


def test_destination_not_accepting_needs_refused_saying_why():
    people = {"P1": person("P1")}

    def check(person_id, shelter_id, field):
        return destination_problems(people[person_id], SHELTERS[shelter_id], TODAY, field=field)

    report, parsed = parse(HEADER + "\nA-001,,,,,,,,こども園,,,,,\n", destination_check=check)
    assert parsed == [] and issues(report) == [(2, "避難先"), (2, "避難先")]
    assert "受け入れていません" in report.errors[0].reason


def test_too_many_supporters_and_alternate_same_as_destination():
    header = HEADER + ",支援者3氏名,支援者3電話,支援者4氏名,支援者4電話"
    row = "A-001,,a,,090-1234-0001,,b,090-1234-0002,第一小学校,第一小学校,,,,,c,090-1234-0003,d,090-1234-0004"
    report, _ = parse(header + "\n" + row + "\n")
    assert {(2, "(行)"), (2, "第二避難先")} <= set(issues(report))


def test_whole_file_refusals():
    with pytest.raises(ImportFileError):
        parse("氏名,避難先\nx,y\n")  # no 登録者番号 column
    with pytest.raises(ImportFileError):
        parse_plans_csv(b"PK\x03\x04rest", PEOPLE, INDEX, TODAY)


def test_unknown_column_warned():
    report, _ = parse(HEADER + ",好きな色\nA-001,,,,,,,,,,,,,,赤\n")
    assert [(w.line, w.column) for w in report.warnings] == [(1, "好きな色")]
