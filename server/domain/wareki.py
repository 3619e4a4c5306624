"""Japanese dates: 和暦 (era years, e.g. 令和5年4月1日, R5.4.1) and 西暦 (1940/3/3).

Municipal files carry dates in many hands-typed forms. `parse_date` accepts them all and
refuses what is impossible (令和0年, 平成32年, 昭和64年1月8日, 2月30日), incomplete (大正14年,
S40.3) or ambiguous (a two-digit year: 40/3/3) with a reason in Japanese and English. Reasons never repeat the whole input: dates of birth are personal
data and the reasons end up in import reports.

Accepted forms (full-width digits and the square era signs ㍾㍽㍼㍻㋿ too):

- era name:   令和5年4月1日, 令和元年5月1日, 平成31年4月30日, 昭和15年3月3日
- era letter: R5.4.1, R05/04/01, H31.4.30, S15-3-3, R5年4月1日 (M/T/S/H/R, either case)
- 西暦:        1940/3/3, 1940-03-03, 1940.3.3, 1940年3月3日, 19400303
- an Excel-style time of day after the date (``1940/3/3 0:00``) is ignored.

Era boundaries are the days each era began and ended. Meiji is only bounded at its end:
before 1873 Japan used the lunisolar calendar, which this module does not convert.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Era:
    name: str      # 令和
    romaji: str    # Reiwa
    letter: str    # R
    first_day: date
    last_day: date | None  # None: the current era

    @property
    def first_year(self) -> int:
        """The western year of 元年 (year 1 of the era)."""
        return self.first_day.year


ERAS: tuple[Era, ...] = (
    Era("明治", "Meiji", "M", date(1868, 1, 1), date(1912, 7, 29)),
    Era("大正", "Taisho", "T", date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "Showa", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "Heisei", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "Reiwa", "R", date(2019, 5, 1), None),
)
_BY_NAME = {era.name: era for era in ERAS}
_BY_LETTER = {era.letter: era for era in ERAS}

_SEP = r"\s*[./\-年]\s*"
_TIME = r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
_ERA_NAME_RE = re.compile(
    r"(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?" + _TIME)
_ERA_LETTER_RE = re.compile(
    r"([MTSHRmtshr])\s*(元|\d{1,2})" + _SEP + r"(\d{1,2})\s*[./\-月]\s*(\d{1,2})\s*日?" + _TIME)
_WESTERN_RE = re.compile(
    r"(\d{4})\s*(?:[./\-]\s*(\d{1,2})\s*[./\-]\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?)" + _TIME)
_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Forms that are dates with a part missing (大正14年, S40.3, 1940年5月) or with a two-digit year
# (40/3/3, 40年3月3日): refused with a reason that says so, not "not a date".
_YEAR_ONLY_RE = re.compile(
    r"(?:(?:明治|大正|昭和|平成|令和)\s*(?:元|\d{1,2})\s*年?|[MTSHRmtshr]\s*(?:元|\d{1,2})\s*年?|\d{4}\s*年?)"
    r"(\s*(?:[./\-]\s*\d{1,2}|\d{1,2}\s*月))?")
_TWO_DIGIT_YEAR_RE = re.compile(r"\d{1,2}\s*(?:[./\-]\s*\d{1,2}\s*[./\-]|年\s*\d{1,2}\s*月)\s*\d{1,2}\s*日?" + r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")

EXAMPLES = "令和5年4月1日, R5.4.1, 昭和15年3月3日, 1940/3/3, 1940-03-03, 19400303"
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_date(text: str) -> date:
    """Parse a 和暦 or 西暦 date; raise ValueError (Japanese + English reason) if it is impossible.

    >>> parse_date("令和元年5月1日")
    datetime.date(2019, 5, 1)
    >>> parse_date("S15.3.3")
    datetime.date(1940, 3, 3)
    """
    # NFKC folds full-width digits and turns ㍻ into 平成; nothing else in a date needs keeping.
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if not cleaned:
        raise ValueError("日付が空です (the date is empty)")

    match = _ERA_NAME_RE.fullmatch(cleaned)
    if match:
        return _era_date(_BY_NAME[match[1]], match[2], match[3], match[4])
    match = _ERA_LETTER_RE.fullmatch(cleaned)
    if match:
        return _era_date(_BY_LETTER[match[1].upper()], match[2], match[3], match[4])
    match = _WESTERN_RE.fullmatch(cleaned)
    if match:
        month = match[2] or match[4]
        day = match[3] or match[5]
        return _checked_date(int(match[1]), int(month), int(day))
    match = _COMPACT_RE.fullmatch(cleaned)
    if match:
        return _checked_date(int(match[1]), int(match[2]), int(match[3]))
    if re.fullmatch(r"\d{5}(?:\.0+)?", cleaned):
        raise ValueError("日付ではなく数値です。Excelの日付シリアル値の可能性があります。列を日付形式にしてください "
                         "(a number, probably an Excel date serial; format the column as a date)")
    match = _YEAR_ONLY_RE.fullmatch(cleaned)
    if match:
        if match[1]:
            raise ValueError("日付が不完全です。日がありません。年月日をすべて入力してください（例: 昭和15年3月3日） "
                             "(incomplete date: the day is missing)")
        raise ValueError("日付が不完全です。年だけで月日がありません。年月日をすべて入力してください（例: 大正14年5月1日） "
                         "(incomplete date: only the year is given, the month and day are missing)")
    if _TWO_DIGIT_YEAR_RE.fullmatch(cleaned):
        raise ValueError("年が2桁なので、どの年か決められません（19xx年とも20xx年とも読めます）。元号を付けるか"
                         "（例: S15.5.1、昭和15年5月1日）、西暦を4桁で入力してください（例: 1940-05-01） "
                         "(ambiguous: a two-digit year could be 19xx or 20xx; write the era, e.g. S15.5.1, "
                         "or a four-digit year, e.g. 1940-05-01)")
    raise ValueError(f"日付として読めません。例: {EXAMPLES} (not a recognised date form)")


def _era_date(era: Era, year_text: str, month_text: str, day_text: str) -> date:
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year == 0:
        raise ValueError(f"{era.name}0年はありません。和暦の年は元年（1年）から始まります "
                         f"(there is no year 0 of {era.romaji}; era years start at 1)")
    year = era.first_year + era_year - 1
    if era.last_day is not None and year > era.last_day.year:
        last = era.last_day
        raise ValueError(f"{era.name}は{last.year - era.first_year + 1}年（{last.year}年{last.month}月{last.day}日）"
                         f"までです (the {era.romaji} era ended on {last.isoformat()})")
    result = _checked_date(year, int(month_text), int(day_text))
    if era.last_day is not None and result > era.last_day:
        last = era.last_day
        raise ValueError(f"{era.name}は{last.year - era.first_year + 1}年{last.month}月{last.day}日までです "
                         f"(the {era.romaji} era ended on {last.isoformat()})")
    if result < era.first_day and era.letter != "M":
        first = era.first_day
        raise ValueError(f"{era.name}は元年{first.month}月{first.day}日からです "
                         f"(the {era.romaji} era began on {first.isoformat()})")
    return result


def _checked_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise ValueError(f"{month}月はありません。月は1〜12です (month must be 1-12)")
    if day < 1 or day > _DAYS_IN_MONTH[month - 1]:
        raise ValueError(f"{month}月{day}日という日はありません (month {month} has no day {day})")
    try:
        return date(year, month, day)
    except ValueError:
        # Only 29 February of a common year, or a year outside 1-9999, reaches here.
        if month == 2 and day == 29:
            raise ValueError(f"{year}年はうるう年ではないので2月29日はありません "
                             f"({year} is not a leap year)") from None
        raise ValueError(f"{year}年は扱えない年です (year {year} is out of range)") from None


def era_of(value: date) -> Era:
    """The era a (Gregorian) date falls in; ValueError before 明治."""
    for era in reversed(ERAS):
        if value >= era.first_day:
            return era
    raise ValueError("明治より前の日付は和暦に直せません (dates before Meiji have no supported era)")


def format_wareki(value: date, *, gannen: bool = True) -> str:
    """Format a date as 和暦, e.g. ``令和5年4月1日``; year 1 is written 元年 unless gannen=False.

    >>> format_wareki(date(2023, 4, 1))
    '令和5年4月1日'
    >>> format_wareki(date(2019, 5, 1))
    '令和元年5月1日'
    """
    era = era_of(value)
    era_year = value.year - era.first_year + 1
    year_text = "元" if era_year == 1 and gannen else str(era_year)
    return f"{era.name}{year_text}年{value.month}月{value.day}日"
