"""The GSI (国土地理院) 指定避難所 CSV: UTF-8 with BOM, one row per designated shelter.

Columns: NO, 共通ID, [都道府県名及び市町村名 — national file only], 施設・場所名, 住所,
指定緊急避難場所との住所同一, その他市町村長が必要と認める事項, 受入対象者, 緯度, 経度, 備考.

Mapping to a shelter record:

- 共通ID: the key. Its 13th character is the minor type: ``2`` = welfare shelter →
  kind 指定福祉避難所 (designated_welfare); otherwise 指定避難所 (designated). Characters 2–6
  give the municipality (5 digits; the check digit is added). An ID of major type 2
  (指定緊急避難場所, an evacuation site, not a shelter) is refused.
- 受入対象者: free text written by each city (「要配慮者及びその介助者」, 「障害のある乳幼児親子」);
  the groups are recognised by keyword (target_groups.py: 要配慮者 → every welfare group,
  介助者/家族 → carers accepted), the text itself is kept in ``target_groups_text``, and a row
  whose text is partly not understood is stored and listed as a warning for staff review —
  a shelter on the national list is never dropped for its wording. 一般 on a welfare shelter
  is left out with a warning. Empty → no groups (a welfare shelter is then listed as incomplete).
- 備考: a capacity written like ``収容人数 120人`` or ``想定収容人数：120`` becomes the
  capacity; the text of 備考 and その他市町村長が必要と認める事項 goes to the notes.
- The file has no capacity column, no 耐震 fields: staff complete them, and a re-import
  never replaces what staff filled in (see shelters_csv for the merge rules).
"""

from __future__ import annotations

import re
from typing import Any

from ..domain.textnorm import fold_width, normalize_address, normalize_text
from ..models.geo import normalize_municipality_code
from ..models.shelters import COMMON_ID_RE, ShelterFields, common_id_is_welfare
from ..models.vocab import ShelterKind, TargetGroup
from .columns import Column, HeaderMap, parse_float
from .csvsource import clean_header
from .target_groups import read_target_text

GSI_COLUMNS: tuple[Column, ...] = (
    Column("no", "NO"),
    Column("common_id", "共通ID", True),
    Column("municipality_name", "都道府県名及び市町村名"),
    Column("name", "施設・場所名", True),
    Column("address", "住所", True),
    Column("same_address", "指定緊急避難場所との住所同一"),
    Column("mayor_note", "その他市町村長が必要と認める事項"),
    Column("target_groups", "受入対象者"),
    Column("lat", "緯度", True),
    Column("lon", "経度", True),
    Column("notes", "備考"),
)

TARGET_TEXT_MAX = ShelterFields.model_fields["target_groups_text"].metadata[0].max_length
_CAPACITY_RE = re.compile(r"(?:想定)?(?:収容|受入|受け入れ)(?:可能)?(?:人数|人員|定員)?\s*[:：]?\s*約?\s*(\d[\d,]*)\s*(?:人|名)?"
                          r"|定員\s*[:：]?\s*(\d[\d,]*)")
# Fields a GSI file only fills in when the stored record has none: the file is coarse, staff detail wins.
GSI_FILL_ONLY = frozenset({"target_groups", "accepts_carers", "capacity", "notes"})


def looks_like_gsi(header: list[str]) -> bool:
    cleaned = {clean_header(cell) for cell in header}
    return clean_header("共通ID") in cleaned and clean_header("施設・場所名") in cleaned


def parse_target_groups(text: str) -> list[TargetGroup]:
    """受入対象者 of the GSI file → the target groups it names (see target_groups.py)."""
    return read_target_text(text).groups


def capacity_from_notes(text: str) -> int | None:
    """``収容人数 120人`` / ``想定収容人数：120`` / ``定員120名`` in 備考 → 120; None if absent."""
    match = _CAPACITY_RE.search(fold_width(text))
    if not match:
        return None
    return int((match[1] or match[2]).replace(",", ""))


Issues = list[tuple[str, str]]


def convert_gsi_row(cells: list[str], found: HeaderMap) -> tuple[dict[str, Any], Issues, Issues]:
    """One GSI row → shelter field values (blank cells left out), (header, reason) errors and
    (field, reason) warnings about the 受入対象者 text."""
    def cell(key: str) -> str:
        position = found.index.get(key)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    common_id = fold_width(cell("common_id")).strip()
    if not COMMON_ID_RE.match(common_id):
        errors.append((found.name("common_id"), "共通IDの形式が正しくありません（E＋市区町村5桁＋番号5桁＋種別など"
                                                "14文字） (malformed 共通ID)"))
    elif common_id[11] == "2":
        errors.append((found.name("common_id"), "指定緊急避難場所の共通IDです。指定避難所のファイルを使ってください "
                                                "(this 共通ID is an evacuation site, not a shelter)"))
    else:
        values["common_id"] = common_id
        values["municipality_code"] = normalize_municipality_code(common_id[1:6])
        values["kind"] = ShelterKind.designated_welfare if common_id_is_welfare(common_id) else ShelterKind.designated
    values["name"] = normalize_text(cell("name"))
    if cell("address"):
        values["address"] = normalize_address(cell("address"))
    for key in ("lon", "lat"):
        if cell(key):
            try:
                values[key] = parse_float(cell(key))
            except ValueError as exc:
                errors.append((found.name(key), str(exc)))
    warnings: Issues = []
    if cell("target_groups"):
        values["target_groups_text"] = normalize_text(cell("target_groups"))[:TARGET_TEXT_MAX]  # never a reason to refuse
        read = read_target_text(cell("target_groups"))
        groups = read.groups
        if values.get("kind", ShelterKind.designated) != ShelterKind.designated and TargetGroup.general in groups:
            groups = [group for group in groups if group != TargetGroup.general]
            warnings.append(("target_groups", "福祉避難所なので「一般」は受入対象者に入れませんでした。確認してください "
                                              "('general' left out of a welfare shelter's groups; please check)"))
        values["target_groups"] = groups
        if read.carers:
            values["accepts_carers"] = True
        if read.unknown:
            parts = "」「".join(read.unknown)
            warnings.append(("target_groups", f"受入対象者の「{parts}」は区分に当てはめられませんでした。原文を残して"
                                              f"登録しました。確認してください (part of the text was not understood; "
                                              f"the shelter is stored with its original text for staff review)"))
    capacity = capacity_from_notes(cell("notes"))
    if capacity is not None:
        values["capacity"] = capacity
    notes = "\n".join(text for text in (normalize_text(cell("mayor_note")), normalize_text(cell("notes"))) if text)
    if notes:
        values["notes"] = notes
    return values, errors, warnings
