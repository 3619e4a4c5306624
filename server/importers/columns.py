"""Column definitions and cell converters shared by the people and shelter importers.

Each importer declares its columns once (`Column`): the Japanese header it writes on export,
the English field name it also accepts, aliases seen in municipal files, and whether the
column is required. Cell converters return Python values or raise ValueError with a reason
in Japanese and English that never repeats the cell's content (it may be personal data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from pydantic import ValidationError

from ..domain.textnorm import fold_width, normalize_digits
from ..models.geo import JAPAN_LAT, JAPAN_LON
from ..models.vocab import LabelledEnum
from .csvsource import clean_header
from .report import ImportFileError


@dataclass(frozen=True)
class Column:
    key: str                 # the model field (or a pseudo-field such as district_code)
    ja: str                  # the Japanese header, written by the export
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: str = ""         # accepted values, for docs and --help


@dataclass
class HeaderMap:
    """Where each known column sits in the file, and the header text to name it by in errors."""

    index: dict[str, int]
    header_of: dict[str, str]
    unknown: list[str]

    def has(self, key: str) -> bool:
        return key in self.index

    def name(self, key: str) -> str:
        return self.header_of.get(key, key)


def map_header(header: list[str], columns: Iterable[Column],
               extra: Callable[[str], str | None] | None = None) -> HeaderMap:
    """Match header cells to columns by Japanese header, English key or alias.

    ``extra`` maps a cleaned header to a key for numbered column families (緊急連絡先2氏名).
    Raise ImportFileError if two cells name the same column.
    """
    lookup: dict[str, str] = {}
    for column in columns:
        for name in (column.ja, column.key, *column.aliases):
            lookup[clean_header(name)] = column.key
    index: dict[str, int] = {}
    header_of: dict[str, str] = {}
    unknown: list[str] = []
    for position, cell in enumerate(header):
        cleaned = clean_header(cell)
        if not cleaned:
            continue  # Excel leaves empty header cells after the last column
        key = lookup.get(cleaned) or (extra(cleaned) if extra else None)
        if key is None:
            unknown.append(cell)
            continue
        if key in index:
            raise ImportFileError(f"列「{cell}」が「{header_of[key]}」と重複しています "
                                  f"(column {cell!r} duplicates column {header_of[key]!r})", 1)
        index[key] = position
        header_of[key] = cell
    return HeaderMap(index, header_of, unknown)


def require_columns(found: HeaderMap, columns: Iterable[Column], *, optional: set[str] = frozenset()) -> None:
    """Refuse the whole file when a required column is absent (listing every missing one)."""
    missing = [c for c in columns if c.required and c.key not in optional and not found.has(c.key)]
    if missing:
        names_ja = "、".join(c.ja for c in missing)
        names_en = ", ".join(c.key for c in missing)
        raise ImportFileError(f"必須の列がありません: {names_ja} (missing required columns: {names_en})", 1)


_MULTI_SEPARATORS_RE = re.compile(r"[、,，;；|｜/／\n]")


def split_multi(text: str) -> list[str]:
    """Several values in one cell, separated by 、 ; | , / or a line break (not by ・, which
    is part of labels such as 身体障害者手帳1・2級)."""
    return [part.strip(" \t\r\u3000") for part in _MULTI_SEPARATORS_RE.split(text) if part.strip(" \t\r\u3000")]


class EnumCells:
    """Parses one vocabulary's cells: code, Japanese label, English label or alias. Cached,
    because a register of 50,000 people repeats the same few labels."""

    def __init__(self, enum_cls: type[LabelledEnum]):
        self.enum_cls = enum_cls
        self._cache: dict[str, LabelledEnum | None] = {}
        self.choices = "、".join(member.ja for member in enum_cls)

    def _lookup(self, text: str) -> LabelledEnum | None:
        if text not in self._cache:
            try:
                self._cache[text] = self.enum_cls.parse(fold_width(text))
            except ValueError:
                self._cache[text] = None
        return self._cache[text]

    def one(self, text: str) -> LabelledEnum:
        member = self._lookup(text.strip())
        if member is None:
            raise ValueError(f"選択肢にない値です。使える値: {self.choices} (not an accepted value)")
        return member

    def many(self, text: str) -> list[LabelledEnum]:
        out = []
        for position, part in enumerate(split_multi(text), start=1):
            member = self._lookup(part)
            if member is None:
                raise ValueError(f"{position}番目の値が選択肢にありません。使える値: {self.choices} "
                                 f"(item {position} is not an accepted value)")
            out.append(member)
        return out


_TRUE = {"1", "true", "yes", "y", "はい", "有", "あり", "済", "実施済", "実施", "○", "〇"}
_FALSE = {"0", "false", "no", "n", "いいえ", "無", "なし", "未", "未実施", "×"}


def parse_bool(text: str) -> bool | None:
    """実施済/未実施, はい/いいえ, 有/無, 1/0, true/false; blank is unknown (None)."""
    cleaned = fold_width(text).strip().lower()
    if not cleaned or cleaned in {"不明", "-"}:
        return None
    if cleaned in _TRUE:
        return True
    if cleaned in _FALSE:
        return False
    raise ValueError("「実施済」「未実施」または空欄で入力してください (expected 実施済 / 未実施 / blank)")


def parse_float(text: str) -> float:
    cleaned = normalize_digits(text)
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError("数値として読めません (not a number)") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("数値として読めません (not a number)")
    return value


def parse_int(text: str) -> int:
    cleaned = normalize_digits(text).removesuffix("人").removesuffix("名")
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise ValueError("整数として読めません (not a whole number)")
    return int(cleaned)


def check_coordinates(lon: float | None, lat: float | None, lon_header: str, lat_header: str) -> list[tuple[str, str]]:
    """(column, reason) for coordinates that are half given, swapped or outside Japan."""
    if lon is None and lat is None:
        return []
    if lon is None:
        return [(lon_header, "緯度だけでは位置になりません。経度も入力してください (longitude missing)")]
    if lat is None:
        return [(lat_header, "経度だけでは位置になりません。緯度も入力してください (latitude missing)")]
    lon_ok = JAPAN_LON[0] <= lon <= JAPAN_LON[1]
    lat_ok = JAPAN_LAT[0] <= lat <= JAPAN_LAT[1]
    if not lon_ok and not lat_ok and JAPAN_LON[0] <= lat <= JAPAN_LON[1] and JAPAN_LAT[0] <= lon <= JAPAN_LAT[1]:
        return [(lon_header, "緯度と経度が入れ替わっているようです (longitude and latitude look swapped)")]
    problems = []
    if not lon_ok:
        problems.append((lon_header, f"経度が日本の範囲（{JAPAN_LON[0]}〜{JAPAN_LON[1]}）の外です "
                                     f"(longitude outside Japan; JGD2011 degrees expected)"))
    if not lat_ok:
        problems.append((lat_header, f"緯度が日本の範囲（{JAPAN_LAT[0]}〜{JAPAN_LAT[1]}）の外です "
                                     f"(latitude outside Japan; JGD2011 degrees expected)"))
    return problems


def validation_reasons(exc: ValidationError, rule_fields: dict[str, str] | None = None
                       ) -> list[tuple[str | None, str]]:
    """Pydantic errors as (field, reason) with Japanese wording.

    A whole-record rule has no field; ``rule_fields`` names one by the start of the rule's
    message (e.g. ``{"an Is値 needs": "is_value"}``), otherwise the field is None.
    The input value is deliberately left out of every reason.
    """
    out: list[tuple[str | None, str]] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else None
        if field is None and rule_fields:
            message = err.get("msg", "").removeprefix("Value error, ")
            field = next((f for prefix, f in rule_fields.items() if message.startswith(prefix)), None)
        kind = err.get("type", "")
        ctx = err.get("ctx") or {}
        if kind == "missing":
            reason = "必須項目が空です (required)"
        elif kind == "string_too_short":
            reason = "空にできません (must not be empty)"
        elif kind == "string_too_long":
            reason = f"長すぎます（{ctx.get('max_length')}文字まで） (too long, at most {ctx.get('max_length')} characters)"
        elif kind in ("greater_than_equal", "greater_than"):
            reason = f"{ctx.get('ge', ctx.get('gt'))}以上にしてください (must be at least {ctx.get('ge', ctx.get('gt'))})"
        else:
            reason = _in_japanese(err.get("msg", "invalid").removeprefix("Value error, "))
        out.append((field, reason))
    return out


# Model validators speak English; the people reading import reports mostly read Japanese.
_JAPANESE_FOR = (
    ("date is in the future", "未来の日付です"),
    ("birth date before 1890", "1890年より前の生年月日は扱えません"),
    ("municipality code must be", "市区町村コードは5桁または6桁の数字です"),
    ("check digit of", "市区町村コードの検査数字が合いません"),
    ("unsupported language", "対応していない言語です"),
    ("共通ID must be", "共通IDの形式が正しくありません（E＋市区町村5桁＋番号5桁＋種別など14文字）"),
    ("Is値 must be between", "Is値は0.0〜3.0の範囲です"),
    ("an Is値 needs", "Is値があるのに耐震診断が「未実施」です"),
    ("a welfare shelter names its target groups", "福祉避難所の受入対象者に「一般」は使えません"),
)


def _in_japanese(message: str) -> str:
    for prefix, japanese in _JAPANESE_FOR:
        if message.startswith(prefix):
            return f"{japanese} ({message})"
    return message
