"""What to print, within the reader's scope: one plan, a batch of plans, a field list.

Scope follows the access policy exactly as the JSON API applies it: a plan outside the
reader's scope answers 404 like an unknown id, a district outside a supporter's districts
answers 404, and the rows printed are the rows the reader could list.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..auth.policy import names_district, names_shelter, rule_for
from ..domain.share_records import ShareTarget
from ..domain.walk_order import Point, district_start, walk_order
from ..errors import ApiError, not_found
from ..models import District, EvacuationPlan, Person, Shelter
from ..models.vocab import CareNeed, Household, Reason
from ..records.access import Access
from ..records.registry import PLANS
from ..records.rows import get_row
from .context import FieldList, FieldListRow, Reader, age_on, date_text, today_jst
from .i18n import resolve_language

BATCH_KINDS = ("district", "supporter", "shelter", "selection")
MAX_BATCH = 5000  # plans in one batch job
VISITS = 3        # tick-box columns on a door-to-door list


@dataclass
class Scope:
    """The reader's access to plans and to people (UNRESTRICTED for the CLI)."""

    plans: Access = field(default_factory=Access)
    people: Access = field(default_factory=Access)
    reader: Reader = field(default_factory=Reader)
    target: Optional[ShareTarget] = None   # for whom (Art. 49-11); None: the CLI, the office's own

    @classmethod
    def for_principal(cls, principal, plan_rule, target: Optional[ShareTarget] = None) -> "Scope":
        """The reader's scope; for an office print for an outside recipient in normal mode, narrowed
        to the people the sharing rule allows for that recipient."""
        share = target.people_clause() if target is not None else None
        extra_people = () if share is None else (share,)
        extra_plans = () if share is None else (EvacuationPlan.person_id.in_(select(Person.id).where(share)),)
        return cls(Access(principal, plan_rule, extra_plans), Access(principal, rule_for("people", principal),
                                                                      extra_people),
                   Reader.for_principal(principal), target)

    @property
    def share_line(self) -> str:
        return self.target.line if self.target is not None else ""

    @property
    def principal(self):
        return self.plans.principal


def natural_key(text: str) -> tuple:
    """Sort 一丁目2番 before 一丁目10番: digit runs compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text or ""))


# ---- plans ----

def one_plan(session: Session, plan_id: uuid.UUID, scope: Scope) -> EvacuationPlan:
    return get_row(PLANS, session, plan_id, scope.plans)


def plan_by_key(session: Session, key: str, scope: Scope) -> EvacuationPlan:
    """A plan by its id, or by the 登録者番号 of its person (for the CLI), `市区町村コード:登録者番号`
    when several municipalities hold the number (each city numbers its own register)."""
    try:
        return one_plan(session, uuid.UUID(key), scope)
    except ValueError:
        pass
    where = [Person.register_no == key]
    code, colon, number = key.partition(":")
    if colon and re.fullmatch(r"\d{6}", code.strip()):
        where = [Person.municipality_code == code.strip(), Person.register_no == number.strip()]
    plans = session.exec(select(EvacuationPlan).join(Person, Person.id == EvacuationPlan.person_id)
                         .where(*where, *scope.plans.clauses()).limit(2)).all()
    if not plans:
        raise not_found("evacuation plan")
    if len(plans) > 1:
        raise ApiError(409, f"登録者番号 {key} は複数の市区町村にあります。「市区町村コード:{key}」か計画のIDで指定してください "
                            f"(several municipalities hold register number {key}: give CODE:{key} or the plan id)")
    return plans[0]


def resolve_district(session: Session, key: str | uuid.UUID, scope: Scope) -> District:
    """A district by id or code (`市区町村コード:code` when two of the caller's municipalities use the
    same code); 404 when unknown, in a municipality not the caller's, or outside a district
    supporter's districts."""
    principal = scope.principal
    codes = principal.municipality_codes if principal is not None else None
    district = None
    try:
        district = session.get(District, uuid.UUID(str(key)))
    except ValueError:
        city, colon, code = str(key).partition(":")
        where = [District.code == str(key)]
        if colon and re.fullmatch(r"\d{6}", city.strip()):
            where = [District.municipality_code == city.strip(), District.code == code.strip()]
        if codes is not None:
            where.append(District.municipality_code.in_(codes))
        found = session.exec(select(District).where(*where).limit(2)).all()
        if len(found) > 1:
            raise ApiError(409, f"区域コード {key} は複数の市区町村にあります。「市区町村コード:{key}」か区域のIDで指定してください "
                                f"(several municipalities use district code {key}: give CODE:{key} or the district id)")
        district = found[0] if found else None
    if (district is None or not names_district(principal, district.id)
            or (codes is not None and district.municipality_code not in codes)):
        raise not_found("district")
    return district


def district_ids(session: Session, district: District) -> list[uuid.UUID]:
    """The district and, for a 福祉圏域, its 町丁目."""
    children = session.exec(select(District.id).where(District.parent_id == district.id)).all()
    return [district.id, *children]


def resolve_shelter(session: Session, key: str | uuid.UUID, scope: Scope) -> Shelter:
    """A shelter by id; shelter staff and DWAT members only get their own shelters (else 404)."""
    try:
        shelter = session.get(Shelter, uuid.UUID(str(key)))
    except ValueError:
        shelter = None
    if shelter is None or not names_shelter(scope.principal, shelter.id):
        raise not_found("shelter")
    return shelter


def _order(session: Session, plans: list[EvacuationPlan]) -> list[EvacuationPlan]:
    """Batch order: by district code, then address (as a 民生委員 walks), then 登録者番号."""
    if not plans:
        return []
    people = {}
    ids = [p.person_id for p in plans]
    for start in range(0, len(ids), 500):
        rows = session.exec(select(Person.id, Person.district_id, Person.address, Person.register_no)
                            .where(Person.id.in_(ids[start:start + 500]))).all()
        people.update({row[0]: row for row in rows})
    codes = dict(session.exec(select(District.id, District.code)).all())
    return sorted(plans, key=lambda p: (natural_key(codes.get(people[p.person_id][1], "")),
                                        natural_key(people[p.person_id][2]), people[p.person_id][3]))


def select_plans(session: Session, by: str, value, scope: Scope) -> tuple[list[EvacuationPlan], str]:
    """Plans for a batch, ordered for printing, and a description of the selection (for the cover).

    by: district (id or code; a 福祉圏域 includes its 町丁目) | shelter (id; destination or
    alternate) | supporter (a name: a 避難支援等実施者 on the plan or the person's 担当民生委員)
    | selection (a list of plan ids; any id not visible answers 404).
    """
    where = list(scope.plans.clauses())
    if by == "district":
        district = resolve_district(session, value, scope)
        ids = district_ids(session, district)
        where.append(EvacuationPlan.person_id.in_(select(Person.id).where(Person.district_id.in_(ids))))
        description = f"地区: {district.name}（{district.code}）"
    elif by == "shelter":
        shelter = resolve_shelter(session, value, scope)
        where.append(sa.or_(EvacuationPlan.destination_shelter_id == shelter.id,
                            EvacuationPlan.alternate_shelter_id == shelter.id))
        description = f"避難先: {shelter.name}"
    elif by == "supporter":
        name = str(value or "").strip()
        if not name:
            raise ApiError(422, "validation failed", [{"field": "value", "message": "give the supporter's name"}])
        return _by_supporter(session, name, where), f"支援者: {name}"
    elif by == "selection":
        return _by_ids(session, value, where), "選択した計画"
    else:
        raise ApiError(422, "validation failed", [{"field": "by", "message": "one of " + ", ".join(BATCH_KINDS)}])
    plans = list(session.exec(select(EvacuationPlan).where(*where)).all())
    _check_size(plans)
    return _order(session, plans), description


def _by_supporter(session: Session, name: str, where: list) -> list[EvacuationPlan]:
    needle = re.sub(r"\s+", "", name)
    minsei = select(Person.id).where(sa.func.replace(sa.func.replace(Person.minsei_iin, " ", ""), "　", "") == needle)
    # Supporters live in a JSON list: narrow with LIKE, then compare names exactly in Python.
    like = EvacuationPlan.supporters.cast(sa.String).contains(name.split()[0], autoescape=True)
    rows = session.exec(select(EvacuationPlan).where(*where, sa.or_(EvacuationPlan.person_id.in_(minsei), like))).all()
    minsei_ids = set(session.exec(minsei).all())

    def matches(plan: EvacuationPlan) -> bool:
        if plan.person_id in minsei_ids:
            return True
        return any(re.sub(r"\s+", "", (s.name if hasattr(s, "name") else s.get("name", ""))) == needle
                   for s in plan.supporters or [])

    plans = [p for p in rows if matches(p)]
    _check_size(plans)
    return _order(session, plans)


def _by_ids(session: Session, value, where: list) -> list[EvacuationPlan]:
    try:
        ids = list(dict.fromkeys(uuid.UUID(str(v)) for v in (value or [])))
    except (ValueError, TypeError):
        raise ApiError(422, "validation failed", [{"field": "ids", "message": "a list of plan ids"}]) from None
    if not ids:
        raise ApiError(422, "validation failed", [{"field": "ids", "message": "give at least one plan id"}])
    if len(ids) > MAX_BATCH:
        _check_size(ids)
    found: dict[uuid.UUID, EvacuationPlan] = {}
    for start in range(0, len(ids), 500):
        for plan in session.exec(select(EvacuationPlan).where(EvacuationPlan.id.in_(ids[start:start + 500]), *where)):
            found[plan.id] = plan
    if len(found) != len(ids):
        raise not_found("evacuation plan")  # unknown and out of scope look the same
    return [found[i] for i in ids]


def _check_size(items: list) -> None:
    if len(items) > MAX_BATCH:
        raise ApiError(422, f"a batch prints at most {MAX_BATCH} plans; choose a smaller selection")


# ---- field lists ----

def _needs(person: Person, reasons: bool = True, care_needs: bool = True) -> list[str]:
    out = []
    for enum, values in ((Reason, person.reasons if reasons else []), (CareNeed, person.care_needs if care_needs else [])):
        for value in values or []:
            try:
                out.append(enum(value).ja)
            except ValueError:
                out.append(str(value))
    return list(dict.fromkeys(out))


def _emergency(person: Person) -> str:
    contacts = person.emergency_contacts or []
    if not contacts:
        return ""
    c = contacts[0]
    get = (lambda k: getattr(c, k, "")) if not isinstance(c, dict) else c.get
    relation = f"（{get('relation')}）" if get("relation") else ""
    return f"{get('name')}{relation} {get('phone')}".strip()


def _household(person: Person) -> str:
    try:
        return Household(person.household).ja
    except ValueError:
        return ""


def _mode_note(scope: Scope) -> str:
    principal = scope.principal
    if scope.share_line:
        return scope.share_line
    if principal is not None and principal.consent_only:
        return "平常時のため、名簿情報の提供に同意した方のみ掲載しています。"
    return ""


def _check_fields_visible(scope: Scope) -> None:
    rule = scope.people.rule
    if rule is not None and rule.only is not None:
        raise ApiError(403, "your role sees too few fields of people for a field list")


def _walking_order(people: list[Person], districts: dict) -> list[Person]:
    """By 町丁目 (district code), and within each in 歩く順 from its centre: the field app's order
    for a device that does not know where it is (server/domain/walk_order.py)."""
    groups: dict = {}
    for person in people:
        groups.setdefault(person.district_id, []).append(person)
    out: list[Person] = []
    for district_id in sorted(groups, key=lambda d: natural_key(districts[d].code)):
        members = groups[district_id]
        district = districts[district_id]
        points = [Point(p.register_no, p.lon, p.lat) for p in members]
        start = district_start((district.centroid_lon, district.centroid_lat), points)
        by_key = {p.register_no: p for p in members}
        keys = walk_order(points, start) if start else sorted(by_key)
        out.extend(by_key[k] for k in keys)
    return out


def district_list(session: Session, key, scope: Scope, now: Optional[date] = None,
                  visits: int = VISITS) -> FieldList:
    """The 民生委員's door-to-door list for a district (a 福祉圏域 lists each of its 町丁目)."""
    _check_fields_visible(scope)
    district = resolve_district(session, key, scope)
    ids = district_ids(session, district)
    districts = {d.id: d for d in session.exec(select(District).where(District.id.in_(ids))).all()}
    people = list(session.exec(select(Person).where(Person.district_id.in_(ids), *scope.people.clauses())).all())
    plans = {p.person_id: p for p in _plans_of(session, [p.id for p in people])}
    shelters = _shelter_names(session, plans.values())
    people = _walking_order(people, districts)
    now = now or today_jst()
    visible = _visible(scope)
    rows = []
    for n, person in enumerate(people, start=1):
        plan = plans.get(person.id)
        rows.append(_row(n, person, now, group=districts[person.district_id].name,
                         destination=shelters.get(plan.destination_shelter_id, "") if plan else "",
                         visible=visible))
    parent = session.get(District, district.parent_id) if district.parent_id else None
    detail = f"{district.code}" + (f" · {parent.name}" if parent else "")
    return FieldList(kind="district", title="安否確認リスト", subject=district.name, subject_detail=detail,
                     rows=rows, visits=visits, printed=date_text(now, resolve_language("ja")),
                     printed_by=scope.reader.username, mode_note=_mode_note(scope))


def shelter_roster(session: Session, key, scope: Scope, now: Optional[date] = None, visits: int = 2) -> FieldList:
    """The people a shelter expects: plans naming it as destination or alternate."""
    _check_fields_visible(scope)
    shelter = resolve_shelter(session, key, scope)
    plans = list(session.exec(select(EvacuationPlan).where(
        sa.or_(EvacuationPlan.destination_shelter_id == shelter.id, EvacuationPlan.alternate_shelter_id == shelter.id),
        EvacuationPlan.person_id.in_(select(Person.id).where(*scope.people.clauses())))).all())
    people = {p.id: p for p in _people(session, [p.person_id for p in plans])}
    now = now or today_jst()
    ordered = sorted(plans, key=lambda p: (p.destination_shelter_id != shelter.id, people[p.person_id].name_kana,
                                           people[p.person_id].register_no))
    visible = _visible(scope)
    rows = [_row(n, people[plan.person_id], now, group="",
                 destination="避難先" if plan.destination_shelter_id == shelter.id else "第二避難先", visible=visible)
            for n, plan in enumerate(ordered, start=1)]
    detail = " · ".join(x for x in (shelter.address, f"TEL {shelter.phone}" if shelter.phone else "",
                                    f"定員 {shelter.capacity}人" if shelter.capacity is not None else "") if x)
    return FieldList(kind="shelter", title="受入予定者名簿", subject=shelter.name, subject_detail=detail,
                     rows=rows, visits=visits, printed=date_text(now, resolve_language("ja")),
                     printed_by=scope.reader.username, mode_note=_mode_note(scope))


ROW_FIELDS = ("register_no", "name", "name_kana", "birth_date", "address", "phone", "reasons", "care_needs",
              "household", "emergency_contacts")


def _visible(scope: Scope) -> frozenset:
    """The person fields a list may print: those the reader's role sees through the API."""
    return frozenset(scope.reader.shape_person({name: True for name in ROW_FIELDS}))


def _row(n: int, person: Person, now: date, group: str, destination: str, visible: frozenset) -> FieldListRow:
    def show(name: str, value):
        return value if name in visible else type(value)()

    needs = _needs(person, "reasons" in visible, "care_needs" in visible)
    return FieldListRow(sequence=n, person_id=str(person.id), register_no=show("register_no", person.register_no),
                        name=show("name", person.name), name_kana=show("name_kana", person.name_kana or ""),
                        age=age_on(person.birth_date, now) if "birth_date" in visible else None,
                        address=show("address", person.address or ""), phone=show("phone", person.phone or ""),
                        needs=needs, household=show("household", _household(person)),
                        emergency=show("emergency_contacts", _emergency(person)), destination=destination,
                        group=group)


def _plans_of(session: Session, person_ids: list) -> list[EvacuationPlan]:
    out = []
    for start in range(0, len(person_ids), 500):
        out += session.exec(select(EvacuationPlan).where(EvacuationPlan.person_id.in_(person_ids[start:start + 500]))).all()
    return out


def _people(session: Session, ids: list) -> list[Person]:
    out = []
    for start in range(0, len(ids), 500):
        out += session.exec(select(Person).where(Person.id.in_(ids[start:start + 500]))).all()
    return out


def _shelter_names(session: Session, plans) -> dict:
    ids = {p.destination_shelter_id for p in plans if p.destination_shelter_id}
    if not ids:
        return {}
    return dict(session.exec(select(Shelter.id, Shelter.name).where(Shelter.id.in_(list(ids)))).all())
