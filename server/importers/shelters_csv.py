"""Import shelters: the project's own shelter CSV (every field) or the GSI 指定避難所 CSV.

`import_shelters` tells the two apart by the header: the own format has a 種別 column,
the GSI file has 共通ID and 施設・場所名 but no 種別.

Matching and merge rules (both formats):
- a row is matched to a stored shelter by 共通ID; failing that (a 協定福祉避難所 usually has
  no 共通ID, and a shelter entered by hand may not have one yet) by its 施設名 among stored
  shelters without 共通ID — which then receive the row's 共通ID;
- a blank cell never erases a stored value: capacity, 耐震 fields and target groups that
  staff filled in survive a re-import of a file that lacks them (clear a value in the UI);
- from a GSI file, 受入対象者, the capacity found in 備考 and the notes only fill fields
  that are still empty;
- ``seismic_class`` is recomputed from the merged record on every write;
- shelters still lacking capacity, 建築確認日 / 耐震改修, target groups or a location are
  listed in the report's ``incomplete``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine

from ..domain.textnorm import fold_width, normalize_address, normalize_code, normalize_digits, normalize_phone, normalize_text
from ..domain.wareki import parse_date
from ..db import readonly
from ..models import District, Shelter
from ..models.base import keep_stored, utcnow
from ..models.geo import normalize_municipality_code
from ..models.shelters import ShelterCreate, ShelterFields, common_id_is_welfare
from ..models.vocab import Capability, DistrictKind, ShelterKind, TargetGroup
from .columns import (Column, EnumCells, HeaderMap, check_coordinates, map_header, parse_bool, parse_float,
                      parse_int, require_columns, validation_reasons)
from .csvsource import clean_header, read_csv
from .report import ImportConflictError, ImportFileError, ImportReport, IncompleteShelter
from .shelters_gsi import GSI_COLUMNS, GSI_FILL_ONLY, convert_gsi_row, looks_like_gsi
from ..records.review_flags import after_shelters_write
from ..sync.changelog import log_changes

SHELTER_COLUMNS: tuple[Column, ...] = (
    Column("common_id", "共通ID", False, (), "14 characters, e.g. E1321400002121; the key for re-imports"),
    Column("municipality_code", "市区町村コード", False, (), "5 or 6 digits; taken from 共通ID when blank"),
    Column("name", "施設名", True, ("名称",), "the key for shelters without 共通ID"),
    Column("name_kana", "ふりがな", False, ("フリガナ", "名称_カナ")),
    Column("kind", "種別", True, (), "指定福祉避難所 / 協定福祉避難所 / 指定避難所"),
    Column("target_groups", "受入対象者", False, (), "高齢者, 障害者, 妊産婦・乳幼児, 医療的ケアが必要な人, 一般; several"),
    Column("target_groups_text", "受入対象者（原文）", False, ("受入対象者原文",),
           "the source's own wording (GSI free text), kept for review"),
    Column("accepts_carers", "介助者の受入れ", False, ("介助者受入",), "可 / 不可 / blank"),
    Column("capacity", "受入可能人数", False, ("収容人数", "想定収容人数"), "whole number ≥ 0"),
    Column("capabilities", "設備", False, ("設備・対応",), "Capability labels, several separated by 、 ; |"),
    Column("address", "住所", False, ("所在地",)),
    Column("lon", "経度", False, (), "JGD2011 degrees"),
    Column("lat", "緯度", False, (), "JGD2011 degrees"),
    Column("district_code", "町丁目コード"),
    Column("operator", "運営法人", False, ("運営者",)),
    Column("phone", "電話番号", False, ("電話",)),
    Column("contact_name", "担当者"),
    Column("building_permit_date", "建築確認日", False, (), "date (和暦 or 西暦)"),
    Column("seismic_diagnosis_done", "耐震診断", False, (), "実施済 / 未実施 / blank"),
    Column("is_value", "Is値", False, (), "0.0–3.0"),
    Column("retrofit_done", "耐震改修", False, (), "実施済 / 未実施 / blank"),
    Column("notes", "備考"),
    Column("seismic_class", "耐震区分", False, (), "written by the export, derived; ignored on import"),
)
SHELTER_FIELDS = tuple(ShelterFields.model_fields)
CARERS_YES, CARERS_NO = "可", "不可"


def parse_carers(text: str) -> bool | None:
    """介助者の受入れ: 可 / 不可 (also はい/いいえ, 有/無, あり/なし); blank is not said (None)."""
    cleaned = fold_width(text).strip()
    if cleaned in (CARERS_YES, "受入可"):
        return True
    if cleaned in (CARERS_NO, "受入不可"):
        return False
    try:
        return parse_bool(cleaned)
    except ValueError:
        raise ValueError("「可」「不可」または空欄で入力してください (expected 可 / 不可 / blank)") from None


_KINDS, _TARGETS, _CAPABILITIES = EnumCells(ShelterKind), EnumCells(TargetGroup), EnumCells(Capability)
_CONVERTERS = {
    "common_id": lambda text: fold_width(text).strip(),
    "municipality_code": normalize_digits,
    "name": normalize_text,
    "name_kana": normalize_text,
    "kind": _KINDS.one,
    "target_groups": _TARGETS.many,
    "target_groups_text": normalize_text,
    "accepts_carers": parse_carers,
    "capacity": parse_int,
    "capabilities": _CAPABILITIES.many,
    "address": normalize_address,
    "lon": parse_float,
    "lat": parse_float,
    "district_code": str.strip,
    "operator": normalize_text,
    "phone": normalize_phone,
    "contact_name": normalize_text,
    "building_permit_date": parse_date,
    "seismic_diagnosis_done": parse_bool,
    "is_value": parse_float,
    "retrofit_done": parse_bool,
    "notes": normalize_text,
}
ROW = "(行)"
# Whole-record rules of ShelterFields, by the start of their message → the column to blame.
# (Coordinates are checked before the model, per column, so their rule needs no entry.)
_RULE_FIELDS = {"an Is値 needs": "is_value", "a welfare shelter names": "target_groups"}


def import_shelters(engine: Engine, data: bytes, *, apply: bool = False, municipality_codes=None) -> ImportReport:
    """Validate (and with ``apply=True`` write, in one transaction) a shelter CSV of either format.
    `municipality_codes` (several municipalities in one installation): the importing office's; a
    shelter of another municipality is refused.

    Raise ImportFileError for whole-file problems; row problems go into the report.
    """
    table = read_csv(data)
    gsi = looks_like_gsi(table.header) and clean_header("種別") not in {clean_header(h) for h in table.header}
    columns = GSI_COLUMNS if gsi else SHELTER_COLUMNS
    found = map_header(table.header, columns)
    if not gsi and not found.has("kind") and not found.has("name"):
        raise ImportFileError("避難所のCSVとして読めません。独自形式には「施設名」「種別」、国土地理院形式には"
                              "「共通ID」「施設・場所名」の列が必要です (not a shelter CSV: expected 施設名 and 種別, "
                              "or the GSI columns 共通ID and 施設・場所名)", 1)
    require_columns(found, columns)
    report = ImportReport("shelters", "gsi_shelters" if gsi else "shelters_csv", encoding=table.encoding.label)
    for cell in found.unknown:
        report.warn(1, cell, "知らない列なので読み飛ばしました (unknown column ignored)")

    try:
        with (engine.begin() if apply else readonly(engine).connect()) as conn:
            run = _ShelterImport(conn, report, found, len(table.header), gsi)
            run.allowed = None if municipality_codes is None else set(municipality_codes)
            for line, cells in table.rows:
                run.row(line, cells)
            if apply:
                run.write()
    except sa.exc.IntegrityError:
        raise ImportConflictError("取り込み中に他の操作で同じ共通IDの避難所が登録されました。もう一度取り込んでください "
                                  "(a shelter with the same 共通ID was added elsewhere during the import; nothing "
                                  "was written, try again)") from None
    report.applied = apply
    return report


class _ShelterImport:
    def __init__(self, conn: Connection, report: ImportReport, found: HeaderMap, width: int, gsi: bool):
        self.conn, self.report, self.found, self.width, self.gsi = conn, report, found, width, gsi
        self.table = Shelter.__table__
        self.allowed: set[str] | None = None  # the importing office's municipalities (None: all)
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.pairs: list[tuple] = []  # (id, before, after) of updated shelters, for the 要見直し flags
        self.first_line: dict[str, int] = {}
        self.now = utcnow()
        t = self.table
        stored = [dict(row) for row in conn.execute(sa.select(t)).mappings()]
        self.by_common_id = {row["common_id"]: row for row in stored if row["common_id"]}
        self.by_name = {row["name"]: row for row in stored if not row["common_id"]}
        d = District.__table__
        self.districts = {(code6, code): id_ for code6, code, id_ in conn.execute(
            sa.select(d.c.municipality_code, d.c.code, d.c.id).where(d.c.kind == DistrictKind.chome.value))}

    def header(self, field: str | None) -> str:
        """The column a field's problem is reported under."""
        if field is None:
            return ROW
        if self.gsi:
            field = {"kind": "common_id", "municipality_code": "common_id", "capacity": "notes"}.get(field, field)
            return self.found.name(field) if self.found.has(field) else field
        if self.found.has(field):
            return self.found.name(field)
        column = next((c for c in SHELTER_COLUMNS if c.key == field), None)
        return column.ja if column else field

    def convert(self, cells: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]], list[tuple[str, str]]]:
        if self.gsi:
            return convert_gsi_row(cells, self.found)
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for key, position in self.found.index.items():
            text = cells[position] if position < len(cells) else ""
            if key == "seismic_class" or not text.strip():
                continue  # derived, or blank: a blank never erases a stored value
            try:
                value = _CONVERTERS[key](text)
            except ValueError as exc:
                errors.append((self.found.name(key), str(exc)))
                continue
            if value is not None:
                values[key] = value
        return values, errors, []

    def row(self, line: int, cells: list[str]) -> None:
        self.report.rows += 1
        values, errors, warnings = self.convert(cells)
        if len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
            errors.append((ROW, "見出しより多くの列に値があります (more cells than header columns)"))
        key = values.get("common_id") or (f"name:{values['name']}" if values.get("name") else "")
        if key:
            first = self.first_line.setdefault(key, line)
            if first != line:
                column, what = (("common_id", "共通ID") if values.get("common_id") else ("name", "施設名"))
                errors = [(self.header(column), f"{what}が{first}行目と重複しています (duplicate, first on line {first})")]
        old = self.by_common_id.get(values["common_id"]) if values.get("common_id") else None
        if old is None and values.get("name") in self.by_name:
            # A shelter entered by hand (no 共通ID yet) is the same facility: link it, do not duplicate it.
            old = self.by_name.pop(values["name"])
            if values.get("common_id"):
                self.report.warn(line, self.header("common_id"), "共通IDのない登録済みの避難所と施設名で照合し、共通IDを付けます "
                                                                 "(matched a stored shelter without 共通ID by name)")
        record = self.validate(line, values, errors, old, warnings)
        if record is None:
            return
        self.report.valid += 1
        row = {field: getattr(record, field) for field in SHELTER_FIELDS}
        row["kind"] = record.kind.value
        row["target_groups"] = [g.value for g in record.target_groups]
        row["capabilities"] = [c.value for c in record.capabilities]
        row["seismic_class"] = record.derived_seismic_class().value
        missing = record.incomplete_fields()
        if missing:
            self.report.incomplete.append(IncompleteShelter(record.common_id, record.name, missing))
        if old is None:
            row.update(id=uuid.uuid4(), version=1, created_at=self.now, updated_at=self.now)
            self.inserts.append(row)
            self.report.created += 1
        elif all(row[f] == old[f] for f in (*SHELTER_FIELDS, "seismic_class")):
            self.report.unchanged += 1
        else:
            row.update(b_id=old["id"], b_version=old["version"], version=old["version"] + 1, updated_at=self.now)
            self.updates.append(row)
            self.pairs.append((old["id"], old, row))
            self.report.updated += 1

    def validate(self, line: int, values: dict[str, Any], errors: list[tuple[str, str]],
                 old: dict[str, Any] | None, warnings: list[tuple[str, str]] = ()) -> ShelterCreate | None:
        merged: dict[str, Any] = {field: old[field] for field in SHELTER_FIELDS} if old else {}
        kept: set[str] = set()
        for field, value in values.items():
            if field == "district_code":
                continue
            if self.gsi and field in GSI_FILL_ONLY and merged.get(field) not in (None, "", []):
                kept.add(field)
                continue
            merged[field] = value
        errors = list(errors)
        flagged = {column for column, _ in errors}
        code = merged.get("municipality_code") or ""
        if not code and merged.get("common_id"):
            code = merged["common_id"][1:6]
        if code:
            try:
                merged["municipality_code"] = normalize_municipality_code(code)
            except ValueError as exc:
                errors.append((self.header("municipality_code"), f"市区町村コードが正しくありません ({exc})"))
        if values.get("district_code"):
            code6, typed = merged.get("municipality_code", ""), values["district_code"]
            district_id = self.districts.get((code6, typed)) or self.districts.get((code6, normalize_code(typed)))
            if district_id is None:
                errors.append((self.header("district_code"), "この町丁目コードは登録されていません (unknown 町丁目 code)"))
            merged["district_id"] = district_id
        if not {self.header("lon"), self.header("lat")} & flagged:
            errors += check_coordinates(merged.get("lon"), merged.get("lat"), self.header("lon"), self.header("lat"))
        try:
            record = ShelterCreate.model_validate(merged, context=keep_stored(old) if old else None)
        except ValidationError as exc:
            flagged = {column for column, _ in errors}
            for field, reason in validation_reasons(exc, _RULE_FIELDS):
                column = self.header(field)
                if column not in flagged and not (field is None and errors):
                    errors.append((column, reason))
            record = None
        if self.allowed is not None and ((old is not None and old["municipality_code"] not in self.allowed)
                                         or (record is not None and record.municipality_code not in self.allowed)):
            errors.append((self.header("municipality_code"),
                           "あなたの市区町村の避難所ではありません (not a shelter of your municipalities)"))
        if record is not None and record.common_id and not self.gsi:
            welfare_id = common_id_is_welfare(record.common_id)
            if welfare_id != (record.kind == ShelterKind.designated_welfare):
                self.report.warn(line, self.header("kind"), "種別が共通IDの種別（福祉避難所かどうか）と一致しません "
                                                           "(kind disagrees with the 共通ID's type)")
        if errors:
            self.report.invalid += 1
            for column, reason in errors:
                self.report.error(line, column, reason)
            return None
        for field, reason in warnings:
            if field not in kept:  # about 受入対象者 the file set; none once staff chose the groups
                self.report.warn(line, self.header(field), reason)
        return record

    def write(self) -> None:
        t = self.table
        if self.inserts:
            self.conn.execute(sa.insert(t), self.inserts)
        if self.updates:
            columns = [*SHELTER_FIELDS, "seismic_class", "version", "updated_at"]
            statement = (sa.update(t)
                         .where(t.c.id == sa.bindparam("b_id"), t.c.version == sa.bindparam("b_version"))
                         .values({name: sa.bindparam(name) for name in columns}))
            result = self.conn.execute(statement, self.updates)
            if self.conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(self.updates):
                raise ImportConflictError("取り込み中に他の操作で避難所が更新されました。もう一度取り込んでください "
                                      "(shelters changed during the import; nothing was written, try again)")
        # with the values before, as update_row logs an API update (shelters have no scope keys
        # today, so the change log keeps none; the call stays the records layer's)
        log_changes(self.conn, "shelters", [r["id"] for r in self.inserts] + [r["b_id"] for r in self.updates],
                    befores={sid: before for sid, before, _ in self.pairs})
        after_shelters_write(self.conn, self.pairs)  # plans naming a changed shelter: 要見直し
