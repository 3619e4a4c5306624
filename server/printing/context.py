"""The context objects printouts are rendered from — the documented contract (docs/printing.md).

Templates see nothing else: a `PlanPrint` for an individual evacuation plan, a `BatchCover`
for the cover and index of a batch, a `FieldList` for a 民生委員's door-to-door list or a
shelter's roster. They are built from the same *public, role-shaped* dictionaries the JSON
API answers with, so a field the reader's role may not see (a district supporter and
`care.conditions`, say) is simply absent here and cannot reach paper.

Empty values are "" (or a `DateText` with `iso=None`): templates print them as boxes to
fill in by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Optional
from ..domain.japan_time import today_jst

from sqlmodel import Session, select

from ..auth.policy import rule_for, shape
from ..models import District, EvacuationPlan, Municipality, Person, Shelter
from ..models.people import PersonPublic
from ..models.plans import PlanPublic
from . import furigana, mapinset, qr
from .i18n import (
    DateText,
    Label,
    PrintLanguage,
    date_text,
    labels,
    resolve_language,
    vocab_label,
)

CARE_FIELDS = ("walking_ability", "how_to_help", "items_to_carry", "usual_location", "building_structure",
               "doctor", "conditions", "allergies", "blood_type")
CHUNK = 500  # ids per IN (...) query


# ---- who prints ----

@dataclass(frozen=True)
class Reader:
    """Who is printing: a name for the footer and the field shaping of their role.

    `plan_rule` / `person_rule` are the reader's rules from `server/auth/policy.py` for
    "plans" and "people" (None: every field, as for the city office and the CLI).
    """

    username: str = ""
    plan_rule: Any = None
    person_rule: Any = None

    @classmethod
    def for_principal(cls, principal) -> "Reader":
        return cls(principal.username, rule_for("plans", principal), rule_for("people", principal))

    def shape_plan(self, item: dict) -> dict:
        return _shape(self.plan_rule, item)

    def shape_person(self, item: dict) -> dict:
        return _shape(self.person_rule, item)


def _shape(rule, item: dict) -> dict:
    if rule is None:
        return item
    return shape(rule, item)


# ---- the pieces of a plan printout ----

@dataclass
class ContactLine:
    name: str
    relation: str
    phone: str


@dataclass
class SupporterLine:
    name: str
    relation: str
    address: str
    phone: str


@dataclass
class ShelterInfo:
    id: str
    name: str
    kind: Label
    address: str
    phone: str
    lon: Optional[float]
    lat: Optional[float]
    distance_m: Optional[int] = None  # straight line from the home, when both have a location


@dataclass
class CareField:
    key: str       # walking_ability, how_to_help … (CARE_FIELDS)
    label: Label
    value: str     # "" = not filled in: printed as a box to write in


@dataclass
class MapInset:
    svg: Optional[str]  # inline SVG, or None when the home has no location
    note: Label         # "no location, no map" or "the line is straight, not the route"


@dataclass
class PersonInfo:
    id: str
    register_no: str
    name: str
    name_kana: str
    birth_date: DateText
    age: Optional[int]
    sex: Label
    postal_code: str
    address: str
    phone: str
    contact_other: str
    district: str
    reasons: list[Label]
    reason_note: Optional[str]       # None: hidden for the reader's role
    household: Label
    household_note: str
    care_needs: list[Label]
    emergency_contacts: list[ContactLine]
    preferred_language: str
    consent: Label
    consent_date: DateText
    neighborhood_association: str
    minsei_iin: str
    notes: str
    has_location: bool


@dataclass
class PlanPrint:
    """Everything an individual evacuation plan printout shows (template: plan.html)."""

    language: PrintLanguage
    labels: dict[str, Label]
    municipality: str
    plan_id: str
    plan_version: int
    status: Label
    person: PersonInfo
    supporters: list[SupporterLine]
    destination: Optional[ShelterInfo]
    alternate: Optional[ShelterInfo]
    route_note: str
    timing_note: str
    care: list[CareField]
    hidden: list[str]                 # dotted field paths left out for the reader's role
    consent: bool
    consent_date: DateText
    author: str
    review_due: DateText
    updated: DateText
    map: MapInset
    qr_payload: str
    qr_svg: str
    printed: DateText
    printed_by: str
    sequence: Optional[int] = None    # No. in a batch (its index lists it)
    share_line: str = ""              # Art. 49-11: for whom, or office use only (on every page)

    kind = "plan"


@dataclass
class IndexEntry:
    sequence: int
    plan_id: str
    register_no: str
    name: str
    name_kana: str
    address: str
    district: str
    destination: str
    page: Optional[int] = None  # first page in the batch PDF, once known


@dataclass
class BatchCover:
    """The cover page and index of a batch (template: cover.html)."""

    title: str
    selection: str          # e.g. "地区: 糸見台一丁目" — what was asked for
    count: int
    printed: DateText
    printed_by: str
    entries: list[IndexEntry]
    cover_pages: int = 1    # pages the cover and index take (page numbers start after them)
    total_pages: Optional[int] = None  # pages of the whole batch, once printed
    duplex: bool = False    # for double-sided printing: every plan starts on a new sheet
    blank_page: bool = False  # a blank page ends the cover and index (duplex, odd length)
    share_line: str = ""      # Art. 49-11: for whom, or office use only

    kind = "cover"


@dataclass
class FieldListRow:
    sequence: int
    person_id: str
    register_no: str
    name: str
    name_kana: str
    age: Optional[int]
    address: str
    phone: str
    needs: list[str]        # 事由 and care needs, Japanese labels
    household: str
    emergency: str          # first emergency contact: "name（relation） phone"
    destination: str        # plan destination (district list) or 避難先/第二避難先 (roster)
    group: str              # 町丁目 (district list) or "" (roster)


@dataclass
class FieldList:
    """A 民生委員's door-to-door list (kind "district") or a shelter roster (kind "shelter")."""

    kind: str               # district | shelter
    title: str
    subject: str            # district or shelter name
    subject_detail: str     # welfare area / shelter address and phone
    rows: list[FieldListRow]
    visits: int             # tick-box columns per row
    printed: DateText
    printed_by: str
    mode_note: str = ""     # e.g. normal mode: only people who consented are listed

    @property
    def groups(self) -> list[tuple[str, list[FieldListRow]]]:
        out: list[tuple[str, list[FieldListRow]]] = []
        for row in self.rows:
            if not out or out[-1][0] != row.group:
                out.append((row.group, []))
            out[-1][1].append(row)
        return out


# ---- building ----

def age_on(birth: date | None, day: date) -> Optional[int]:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def shelter_info(row: Shelter | None, lang: PrintLanguage, home: tuple[float, float] | None) -> ShelterInfo | None:
    if row is None:
        return None
    distance = None
    if home is not None and row.lon is not None and row.lat is not None:
        distance = int(round(mapinset.distance_m(home, (row.lon, row.lat))))
    return ShelterInfo(id=str(row.id), name=row.name, kind=vocab_label(row.kind, "ShelterKind", lang),
                       address=row.address or "", phone=row.phone or "", lon=row.lon, lat=row.lat,
                       distance_m=distance)


def person_info(person: dict, lang: PrintLanguage, district: str, now: date) -> PersonInfo:
    birth = _date(person.get("birth_date"))
    return PersonInfo(
        id=str(person["id"]), register_no=_s(person.get("register_no")), name=_s(person.get("name")),
        name_kana=_s(person.get("name_kana")), birth_date=date_text(birth, lang), age=age_on(birth, now),
        sex=vocab_label(person.get("sex") or "unknown", "Sex", lang), postal_code=_s(person.get("postal_code")),
        address=_s(person.get("address")), phone=_s(person.get("phone")),
        contact_other=_s(person.get("contact_other")), district=district,
        reasons=[vocab_label(r, "Reason", lang) for r in person.get("reasons") or []],
        reason_note=_s(person["reason_note"]) if "reason_note" in person else None,
        household=vocab_label(person.get("household") or "other", "Household", lang),
        household_note=_s(person.get("household_note")),
        care_needs=[vocab_label(n, "CareNeed", lang) for n in person.get("care_needs") or []],
        emergency_contacts=[ContactLine(_s(c.get("name")), _s(c.get("relation")), _s(c.get("phone")))
                            for c in person.get("emergency_contacts") or []],
        preferred_language=_s(person.get("preferred_language")) or "ja",
        consent=vocab_label(person.get("consent") or "not_asked", "Consent", lang),
        consent_date=date_text(_date(person.get("consent_date")), lang),
        neighborhood_association=_s(person.get("neighborhood_association")),
        minsei_iin=_s(person.get("minsei_iin")), notes=_s(person.get("notes")),
        has_location=person.get("lon") is not None and person.get("lat") is not None,
    )


def plan_print(plan: dict, person: dict, *, shelters: dict[str, Shelter], district: District | None,
               municipality: str, reader: Reader, now: date | None = None,
               language: str | None = None, sequence: int | None = None) -> PlanPrint:
    """The context of one plan printout from the reader-shaped public dicts of the plan and person.

    `language` overrides the person's preferred_language (previews); `now` is the printing day.
    """
    now = now or today_jst()
    lang = resolve_language(language or person.get("preferred_language"))
    texts = labels(lang)
    home = (person["lon"], person["lat"]) if person.get("lon") is not None and person.get("lat") is not None else None
    destination = shelter_info(shelters.get(str(plan.get("destination_shelter_id"))), lang, home)
    alternate = shelter_info(shelters.get(str(plan.get("alternate_shelter_id"))), lang, home)
    care_values = plan.get("care") or {}
    hidden = [f"care.{key}" for key in CARE_FIELDS if key not in care_values]
    hidden += sorted(f"person.{key}" for key in ("reason_note",) if key not in person)
    care = [CareField(key, texts[key], _s(care_values.get(key))) for key in CARE_FIELDS if key in care_values]
    district_name = district.name if district is not None else ""
    info = person_info(person, lang, district_name, now)
    return PlanPrint(
        language=lang, labels=texts, municipality=municipality, plan_id=str(plan["id"]),
        plan_version=int(plan.get("version") or 1), status=vocab_label(plan.get("status") or "not_started",
                                                                      "PlanStatus", lang),
        person=info,
        supporters=[SupporterLine(_s(s.get("name")), _s(s.get("relation")), _s(s.get("address")), _s(s.get("phone")))
                    for s in plan.get("supporters") or []],
        destination=destination, alternate=alternate, route_note=_s(plan.get("route_note")),
        timing_note=_s(plan.get("timing_note")), care=care, hidden=hidden, consent=bool(plan.get("consent")),
        consent_date=date_text(_date(plan.get("consent_date")), lang), author=_s(plan.get("author")),
        review_due=date_text(_date(plan.get("review_due")), lang),
        updated=date_text(_date(plan.get("updated_at")), lang),
        map=_map(home, destination, alternate, district, texts, lang),
        qr_payload=qr.payload("plan", plan["id"]), qr_svg=qr.qr_svg(qr.payload("plan", plan["id"])),
        printed=date_text(now, lang), printed_by=reader.username, sequence=sequence,
    )


def _map(home, destination: ShelterInfo | None, alternate: ShelterInfo | None, district: District | None,
         texts: dict[str, Label], lang: PrintLanguage) -> MapInset:
    if home is None:
        return MapInset(None, texts["map_no_location"])
    points = [mapinset.MapPoint(home[0], home[1], texts["map_home"].text, "home")]
    for kind, shelter in (("destination", destination), ("alternate", alternate)):
        if shelter is not None and shelter.lon is not None and shelter.lat is not None:
            points.append(mapinset.MapPoint(shelter.lon, shelter.lat, texts["map_" + kind].text, kind))
    district_label = district.name if district is not None else ""
    if lang.code == "ja-easy" and district_label:
        # SVG text cannot carry ruby: the やさしい日本語 map names the 町丁目 by its reading
        district_label = furigana.reading(district_label)
    svg = mapinset.map_svg(points, district.geometry if district is not None else None, district_label)
    return MapInset(svg, texts["map_straight"])


# ---- loading from the database ----

def _chunks(ids: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _load(session: Session, model, ids: Iterable) -> dict[str, Any]:
    wanted = list({i for i in ids if i is not None})
    rows: dict[str, Any] = {}
    for part in _chunks(wanted):
        for row in session.exec(select(model).where(model.id.in_(part))).all():
            rows[str(row.id)] = row
    return rows


def municipality_names(session: Session) -> dict[str, str]:
    return {m.municipality_code: f"{m.prefecture}{m.name}" for m in session.exec(select(Municipality)).all()}


def plan_prints(session: Session, plans: list[EvacuationPlan], reader: Reader, *, now: date | None = None,
                language: str | None = None, numbered: bool = False) -> list[PlanPrint]:
    """Contexts for plans (in the given order), loading people, shelters and districts in bulk."""
    people = _load(session, Person, (p.person_id for p in plans))
    shelters = _load(session, Shelter, [s for p in plans for s in (p.destination_shelter_id, p.alternate_shelter_id)])
    districts = _load(session, District, (p.district_id for p in people.values()))
    towns = municipality_names(session)
    out = []
    for number, plan in enumerate(plans, start=1):
        person_row = people[str(plan.person_id)]
        plan_d = reader.shape_plan(PlanPublic.model_validate(plan, from_attributes=True).model_dump(mode="json"))
        person_d = reader.shape_person(PersonPublic.model_validate(person_row, from_attributes=True)
                                       .model_dump(mode="json"))
        out.append(plan_print(plan_d, person_d, shelters=shelters, district=districts.get(str(person_row.district_id)),
                              municipality=towns.get(person_row.municipality_code, ""), reader=reader, now=now,
                              language=language, sequence=number if numbered else None))
    return out


def batch_cover(prints: list[PlanPrint], selection: str, reader: Reader, now: date | None = None,
                duplex: bool = False) -> BatchCover:
    now = now or today_jst()
    entries = [IndexEntry(sequence=p.sequence or n, plan_id=p.plan_id, register_no=p.person.register_no,
                          name=p.person.name, name_kana=p.person.name_kana, address=p.person.address,
                          district=p.person.district, destination=p.destination.name if p.destination else "")
               for n, p in enumerate(prints, start=1)]
    return BatchCover(title="個別避難計画 一括印刷", selection=selection, count=len(prints),
                      printed=date_text(now, resolve_language("ja")), printed_by=reader.username, entries=entries,
                      duplex=duplex)

