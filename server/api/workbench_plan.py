"""Plan authoring (個別避難計画の作成) for the workbench: the form's values, the rules, the save
and the side-by-side merge after a 409.

The form is flat strings (what the browser sends); `form_to_data` turns it into the plan's
fields, the domain rules (`server/domain/workbench/plan_rules.py`) decide status and
destinations, and the records layer saves with the version check (every save keeps the
previous version there). A stale version is not an error page: the caller gets their typed
values beside the saved ones, field by field, so nothing typed is lost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..auth.audit import record
from ..domain.workbench.adapters import person_from_row, plan_from_dict, plan_from_row, shelter_from_row
from ..domain.workbench.common import CARE_LABELS, WorkbenchError, name_key
from ..domain.workbench.supporters import guess_kind, phone_key
from ..domain.workbench.plan_rules import check_save, destination_problems, shelter_options
from ..errors import ApiError
from ..models import EvacuationPlan, Person, Shelter, SupporterRecord
from ..models.shelters import accepts_people_of
from ..models.vocab import PlanStatus
from ..records.access import Access
from ..records.audit import audit_operation
from ..records.registry import PLANS, SUPPORTERS
from ..records.rows import create_row, to_public, update_row

SUPPORTER_FIELDS = ("name", "relation", "address", "phone", "supporter_id")
SUPPORTER_SLOTS = 3
CARE_KEYS = tuple(f"care.{name}" for name in CARE_LABELS)
SUPPORTER_KEYS = tuple(f"s{i}_{f}" for i in range(1, SUPPORTER_SLOTS + 1) for f in SUPPORTER_FIELDS)
PLAIN_KEYS = ("status", "destination_shelter_id", "alternate_shelter_id", "route_note", "timing_note",
              "carer_accompanies", "consent", "consent_date", "author", "review_due")
FORM_KEYS = (*PLAIN_KEYS, *SUPPORTER_KEYS, *CARE_KEYS)
# The merge screen's groups: supporters are chosen as one list (a half-merged list helps nobody).
MERGE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("status", ("status",)), ("supporters", SUPPORTER_KEYS),
    ("destination_shelter_id", ("destination_shelter_id",)), ("alternate_shelter_id", ("alternate_shelter_id",)),
    ("route_note", ("route_note",)), ("timing_note", ("timing_note",)),
    *[(key, (key,)) for key in CARE_KEYS],
    ("carer_accompanies", ("carer_accompanies",)), ("consent", ("consent",)), ("consent_date", ("consent_date",)),
    ("author", ("author",)), ("review_due", ("review_due",)))
LABELS = {"status": ("状態", "Status"), "supporters": ("避難支援等実施者", "Supporters"),
          "destination_shelter_id": ("避難先", "Destination"), "alternate_shelter_id": ("第二避難先", "Alternate"),
          "route_note": ("避難経路", "Route"), "timing_note": ("避難のタイミング", "When to leave"),
          "carer_accompanies": ("介助者が同行", "A carer comes along"), "consent": ("本人の同意", "Consent"),
          "consent_date": ("同意日", "Consent date"), "author": ("作成者", "Author"),
          "review_due": ("次回見直し日", "Review due"),
          **{f"care.{k}": (v, k.replace("_", " ")) for k, v in CARE_LABELS.items()}}


def plan_to_form(plan: Optional[dict]) -> dict[str, str]:
    """A stored plan (public dict) as the form's strings; None → an empty form."""
    values = {key: "" for key in FORM_KEYS}
    values["status"] = PlanStatus.drafting.value
    if plan is None:
        return values
    for key in PLAIN_KEYS:
        value = plan.get(key)
        values[key] = ("on" if value else "") if isinstance(value, bool) else ("" if value is None else str(value))
    for i, s in enumerate(plan.get("supporters") or [], start=1):
        for f in SUPPORTER_FIELDS:
            values[f"s{i}_{f}"] = str(s.get(f, "") or "")
    for key in CARE_KEYS:
        values[key] = (plan.get("care") or {}).get(key[5:], "") or ""
    return values


def read_form(form: Any) -> dict[str, str]:
    return {key: (form.get(key) or "").strip() if key != "consent" else (form.get(key) or "") for key in FORM_KEYS}


def resolve_merge(form: Any) -> dict[str, str]:
    """The merge screen's choice per group: `pick.<group>` = mine | theirs; values travel as
    `mine.<key>` / `theirs.<key>` so neither side is lost if the save fails again."""
    values = {}
    for group, keys in MERGE_GROUPS:
        side = "theirs" if form.get(f"pick.{group}") == "theirs" else "mine"
        for key in keys:
            values[key] = (form.get(f"{side}.{key}") or "").strip()
    return values


@dataclass
class Outcome:
    """What a save attempt came to: saved (with warnings), refused (field errors) or a conflict."""

    status: int
    values: dict[str, str]
    errors: list[dict] = field(default_factory=list)
    warnings: list = field(default_factory=list)
    theirs: Optional[dict[str, str]] = None
    version: Optional[int] = None


def save_record(resource, session: Session, row_id: Optional[uuid.UUID], version: Optional[int], data: dict,
                access: Access, client: str, values: dict[str, str], to_form) -> tuple[Optional[dict], Optional[Outcome]]:
    """Create or update one record through the records layer (version check, scope, change log) and
    audit it; a refusal is audited too and comes back as an Outcome that keeps what was typed, a
    stale version as the merge (their saved values beside ours)."""
    try:
        with session.begin_nested():
            if row_id is None:
                saved, _ = create_row(resource, session, data, access)
            else:
                saved = update_row(resource, session, row_id, {"version": version, **data}, access)
    except ApiError as exc:
        record(session, "denied", principal=access.principal, resource=resource.path,
               record_ids=[row_id] if row_id else [], status=exc.status, detail=f"workbench save: {exc.detail}"[:300],
               client=client)
        if exc.status == 409 and "current" in exc.extra:
            current = exc.extra["current"]
            return None, Outcome(409, values, theirs=to_form(current), version=current["version"])
        return None, Outcome(exc.status, values, list(exc.errors or [{"field": "", "message": exc.detail}]))
    audit_operation(session, access, "create" if row_id is None else "update", resource, [saved["id"]], client=client)
    return saved, None


def _day(values: dict, key: str, errors: list) -> Optional[date]:
    if not values[key]:
        return None
    try:
        return date.fromisoformat(values[key])
    except ValueError:
        errors.append({"field": key, "message": "日付は YYYY-MM-DD で入力してください (a date as YYYY-MM-DD)"})
        return None


def _shelter_id(values: dict, key: str, errors: list) -> Optional[uuid.UUID]:
    if not values[key]:
        return None
    try:
        return uuid.UUID(values[key])
    except ValueError:
        errors.append({"field": key, "message": "施設を一覧から選んでください (choose a shelter from the list)"})
        return None


def form_to_data(values: dict[str, str], errors: list) -> dict[str, Any]:
    supporters = []
    for i in range(1, SUPPORTER_SLOTS + 1):
        s = {f: values[f"s{i}_{f}"] for f in SUPPORTER_FIELDS}
        if any(s.values()):
            s["supporter_id"] = s["supporter_id"] or None
            supporters.append(s)
    status = values["status"] or PlanStatus.drafting.value
    if status not in {m.value for m in PlanStatus}:
        errors.append({"field": "status", "message": "状態を選んでください (choose a status)"})
        status = PlanStatus.drafting.value
    return {"status": status, "supporters": supporters,
            "destination_shelter_id": _shelter_id(values, "destination_shelter_id", errors),
            "alternate_shelter_id": _shelter_id(values, "alternate_shelter_id", errors),
            "route_note": values["route_note"], "timing_note": values["timing_note"],
            "care": {key[5:]: values[key] for key in CARE_KEYS},
            "carer_accompanies": bool(values["carer_accompanies"]), "consent": bool(values["consent"]),
            "consent_date": _day(values, "consent_date", errors), "author": values["author"],
            "review_due": _day(values, "review_due", errors)}


def _problem(p) -> dict:
    return {"field": p.field, "message": f"{p.ja} ({p.en})", "code": p.code}


def _check_rules(session: Session, person: Person, plan: Optional[EvacuationPlan], data: dict, today: date):
    """The domain rules: status and supporters (check_save), and each newly chosen destination."""
    old = plan_from_row(plan) if plan is not None else None
    checked = check_save(old, plan_from_dict({**data, "id": None, "person_id": person.id}), today)
    problems = list(checked.problems)
    errors = []
    facts = person_from_row(person)
    for key in ("destination_shelter_id", "alternate_shelter_id"):
        chosen = data[key]
        if chosen is None or (plan is not None and getattr(plan, key) == chosen):
            continue  # a destination already stored is shown with its state, not re-refused
        shelter = session.get(Shelter, chosen)
        if shelter is None:
            errors.append({"field": key, "message": "この施設はありません (no such shelter)"})
            continue
        found = destination_problems(facts, shelter_from_row(shelter), today, field=key)
        errors.extend(_problem(p) for p in found if p.severity == "error")
        problems.extend(p for p in found if p.severity != "error")
    return checked.plan.status, problems, errors


def save_plan(session: Session, person: Person, plan: Optional[EvacuationPlan], values: dict[str, str],
              version: Optional[int], access: Access, today: date, client: str,
              supporter_access: Optional[Access] = None) -> Outcome:
    if plan is not None and version is None:  # the form had no plan; someone made one since
        current = public(session, plan, access)
        return Outcome(409, values, theirs=plan_to_form(current), version=current["version"])
    errors: list[dict] = []
    data = form_to_data(values, errors)
    if errors:
        return Outcome(422, values, errors)
    try:
        status, warnings, refusals = _check_rules(session, person, plan, data, today)
    except WorkbenchError as exc:
        return Outcome(422, values, [_problem(p) for p in exc.problems])
    if refusals:
        return Outcome(422, values, refusals)
    data["status"] = status
    # The supporters' entries made on the spot are kept only if the plan is saved.
    nested = session.begin_nested()
    link_errors = link_supporters(session, data["supporters"], supporter_access, client)
    if link_errors:
        nested.rollback()
        return Outcome(422, values, link_errors)
    saved, refused = save_record(PLANS, session, plan.id if plan else None, version,
                                 data if plan else {"person_id": person.id, **data}, access, client, values, plan_to_form)
    if refused:
        nested.rollback()
        record(session, "denied", principal=access.principal, resource=PLANS.path,
               record_ids=[plan.id] if plan else [], status=refused.status, detail="workbench plan save refused",
               client=client)
        return refused
    nested.commit()
    return Outcome(200, plan_to_form(saved), warnings=warnings, version=saved["version"])


def link_supporters(session: Session, lines: list[dict], access: Optional[Access], client: str) -> list[dict]:
    """Supporters are people, not free text: a line chosen from the register copies the entry's
    name, phone and address (the entry is the source); a line typed by hand is linked to the
    entry with the same name and phone (the domain's key), or an entry is made on the spot (kind
    guessed from the relation; staff complete it on the supporter's page). Field errors, if any."""
    errors: list[dict] = []
    if access is None:
        return errors
    for i, line in enumerate(lines):
        if line.get("supporter_id"):
            try:
                entry = session.exec(select(SupporterRecord).where(
                    SupporterRecord.id == uuid.UUID(str(line["supporter_id"])), *access.clauses())).first()
            except ValueError:
                entry = None
            if entry is None:
                errors.append({"field": f"supporters[{i}].name",
                               "message": "台帳にない支援者です。選び直してください (not in the supporter register; choose again)"})
                continue
        elif line.get("name"):
            entry = _same_entry(session, line, access)
            if entry is None:
                try:
                    with session.begin_nested():
                        made, _ = create_row(SUPPORTERS, session, {
                            "kind": guess_kind(line.get("relation") or "").value, "name": line["name"],
                            "phone": line.get("phone") or "", "address": line.get("address") or ""}, access)
                except ApiError as exc:
                    errors.extend({"field": f"supporters[{i}].{e.get('field') or 'name'}", "message": e["message"]}
                                  for e in exc.errors or [{"message": exc.detail}])
                    continue
                audit_operation(session, access, "create", SUPPORTERS, [made["id"]], client=client)
                entry = session.get(SupporterRecord, uuid.UUID(made["id"]))
        else:
            continue
        line.update(supporter_id=entry.id, name=entry.name, phone=entry.phone, address=entry.address or line["address"])
    return errors


def _same_entry(session: Session, line: dict, access: Access) -> Optional[SupporterRecord]:
    """The active entry with the same normalised name and phone digits, if there is one."""
    key = (name_key(line["name"]), phone_key(line.get("phone") or ""))
    bare = line["name"].replace(" ", "").replace("\u3000", "")
    found = session.exec(select(SupporterRecord).where(
        SupporterRecord.active, sa.func.replace(sa.func.replace(SupporterRecord.name, " ", ""), "\u3000", "") == bare,
        *access.clauses())).all()
    return next((e for e in found if (name_key(e.name), phone_key(e.phone)) == key), None)


def options_for(session: Session, person: Person, today: date, several: bool = False) -> list:
    """Every shelter for the destination picker: eligible first, nearest first; refused ones with why.
    With several municipalities in the installation: the person's municipality's shelters and
    those of others that accept its people (広域避難)."""
    query = select(Shelter)
    if several:
        query = query.where(sa.or_(Shelter.municipality_code == person.municipality_code,
                                   accepts_people_of([person.municipality_code])))
    shelters = session.exec(query).all()
    return shelter_options(person_from_row(person), [shelter_from_row(s) for s in shelters], today)


def current_plan(session: Session, person_id: uuid.UUID, access: Access) -> Optional[EvacuationPlan]:
    return session.exec(select(EvacuationPlan).where(EvacuationPlan.person_id == person_id,
                                                     *access.clauses())).first()


def public(session: Session, plan: Optional[EvacuationPlan], access: Access) -> Optional[dict]:
    return None if plan is None else access.shape(to_public(PLANS, session, [plan]))[0]
