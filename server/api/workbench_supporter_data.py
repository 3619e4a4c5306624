"""The supporter register screens' data (支援者台帳): the list with its filters, the supporter
page with the plans they are on and their load, the entry form, the duplicate candidates.

Every read and write goes through the records layer (scope, change log, audit); the register is
personal data, so the list and the page are audited reads like the register of people.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..domain.workbench.supporters import OVERLOAD_THRESHOLD, Availability, SupporterKind
from ..models import District, EvacuationPlan, Municipality, Person, SupporterCandidate, SupporterRecord
from ..models.base import utcnow
from ..auth.policy import candidate_clauses, municipal_clauses
from ..auth.principal import installed_municipalities
from ..records.access import Access, access_for
from ..records.audit import audit_operation
from ..records.registry import PLANS, SUPPORTERS
from ..records.rows import delete_row, get_row, to_public, update_row
from ..records.supporter_links import line_ids, linked_plans, load_of, plan_counts, threshold_of
from .workbench_plan import Outcome, save_record

PAGE_SIZE = 50
MAX_TEXT = 100
STATES = ("active", "left", "all")

PLAIN_KEYS = ("kind", "name", "name_kana", "organisation", "phone", "phone_alt", "address", "district_id",
              "availability", "birth_year", "elderly", "person_register_no", "notes")
FORM_KEYS = (*PLAIN_KEYS, "area_district_ids", "lives_outside_city")
LABELS = {"kind": ("種別", "Kind"), "name": ("氏名・団体名", "Name"), "name_kana": ("ふりがな", "Kana"),
          "organisation": ("所属", "Organisation"), "phone": ("電話", "Phone"), "phone_alt": ("電話2", "Phone 2"),
          "address": ("住所", "Address"), "district_id": ("町丁目", "District"),
          "availability": ("支援できる時間帯", "Availability"), "birth_year": ("生まれ年", "Birth year"),
          "elderly": ("高齢（生まれ年不明のとき）", "Elderly (when no birth year)"),
          "person_register_no": ("名簿の登録者番号（本人も要支援者のとき）", "Register no. (if on the register)"),
          "notes": ("備考", "Notes"), "area_district_ids": ("担当区域", "Area"),
          "lives_outside_city": ("市外在住", "Lives outside the city")}
MERGE_GROUPS = tuple((k, (k,)) for k in FORM_KEYS)
CHOICES = {"kind": SupporterKind, "availability": Availability}


@dataclass
class Filters:
    values: dict[str, str] = field(default_factory=dict)
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)


def parse_filters(params: dict[str, str]) -> Filters:
    found = Filters()
    for name in ("q", "kind", "district", "overloaded", "state"):
        value = unicodedata.normalize("NFKC", params.get(name, "")).strip()
        if len(value) > MAX_TEXT:
            found.errors[name] = f"{MAX_TEXT}文字以内で入力してください (at most {MAX_TEXT} characters)"
        found.values[name] = value
    if found.values["kind"] and found.values["kind"] not in {k.value for k in SupporterKind}:
        found.errors["kind"] = "選択肢にない値です (not one of the choices)"
    if found.values["state"] and found.values["state"] not in STATES:
        found.errors["state"] = "選択肢にない値です (not one of the choices)"
    if found.values["district"]:
        try:
            uuid.UUID(found.values["district"])
        except ValueError:
            found.errors["district"] = "町丁目を一覧から選んでください (choose a district from the list)"
    raw_page = params.get("page", "1")
    found.page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 100000 else 1
    return found


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _clauses(filters: Filters, counts: dict) -> list:
    v = filters.values
    out: list = []
    if v["q"]:
        text = v["q"].replace(" ", "").replace("\u3000", "")
        like = _like(text)
        out.append(sa.or_(sa.func.replace(SupporterRecord.name, " ", "").like(like, escape="\\"),
                          sa.func.replace(SupporterRecord.name_kana, " ", "").like(like, escape="\\"),
                          SupporterRecord.phone.like(like, escape="\\"),
                          SupporterRecord.organisation.like(like, escape="\\")))
    if v["kind"]:
        out.append(SupporterRecord.kind == v["kind"])
    if v["district"]:
        out.append(sa.or_(SupporterRecord.district_id == uuid.UUID(v["district"]),
                          SupporterRecord.area_district_ids.cast(sa.String).contains(v["district"])))
    state = v["state"] or "active"
    if state != "all":
        out.append(SupporterRecord.active == (state == "active"))
    if v["overloaded"]:
        over = [sid for sid, n in counts.items() if n > OVERLOAD_THRESHOLD]  # narrowed per entry below
        out.append(SupporterRecord.id.in_(over) if over else sa.false())
    return out


def list_supporters(session: Session, filters: Filters, access: Access, client: str) -> dict[str, Any]:
    """One page of the register with each entry's plan count and whether it is over its threshold."""
    counts = plan_counts(session)
    where = [*_clauses(filters, counts), *access.clauses()]
    query = select(SupporterRecord).where(*where).order_by(SupporterRecord.name_kana, SupporterRecord.name,
                                                          SupporterRecord.id)
    if filters.values["overloaded"]:  # the 民生委員 threshold is higher: decide per entry
        rows = [r for r in session.exec(query).all() if counts.get(r.id, 0) > threshold_of(r)]
        total = len(rows)
        rows = rows[(filters.page - 1) * PAGE_SIZE: filters.page * PAGE_SIZE]
    else:
        total = session.exec(select(sa.func.count()).select_from(SupporterRecord).where(*where)).one()
        rows = session.exec(query.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)).all()
    audit_operation(session, access, "list", SUPPORTERS, [r.id for r in rows], client=client)
    items = [{"row": r, "count": counts.get(r.id, 0), "threshold": threshold_of(r),
              "overloaded": counts.get(r.id, 0) > threshold_of(r)} for r in rows]
    return {"items": items, "total": total, "page": filters.page, "pages": max(1, -(-total // PAGE_SIZE))}


def supporter_page(session: Session, supporter_id: uuid.UUID, access: Access, plan_access: Access,
                   client: str) -> dict[str, Any]:
    row = get_row(SUPPORTERS, session, supporter_id, access)
    plans = linked_plans(session, row.id, plan_access)
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_([pl.person_id for pl in plans])))} \
        if plans else {}
    audit_operation(session, access, "read", SUPPORTERS, [row.id], client=client)
    if plans:
        audit_operation(session, plan_access, "list", PLANS, [p.id for p in plans], client=client)
    lines = []
    for plan in sorted(plans, key=lambda p: people[p.person_id].register_no if p.person_id in people else ""):
        copy = next((s for s in plan.supporters or () if str(_get(s, "supporter_id")) == str(row.id)), None)
        differs = copy is not None and (_get(copy, "name") != row.name or _get(copy, "phone") != row.phone)
        lines.append({"plan": plan, "person": people.get(plan.person_id), "relation": _get(copy, "relation") or "",
                      "differs": differs})
    load = load_of(session, row, plans)
    districts = {str(d.id): d for d in session.exec(select(District))}
    person = session.get(Person, row.person_id) if row.person_id else None
    return {"row": row, "lines": lines, "load": load, "threshold": threshold_of(row), "districts": districts,
            "self_person": person}


def _get(line: Any, key: str) -> Any:
    if line is None:
        return None
    return line.get(key) if isinstance(line, dict) else getattr(line, key, None)


def districts(session: Session, principal: Any = None, row: Optional[SupporterRecord] = None) -> list[District]:
    """The 町丁目 choices: the caller's municipalities' (all with one municipality); for a saved
    entry of a caller of several, its own municipality's only (an update never moves it)."""
    own = municipal_clauses("districts", principal) if principal is not None else []
    if row is not None and len(installed_municipalities(session)) > 1:
        own.append(District.municipality_code == row.municipality_code)
    return list(session.exec(select(District).where(*own).order_by(District.municipality_code, District.kind,
                                                                   District.code)))


def municipality_choices(session: Session, principal: Any) -> list[Municipality]:
    """The new entry's municipality selector: shown to a caller of several municipalities only
    (one municipality follows from the caller, or from the chosen 町丁目)."""
    codes = getattr(principal, "municipality_codes", None)  # None: every one of the installation
    query = select(Municipality).order_by(Municipality.municipality_code)
    if codes is not None:
        query = query.where(Municipality.municipality_code.in_(sorted(codes)))
    found = list(session.exec(query))
    return found if len(found) > 1 else []


# ---- the entry form ----

def supporter_to_form(item: Optional[dict], register_no: str = "") -> dict[str, str]:
    values = {key: "" for key in FORM_KEYS}
    values.update(kind=SupporterKind.neighbour.value, availability=Availability.anytime.value)
    if item is None:
        return values
    for key in PLAIN_KEYS:
        value = item.get(key)
        values[key] = "" if value is None else ("yes" if value is True else "no" if value is False else str(value))
    values["person_register_no"] = register_no
    values["area_district_ids"] = ",".join(str(d) for d in item.get("area_district_ids") or [])
    values["lives_outside_city"] = "on" if item.get("lives_outside_city") else ""
    return values


def read_form(form: Any) -> dict[str, str]:
    values = {key: (form.get(key) or "").strip() for key in (*PLAIN_KEYS, "lives_outside_city", "municipality_code")}
    values["area_district_ids"] = ",".join(v for v in form.getlist("area_district_ids") if v)
    return values


def resolve_merge(form: Any) -> dict[str, str]:
    values = {}
    for group, keys in MERGE_GROUPS:
        side = "theirs" if form.get(f"pick.{group}") == "theirs" else "mine"
        for key in keys:
            values[key] = (form.get(f"{side}.{key}") or "").strip()
    return values


def _district_municipality(session: Session, district_id: str) -> Optional[str]:
    try:
        district = session.get(District, uuid.UUID(district_id)) if district_id else None
    except ValueError:
        return None
    return district.municipality_code if district else None


def form_to_data(session: Session, values: dict[str, str], errors: list, access: Optional[Access] = None) -> dict[str, Any]:
    data: dict[str, Any] = {k: values[k] for k in ("kind", "name", "name_kana", "organisation", "phone", "phone_alt",
                                                   "address", "availability", "notes")}
    data["district_id"] = values["district_id"] or None
    data["area_district_ids"] = [v for v in values["area_district_ids"].split(",") if v]
    data["lives_outside_city"] = bool(values["lives_outside_city"])
    data["birth_year"] = values["birth_year"] or None
    data["elderly"] = {"yes": True, "no": False}.get(values["elderly"])
    data["person_id"] = None
    if values.get("municipality_code"):  # a new entry of a caller of several (create only: never changed)
        data["municipality_code"] = values["municipality_code"]
    if values["person_register_no"]:
        # the caller's register only (several municipalities: another city's number is unknown here)
        own = access_for(access.principal, "people", "list").clauses() if access and access.principal else []
        # each city numbers its own register: the number of the entry's city (chosen, or its 町丁目's)
        code = values.get("municipality_code") or _district_municipality(session, values["district_id"])
        if code:
            own = [*own, Person.municipality_code == code]
        found = session.exec(select(Person.id).where(Person.register_no == values["person_register_no"], *own)
                             .limit(2)).all()
        person = found[0] if len(found) == 1 else None
        if not found:
            errors.append({"field": "person_register_no",
                           "message": "この登録者番号の方は名簿にいません (no one on the register has this number)"})
        elif len(found) > 1:
            errors.append({"field": "person_register_no",
                           "message": "この登録者番号の方が複数の市区町村にいます。市区町村を選んでください "
                                      "(several municipalities hold this register number: choose the municipality)"})
        data["person_id"] = person
    return data


def register_no_of(session: Session, person_id) -> str:
    if not person_id:
        return ""
    # a saved entry's public dict holds the id as text
    person = session.get(Person, person_id if isinstance(person_id, uuid.UUID) else uuid.UUID(str(person_id)))
    return person.register_no if person else ""


def save_supporter(session: Session, row: Optional[SupporterRecord], values: dict[str, str], version: Optional[int],
                   access: Access, client: str) -> tuple[Outcome, Optional[str]]:
    errors: list = []
    data = form_to_data(session, values, errors, access)
    if errors:
        return Outcome(422, values, errors), None
    if row is not None:
        data.pop("municipality_code", None)

    def to_form(item: dict) -> dict[str, str]:
        return supporter_to_form(item, register_no_of(session, item.get("person_id")))

    saved, refused = save_record(SUPPORTERS, session, row.id if row else None, version, data, access, client, values,
                                 to_form)
    if refused:
        return refused, None
    return Outcome(200, to_form(saved), version=saved["version"]), saved["id"]


def mark_left(session: Session, row: SupporterRecord, version: Optional[int], left_on: str, access: Access,
              client: str) -> Outcome:
    """辞退・転出: the entry stays (history, the plans that named them) but is inactive; its done
    plans become 要見直し (the resource's hook)."""
    values = {"left_on": left_on}
    saved, refused = save_record(SUPPORTERS, session, row.id, version, {"active": False, "left_on": left_on or None},
                                 access, client, values, lambda item: {"left_on": str(item.get("left_on") or "")})
    return refused or Outcome(200, values, version=saved["version"])


# ---- duplicate candidates ----

def open_candidates(session: Session, access: Access, client: str, page: int = 1) -> dict[str, Any]:
    """One page of the open pairs (a city migrating years of free text may have thousands)."""
    where = [SupporterCandidate.state == "open", *candidate_clauses(access.principal)]
    total = session.exec(select(sa.func.count()).select_from(SupporterCandidate).where(*where)).one()
    pairs = session.exec(select(SupporterCandidate).where(*where)
                         .order_by(SupporterCandidate.created_at, SupporterCandidate.id)
                         .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    ids = {i for p in pairs for i in (p.a_id, p.b_id)}
    rows = {r.id: r for r in session.exec(select(SupporterRecord).where(SupporterRecord.id.in_(list(ids)),
                                                                        *access.clauses()))} if ids else {}
    counts = plan_counts(session) if pairs else {}
    out = [{"pair": p, "a": rows[p.a_id], "b": rows[p.b_id], "a_count": counts.get(p.a_id, 0),
            "b_count": counts.get(p.b_id, 0)} for p in pairs if p.a_id in rows and p.b_id in rows]
    audit_operation(session, access, "list", SUPPORTERS, sorted(rows, key=str), client=client)
    return {"items": out, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE))}


def decide_candidate(session: Session, candidate_id: uuid.UUID, decision: str, keep: str, access: Access,
                     plan_access: Access, username: str) -> Optional[uuid.UUID]:
    """`keep_apart`, or `merge` into the entry `keep` (a | b): the other entry's plan lines are
    relinked (copying the kept entry's name and phone), the other entry is deleted (devices get
    a tombstone) and pairs naming it now name the kept one. Returns the kept entry's id."""
    pair = session.exec(select(SupporterCandidate).where(SupporterCandidate.id == candidate_id,
                                                         *candidate_clauses(access.principal))).first()
    if pair is None or pair.state != "open":
        return None
    pair.state, pair.decided_at, pair.decided_by = ("kept_apart" if decision != "merge" else "merged"), utcnow(), username
    session.add(pair)
    if decision != "merge":
        return pair.a_id
    kept_id, gone_id = (pair.b_id, pair.a_id) if keep == "b" else (pair.a_id, pair.b_id)
    kept = get_row(SUPPORTERS, session, kept_id, access)
    gone = get_row(SUPPORTERS, session, gone_id, access)
    for plan in linked_plans(session, gone.id, plan_access):
        lines, seen = [], set()
        for s in plan.supporters or ():
            line = dict(s) if isinstance(s, dict) else s.model_dump(mode="json")
            if str(line.get("supporter_id")) == str(gone.id):
                line.update(supporter_id=str(kept.id), name=kept.name, phone=kept.phone, address=kept.address)
            key = line.get("supporter_id") or id(line)
            if key in seen:
                continue  # both were on this plan: one line is enough
            seen.add(key)
            lines.append(line)
        update_row(PLANS, session, plan.id, {"version": plan.version, "supporters": lines}, plan_access)
    for other in session.exec(select(SupporterCandidate).where(
            sa.or_(SupporterCandidate.a_id == gone.id, SupporterCandidate.b_id == gone.id),
            SupporterCandidate.id != pair.id)).all():
        other.a_id = kept.id if other.a_id == gone.id else other.a_id
        other.b_id = kept.id if other.b_id == gone.id else other.b_id
        if other.a_id == other.b_id:
            other.state, other.decided_at, other.decided_by = "merged", utcnow(), username
        session.add(other)
    session.flush()
    delete_row(SUPPORTERS, session, gone.id, None, access)
    audit_operation(session, access, "update", SUPPORTERS, [kept.id, gone.id])
    return kept.id


def search_json(session: Session, text: str, access: Access, client: str) -> list[dict]:
    """The plan form's search-as-you-type: up to 10 active entries by name, kana or phone."""
    filters = parse_filters({"q": text[:MAX_TEXT]})
    if not filters.values["q"]:
        return []
    counts = plan_counts(session)
    rows = session.exec(select(SupporterRecord).where(*_clauses(filters, {}), *access.clauses())
                        .order_by(SupporterRecord.name_kana, SupporterRecord.name).limit(10)).all()
    audit_operation(session, access, "list", SUPPORTERS, [r.id for r in rows], client=client)
    return [{"id": str(r.id), "name": r.name, "phone": r.phone, "address": r.address,
             "kind": SupporterKind(r.kind).ja, "count": counts.get(r.id, 0), "threshold": threshold_of(r)}
            for r in rows]


def supporter_loads(session: Session, values: dict[str, str]) -> dict[str, dict]:
    """The plan form's slots linked to the register: slot number → entry's count and threshold."""
    ids = {}
    for i in range(1, 4):
        try:
            ids[i] = uuid.UUID(values.get(f"s{i}_supporter_id") or "")
        except ValueError:
            continue
    if not ids:
        return {}
    counts = plan_counts(session)
    rows = {r.id: r for r in session.exec(select(SupporterRecord).where(SupporterRecord.id.in_(list(ids.values()))))}
    return {str(i): {"count": counts.get(sid, 0), "threshold": threshold_of(rows[sid]), "active": rows[sid].active,
                     "overloaded": counts.get(sid, 0) > threshold_of(rows[sid])}
            for i, sid in ids.items() if sid in rows}
