"""Plans in bulk: the plan CSV as municipalities keep it in Excel — one row per person,
supporters as numbered columns (支援者1氏名, 支援者1続柄, 支援者1電話, 支援者1住所 … 支援者3),
destination by 共通ID or exact name. Pure parsing and serialising: nothing is written here.

The importers' rules apply, by import rather than by copy: encodings (UTF-8, UTF-8 with BOM,
CP932) and broken quoting via server/importers/csvsource.read_csv, header matching via
columns.map_header, 和暦 and 西暦 dates via domain/wareki, and every bad row named in an
`ImportReport` with its line, column and a reason that never repeats the cell (personal
data). A bad row is reported and left out; the caller (the DB layer that comes later)
writes the valid rows in one transaction, or nothing on a dry run. Rows stream: 50,000
rows never sit in memory as more than the decoded text and the parsed plans.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Callable, Hashable, Iterable, Iterator, Mapping, Optional

from ..domain.csvsafe import escape_cell
from ..domain.textnorm import fold_width, normalize_code, normalize_phone, normalize_text
from ..domain.wareki import parse_date
from ..domain.workbench.common import CARE_LABELS, Care, Plan, PlanSupporter, Problem, check_not_future
from ..domain.workbench.plan_rules import MAX_SUPPORTERS, missing_for_done
from ..models.geo import normalize_municipality_code
from ..models.vocab import PlanStatus
from .columns import Column, EnumCells, map_header, require_columns
from .csvsource import read_csv
from .export import BOM
from .report import ImportReport

ROW = "(行)"
# 台帳ID: the line's 支援者台帳 entry (`supporter_id`), written by the export so a re-import keeps
# the link; a new id is checked as an API save checks it (plans_db, supporter_links.link_errors).
SUPPORTER_PARTS = {"name": "氏名", "relation": "続柄", "phone": "電話", "address": "住所", "register_id": "台帳ID"}
_SUPPORTER_RE = re.compile(r"支援者(\d{1,2})(氏名|続柄|電話|電話番号|住所|台帳id)")  # headers arrive case-folded
_PART = {"氏名": "name", "続柄": "relation", "電話": "phone", "電話番号": "phone", "住所": "address",
         "台帳id": "register_id"}
EXPORT_SUPPORTERS = MAX_SUPPORTERS

PLAN_COLUMNS: tuple[Column, ...] = (
    Column("register_no", "登録者番号", True, ("登録番号",)),
    Column("municipality_code", "市区町村コード", False, ("市区町村", "団体コード", "全国地方公共団体コード"),
           "5 or 6 digits, or the municipality's name; says whose 登録者番号 when several municipalities share one"),
    Column("name", "氏名", False, ("名前",), "written by the export for staff; not used to match"),
    Column("destination", "避難先", False, ("避難先共通ID", "避難先施設"), "共通ID or exact shelter name"),
    Column("alternate", "第二避難先", False, ("代替避難先",), "共通ID or exact shelter name"),
    # The shelter's record id, written by the export beside each destination: it picks the one
    # meant among shelters of the same name without a 共通ID, so an export re-imports as it was.
    Column("destination_key", "避難先システムID", False, (), "written by the export; read first"),
    Column("alternate_key", "第二避難先システムID", False, (), "written by the export; read first"),
    Column("route_note", "避難経路"),
    Column("timing_note", "避難のタイミング", False, ("避難開始のタイミング",)),
    *(Column(f"care.{key}", label) for key, label in CARE_LABELS.items()),
    Column("carer_accompanies", "介助者の同行", False, ("介助者同行", "介助者が同行"),
           "あり / なし (有 / 無, ○ / ×, true / false, 1 / 0)"),
    Column("consent", "同意", False, ("本人の同意",), "有 / 無 (同意, はい, ○ …)"),
    Column("consent_date", "同意日", False, (), "和暦 or 西暦; not in the future"),
    Column("author", "作成者"),
    Column("review_due", "次回見直し日", False, ("見直し日",), "和暦 or 西暦"),
    Column("status", "状態", False, ("作成状況",), "未着手 / 作成中 / 作成済 / 要見直し"),
)
_STATUS = EnumCells(PlanStatus)
_YES = {"有", "あり", "同意", "同意済", "はい", "済", "1", "true", "yes", "○", "〇"}
_NO = {"無", "なし", "不同意", "いいえ", "未", "0", "false", "no", "×", ""}
# 介助者の同行: only the spellings a carer column is kept with (not 同意-words such as 済 or はい).
_CARER_YES = {"あり", "有", "○", "〇", "true", "1"}
_CARER_NO = {"なし", "無", "×", "✕", "false", "0"}
CARER_YES, CARER_NO = "あり", "なし"


def supporter_key(number: int, part: str) -> str:
    return f"supporter_{number}_{part}"


def supporter_header(number: int, part: str) -> str:
    return f"支援者{number}{SUPPORTER_PARTS[part]}"


def _supporter_column(cleaned: str) -> Optional[str]:
    match = _SUPPORTER_RE.fullmatch(cleaned)
    return supporter_key(int(match[1]), _PART[match[2]]) if match else None


def parse_consent(text: str) -> bool:
    cleaned = normalize_text(text).lower()
    if cleaned in _YES:
        return True
    if cleaned in _NO:
        return False
    raise ValueError("「有」または「無」で入力してください (expected 有 / 無)")


def parse_carer(text: str) -> bool:
    """介助者の同行 (a family carer comes along): あり / なし and the usual other spellings
    (full-width ＴＲＵＥ or １ as Excel users type them)."""
    cleaned = fold_width(text).strip().lower()
    if cleaned in _CARER_YES:
        return True
    if cleaned in _CARER_NO:
        return False
    raise ValueError("「あり」または「なし」で入力してください (expected あり / なし: 有/無, ○/×, true/false, 1/0)")


class ShelterIndex:
    """Resolves a destination cell: 共通ID first, then the exact (normalised) name. A name two
    shelters share is refused as ambiguous rather than guessed — unless the row also carries
    the shelter's record id (避難先システムID, written by the export), which is read first and
    must name one of the shelters the cell names."""

    def __init__(self, shelters: Iterable[tuple[Hashable, Optional[str], str]]):
        self.by_common: dict[str, Hashable] = {}
        self.by_name: dict[str, list[Hashable]] = {}
        self.by_key: dict[str, Hashable] = {}
        self.label_of: dict[Hashable, str] = {}
        for sid, common_id, name in shelters:
            if common_id:
                self.by_common[normalize_code(common_id).upper()] = sid
            self.by_name.setdefault(normalize_text(name), []).append(sid)
            self.by_key[str(sid).lower()] = sid
            self.label_of[sid] = common_id or name

    def candidates(self, text: str) -> list[Hashable]:
        """The shelters a cell names: the one with this 共通ID, else every one of this name."""
        code = normalize_code(text).upper()
        if code in self.by_common:
            return [self.by_common[code]]
        return self.by_name.get(normalize_text(text), [])

    def resolve(self, text: str) -> Hashable:
        ids = self.candidates(text)
        if len(ids) == 1:
            return ids[0]
        if ids:
            raise ValueError(f"同じ名前の施設が{len(ids)}件あります。共通IDで指定してください "
                             f"(ambiguous: {len(ids)} shelters have this name; use the 共通ID)")
        raise ValueError("登録されていない施設です。共通IDか施設名を確認してください (unknown shelter)")

    def by_record_id(self, key: str) -> Hashable:
        sid = self.by_key.get(normalize_code(key).lower())
        if sid is None:
            raise ValueError("このシステムIDの施設は登録されていません (no shelter has this id)")
        return sid

    def resolve_keyed(self, text: str, key: str) -> Hashable:
        """The shelter of record id `key`, provided the cell names it (a cell edited to another
        shelter without clearing the id is a conflict, not a guess)."""
        sid = self.by_record_id(key)
        if sid not in self.candidates(text):
            raise ValueError("施設名（共通ID）とシステムIDが別の施設を指しています。どちらかを直すか、システムIDを空にしてください "
                             "(the cell and the shelter id name different shelters; fix one or clear the id)")
        return sid

    def label(self, sid: Optional[Hashable]) -> str:
        return "" if sid is None else self.label_of.get(sid, str(sid))

    @staticmethod
    def key(sid: Optional[Hashable]) -> str:
        return "" if sid is None else str(sid)


class RegisterIndex:
    """登録者番号 → person, per municipality. An office of several municipalities may hold the same
    number in two of them (each city numbers its own register): the row's 市区町村コード column
    says which; a number found in several without it is refused rather than guessed. A plain
    mapping (one register) is wrapped as the only municipality's."""

    def __init__(self, people: Iterable[tuple[str, str, Hashable]], names: Optional[Mapping[str, str]] = None):
        self.by_number: dict[str, dict[str, Hashable]] = {}
        for code, register_no, person_id in people:
            self.by_number.setdefault(register_no, {})[code] = person_id
        self.codes = {code for found in self.by_number.values() for code in found}
        self.by_name = {normalize_text(name): code for code, name in (names or {}).items()}

    @classmethod
    def of(cls, people: "Mapping[str, Hashable] | RegisterIndex") -> "RegisterIndex":
        return people if isinstance(people, RegisterIndex) else cls(("", no, pid) for no, pid in people.items())

    def municipality(self, text: str) -> Optional[str]:
        """A 市区町村コード cell (5 or 6 digits, or the name) as the 6-digit code; ValueError if not
        one of ours. One register (a single city): the column is not read, as before it existed."""
        if self.codes <= {""}:
            return None
        cleaned = normalize_code(text)
        code = self.by_name.get(normalize_text(text))
        if code is None:
            try:
                code = normalize_municipality_code(cleaned)
            except ValueError:
                raise ValueError("市区町村コードが読めません (not a municipality code)") from None
        if code not in self.codes:
            raise ValueError(f"市区町村コード {code} の名簿はありません (not one of your municipalities' registers)")
        return code

    def person(self, register_no: str, code: Optional[str]) -> Hashable:
        found = self.by_number.get(register_no, {})
        if code:
            found = {code: found[code]} if code in found else {}
        if not found:
            where = f"（{code}）" if code else ""
            raise ValueError(f"登録者番号 {register_no} は名簿{where}にありません (unknown register number: not on your register)")
        if len(found) > 1:
            raise ValueError(f"登録者番号 {register_no} は複数の市区町村（{'、'.join(sorted(found))}）の名簿にあります。"
                             "市区町村コードの列で指定してください (the number is on several municipalities' registers: "
                             "say which in a 市区町村コード column)")
        return next(iter(found.values()))


@dataclass(frozen=True)
class ParsedPlan:
    line: int
    register_no: str
    plan: Plan  # id None: the caller matches stored plans by person
    # the 支援者N台帳ID header of each of plan.supporters (the caller's link errors name it)
    supporter_columns: tuple[str, ...] = ()


DestinationCheck = Callable[[Hashable, Hashable, str], Iterable[Problem]]


def iter_plans_csv(data: bytes, people: "Mapping[str, Hashable] | RegisterIndex", shelters: ShelterIndex, today: date,
                   report: ImportReport, *, destination_check: Optional[DestinationCheck] = None,
                   done_check: bool = True) -> Iterator[ParsedPlan]:
    """Yield the valid rows as plans; record every bad row in `report` (line, column, reason).
    `people` maps 登録者番号 → person id (or a RegisterIndex of several municipalities);
    `destination_check(person_id, shelter_id, field)`
    (e.g. plan_rules.destination_problems bound to the facts) turns refusals into row errors.
    `done_check=False`: the caller checks 作成済 (`done_needs`) on the plan merged with the
    stored one, since a column absent from the file keeps the stored value.
    ImportFileError (from csvsource) refuses the whole file: encoding, header, quoting."""
    table = read_csv(data)
    found = map_header(table.header, PLAN_COLUMNS, extra=_supporter_column)
    require_columns(found, PLAN_COLUMNS)
    report.encoding = table.encoding.label
    for cell in found.unknown:
        report.warn(1, cell, "知らない列なので読み飛ばしました (unknown column ignored)")
    for key in ("destination", "alternate"):
        if found.has(f"{key}_key") and not found.has(key):
            report.warn(1, found.name(f"{key}_key"), "施設名（共通ID）の列がないので読み飛ばしました "
                                                    "(read only beside its shelter column; ignored)")
    numbers = sorted({int(k.split("_")[1]) for k in found.index if k.startswith("supporter_")})
    groups = [({part: found.index.get(supporter_key(n, part)) for part in SUPPORTER_PARTS},
               {part: found.header_of.get(supporter_key(n, part), supporter_header(n, part)) for part in SUPPORTER_PARTS})
              for n in numbers]
    plain = [(k, i, found.name(k)) for k, i in found.index.items() if not k.startswith("supporter_")]
    first_line: dict[Hashable, int] = {}
    people = RegisterIndex.of(people)
    for line, cells in table.rows:
        report.rows += 1
        errors: list[tuple[str, str]] = []
        width = len(cells)
        cell = {k: (cells[i].strip() if i < width else "", header) for k, i, header in plain}
        if width > len(table.header) and any(c.strip() for c in cells[len(table.header):]):
            errors.append((ROW, "見出しより多くの列に値があります (more cells than header columns)"))
        plan = _row_plan(cell, cells, groups, people, shelters, today, errors, first_line, line, done_check)
        if plan is not None and not errors and destination_check is not None:
            for sid, key in ((plan.destination_id, "destination"), (plan.alternate_id, "alternate")):
                if sid is not None:
                    errors += [(cell[key][1], f"{p.ja} ({p.en})") for p in destination_check(plan.person_id, sid, key)
                               if p.severity == "error"]
        if errors or plan is None:
            report.invalid += 1
            for column, reason in errors:
                report.error(line, column, reason)
            continue
        report.valid += 1
        filled = [h["register_id"] for positions, h in groups
                  if any(cells[i].strip() for i in positions.values() if i is not None and i < width)]
        yield ParsedPlan(line, cell["register_no"][0], plan, tuple(filled))


def done_needs(plan: Plan) -> str:
    """The row error for a plan marked 作成済 that lacks a required item ("" when complete)."""
    missing = missing_for_done(plan)
    if not missing:
        return ""
    return ("作成済には次が必要です: " + "、".join(p.ja for p in missing)
            + " (done needs: " + "; ".join(p.en for p in missing) + ")")


def _row_plan(cell, cells, groups, people, shelters, today, errors, first_line, line, done_check=True
              ) -> Optional[Plan]:
    def get(key: str) -> str:
        return cell[key][0] if key in cell else ""

    def header(key: str) -> str:
        return cell[key][1] if key in cell else key

    register_no = normalize_code(get("register_no"))
    person_id = code = None
    bad_code = False
    if get("municipality_code"):
        try:
            code = people.municipality(get("municipality_code"))
        except ValueError as exc:
            errors.append((header("municipality_code"), str(exc)))
            bad_code = True
    if not register_no:
        errors.append((header("register_no"), "登録者番号が空です (register number is empty)"))
    elif not bad_code:
        try:
            person_id = people.person(register_no, code)
        except ValueError as exc:
            errors.append((header("register_no"), str(exc)))
        else:  # the same person twice (two cities' equal numbers are two people)
            first = first_line.setdefault(person_id, line)
            if first != line:
                errors.append((header("register_no"), f"登録者番号 {register_no} は{first}行目と重複しています "
                                                      f"(duplicate person, first on line {first})"))
    values: dict = {}
    for key in ("destination", "alternate"):
        if get(key):
            try:
                if get(f"{key}_key"):
                    values[key] = shelters.resolve_keyed(get(key), get(f"{key}_key"))
                else:
                    values[key] = shelters.resolve(get(key))
            except ValueError as exc:
                errors.append((header(key), str(exc)))
    for key, conv in (("consent", parse_consent), ("carer_accompanies", parse_carer), ("consent_date", parse_date), ("review_due", parse_date),
                      ("status", _STATUS.one)):
        if get(key):
            try:
                values[key] = conv(get(key))
            except ValueError as exc:
                errors.append((header(key), str(exc)))
    if check_not_future(values.get("consent_date"), today):
        errors.append((header("consent_date"), "同意日が未来の日付です (consent date in the future)"))
    supporters = []
    width = len(cells)
    for positions, headers in groups:
        part = {k: (cells[i].strip() if i is not None and i < width else "") for k, i in positions.items()}
        if not any(part.values()):
            continue
        if not part["name"]:
            errors.append((headers["name"], "支援者の氏名が空です (supporter without a name)"))
            continue
        if not part["phone"]:
            errors.append((headers["phone"], "支援者の電話番号がありません (supporter without a phone number)"))
            continue
        try:
            phone = normalize_phone(part["phone"])
        except ValueError as exc:
            errors.append((headers["phone"], str(exc)))
            continue
        try:
            register_id = uuid.UUID(fold_width(part["register_id"])) if part["register_id"] else None
        except ValueError:
            errors.append((headers["register_id"], "支援者台帳IDが読めません (not a supporter register id)"))
            continue
        supporters.append(PlanSupporter(normalize_text(part["name"]), normalize_text(part["relation"]),
                                        normalize_text(part["address"]), phone, register_id))
    if len(supporters) > MAX_SUPPORTERS:
        errors.append((ROW, "避難支援等実施者は3人までです (at most three supporters)"))
    if values.get("alternate") is not None and values.get("alternate") == values.get("destination"):
        errors.append((header("alternate"), "第二避難先は避難先と別の施設にしてください (alternate equals destination)"))
    care = Care(**{f.name: normalize_text(get(f"care.{f.name}")) for f in fields(Care)})
    plan = Plan(None, person_id, PlanStatus.not_started, tuple(supporters), values.get("destination"),
                values.get("alternate"), normalize_text(get("route_note")), normalize_text(get("timing_note")), care,
                values.get("consent", False), values.get("consent_date"), normalize_text(get("author")),
                values.get("review_due"), values.get("carer_accompanies", False))
    status = values.get("status")
    if status is None:  # blank: drafting once anything is filled in
        status = PlanStatus.not_started if plan == Plan(None, person_id) else PlanStatus.drafting
    if status == PlanStatus.done and done_check:
        reason = done_needs(plan)
        if reason:
            errors.append((header("status"), reason))

    return replace(plan, status=status) if person_id is not None else None


def parse_plans_csv(data: bytes, people: Mapping[str, Hashable], shelters: ShelterIndex, today: date, *,
                    destination_check: Optional[DestinationCheck] = None) -> tuple[ImportReport, list[ParsedPlan]]:
    """The whole file: the report (a dry run's answer) and the valid plans."""
    report = ImportReport("plans", "plans_csv")
    plans = list(iter_plans_csv(data, people, shelters, today, report, destination_check=destination_check))
    report.errors.sort(key=lambda issue: issue.line)
    return report, plans


# ---- export ------------------------------------------------------------------------------

def export_header(supporters: int = EXPORT_SUPPORTERS, municipal: bool = False) -> list[str]:
    """`municipal` (several municipalities installed): a 市区町村コード column after the 登録者番号,
    since two cities may hold the same number (a single city's layout is unchanged)."""
    sup = [supporter_header(n, part) for n in range(1, supporters + 1) for part in SUPPORTER_PARTS]
    cols = {c.key: c.ja for c in PLAN_COLUMNS}
    code = [cols["municipality_code"]] if municipal else []
    return [cols["register_no"], *code, cols["name"], *sup, cols["destination"], cols["alternate"], cols["destination_key"],
            cols["alternate_key"], cols["route_note"],
            cols["timing_note"], *CARE_LABELS.values(), cols["carer_accompanies"], cols["consent"],
            cols["consent_date"], cols["author"], cols["review_due"], cols["status"]]


def _date(value: Optional[date]) -> str:
    return value.isoformat() if value else ""


def export_row(register_no: str, name: str, plan: Plan, shelters: ShelterIndex,
               supporters: int = EXPORT_SUPPORTERS, municipality_code: Optional[str] = None) -> list[str]:
    """One person's row; `municipality_code` given: the 市区町村コード column of export_header(municipal=True)."""
    sup = []
    for n in range(supporters):
        s = plan.supporters[n] if n < len(plan.supporters) else PlanSupporter("")
        sup += [s.name, s.relation, s.phone, s.address, str(s.supporter_id or "")]
    code = [] if municipality_code is None else [municipality_code]
    return [register_no, *code, name, *sup, shelters.label(plan.destination_id), shelters.label(plan.alternate_id),
            shelters.key(plan.destination_id), shelters.key(plan.alternate_id), plan.route_note, plan.timing_note, *(v for _, v in plan.care.items()),
            CARER_YES if plan.carer_accompanies else CARER_NO, "有" if plan.consent else "無",
            _date(plan.consent_date), plan.author, _date(plan.review_due), PlanStatus(plan.status).ja]


def iter_plans_csv_bytes(rows: Iterable[tuple], shelters: ShelterIndex,
                         chunk_rows: int = 2000, municipal: bool = False) -> Iterator[bytes]:
    """The export, in the importer's layout: UTF-8 with BOM, CRLF, formula cells escaped with
    the project's `escape_cell` (csvsource removes it again), streamed in chunks. Rows are
    (登録者番号, 氏名, plan); with `municipal`, (登録者番号, 氏名, plan, 市区町村コード)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(export_header(municipal=municipal))
    for count, (register_no, name, plan, *code) in enumerate(rows, start=1):
        cells = export_row(register_no, name, plan, shelters, municipality_code=code[0] if municipal else None)
        writer.writerow([escape_cell(c) for c in cells])
        if count % chunk_rows == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def export_plans_csv(rows: Iterable[tuple], shelters: ShelterIndex, municipal: bool = False) -> bytes:
    return b"".join(iter_plans_csv_bytes(rows, shelters, municipal=municipal))


__all__ = ["PLAN_COLUMNS", "RegisterIndex", "ShelterIndex", "ParsedPlan", "iter_plans_csv", "parse_plans_csv", "export_header",
           "export_row", "iter_plans_csv_bytes", "export_plans_csv", "parse_consent", "parse_carer"]
