"""和暦 / 西暦 date parsing and 和暦 formatting."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.wareki import format_wareki, parse_date


@pytest.mark.parametrize("text, expected", [
    ("令和5年4月1日", date(2023, 4, 1)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("令和 5 年 4 月 1 日", date(2023, 4, 1)),
    ("R5.4.1", date(2023, 4, 1)),
    ("R05/04/01", date(2023, 4, 1)),
    ("r5-4-1", date(2023, 4, 1)),
    ("R5年4月1日", date(2023, 4, 1)),
    ("R元.5.1", date(2019, 5, 1)),
    ("H31.4.30", date(2019, 4, 30)),
    ("平成31年4月30日", date(2019, 4, 30)),
    ("平成元年1月8日", date(1989, 1, 8)),
    ("昭和15年3月3日", date(1940, 3, 3)),
    ("S15.3.3", date(1940, 3, 3)),
    ("昭和64年1月7日", date(1989, 1, 7)),
    ("大正元年7月30日", date(1912, 7, 30)),
    ("T15.12.24", date(1926, 12, 24)),
    ("明治45年7月29日", date(1912, 7, 29)),
    ("M40.1.1", date(1907, 1, 1)),
    ("1940/3/3", date(1940, 3, 3)),
    ("1940-03-03", date(1940, 3, 3)),
    ("1940.3.3", date(1940, 3, 3)),
    ("1940年3月3日", date(1940, 3, 3)),
    ("19400303", date(1940, 3, 3)),
    ("1940/3/3 0:00", date(1940, 3, 3)),
    ("2024/2/29", date(2024, 2, 29)),
    # full-width digits and letters, square era signs
    ("令和５年４月１日", date(2023, 4, 1)),
    ("Ｒ５．４．１", date(2023, 4, 1)),
    ("１９４０／３／３", date(1940, 3, 3)),
    ("１９４００３０３", date(1940, 3, 3)),
    ("㍻31年4月30日", date(2019, 4, 30)),
    ("㋿5年4月1日", date(2023, 4, 1)),
    ("  昭和15年3月3日  ", date(1940, 3, 3)),
])
def test_accepted_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, japanese, english", [
    ("令和0年4月1日", "0年はありません", "no year 0"),
    ("R0.4.1", "0年はありません", "no year 0"),
    ("平成32年1月1日", "平成は31年", "Heisei era ended on 2019-04-30"),
    ("H32.1.1", "平成は31年", "Heisei era ended"),
    ("昭和65年1月1日", "昭和は64年", "Showa era ended on 1989-01-07"),
    ("昭和64年1月8日", "昭和は64年1月7日まで", "Showa era ended on 1989-01-07"),
    ("大正16年1月1日", "大正は15年", "Taisho era ended"),
    ("令和元年4月30日", "令和は元年5月1日から", "Reiwa era began on 2019-05-01"),
    ("平成元年1月7日", "平成は元年1月8日から", "Heisei era began"),
    ("2023年2月30日", "2月30日という日はありません", "no day 30"),
    ("令和5年2月30日", "2月30日", "no day 30"),
    ("1940/4/31", "4月31日", "no day 31"),
    ("2023/2/29", "うるう年", "not a leap year"),
    ("2023/13/1", "13月はありません", "month must be 1-12"),
    ("1940/0/1", "0月はありません", "month must be 1-12"),
    ("そのうち", "日付として読めません", "not a recognised date"),
    # incomplete and ambiguous forms say so (docs/data-formats.md)
    ("大正14年", "日付が不完全です", "incomplete date: only the year"),
    ("大正14", "日付が不完全です", "incomplete date: only the year"),
    ("Ｓ４０", "日付が不完全です", "incomplete date: only the year"),
    ("1940年", "日付が不完全です", "incomplete date: only the year"),
    ("昭和40年5月", "日がありません", "incomplete date: the day is missing"),
    ("S40.5", "日がありません", "incomplete date: the day is missing"),
    ("1940/5", "日がありません", "incomplete date: the day is missing"),
    ("40/3/3", "年が2桁", "ambiguous: a two-digit year"),
    ("40-03-03", "年が2桁", "ambiguous: a two-digit year"),
    ("４０年３月３日", "年が2桁", "ambiguous: a two-digit year"),
    ("", "日付が空です", "empty"),
    ("14673", "シリアル値", "Excel date serial"),
])
def test_impossible_dates_are_refused_in_japanese_and_english(text, japanese, english):
    with pytest.raises(ValueError) as caught:
        parse_date(text)
    message = str(caught.value)
    assert japanese in message and english in message


def test_reasons_do_not_repeat_the_whole_input():
    # A date of birth is personal data; the reason ends up in import reports.
    for text in ("昭和64年1月8日", "1940/4/31", "そのうち", "40/3/3", "昭和40年5月"):
        with pytest.raises(ValueError) as caught:
            parse_date(text)
        assert text not in str(caught.value)


@pytest.mark.parametrize("value, text", [
    (date(2023, 4, 1), "令和5年4月1日"),
    (date(2019, 5, 1), "令和元年5月1日"),
    (date(2019, 4, 30), "平成31年4月30日"),
    (date(1989, 1, 8), "平成元年1月8日"),
    (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1940, 3, 3), "昭和15年3月3日"),
    (date(1926, 12, 24), "大正15年12月24日"),
    (date(1912, 7, 29), "明治45年7月29日"),
])
def test_format_wareki(value, text):
    assert format_wareki(value) == text


def test_format_wareki_without_gannen_and_before_meiji():
    assert format_wareki(date(2019, 5, 1), gannen=False) == "令和1年5月1日"
    with pytest.raises(ValueError):
        format_wareki(date(1867, 12, 31))


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)))
def test_format_then_parse_is_identity(value):
    text = format_wareki(value)
    assert re.fullmatch(r"(明治|大正|昭和|平成|令和)(元|\d+)年\d+月\d+日", text)
    assert parse_date(text) == value
