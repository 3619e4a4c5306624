"""Reading municipal CSV bytes: encoding detection, rows with physical line numbers, headers.

Japanese offices save CSV from Excel as CP932 (Shift_JIS), as UTF-8 with a BOM ("CSV UTF-8")
or as plain UTF-8. A file is decoded as exactly one of these. A file that is valid in none
of them, or that mixes UTF-8 and CP932 lines (two files pasted together), is refused as a
whole — naming the first bad line — because guessing line by line would silently store
mojibake in the register.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Iterator

from ..domain.textnorm import fold_width
from .report import ImportFileError

ENCODING_LABELS = {"utf-8-sig": "UTF-8 (BOM付き)", "utf-8": "UTF-8", "cp932": "Shift_JIS (CP932)"}

# Single bytes that Python's cp932 codec accepts but no Japanese text contains.
_CP932_STRAYS_RE = re.compile("[\x80\uf8f0-\uf8f3]")
# Characters a UTF-8 line of Japanese data contains; a CP932 line that happens to be valid
# UTF-8 decodes to Latin-1 oddities instead, so it is not mistaken for a UTF-8 line.
_JAPANESE_RE = re.compile("[\u3000-\u9fff\uff00-\uffef]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # "utf-8-sig" | "utf-8" | "cp932"

    @property
    def label(self) -> str:
        return ENCODING_LABELS[self.encoding]


SAVE_AS_CSV_JA = "Excelで「ファイル」→「名前を付けて保存」→ ファイルの種類「CSV UTF-8（コンマ区切り）」を選んで保存し直してください"
SAVE_AS_CSV_EN = 'in Excel use File → Save As and choose "CSV UTF-8 (Comma delimited)"'


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a BOM: NUL bytes mostly in the odd (little-endian) or mostly in the even
    (big-endian) positions — the high bytes of ASCII characters such as , and digits; a few
    characters such as 一 (U+4E00) or the ideographic space put one on the other side — and the
    start decodes as UTF-16 text without control characters."""
    sample = data[:4096] if len(data) > 4096 else data[: len(data) - len(data) % 2]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if max(even, odd) < 2 * min(even, odd) + 2:
        return False
    try:
        text = sample.decode("utf-16-le" if odd else "utf-16-be")
    except UnicodeDecodeError:  # a surrogate pair cut at the end of the sample
        try:
            text = sample[:-2].decode("utf-16-le" if odd else "utf-16-be")
        except UnicodeDecodeError:
            return False
    return not _CONTROL_RE.search(text)


def _refuse_non_csv(data: bytes) -> None:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError("Excelブック（.xlsx）のようです。Excelで「CSV UTF-8」または「CSV」形式で保存してください "
                              "(this looks like an .xlsx workbook; save it as CSV first)")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("古い形式のExcelブック（.xls）のようです。CSV形式で保存してください "
                              "(this looks like an .xls workbook; save it as CSV first)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(data):
        raise ImportFileError("UTF-16のファイルのようです（Excelの「Unicode テキスト」など）。読めるのはCSVだけです。"
                              + SAVE_AS_CSV_JA + " (this looks like UTF-16 text, e.g. Excel's \"Unicode Text\"; "
                              + SAVE_AS_CSV_EN + ")")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ImportFileError(f"{line}行目にNUL文字があります。CSVテキストではないようです "
                              f"(line {line} contains a NUL byte; this is not a CSV text file)", line)


def _utf8_line(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _cp932_line(line: bytes) -> str | None:
    try:
        text = line.decode("cp932")
    except UnicodeDecodeError:
        return None
    return None if _CP932_STRAYS_RE.search(text) else text


def _first_line_failing(lines: list[bytes], decode) -> int:
    for number, line in enumerate(lines, start=1):
        if decode(line) is None:
            return number
    return len(lines)


def decode_csv_bytes(data: bytes) -> DecodedText:
    """Decode CSV bytes as UTF-8 (with or without BOM) or CP932; ImportFileError otherwise."""
    if not data.strip(b" \t\r\n\x1a"):
        raise ImportFileError("ファイルが空です (the file is empty)")
    _refuse_non_csv(data)
    data = data.rstrip(b"\x1a")  # DOS end-of-file marker written by some old exporters

    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            return DecodedText(body.decode("utf-8"), "utf-8-sig")
        except UnicodeDecodeError:
            line = _first_line_failing(body.splitlines(), _utf8_line)
            raise ImportFileError(
                f"{line}行目がUTF-8として読めません（ファイルはUTF-8のBOMで始まっています）。"
                f"UTF-8とShift_JISが混ざっていないか確認してください "
                f"(line {line} is not valid UTF-8 although the file starts with a UTF-8 BOM)", line) from None
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass

    # Not UTF-8 as a whole: the first line with non-ASCII bytes says what the file meant to be.
    lines = data.splitlines()
    expected: str | None = None
    first_line = 0
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        as_utf8 = _utf8_line(line)
        is_utf8 = as_utf8 is not None and _JAPANESE_RE.search(as_utf8) is not None
        is_cp932 = _cp932_line(line) is not None
        if expected is None:
            if is_utf8:
                expected, first_line = "utf-8", number
            elif is_cp932:
                expected, first_line = "cp932", number
            else:
                raise ImportFileError(
                    f"{number}行目の文字コードがUTF-8でもShift_JIS (CP932) でもありません "
                    f"(line {number} is neither UTF-8 nor Shift_JIS/CP932)", number)
            continue
        if expected == "utf-8" and as_utf8 is None:
            if is_cp932:
                raise ImportFileError(
                    f"文字コードが混在しています: {first_line}行目はUTF-8ですが、{number}行目はShift_JISです。"
                    f"一つの文字コードで保存し直してください (mixed encodings: line {first_line} is UTF-8 "
                    f"but line {number} is Shift_JIS/CP932)", number)
            raise ImportFileError(f"{number}行目がUTF-8として読めません (line {number} is not valid UTF-8)", number)
        if expected == "cp932" and (is_utf8 or not is_cp932):
            if is_utf8:
                raise ImportFileError(
                    f"文字コードが混在しています: {first_line}行目はShift_JISですが、{number}行目はUTF-8です。"
                    f"一つの文字コードで保存し直してください (mixed encodings: line {first_line} is "
                    f"Shift_JIS/CP932 but line {number} is UTF-8)", number)
            raise ImportFileError(f"{number}行目がShift_JIS (CP932) として読めません "
                                  f"(line {number} is not valid Shift_JIS/CP932)", number)
    return DecodedText(data.decode("cp932"), "cp932")


def clean_header(cell: str) -> str:
    """Header cells compare without width, spaces or case: ＮＯ, ' 氏名 ' and 'Name' all match."""
    return re.sub(r"\s+", "", fold_width(cell)).lower()


@dataclass
class CsvTable:
    """A decoded CSV: its header cells and an iterator of (first physical line, cells)."""

    encoding: DecodedText
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]


def read_csv(data: bytes) -> CsvTable:
    """Decode and start reading; the header is line 1. Blank rows are skipped.

    Structural damage (an unclosed quote, a stray quote) is an ImportFileError raised while
    iterating, naming the line where the broken record starts.
    """
    decoded = decode_csv_bytes(data)
    if _CONTROL_RE.search(decoded.text):
        position = _CONTROL_RE.search(decoded.text).start()
        line = decoded.text.count("\n", 0, position) + 1
        raise ImportFileError(f"{line}行目に制御文字があります (line {line} contains a control character)", line)
    reader = csv.reader(io.StringIO(decoded.text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("見出し行がありません (the file has no header line)", 1) from None
    except csv.Error as exc:
        raise ImportFileError(f"1行目のCSVの書式が壊れています (line 1 is not valid CSV: {exc})", 1) from None
    if reader.line_num != 1:
        raise ImportFileError("見出し行が複数行にまたがっています (the header spans several lines)", 1)
    return CsvTable(decoded, [cell.strip() for cell in header], _rows(reader))


def _rows(reader) -> Iterator[tuple[int, list[str]]]:
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise ImportFileError(f"{start}行目からのCSVの書式が壊れています（引用符 \" の閉じ忘れなど） "
                                  f"(the CSV record starting at line {start} is malformed, e.g. an unclosed "
                                  f"quote)", start) from None
        previous_end = reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, [unescape_cell(cell) for cell in cells]


def unescape_cell(cell: str) -> str:
    """Undo the export's formula escape: ``'=SUM(1)`` → ``=SUM(1)``, ``'+81-42-…`` → ``+81-42-…``.
    Only a ' before = + - @ (or a tab or CR) is removed: that is what the export (and Excel's
    "text" prefix) writes; any other leading ' is data."""
    if len(cell) > 1 and cell[0] == "'" and cell[1:].lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r") \
            and cell[1:].lstrip("'"):
        return cell[1:]
    return cell
