"""受入対象者 as real GSI files write it: free text, never a reason to drop a shelter."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from datetime import date

from server.domain.matching.rules import person_groups
from server.importers.export import export_shelters_csv
from server.importers.shelters_csv import import_shelters
from server.importers.target_groups import read_target_text
from server.models import Shelter
from server.models.vocab import CareNeed, Reason

from .csv_helpers import count, own_csv, own_row, shelters
from .test_importers_shelters import gsi_csv, gsi_row

ALL = ["elderly", "disabled", "pregnant_infant", "medical_care"]


@pytest.mark.parametrize("text, groups, carers, unknown", [
    ("高齢者、障害者、乳幼児、妊産婦、外国人及び介護にあたる家族等",
     ["elderly", "disabled", "pregnant_infant"], True, ["外国人"]),
    ("要配慮者及びその介助者", ALL, True, []),
    ("障害者（主に知的障害者）及びその家族等", ["disabled"], True, []),
    ("高齢者・障害者", ["elderly", "disabled"], False, []),
    ("障害のある乳幼児親子", ["disabled", "pregnant_infant"], True, []),
    ("乳幼児親子・妊婦", ["pregnant_infant"], True, []),
    ("要配慮者", ALL, False, []),
    ("障がい児者", ["disabled"], False, []),
    ("身体障害者、精神障害者", ["disabled"], False, []),
    ("医療的ケア児者及び保護者", ["medical_care"], True, []),
    ("妊産婦・乳幼児、医療的ケアが必要な人", ["pregnant_infant", "medical_care"], False, []),  # the labels
    ("elderly; people with disabilities", ["elderly", "disabled"], False, []),
    ("ペット同伴者", [], False, ["ペット同伴者"]),
])
def test_read_target_text(text, groups, carers, unknown):
    read = read_target_text(text)
    assert ([g.value for g in read.groups], read.carers, read.unknown) == (groups, carers, unknown)


TEXTS = {
    "E1320200001121": "高齢者、障害者、乳幼児、妊産婦、外国人及び介護にあたる家族等",
    "E1320200002121": "要配慮者及びその介助者",
    "E1320200003121": "障害者（主に知的障害者）及びその家族等",
    "E1320200004121": "高齢者・障害者",
    "E1320200005121": "障害のある乳幼児親子",
    "E1320200006121": "乳幼児親子・妊婦",
    "E1320200007121": "大人",
}


def _tachikawa_file(texts: dict[str, str]) -> bytes:
    return gsi_csv(*(gsi_row(common_id=cid, name=f"福祉避難所{n}", targets=text, address="東京都立川市泉町",
                             lat="35.7138", lon="139.4075") for n, (cid, text) in enumerate(texts.items())))


def test_every_welfare_shelter_of_a_real_file_is_stored(engine):
    report = import_shelters(engine, _tachikawa_file(TEXTS), apply=True)
    assert report.errors == [] and report.created == len(TEXTS) == count(engine, Shelter)
    stored = shelters(engine)
    assert {cid: row["target_groups_text"] for cid, row in stored.items()} == TEXTS
    assert stored["E1320200002121"]["target_groups"] == ALL
    assert stored["E1320200002121"]["accepts_carers"] is True
    assert stored["E1320200003121"]["target_groups"] == ["disabled"]
    assert stored["E1320200004121"]["accepts_carers"] is None
    assert stored["E1320200007121"]["target_groups"] == []
    assert all(row["municipality_code"] == "132021" for row in stored.values())
    # Rows with words that fit no group are listed for staff review, as warnings.
    assert [(w.line, w.column) for w in report.warnings] == [(2, "受入対象者"), (8, "受入対象者")]
    assert "外国人" in report.warnings[0].reason and "大人" in report.warnings[1].reason
    # …and the one without any group is still listed as incomplete.
    missing = {item.common_id: item.missing for item in report.incomplete}
    assert "target_groups" in missing["E1320200007121"] and "target_groups" not in missing["E1320200001121"]


def test_general_on_a_welfare_shelter_is_left_out_with_a_warning(engine):
    report = import_shelters(engine, gsi_csv(gsi_row(targets="一般、高齢者")), apply=True)
    assert report.errors == [] and report.created == 1
    assert shelters(engine)["E1321400002121"]["target_groups"] == ["elderly"]
    assert [w.column for w in report.warnings] == ["受入対象者"] and "一般" in report.warnings[0].reason


def test_reimport_keeps_staff_groups_updates_the_text_and_does_not_warn_again(engine):
    import_shelters(engine, gsi_csv(gsi_row(targets="外国人")), apply=True)
    with engine.begin() as conn:
        conn.execute(sa.update(Shelter.__table__).values(target_groups=["elderly"], accepts_carers=False, version=2))
    report = import_shelters(engine, gsi_csv(gsi_row(targets="外国人及びその家族")), apply=True)
    assert (report.updated, report.errors, report.warnings) == (1, [], [])
    row = shelters(engine)["E1321400002121"]
    assert (row["target_groups"], row["accepts_carers"]) == (["elderly"], False)
    assert row["target_groups_text"] == "外国人及びその家族"


def test_text_and_carers_survive_export_and_reimport(engine):
    import_shelters(engine, _tachikawa_file(TEXTS), apply=True)
    exported = export_shelters_csv(engine)
    header = exported.decode("utf-8-sig").splitlines()[0].split(",")
    assert "受入対象者（原文）" in header and "介助者の受入れ" in header
    report = import_shelters(engine, exported, apply=True)
    assert (report.errors, report.unchanged) == ([], len(TEXTS))


def test_a_pregnant_woman_and_an_infant_fit_a_shelter_for_要配慮者():
    accepted = set(read_target_text("要配慮者").groups)
    for reasons, needs in (([Reason.pregnancy], [CareNeed.pregnancy]), ([Reason.infant], [CareNeed.infant])):
        assert person_groups(reasons, needs, date(2025, 1, 1), date(2026, 12, 1)) & accepted


@pytest.mark.parametrize("cell, stored", [("可", True), ("不可", False), ("はい", True), ("", None)])
def test_own_layout_carers_column(engine, cell, stored):
    report = import_shelters(engine, own_csv(own_row(介助者の受入れ=cell)), apply=True)
    assert report.errors == []
    assert next(iter(shelters(engine).values()))["accepts_carers"] is stored


def test_own_layout_carers_column_refuses_other_words(engine):
    report = import_shelters(engine, own_csv(own_row(介助者の受入れ="たぶん")), apply=True)
    assert [(e.line, e.column) for e in report.errors] == [(2, "介助者の受入れ")] and "可" in report.errors[0].reason
