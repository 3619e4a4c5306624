"""Import the register (避難行動要支援者名簿) from a municipal CSV file.

Rows stream from the file in chunks; each is validated as a `PersonCreate`; the stored
register numbers are read once, and the stored people a row refers to are fetched a chunk
at a time; valid rows are written with bulk Core inserts and updates. With ``apply=True`` everything happens in one transaction, so a
whole-file error found late (a broken quote at line 40,000) leaves the database untouched.

Re-import rules:
- a person is matched by 登録者番号 and updated in place (``version`` + 1, ``updated_at``);
  with several municipalities in the installation the number is looked up in the row's
  municipality (its 市区町村コード, else the default: the importing office's only municipality),
  since each municipality numbers its own 名簿 and two may hold the same number;
  a row identical to what is stored is counted as unchanged and not written;
- a column absent from the file leaves that field as it is; a blank cell in a present
  column clears the field (or sets its default: 世帯構成 その他, 同意 未確認, 使用言語 日本語);
- bad rows are reported and skipped; the valid rows are still written.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from itertools import islice
from typing import Any, Iterator

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine

from ..domain.textnorm import normalize_code
from ..db import readonly
from ..models import District, Municipality, Person
from ..models.base import keep_stored, utcnow
from ..models.geo import normalize_municipality_code
from ..models.people import PersonCreate, PersonFields, with_kana_key
from ..models.vocab import Consent, DistrictKind
from .columns import check_coordinates, map_header, require_columns, validation_reasons
from .csvsource import read_csv
from .people_columns import COLUMN_BY_KEY, PEOPLE_COLUMNS, RowConverter, contact_column
from .report import ImportConflictError, ImportFileError, ImportReport
from ..records.review_flags import after_people_write
from ..sync.changelog import log_changes

CHUNK_ROWS = 1000
LOOKUP_CHUNK = 500
ROW = "(行)"  # column name for problems of the row as a whole
PERSON_FIELDS = tuple(PersonFields.model_fields)
_PRIVATE_USE = ("name", "name_kana", "address")
_PRIVATE_USE_RE = re.compile("[\ue000-\uf8ff]")  # 外字: user-defined characters of CP932 land here


def import_people(engine: Engine, data: bytes, *, apply: bool = False,
                  default_municipality_code: str | None = None, municipality_codes=None) -> ImportReport:
    """Validate (and with ``apply=True`` write) a people CSV; return what happened.

    `municipality_codes` (several municipalities in one installation): the importing office's; a
    row of another municipality, or naming a register number kept by another, is refused.

    Raise ImportFileError when the file as a whole cannot be read: encoding, a missing
    required column, broken CSV quoting. Row problems are listed in the report instead.
    """
    default_code = None
    if default_municipality_code:
        try:
            default_code = normalize_municipality_code(default_municipality_code)
        except ValueError as exc:
            raise ImportFileError(f"既定の市区町村コードが正しくありません (default municipality code: {exc})") from None
    table = read_csv(data)
    found = map_header(table.header, PEOPLE_COLUMNS, extra=contact_column)
    require_columns(found, PEOPLE_COLUMNS, optional={"municipality_code"} if default_code else set())

    report = ImportReport("people", "people_csv", encoding=table.encoding.label)
    for cell in found.unknown:
        report.warn(1, cell, "知らない列なので読み飛ばしました (unknown column ignored)")

    importer = _PeopleImport(report, found, len(table.header), default_code, apply)
    importer.allowed = None if municipality_codes is None else set(municipality_codes)
    try:
        with (engine.begin() if apply else readonly(engine).connect()) as conn:
            importer.load_known(conn)
            for chunk in _chunks(table.rows, CHUNK_ROWS):
                importer.process(conn, chunk)
    except sa.exc.IntegrityError:
        # A register number created elsewhere after this import read the stored ones.
        raise ImportConflictError("取り込み中に他の操作で同じ登録者番号が登録されました。もう一度取り込んでください "
                                  "(a register number was added elsewhere during the import; nothing was "
                                  "written, try again)") from None
    report.errors.sort(key=lambda issue: issue.line)  # duplicates are found before the rows they follow
    report.applied = apply
    return report


@contextmanager
def _planned_per_query(conn: Connection) -> Iterator[None]:
    """Keep psycopg from preparing the lookup statement on the server.

    psycopg prepares a statement after a few executions, and PostgreSQL may then keep a
    generic plan made while the table was nearly empty (a sequential scan) for the rest of
    the connection's life: a 50,000-row load slowed from 10 s to 90 s, and so did later
    imports on the same pooled connection. Planning each lookup afresh costs well under a ms;
    the bulk writes keep their prepared statements.
    """
    raw = conn.connection.driver_connection
    if not hasattr(raw, "prepare_threshold"):
        yield
        return
    previous = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = previous


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


class _PeopleImport:
    """State of one import run: districts, register numbers seen, the report."""

    def __init__(self, report: ImportReport, found, width: int, default_code: str | None, apply: bool):
        self.report = report
        self.width = width
        self.found = found
        self.convert = RowConverter(found)
        self.default_code = default_code
        self.apply = apply
        self.first_line: dict[tuple[str, str], int] = {}
        self.districts: dict[tuple[str, str], uuid.UUID] = {}
        self.stored: set[str] = set()
        self.several = False  # several municipalities installed: register numbers are per municipality
        self.table = Person.__table__
        self.allowed: set[str] | None = None  # the importing office's municipalities (None: all)

    def load_known(self, conn: Connection) -> None:
        """The 町丁目 districts, and which register numbers exist (so new people need no lookup)."""
        t = District.__table__
        rows = conn.execute(sa.select(t.c.municipality_code, t.c.code, t.c.id).where(t.c.kind == DistrictKind.chome.value))
        self.districts = {(code6, code): id_ for code6, code, id_ in rows}
        self.stored = set(conn.execute(sa.select(self.table.c.register_no)).scalars())
        m = Municipality.__table__
        self.several = conn.execute(sa.select(sa.func.count()).select_from(m)).scalar_one() > 1

    def _row_code(self, values: dict[str, Any]) -> str | None:
        """The municipality a row names (its 市区町村コード, else the default), None when unknown."""
        if values.get("municipality_code"):
            return self._code6(values["municipality_code"])
        return self.default_code

    # -- one chunk -------------------------------------------------------------------------
    def process(self, conn: Connection, chunk: list[tuple[int, list[str]]]) -> None:
        prepared = []
        for line, cells in chunk:
            self.report.rows += 1
            values, errors = self.convert(cells)
            if len(cells) > self.width and any(c.strip() for c in cells[self.width:]):
                errors.append((ROW, "見出しより多くの列に値があります (more cells than header columns)"))
            register_no = values.get("register_no", "")
            if register_no:
                # one municipality: the number alone is the key, as it always was
                key = ((self._row_code(values) or "") if self.several else "", register_no)
                first = self.first_line.setdefault(key, line)
                if first != line:
                    self._fail(line, [(self.found.name("register_no"),
                                       f"登録者番号 {register_no} は{first}行目と重複しています "
                                       f"(duplicate register number, first on line {first})")])
                    continue
            prepared.append((line, values, errors))

        existing = self._existing(conn, list({v["register_no"] for _, v, _ in prepared if v.get("register_no") in self.stored}))
        now = utcnow()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        changed_columns: set[str] = set()
        pairs: list[tuple] = []  # (id, before, after) of updated people, for the 要見直し flags
        for line, values, errors in prepared:
            old = self._stored_person(existing.get(values.get("register_no", ""), []), values, errors)
            row = self._validate(line, values, errors, old)
            if row is None:
                continue
            self.report.valid += 1
            if old is None:
                row.update(id=uuid.uuid4(), version=1, created_at=now, updated_at=now)
                inserts.append(row)
                self.report.created += 1
            else:
                changed = [f for f in PERSON_FIELDS if row[f] != old[f]]
                if not changed:
                    self.report.unchanged += 1
                    continue
                changed_columns.update(changed)
                row.update(b_id=old["id"], b_version=old["version"], version=old["version"] + 1, updated_at=now)
                updates.append(row)
                pairs.append((old["id"], old, row))
                self.report.updated += 1
        if self.apply:
            self._write(conn, inserts, updates, changed_columns, {pid: before for pid, before, _ in pairs})
            after_people_write(conn, pairs)

    def _fail(self, line: int, errors: list[tuple[str, str]]) -> None:
        self.report.invalid += 1
        for column, reason in errors:
            self.report.error(line, column, reason)

    def _stored_person(self, candidates: list[dict[str, Any]], values: dict[str, Any],
                       errors: list[tuple[str, str]]) -> dict[str, Any] | None:
        """The stored person a row updates, among those holding its register number (None: a new one)."""
        if not candidates:
            return None
        code = self._row_code(values)
        if code is not None:
            same = [c for c in candidates if c["municipality_code"] == code]
            if same or self.several:
                return same[0] if same else None  # several cities: another city's number is not this person
        if len(candidates) == 1:
            return candidates[0]
        errors.append((self._header("municipality_code"),
                       f"登録者番号 {values['register_no']} は複数の市区町村の名簿にあります。市区町村コードを入れてください "
                       "(the register number is held by several municipalities: give the municipality code)"))
        return None

    def _existing(self, conn: Connection, register_nos: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The stored people holding each register number (several municipalities may share one)."""
        found: dict[str, list[dict[str, Any]]] = {}
        t = self.table
        with _planned_per_query(conn):
            for start in range(0, len(register_nos), LOOKUP_CHUNK):
                part = register_nos[start:start + LOOKUP_CHUNK]
                for row in conn.execute(sa.select(t).where(t.c.register_no.in_(part))).mappings():
                    found.setdefault(row["register_no"], []).append(dict(row))
        return found

    def _validate(self, line: int, values: dict[str, Any], errors: list[tuple[str, str]],
                  old: dict[str, Any] | None) -> dict[str, Any] | None:
        """Merge the row over the stored person, check it, and return the row to write (or None)."""
        found = self.found
        merged: dict[str, Any] = {f: old[f] for f in PERSON_FIELDS} if old else {}
        bad_fields: set[str] = set()
        if errors:
            error_columns = {column for column, _ in errors}
            bad_fields = {key for key in found.index if found.name(key) in error_columns}
        merged.update({k: v for k, v in values.items() if k != "district_code" and k not in bad_fields})
        if not merged.get("municipality_code") and self.default_code:
            merged["municipality_code"] = self.default_code
        errors = list(errors)

        if "district_code" in values and "district_code" not in bad_fields:
            merged["district_id"] = None
            if values["district_code"] and self._code6(merged.get("municipality_code")):
                district_id = self._district(merged.get("municipality_code"), values["district_code"])
                if district_id is None:
                    errors.append((found.name("district_code"),
                                   "この町丁目コードは登録されていません (unknown 町丁目 code)"))
                    bad_fields.add("district_code")
                merged["district_id"] = district_id
        if not bad_fields & {"lon", "lat"}:
            errors += check_coordinates(merged.get("lon"), merged.get("lat"),
                                        self._header("lon"), self._header("lat"))
        if merged.get("consent") == Consent.yes and merged.get("consent_date") is None and "consent_date" not in bad_fields:
            errors.append((self._header("consent_date"),
                           "同意が「同意」のときは同意日が必要です (a consent needs its date)"))

        try:
            person = PersonCreate.model_validate(merged, context=keep_stored(old) if old else None)
        except ValidationError as exc:
            flagged = {column for column, _ in errors}
            for field, reason in validation_reasons(exc):
                column = self._header(field) if field else ROW
                if column not in flagged and not (field is None and errors):
                    errors.append((column, reason))
            person = None
        if self.allowed is not None:
            if old is not None and old["municipality_code"] not in self.allowed:
                errors.append((self._header("register_no"), "この登録者番号は使えません (register number not usable here)"))
            elif person is not None and person.municipality_code not in self.allowed:
                errors.append((self._header("municipality_code"),
                               "あなたの市区町村の名簿ではありません (not one of your municipalities)"))
        if errors:
            order = {name: position for position, name in enumerate(self.found.header_of.values())}
            self._fail(line, sorted(errors, key=lambda e: order.get(e[0], len(order))))
            return None
        for field in _PRIVATE_USE:
            if _PRIVATE_USE_RE.search(getattr(person, field)):
                self.report.warn(line, self._header(field), "外字（私用領域の文字）が含まれています。他の端末では正しく"
                                 "表示されません (contains a private-use character)")
        return _db_row(person)

    def _header(self, key: str) -> str:
        if self.found.has(key):
            return self.found.name(key)
        column = COLUMN_BY_KEY.get(key)
        return column.ja if column else key

    @staticmethod
    def _code6(municipality_code: str | None) -> str | None:
        try:
            return normalize_municipality_code(municipality_code or "")
        except ValueError:
            return None  # the model reports the bad code; a district cannot be looked up without it

    def _district(self, municipality_code: str | None, code: str) -> uuid.UUID | None:
        code6 = self._code6(municipality_code)
        # District codes are stored as their loader wrote them; try the cell as typed, then width-folded.
        return self.districts.get((code6, code)) or self.districts.get((code6, normalize_code(code)))

    def _write(self, conn: Connection, inserts: list[dict], updates: list[dict], changed: set[str],
               befores: dict) -> None:
        t = self.table
        if inserts:
            conn.execute(sa.insert(t), inserts)
        if updates:
            # Only columns some row of the chunk changed are set: the register number (the key)
            # never is, and a typical monthly re-import changes a few columns, not every index.
            columns = [f for f in PERSON_FIELDS if f in changed] + ["version", "updated_at"]
            if "name_kana" in changed:
                columns.append("kana_key")
            statement = (sa.update(t)
                         .where(t.c.id == sa.bindparam("b_id"), t.c.version == sa.bindparam("b_version"))
                         .values({name: sa.bindparam(name) for name in columns}))
            result = conn.execute(statement, updates)
            if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(updates):
                raise ImportConflictError("取り込み中に他の操作で名簿が更新されました。もう一度取り込んでください "
                                      "(the register changed during the import; nothing was written, try again)")
        # field devices learn about imported people through the changes feed; an update carries
        # its values before (as update_row's log_change does), so a person moved out of a device's
        # scope is dropped there
        log_changes(conn, "people", [r["id"] for r in inserts] + [r["b_id"] for r in updates], befores=befores)


def _db_row(person: PersonCreate) -> dict[str, Any]:
    """Column values as plain Python types (enums as their codes, contacts as dicts)."""
    row = {field: getattr(person, field) for field in PERSON_FIELDS}
    for field in ("sex", "household", "consent"):
        row[field] = row[field].value
    row["reasons"] = [member.value for member in person.reasons]
    row["care_needs"] = [member.value for member in person.care_needs]
    row["emergency_contacts"] = [contact.model_dump() for contact in person.emergency_contacts]
    return with_kana_key(row)  # the register search's ふりがな key, written with the ふりがな
