"""The people CSV (避難行動要支援者名簿) layout: columns, and turning one row's cells into values.

The same definitions drive the importer and the export, so an exported file re-imports
unchanged. Headers are Japanese; the English field names are accepted too.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ..domain.textnorm import (normalize_address, normalize_code, normalize_digits, normalize_phone,
                               normalize_postal_code, normalize_text)
from ..domain.wareki import parse_date
from ..models.vocab import CareNeed, Consent, Household, Reason, Sex
from .columns import Column, EnumCells, HeaderMap, parse_float

_SEX, _REASON, _CARE, _HOUSEHOLD, _CONSENT = (EnumCells(Sex), EnumCells(Reason), EnumCells(CareNeed),
                                              EnumCells(Household), EnumCells(Consent))

LANGUAGE_LABELS: dict[str, str] = {
    "ja": "日本語", "ja-easy": "やさしい日本語", "en": "英語", "zh": "中国語", "ko": "韓国語",
    "vi": "ベトナム語", "pt": "ポルトガル語", "es": "スペイン語", "tl": "タガログ語", "ne": "ネパール語",
    "id": "インドネシア語", "th": "タイ語", "my": "ミャンマー語",
}
_LANGUAGE_BY_TEXT = {**{code: code for code in LANGUAGE_LABELS},
                     **{label: code for code, label in LANGUAGE_LABELS.items()},
                     "韓国・朝鮮語": "ko", "フィリピノ語": "tl", "ビルマ語": "my"}

PEOPLE_COLUMNS: tuple[Column, ...] = (
    Column("register_no", "登録者番号", True, ("登録番号",), "any code, unique per municipality; the key for re-imports"),
    Column("municipality_code", "市区町村コード", True, ("全国地方公共団体コード", "団体コード"),
           "5 or 6 digits (13214 / 132144); may come from --municipality-code"),
    Column("name", "氏名", True, ("名前",)),
    Column("name_kana", "ふりがな", False, ("フリガナ", "氏名カナ", "カナ氏名", "よみがな")),
    Column("birth_date", "生年月日", True, (), "和暦 or 西暦, see Dates"),
    Column("sex", "性別", True, (), "男 / 女 / その他 / 不明 (also 男性, 女性, M, F, 1, 2)"),
    Column("postal_code", "郵便番号", False, ("〒",), "7 digits, e.g. 185-0001"),
    Column("address", "住所", True, ("住所又は居所", "居所")),
    Column("phone", "電話番号", False, ("電話",), "digits and hyphens"),
    Column("contact_other", "その他連絡先", False, ("その他の連絡先",)),
    Column("reasons", "事由", False, ("避難支援等を必要とする事由",), "Reason labels, several separated by 、 ; |"),
    Column("reason_note", "事由備考"),
    Column("district_code", "町丁目コード", False, (), "code of a 町丁目 district already loaded"),
    Column("lon", "経度", False, (), "JGD2011 degrees, with 緯度"),
    Column("lat", "緯度", False, (), "JGD2011 degrees, with 経度"),
    Column("household", "世帯構成", False, (), "独居 / 高齢者のみ世帯 / 家族と同居 / 施設入所 / その他"),
    Column("household_note", "世帯備考"),
    Column("care_needs", "配慮事項", False, (), "CareNeed labels, several separated by 、 ; |"),
    Column("preferred_language", "使用言語", False, ("言語",), "日本語, やさしい日本語, 英語 … or ja, en …"),
    Column("consent", "同意", False, ("名簿情報提供への同意", "情報提供同意"), "同意 / 不同意 / 未確認"),
    Column("consent_date", "同意日", False, (), "date; required when 同意"),
    Column("neighborhood_association", "自治会", False, ("町会・自治会", "町会")),
    Column("minsei_iin", "担当民生委員", False, ("民生委員",)),
    Column("notes", "申し伝え事項", False, ("備考",)),
)
COLUMN_BY_KEY = {column.key: column for column in PEOPLE_COLUMNS}

# 緊急連絡先 come in numbered groups: 緊急連絡先1氏名, 緊急連絡先1続柄, 緊急連絡先1電話, 緊急連絡先2氏名 …
CONTACT_PARTS = {"name": "氏名", "relation": "続柄", "phone": "電話"}
_CONTACT_JA_RE = re.compile(r"緊急連絡先(\d{1,2})(氏名|続柄|電話|電話番号)")
_CONTACT_EN_RE = re.compile(r"emergency_?contact_?(\d{1,2})_?(name|relation|phone)")
_JA_PART = {"氏名": "name", "続柄": "relation", "電話": "phone", "電話番号": "phone"}
EXPORT_CONTACT_GROUPS = 3


def contact_key(number: int, part: str) -> str:
    return f"emergency_contact_{number}_{part}"


def contact_header(number: int, part: str) -> str:
    return f"緊急連絡先{number}{CONTACT_PARTS[part]}"


def contact_column(cleaned_header: str) -> str | None:
    """Key of a numbered 緊急連絡先 header, or None."""
    match = _CONTACT_JA_RE.fullmatch(cleaned_header)
    if match:
        return contact_key(int(match[1]), _JA_PART[match[2]])
    match = _CONTACT_EN_RE.fullmatch(cleaned_header)
    if match:
        return contact_key(int(match[1]), match[2])
    return None


def parse_language(text: str) -> str:
    cleaned = normalize_text(text)
    code = _LANGUAGE_BY_TEXT.get(cleaned) or _LANGUAGE_BY_TEXT.get(cleaned.lower())
    if code is None:
        raise ValueError("使用言語が選択肢にありません。使える値: " + "、".join(LANGUAGE_LABELS.values())
                         + " (not a supported language)")
    return code


def _optional_date(text: str):
    return parse_date(text) if text.strip() else None


# key → (converter, value for a blank cell; _OMIT leaves the field out so the model says "required")
_OMIT = object()
CONVERTERS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "register_no": (normalize_code, ""),
    "municipality_code": (normalize_digits, _OMIT),
    "name": (normalize_text, ""),
    "name_kana": (normalize_text, ""),
    "birth_date": (parse_date, _OMIT),
    "sex": (_SEX.one, _OMIT),
    "postal_code": (normalize_postal_code, ""),
    "address": (normalize_address, ""),
    "phone": (normalize_phone, ""),
    "contact_other": (normalize_text, ""),
    "reasons": (_REASON.many, []),
    "reason_note": (normalize_text, ""),
    "district_code": (str.strip, None),
    "lon": (parse_float, None),
    "lat": (parse_float, None),
    "household": (_HOUSEHOLD.one, Household.other),
    "household_note": (normalize_text, ""),
    "care_needs": (_CARE.many, []),
    "preferred_language": (parse_language, "ja"),
    "consent": (_CONSENT.one, Consent.not_asked),
    "consent_date": (_optional_date, None),
    "neighborhood_association": (normalize_text, ""),
    "minsei_iin": (normalize_text, ""),
    "notes": (normalize_text, ""),
}


class RowConverter:
    """Turns one row's cells into field values (only for columns present) and (header, reason)
    errors. Built once per file, so the per-row work is a plain loop over the columns present."""

    def __init__(self, found: HeaderMap):
        self.plain = [(key, position, found.name(key), *CONVERTERS[key])
                      for key, position in found.index.items() if not key.startswith("emergency_contact_")]
        numbers = sorted({int(key.split("_")[2]) for key in found.index if key.startswith("emergency_contact_")})
        self.contacts = []
        for number in numbers:
            positions = [found.index.get(contact_key(number, part)) for part in CONTACT_PARTS]
            headers = [found.name(contact_key(number, part)) if found.has(contact_key(number, part))
                       else contact_header(number, part) for part in CONTACT_PARTS]
            self.contacts.append((positions, headers))

    def __call__(self, cells: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        width = len(cells)
        for key, position, header, converter, blank in self.plain:
            text = cells[position] if position < width else ""
            if not text.strip():
                if blank is not _OMIT:
                    values[key] = blank
                continue
            try:
                values[key] = converter(text)
            except ValueError as exc:
                errors.append((header, str(exc)))
        if self.contacts:
            values["emergency_contacts"] = self._contacts(cells, width, errors)
        return values, errors

    def _contacts(self, cells: list[str], width: int, errors: list[tuple[str, str]]) -> list[dict[str, str]]:
        contacts = []
        for positions, headers in self.contacts:
            name, relation, phone = (cells[p].strip() if p is not None and p < width else "" for p in positions)
            if not (name or relation or phone):
                continue
            if not name:
                errors.append((headers[0], "緊急連絡先の氏名が空です (emergency contact without a name)"))
                continue
            try:
                phone = normalize_phone(phone)
            except ValueError as exc:
                errors.append((headers[2], str(exc)))
                continue
            contacts.append({"name": normalize_text(name), "relation": normalize_text(relation), "phone": phone})
        return contacts
