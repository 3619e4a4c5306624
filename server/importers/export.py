"""CSV exports of the register and the shelters, in exactly the importers' layout.

UTF-8 with a BOM (so Excel opens it as UTF-8), CRLF line ends, Japanese headers, Japanese
labels for every vocabulary value, dates as ISO 西暦 (1940-03-03); a cell that Excel would
take for a formula (= + - @ first) gets a leading ' (the importers remove it). An exported
file re-imports with no errors and every row unchanged.

Rows are read from the database in chunks, so 50,000 people never sit in memory as objects.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import readonly
from ..domain.csvsafe import escape_cell  # the one formula escape of every CSV writer
from ..models import District, Person, Shelter
from ..models.vocab import CareNeed, Consent, Household, LabelledEnum, Reason, SeismicClass, Sex, ShelterKind
from ..models.vocab import Capability, TargetGroup
from .people_columns import (CONTACT_PARTS, EXPORT_CONTACT_GROUPS, LANGUAGE_LABELS, PEOPLE_COLUMNS,
                             contact_header)
from .shelters_csv import CARERS_NO, CARERS_YES, SHELTER_COLUMNS

BOM = "\ufeff"
CHUNK_ROWS = 2000


def _label(enum_cls: type[LabelledEnum], code: str | None) -> str:
    if code in (None, ""):
        return ""
    try:
        return enum_cls(code).ja
    except ValueError:
        return str(code)  # a code this version does not know: export it rather than lose it


def _labels(enum_cls: type[LabelledEnum], codes: Iterable[str] | None) -> str:
    return "、".join(_label(enum_cls, code) for code in codes or ())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "実施済" if value else "未実施"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _district_codes(conn) -> dict:
    d = District.__table__
    return dict(conn.execute(sa.select(d.c.id, d.c.code)).all())


def _csv_chunks(header: list[str], rows: Iterator[list[str]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _stream(conn, statement) -> Iterator[dict]:
    result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(statement)
    for partition in result.mappings().partitions():
        yield from partition


def _of(t, municipality_codes) -> list:
    """Rows of these municipalities (several in one installation); None: all."""
    return [] if municipality_codes is None else [t.c.municipality_code.in_(sorted(municipality_codes))]


def iter_people_csv(engine: Engine, municipality_codes=None, where=None) -> Iterator[bytes]:
    """The people CSV as byte chunks (BOM and header first), ordered by 登録者番号; rows of
    `municipality_codes` (None: all) and, with `where`, a clause on Person narrowing the rows
    (Art. 49-11 sharing for an outside recipient)."""
    t = Person.__table__
    with readonly(engine).connect() as conn:
        longest = conn.execute(sa.select(sa.func.max(sa.func.json_array_length(t.c.emergency_contacts)))).scalar()
        groups = max(EXPORT_CONTACT_GROUPS, longest or 0)
        districts = _district_codes(conn)
        header: list[str] = []
        for column in PEOPLE_COLUMNS:
            header.append(column.ja)
            if column.key == "household_note":
                header += [contact_header(n, part) for n in range(1, groups + 1) for part in CONTACT_PARTS]

        def rows() -> Iterator[list[str]]:
            statement = sa.select(t).where(*_of(t, municipality_codes)).order_by(t.c.register_no, t.c.municipality_code)
            if where is not None:
                statement = statement.where(where)
            for person in _stream(conn, statement):
                yield _person_row(person, districts, groups)

        yield from _csv_chunks(header, rows())


def _person_row(person: dict, districts: dict, groups: int) -> list[str]:
    out: list[str] = []
    for column in PEOPLE_COLUMNS:
        key = column.key
        if key == "sex":
            out.append(_label(Sex, person["sex"]))
        elif key == "household":
            out.append(_label(Household, person["household"]))
        elif key == "consent":
            out.append(_label(Consent, person["consent"]))
        elif key == "reasons":
            out.append(_labels(Reason, person["reasons"]))
        elif key == "care_needs":
            out.append(_labels(CareNeed, person["care_needs"]))
        elif key == "preferred_language":
            out.append(LANGUAGE_LABELS.get(person["preferred_language"], person["preferred_language"]))
        elif key == "district_code":
            out.append(districts.get(person["district_id"], ""))
        else:
            out.append(_text(person[key]))
        if key == "household_note":
            contacts = list(person["emergency_contacts"] or ())
            for number in range(groups):
                contact = contacts[number] if number < len(contacts) else {}
                out += [_text(contact.get(part, "")) for part in CONTACT_PARTS]
    return out


def export_people_csv(engine: Engine, municipality_codes=None, where=None) -> bytes:
    """The whole register (of these municipalities, or the rows `where` allows) as one people CSV
    (UTF-8 with BOM, CRLF)."""
    return b"".join(iter_people_csv(engine, municipality_codes, where))


def iter_shelters_csv(engine: Engine, municipality_codes=None) -> Iterator[bytes]:
    """The shelters CSV as byte chunks, ordered by 共通ID (shelters without one last, by name)."""
    t = Shelter.__table__
    with readonly(engine).connect() as conn:
        districts = _district_codes(conn)
        statement = sa.select(t).where(*_of(t, municipality_codes)).order_by(t.c.common_id.is_(None), t.c.common_id, t.c.name)

        def rows() -> Iterator[list[str]]:
            for shelter in _stream(conn, statement):
                yield _shelter_row(shelter, districts)

        yield from _csv_chunks([column.ja for column in SHELTER_COLUMNS], rows())


def _shelter_row(shelter: dict, districts: dict) -> list[str]:
    special = {
        "kind": lambda: _label(ShelterKind, shelter["kind"]),
        "target_groups": lambda: _labels(TargetGroup, shelter["target_groups"]),
        "accepts_carers": lambda: {True: CARERS_YES, False: CARERS_NO}.get(shelter["accepts_carers"], ""),
        "capabilities": lambda: _labels(Capability, shelter["capabilities"]),
        "district_code": lambda: districts.get(shelter["district_id"], ""),
        "seismic_class": lambda: _label(SeismicClass, shelter["seismic_class"]),
    }
    return [special[c.key]() if c.key in special else _text(shelter[c.key]) for c in SHELTER_COLUMNS]


def export_shelters_csv(engine: Engine, municipality_codes=None) -> bytes:
    """All shelters (of these municipalities) as one shelters CSV (UTF-8 with BOM, CRLF)."""
    return b"".join(iter_shelters_csv(engine, municipality_codes))
