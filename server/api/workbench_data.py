"""The workbench screens' data (福祉課の業務画面): the register search and the person page.

Every read goes through the records layer (`server/records`): scope clauses from the caller's
access, the public shape, and the audit entry. The SQL here only adds the search filters,
written to run alike on SQLite and PostgreSQL (the supporter-name filter looks inside the
plan's JSON list with each database's own JSON table function).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..domain.current_state import latest_shelter_reports
from ..domain.japan_time import JST
from ..domain.textnorm import kana_key, prefix_upper_bound
from ..domain.workbench.adapters import person_from_row, plan_from_dict, plan_from_row, shelter_from_row
from ..domain.workbench.plan_rules import (change_label, destination_problems, missing_for_done, plan_diff,
                                           shelter_options)
from ..models import ChangeLog, District, EvacuationPlan, Person, PersonConsent, Shelter
from ..models.vocab import CareNeed, Consent, ConsentAnswer, ConsentMethod, DistrictKind, PlanStatus, Reason, Recipient
from ..records.access import Access
from ..records.audit import audit_operation
from ..records.registry import CONSENTS, PEOPLE, PLANS, SAFETY_CHECKS, plan_history
from ..records.review_flags import reasons_of
from ..records.rows import get_row, list_rows, to_public

PAGE_SIZE = 50
MAX_TEXT = 100
TEXT_FILTERS = ("kana", "name", "register_no", "address", "supporter")
CHOICE_FILTERS = {"reason": Reason, "need": CareNeed, "consent": Consent, "plan_status": PlanStatus}


@dataclass
class Search:
    """The register search form as typed; `errors` are field → message (a 422 page)."""

    values: dict[str, str] = field(default_factory=dict)
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)


def parse_search(params: dict[str, str]) -> Search:
    search = Search()
    for name in (*TEXT_FILTERS, "district", *CHOICE_FILTERS):
        value = unicodedata.normalize("NFKC", params.get(name, "")).strip()
        if len(value) > MAX_TEXT:
            search.errors[name] = f"{MAX_TEXT}文字以内で入力してください (at most {MAX_TEXT} characters)"
        search.values[name] = value
    for name, enum in CHOICE_FILTERS.items():
        if search.values[name] and search.values[name] not in {m.value for m in enum}:
            search.errors[name] = "選択肢にない値です (not one of the choices)"
    if search.values["district"]:
        try:
            uuid.UUID(search.values["district"])
        except ValueError:
            search.errors["district"] = "地区を一覧から選んでください (choose a district from the list)"
    try:
        search.page = int(params.get("page", "1") or "1")
        if not 1 <= search.page <= 100_000:
            raise ValueError
    except ValueError:
        search.errors["page"] = "ページ番号が正しくありません (page must be a whole number from 1)"
        search.page = 1
    return search


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _no_spaces(column):
    return sa.func.replace(sa.func.replace(column, " ", ""), "\u3000", "")


def _json_list_has(column, value: str):
    """A JSON list of enum values holds `value` (stored as text `"value"` on both databases)."""
    return sa.cast(column, sa.String).like(_like(f'"{value}"'), escape="\\")


def _supporter_name_clause(dialect: str, pattern: str):
    """Plans with a supporter whose name (spaces ignored) contains the pattern — inside the JSON
    list, so a match in a supporter's address or relation does not count."""
    name = "json_extract(s.value, '$.name')" if dialect == "sqlite" else "(s.value ->> 'name')"
    source = "json_each(evacuation_plan.supporters)" if dialect == "sqlite" else \
        "json_array_elements(evacuation_plan.supporters)"
    return sa.text(f"EXISTS (SELECT 1 FROM {source} AS s WHERE replace(replace({name}, ' ', ''), '\u3000', '') "
                   "LIKE :supporter_pattern ESCAPE '\\')").bindparams(supporter_pattern=pattern)


def search_clauses(session: Session, search: Search) -> list:
    v = search.values
    clauses: list = []
    if v["kana"]:
        # A prefix of the stored key (kana_key: no spaces, katakana as hiragana), as an index range.
        key = kana_key(v["kana"])
        if key:
            clauses.append(sa.and_(Person.kana_key >= key, Person.kana_key < prefix_upper_bound(key)))
    if v["name"]:
        clauses.append(_no_spaces(Person.name).like(_like(re.sub(r"\s+", "", v["name"])), escape="\\"))
    if v["register_no"]:
        clauses.append(Person.register_no.startswith(v["register_no"], autoescape=True))
    if v["address"]:
        clauses.append(Person.address.like(_like(v["address"]), escape="\\"))
    if v["district"]:
        # A 福祉圏域 stands for its 町丁目: resolved to ids first so the person index is used.
        district_id = uuid.UUID(v["district"])
        children = session.exec(select(District.id).where(District.parent_id == district_id)).all()
        clauses.append(Person.district_id.in_([district_id, *children]))
    if v["reason"]:
        clauses.append(_json_list_has(Person.reasons, v["reason"]))
    if v["need"]:
        clauses.append(_json_list_has(Person.care_needs, v["need"]))
    if v["consent"]:
        clauses.append(Person.consent == v["consent"])
    if v["plan_status"]:
        if v["plan_status"] == PlanStatus.not_started:  # no plan at all counts as not started
            clauses.append(Person.id.not_in(select(EvacuationPlan.person_id)
                                            .where(EvacuationPlan.status != PlanStatus.not_started)))
        else:
            clauses.append(Person.id.in_(select(EvacuationPlan.person_id)
                                         .where(EvacuationPlan.status == v["plan_status"])))
    if v["supporter"]:
        pattern = _like(re.sub(r"\s+", "", v["supporter"]))
        dialect = session.get_bind().dialect.name
        # A cheap LIKE on the list's raw text first, so the JSON is opened only for plans that may
        # match: the typed characters in order, anything between (a name's spaces; looser, never
        # stricter than the exact test that follows).
        text = re.sub(r"\s+", "", v["supporter"])
        loose = "%" + "%".join(_like(ch)[1:-1] for ch in text) + "%"
        prefilter = sa.cast(EvacuationPlan.supporters, sa.String).like(loose, escape="\\")
        clauses.append(Person.id.in_(select(EvacuationPlan.person_id)
                                     .where(prefilter, _supporter_name_clause(dialect, pattern))))
    return clauses


def districts(session: Session, access: Access) -> list[District]:
    """The districts to search by: the caller's municipalities' (several in the installation)."""
    codes = getattr(access.principal, "municipality_codes", None)
    where = [] if codes is None else [District.municipality_code.in_(sorted(codes))]
    return list(session.exec(select(District).where(*where).order_by(District.kind.desc(), District.code)).all())


def run_search(session: Session, search: Search, access: Access, plan_access: Access, client: str) -> dict:
    """One page of people with the total count; the ids listed are audited."""
    offset = (search.page - 1) * PAGE_SIZE
    page = list_rows(PEOPLE, session, search_clauses(session, search), PAGE_SIZE, offset, access)
    ids = [uuid.UUID(item["id"]) for item in page["items"]]
    status = {}
    if ids:
        status = dict(session.exec(select(EvacuationPlan.person_id, EvacuationPlan.status)
                                   .where(EvacuationPlan.person_id.in_(ids), *plan_access.clauses())).all())
        audit_operation(session, access, "list", PEOPLE, ids, client=client)
    for item, pid in zip(page["items"], ids):
        item["plan_status"] = PlanStatus(status.get(pid, PlanStatus.not_started))
    page["pages"] = max(1, -(-page["total"] // PAGE_SIZE))
    page["page"] = search.page
    return page


# ---- the person page ----

def person_and_plan(session: Session, person_id: uuid.UUID, access: Access, plan_access: Access):
    """The person's row (404 outside scope) and their plan row or None."""
    row = get_row(PEOPLE, session, person_id, access)
    plan = session.exec(select(EvacuationPlan).where(EvacuationPlan.person_id == person_id,
                                                     *plan_access.clauses())).first()
    return row, plan


def welfare_area_of(session: Session) -> dict:
    return dict(session.exec(select(District.id, District.parent_id).where(District.kind == DistrictKind.chome)).all())


def destination_state(session: Session, person_row: Person, shelter_id: Optional[uuid.UUID], field: str,
                      today: date) -> Optional[dict]:
    """A destination with its current report and the plan rules' verdict for this person."""
    if shelter_id is None:
        return None
    shelter = session.get(Shelter, shelter_id)
    if shelter is None:
        return {"id": shelter_id, "name": "（不明な施設）", "problems": [], "report": None}
    person = person_from_row(person_row)
    report = latest_shelter_reports(session, [shelter_id]).get(shelter_id)
    problems = destination_problems(person, shelter_from_row(shelter), today, field=field)
    options = shelter_options(person, [shelter_from_row(shelter)], today)
    return {"id": shelter_id, "name": shelter.name, "kind": shelter.kind, "problems": problems, "report": report,
            "walking_m": options[0].walking_m if options else None}


def _text(value: Any) -> str:
    """A changed value as a line of the history table (a supporter by name and relation)."""
    if value is None:
        return ""
    if hasattr(value, "relation"):
        return " ".join(x for x in (value.name, value.relation, value.phone) if x)
    if isinstance(value, PlanStatus):
        return value.ja
    return str(value)


def _shown(session: Session, change) -> dict:
    before, after = change.before, change.after
    if change.path in ("destination_id", "alternate_id"):  # a shelter by its name, not its id
        before, after = ((_shelter_name(session, v) if v else None) for v in (before, after))
    return {"path": change.path, "label": change_label(change), "kind": change.kind,
            "before": _text(before), "after": _text(after)}


def _shelter_name(session: Session, shelter_id) -> str:
    shelter = session.get(Shelter, uuid.UUID(str(shelter_id)))
    return shelter.name if shelter else str(shelter_id)


def history_with_diffs(session: Session, plan: EvacuationPlan, plan_access: Access, client: str) -> list[dict]:
    """The plan's saved versions, newest first, each with what changed to reach the next one."""
    versions = plan_history(session, plan.id, plan_access, client=client)["items"]
    current = to_public(PLANS, session, [plan])[0]
    newer = plan_from_dict(current)
    out = []
    after_version = plan.version
    for item in versions:
        older = plan_from_dict(item["data"])
        out.append({"from": item["version"], "to": after_version, "saved_at": item["saved_at"],
                    "changes": [_shown(session, c) for c in plan_diff(older, newer)]})
        newer, after_version = older, item["version"]
    return out


def consents_in_force(session: Session, row: Person, access: Access, client: str) -> list[dict]:
    """Art. 49-11: per outside recipient category, the answer in force (the latest by day, then by
    when recorded) and how many answers were given; without one, the blanket person.consent decides."""
    answers = session.exec(select(PersonConsent).where(PersonConsent.person_id == row.id)
                           .order_by(PersonConsent.answered_on, PersonConsent.recorded_at, PersonConsent.id)).all()
    if answers:
        audit_operation(session, access, "read", CONSENTS, [a.id for a in answers], client=client)
    latest = {a.recipient: a for a in answers}
    counts: dict[str, int] = {}
    for a in answers:
        counts[a.recipient] = counts.get(a.recipient, 0) + 1
    return [{"recipient": r, "answer": latest.get(r.value), "count": counts.get(r.value, 0)}
            for r in Recipient if r != Recipient.office]


def person_page(session: Session, person_id: uuid.UUID, access: Access, plan_access: Access,
                safety_access: Access, client: str, today: date) -> dict[str, Any]:
    row, plan = person_and_plan(session, person_id, access, plan_access)
    person = to_public(PEOPLE, session, [row])
    person = access.shape(person)[0]
    audit_operation(session, access, "read", PEOPLE, [row.id], client=client)
    context: dict[str, Any] = {"person": person, "row": row, "plan": None, "history": [], "safety": [],
                               "destination": None, "alternate": None, "missing": [], "review_reasons": []}
    district = session.get(District, row.district_id) if row.district_id else None
    context["district"] = district
    context["area"] = session.get(District, district.parent_id) if district and district.parent_id else None
    if plan is not None:
        context["plan"] = plan_access.shape(to_public(PLANS, session, [plan]))[0]
        audit_operation(session, plan_access, "read", PLANS, [plan.id], client=client)
        context["destination"] = destination_state(session, row, plan.destination_shelter_id,
                                                   "destination_shelter_id", today)
        context["alternate"] = destination_state(session, row, plan.alternate_shelter_id,
                                                 "alternate_shelter_id", today)
        context["history"] = history_with_diffs(session, plan, plan_access, client)
        context["missing"] = missing_for_done(plan_from_row(plan))
        # why the plan needs review (records/review_flags.py): shown for a draft too
        context["review_reasons"] = reasons_of(session, [plan.id]).get(plan.id, [])
    # When the register entry was written (the change log is indexed by record): earlier values
    # of a register entry are not kept (only plans keep versions), who wrote is in the audit log.
    context["changes"] = [at.astimezone(JST) for at in session.exec(select(ChangeLog.at).where(ChangeLog.entity == "people",
                                                                 ChangeLog.record_id == row.id)
                                      .order_by(ChangeLog.seq.desc()).limit(20)).all()]
    context["consents"] = consents_in_force(session, row, access, client)
    checks = list_rows(SAFETY_CHECKS, session, [SAFETY_CHECKS.table.person_id == row.id], 10, 0, safety_access)
    context["safety"] = checks["items"]
    if checks["items"]:
        audit_operation(session, safety_access, "list", SAFETY_CHECKS, [c["id"] for c in checks["items"]],
                        client=client)
    return context
