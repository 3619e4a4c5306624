"""The plan CSV (server/importers/plans_csv.py) into and out of the database.

Import: the parser names every bad row (line, column, reason); this module adds what needs the
database — who is on the register, which shelters exist, whether a newly named destination
accepts the person's needs (plan_rules.destination_problems; a destination already stored is
not re-refused, as on the workbench form) — then merges each row over the stored plan and
validates the result with the API's model rules (PlanFields, as PlanCreate). Dry run by default. With
``apply=True`` it is **all or nothing**: one transaction, rolled back if any row had an error.

Writes are the records layer's, in bulk (a row at a time through `update_row` would take
minutes for 50,000 plans): version + 1 with the version check (`WHERE version = ?`; someone
else's save meanwhile → ImportConflictError, nothing written), the previous version kept
(`registry.plan_version_row`, the same snapshot a workbench save keeps), and change-log rows
with the values before (`log_changes`) so devices receive the plans, and a plan written 作成済
loses its 要見直し reasons (`review_flags.clear_all_on_done`, as the plans' `after_update`).
As a plan save's `before_write`: a newly linked supporter (支援者N台帳ID) must be on the
register (`supporter_links.link_errors`, a row error), and after the last write one pass flags
the plans of supporters the file put over their threshold (`after_plans_written`). The caller
audits, with the ids of the plans written (`ImportReport.record_ids`).

Merge rules: a column absent from the file keeps the stored value (the supporters count as one
column group; 配慮事項 per sub-column); a blank cell in a present column clears it. Without a
状態 column a stored status stays, except that a done plan lacking a required item drops to
作成中 and an untouched plan that gains content becomes 作成中; a 作成済 in the file is judged on
the merged plan. A row that says nothing for a
person without a plan creates none (an exported empty row imports as unchanged).
"""

from __future__ import annotations

import uuid
from datetime import date
from itertools import islice
from typing import Any, Hashable, Iterator, Optional

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from ..db import readonly
from ..domain.japan_time import today_jst
from ..domain.textnorm import normalize_text
from ..domain.workbench.adapters import person_from_row, plan_from_row, shelter_from_row
from ..domain.workbench.common import Plan
from ..auth.principal import installed_municipalities
from ..domain.workbench.plan_rules import border_problem, destination_problems, missing_for_done
from ..models import EvacuationPlan, Municipality, Person, PlanVersion, Shelter, SupporterRecord
from ..models.base import utcnow
from ..models.plans import PlanFields
from ..models.vocab import PlanStatus
from ..records.registry import PLANS, plan_version_row
from ..records.review_flags import clear_all_on_done
from ..records.supporter_links import after_plans_written, line_ids, link_errors
from ..sync.changelog import log_changes
from .columns import map_header, validation_reasons
from .csvsource import read_csv
from .plans_csv import PLAN_COLUMNS, ROW, ParsedPlan, RegisterIndex, ShelterIndex, _supporter_column, done_needs, iter_plans_csv, \
    iter_plans_csv_bytes
from .report import ImportConflictError, ImportReport

CHUNK_ROWS = 1000
FIELDS = tuple(PLANS.field_names)  # person_id, status, supporters, … as the records layer stores them
# The plan field each CSV column (group) fills; "supporters" stands for every 支援者N… column.
COLUMN_FIELD = {"destination": "destination_shelter_id", "alternate": "alternate_shelter_id",
                "route_note": "route_note", "timing_note": "timing_note", "consent": "consent",
                "carer_accompanies": "carer_accompanies",
                "consent_date": "consent_date", "author": "author", "review_due": "review_due", "status": "status"}
FIELD_HEADER = {**{f: next(c.ja for c in PLAN_COLUMNS if c.key == k) for k, f in COLUMN_FIELD.items()},
                "supporters": "支援者", "care": "配慮事項", "person_id": "登録者番号"}
_FACT_COLUMNS = ("id", "register_no", "birth_date", "reasons", "care_needs", "address", "district_id", "minsei_iin",
                 "consent", "consent_date", "lon", "lat")


class _RolledBack(Exception):
    """Raised inside the transaction to undo an apply that found bad rows (all or nothing)."""


def import_plans(engine: Engine, data: bytes, *, apply: bool = False, today: Optional[date] = None,
                 municipality_codes=None) -> ImportReport:
    """Validate (and with ``apply=True`` write, all or nothing) a plan CSV; return the report.
    ImportFileError (encoding, header, quoting) refuses the whole file. `municipality_codes`
    (several municipalities in one installation): the importing office's; a row naming a person
    of another municipality is an error like an unknown 登録者番号 (not on the caller's register)."""
    today = today or today_jst()
    header = read_csv(data).header
    present = _present_columns(header)
    report = ImportReport("plans", "plans_csv")
    try:
        with (engine.begin() if apply else readonly(engine).connect()) as conn:
            run = _PlanImport(conn, today, present, report, apply, municipality_codes)
            for chunk in _chunks(run.parse(data), CHUNK_ROWS):
                run.process(chunk)
            if apply and report.errors:
                raise _RolledBack
            if apply:
                run.after_writes()
    except _RolledBack:
        apply = False
    except sa.exc.IntegrityError:
        raise ImportConflictError("取り込み中に他の操作で計画が作成されました。もう一度取り込んでください "
                                  "(a plan was made elsewhere during the import; nothing was written, try again)") from None
    report.errors.sort(key=lambda issue: issue.line)
    report.applied = apply
    report.record_ids = run.written if apply else []
    return report


def _present_columns(header: list[str]) -> set[str]:
    found = map_header(header, PLAN_COLUMNS, extra=_supporter_column)
    keys = set(found.index)
    if any(k.startswith("supporter_") for k in keys):
        keys.add("supporters")
    return keys


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


class _PlanImport:
    """One run: the register's facts, the shelters, the stored destinations, the report."""

    def __init__(self, conn: Connection, today: date, present: set[str], report: ImportReport, apply: bool,
                 codes=None):
        self.conn, self.today, self.present, self.report, self.apply = conn, today, present, report, apply
        # without a 支援者N台帳ID column a line keeps the stored link of the same supporter (_carry_links)
        self.ids_in_file = any(k.endswith("_register_id") for k in present)
        self.codes = codes
        self.written: list = []  # ids of the plans created or updated, for the audit entry
        self.links_added: dict = {}  # entry id → plans newly linking it (the load pass, after_writes)
        self.links_removed: dict = {}
        self.table = EvacuationPlan.__table__
        person = Person.__table__
        query = sa.select(*(person.c[c] for c in _FACT_COLUMNS), person.c.municipality_code)
        if codes is not None:  # the caller's register only: another city's number is unknown here
            query = query.where(person.c.municipality_code.in_(sorted(codes)))
        self.facts_rows = {row.id: row for row in conn.execute(query)}
        with Session(bind=conn) as session:
            shelters = session.exec(select(Shelter)).all()
            self.several = len(installed_municipalities(session)) > 1
            # 登録者番号 per municipality: two cities may both have a number 1001 (RegisterIndex)
            names = dict(session.exec(select(Municipality.municipality_code, Municipality.name)).all()) \
                if self.several else {}
            self.people = RegisterIndex(((row.municipality_code if self.several else "", row.register_no, row.id)
                                         for row in self.facts_rows.values()), names)
            self.shelter_city = {s.id: (s.municipality_code, frozenset(s.accepts_from or ())) for s in shelters}
            self.shelter_facts = {s.id: shelter_from_row(s) for s in shelters}
            self.index = ShelterIndex((s.id, s.common_id, s.name) for s in shelters)
        t = self.table
        self.stored_destinations = {r.person_id: (r.destination_shelter_id, r.alternate_shelter_id) for r in
                                    conn.execute(sa.select(t.c.person_id, t.c.destination_shelter_id,
                                                           t.c.alternate_shelter_id))}

    def parse(self, data: bytes) -> Iterator[ParsedPlan]:
        return iter_plans_csv(data, self.people, self.index, self.today, self.report,
                              destination_check=self.check_destination, done_check=False)

    def check_destination(self, person_id: Hashable, shelter_id: Hashable, key: str):
        """The plan rules for a newly named destination; a stored one is shown, not re-refused."""
        position = 0 if key == "destination" else 1
        stored = self.stored_destinations.get(person_id)
        if stored is not None and stored[position] == shelter_id:
            return []
        field = "destination_shelter_id" if key == "destination" else "alternate_shelter_id"
        if self.several:  # 広域避難: the same rule as every plan write (records/plan_border.py)
            city, accepts = self.shelter_city[shelter_id]
            found = border_problem(self.facts_rows[person_id].municipality_code, city, accepts, field=field)
            if found:
                return [found]
        return destination_problems(person_from_row(self.facts_rows[person_id]), self.shelter_facts[shelter_id],
                                    self.today, field=field)

    # -- one chunk -------------------------------------------------------------------------
    def process(self, chunk: list[ParsedPlan]) -> None:
        t = self.table
        ids = [p.plan.person_id for p in chunk]
        stored = {row["person_id"]: dict(row) for row in
                  self.conn.execute(sa.select(t).where(t.c.person_id.in_(ids))).mappings()}
        now = utcnow()
        inserts, updates, versions, befores = [], [], [], {}
        named = {s.supporter_id for p in chunk for s in p.plan.supporters if s.supporter_id is not None}
        entries = SupporterRecord.__table__
        # the caller's register only (the supporters' rule in auth/policy.py): another city's entry is unknown here
        scope = [] if self.codes is None else [entries.c.municipality_code.in_(sorted(self.codes))]
        known = set(self.conn.execute(sa.select(entries.c.id).where(entries.c.id.in_(named), *scope)).scalars()) \
            if named else set()
        for parsed in chunk:
            old = stored.get(parsed.plan.person_id)
            values = self._merged(parsed.plan, old)
            if values is None:  # an empty row for a person without a plan: nothing to make
                self.report.unchanged += 1
                continue
            values = self._validated(parsed.line, values)
            if values is None or not self._links_exist(parsed, values, old, known):
                continue
            if old is None:
                values.update(id=uuid.uuid4(), version=1, created_at=now, updated_at=now)
                inserts.append(values)
                self.report.created += 1
                self._track_links(values["id"], values, None)
            elif all(_same(values[f], old[f]) for f in FIELDS):
                self.report.unchanged += 1
            else:
                previous = {f: old[f] for f in FIELDS}
                versions.append(plan_version_row(old["id"], old["version"], previous))
                befores[old["id"]] = previous
                values.update(b_id=old["id"], b_version=old["version"], version=old["version"] + 1, updated_at=now)
                updates.append(values)
                self.report.updated += 1
                self._track_links(old["id"], values, old)
        if self.apply and not self.report.errors:
            self._write(inserts, updates, versions, befores)

    def _links_exist(self, parsed: ParsedPlan, values: dict, old: Optional[dict], known: set) -> bool:
        """A line may newly link only an entry on the supporter register, as on a save through the
        API (`supporter_links.link_errors`, the rule of `check_links`); a stored link is kept."""
        bad = link_errors(values["supporters"], old, known.__contains__)
        if not bad:
            return True
        self.report.invalid += 1
        self.report.valid -= 1
        for i, _ in bad:
            column = parsed.supporter_columns[i] if i < len(parsed.supporter_columns) else FIELD_HEADER["supporters"]
            self.report.error(parsed.line, column, "支援者台帳にない支援者です (not on the supporter register)")
        return False

    def _track_links(self, plan_id, values: dict, old: Optional[dict]) -> None:
        self.written.append(plan_id)
        now = set(line_ids(values["supporters"]))
        had = set(line_ids(old["supporters"])) if old else set()
        for sid in now - had:
            self.links_added.setdefault(sid, set()).add(plan_id)
        for sid in had - now:
            self.links_removed.setdefault(sid, set()).add(plan_id)

    def after_writes(self) -> None:
        """After the last chunk: the supporters newly over their threshold flag their done plans
        (the plan resource's `after_plan_write`, once for the whole file)."""
        if self.links_added:
            with Session(bind=self.conn) as session:
                after_plans_written(session, PLANS, self.links_added, self.links_removed)
                session.flush()

    def _merged(self, plan: Plan, old: Optional[dict]) -> Optional[dict[str, Any]]:
        new = _values(plan)
        if old is None:
            return None if plan == Plan(None, plan.person_id) else new
        if "supporters" in self.present and not self.ids_in_file:
            new["supporters"] = _carry_links(new["supporters"], old["supporters"])
        keep = [f for key, f in COLUMN_FIELD.items() if key not in self.present]
        if "supporters" not in self.present:
            keep.append("supporters")
        merged = {**new, **{f: old[f] for f in keep}}
        care = dict(old["care"] or {})
        care.update({name: value for name, value in new["care"].items() if f"care.{name}" in self.present})
        merged["care"] = care
        if "status" not in self.present:
            merged["status"] = _status_without_column(PlanStatus(old["status"]), merged)
        return merged

    def _validated(self, line: int, values: dict[str, Any]) -> Optional[dict[str, Any]]:
        """The API's model rules decide what may be stored (lengths, done needs, alternate ≠ destination)."""
        # 作成済 is judged on the merged plan: a column absent from the file keeps its stored value
        reason = done_needs(plan_from_row(_Row(values))) if values["status"] == PlanStatus.done.value else ""
        if reason:
            self.report.invalid += 1
            self.report.valid -= 1
            self.report.error(line, FIELD_HEADER["status"], reason)
            return None
        try:
            # PlanFields: PlanCreate's rules without normalising the phones again (the parser used
            # the same normalize_phone; a second pass cost a third of the import's time).
            model = PlanFields.model_validate(values)
        except ValidationError as exc:
            self.report.invalid += 1
            self.report.valid -= 1
            for field, reason in validation_reasons(exc):
                self.report.error(line, FIELD_HEADER.get(field or "", ROW), reason)
            return None
        out = {name: getattr(model, name) for name in FIELDS}
        out["status"] = PlanStatus(out["status"]).value
        out["supporters"] = [s.model_dump(include={"name", "relation", "address", "phone", "supporter_id"}, mode="json")
                             for s in model.supporters]
        out["care"] = model.care.model_dump()
        return out

    def _write(self, inserts: list[dict], updates: list[dict], versions: list[dict], befores: dict) -> None:
        t = self.table
        if inserts:
            self.conn.execute(sa.insert(t), inserts)
        if updates:
            columns = [f for f in FIELDS if f != "person_id"] + ["version", "updated_at"]
            statement = (sa.update(t).where(t.c.id == sa.bindparam("b_id"), t.c.version == sa.bindparam("b_version"))
                         .values({name: sa.bindparam(name) for name in columns}))
            result = self.conn.execute(statement, updates)
            if self.conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(updates):
                raise ImportConflictError("取り込み中に他の操作で計画が更新されました。もう一度取り込んでください "
                                          "(a plan changed during the import; nothing was written, try again)")
            self.conn.execute(sa.insert(PlanVersion.__table__), versions)
        # a plan saved 作成済 has been looked at again, as after an API save (PLANS' after_update)
        clear_all_on_done(self.conn, [(r["b_id"], r["status"]) for r in updates])
        # devices learn of imported plans through the changes feed, like any other save
        log_changes(self.conn, "plans", [r["id"] for r in inserts] + [r["b_id"] for r in updates], befores=befores)


def _values(plan: Plan) -> dict[str, Any]:
    """A parsed plan as the records layer's field values (before validation)."""
    return {"person_id": plan.person_id, "status": PlanStatus(plan.status).value,
            "supporters": [{"name": s.name, "relation": s.relation, "address": s.address, "phone": s.phone,
                            "supporter_id": s.supporter_id} for s in plan.supporters],
            "destination_shelter_id": plan.destination_id, "alternate_shelter_id": plan.alternate_id,
            "route_note": plan.route_note, "timing_note": plan.timing_note, "care": dict(plan.care.items()),
            "carer_accompanies": plan.carer_accompanies, "consent": plan.consent, "consent_date": plan.consent_date,
            "author": plan.author, "review_due": plan.review_due}


def _carry_links(lines: list[dict], stored: Optional[list]) -> list[dict]:
    """A file without 支援者N台帳ID columns (made by hand, or before the column existed): a line
    naming the same supporter (name and phone) as a linked stored line keeps that link."""
    links = {(normalize_text(s.get("name") or ""), s.get("phone") or ""): s.get("supporter_id")
             for s in (stored or ()) if isinstance(s, dict) and s.get("supporter_id")}
    return [{**line, "supporter_id": links.get((line["name"], line["phone"]))} for line in lines]


def _status_without_column(stored: PlanStatus, values: dict[str, Any]) -> str:
    plan = plan_from_row(_Row(values))
    if stored == PlanStatus.done and missing_for_done(plan):
        return PlanStatus.drafting.value
    if stored == PlanStatus.not_started and plan != Plan(None, plan.person_id):
        return PlanStatus.drafting.value
    return stored.value


class _Row:
    """Attribute access over merged values, for the domain adapter."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values, id=None, status=PlanStatus.not_started)


def _same(new: Any, old: Any) -> bool:
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: v for k, v in old.items() if v not in ("", None)} == {k: v for k, v in new.items() if v not in ("", None)}
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(new, old))
    return new == old


# ---- export ------------------------------------------------------------------------------

def plan_rows(conn: Connection, municipality_codes=None, with_code: bool = False) -> Iterator[tuple]:
    """Every person on the register (of these municipalities; None: all) with their plan (an
    empty one without), by 登録者番号: (登録者番号, 氏名, plan), and the 市区町村コード last `with_code`."""
    person, plan = Person.__table__, EvacuationPlan.__table__
    query = (sa.select(person.c.register_no, person.c.name, person.c.id.label("pid"),
                       person.c.municipality_code.label("person_municipality"), *plan.c)
             .select_from(person.outerjoin(plan, plan.c.person_id == person.c.id))
             .order_by(person.c.register_no, person.c.municipality_code))
    if municipality_codes is not None:
        query = query.where(person.c.municipality_code.in_(sorted(municipality_codes)))
    for row in conn.execution_options(yield_per=2000).execute(query):
        found = Plan(None, row.pid) if row.id is None else \
            plan_from_row(row, [s.get("supporter_id") for s in row.supporters or ()])
        yield (row.register_no, row.name, found, row.person_municipality) if with_code else \
            (row.register_no, row.name, found)


def shelter_index(conn: Connection) -> ShelterIndex:
    t = Shelter.__table__
    return ShelterIndex((r.id, r.common_id, r.name) for r in conn.execute(sa.select(t.c.id, t.c.common_id, t.c.name)))


def iter_plans_export(engine: Engine, municipality_codes=None) -> Iterator[bytes]:
    """The plan CSV of the whole register (of these municipalities), streamed (UTF-8 with BOM,
    CRLF, formula cells escaped)."""
    with readonly(engine).connect() as conn:
        # several municipalities installed: each row says whose 登録者番号 (two cities may share
        # one), so an all-cities export re-imports unambiguously; one city: the layout as before
        m = Municipality.__table__
        municipal = conn.execute(sa.select(sa.func.count()).select_from(m)).scalar_one() > 1
        yield from iter_plans_csv_bytes(plan_rows(conn, municipality_codes, with_code=municipal), shelter_index(conn),
                                        municipal=municipal)


def export_plans(engine: Engine, municipality_codes=None) -> bytes:
    return b"".join(iter_plans_export(engine, municipality_codes))


def count_people(engine: Engine) -> int:
    with readonly(engine).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Person.__table__)).scalar_one()


__all__ = ["import_plans", "iter_plans_export", "export_plans", "plan_rows", "shelter_index", "count_people"]
