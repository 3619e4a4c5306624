"""The /print page's data: a search for one person's plan, and example printouts, from the reader's scope.

On the demo city these are invented people; on a real register the page shows only
register numbers and what each example illustrates (no names), and the listing is audited.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from ..auth.audit import record
from ..models import District, EvacuationPlan, Person, Shelter
from ..models.vocab import DistrictKind, PlanStatus
from .selection import Scope


@dataclass
class Example:
    title: str        # what it shows, Japanese
    title_en: str
    plan_id: str
    register_no: str
    language: str     # the person's preferred_language


def _first_plan(session: Session, scope: Scope, *where) -> tuple | None:
    query = (select(EvacuationPlan.id, Person.register_no, Person.preferred_language)
             .join(Person, Person.id == EvacuationPlan.person_id)
             .where(*scope.plans.clauses(), *where).order_by(Person.register_no).limit(1))
    return session.exec(query).first()


def examples(session: Session, scope: Scope, client: str = "") -> dict:
    wanted = [
        ("日本語の計画（作成済）", "Japanese, complete", [Person.preferred_language == "ja",
                                                      EvacuationPlan.status == PlanStatus.done]),
        ("英語の計画", "English", [Person.preferred_language == "en"]),
        ("やさしい日本語の計画", "Easy Japanese", [Person.preferred_language == "ja-easy"]),
        ("その他の言語（やさしい日本語＋英語）", "Other language: easy Japanese with English",
         [Person.preferred_language.not_in(["ja", "en", "ja-easy"])]),
        ("未記入の多い計画（手書き用の空欄）", "Mostly blank: boxes to fill in by hand",
         [EvacuationPlan.status == PlanStatus.not_started]),
        ("位置情報のない人（地図なし）", "No location: no map", [Person.lon.is_(None)]),
    ]
    plans = []
    for title, title_en, where in wanted:
        row = _first_plan(session, scope, *where)
        if row is not None:
            plans.append(Example(title, title_en, str(row[0]), row[1], row[2]))
    principal = scope.principal
    own_districts = []
    if principal is not None and principal.role.value == "district_supporter":
        own_districts.append(District.id.in_(list(principal.district_ids)))
    people_in = select(Person.district_id).where(*scope.people.clauses())
    districts = session.exec(select(District).where(District.kind == DistrictKind.chome, *own_districts,
                                                    District.id.in_(people_in)).order_by(District.code)).all()
    areas = session.exec(select(District).where(District.kind == DistrictKind.welfare_area, *own_districts)
                         .order_by(District.code)).all()
    shelter_where = []
    if principal is not None and principal.role.value in ("shelter_staff", "dwat_member"):
        shelter_where.append(Shelter.id.in_(list(principal.shelter_ids)))
    assigned = select(EvacuationPlan.destination_shelter_id).where(*scope.plans.clauses())
    shelters = session.exec(select(Shelter).where(*shelter_where, Shelter.id.in_(assigned))
                            .order_by(Shelter.name)).all()
    supporters = session.exec(select(Person.minsei_iin).where(*scope.people.clauses(), Person.minsei_iin != "")
                              .group_by(Person.minsei_iin).order_by(sa.func.count().desc()).limit(20)).all()
    if plans:
        record(session, "list", principal=principal, resource="plans", record_ids=[e.plan_id for e in plans],
               client=client, detail="print page examples")
    return {"plans": plans, "districts": list(districts), "areas": list(areas), "shelters": list(shelters),
            "supporters": list(supporters)}


# ---- finding one person's plan (the /print search box) ----

SEARCH_LIMIT = 20
MAX_QUERY = 100


@dataclass
class Found:
    plan_id: str
    register_no: str
    name: str
    name_kana: str
    district: str
    language: str


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _no_spaces(column):
    return sa.func.replace(sa.func.replace(column, " ", ""), "\u3000", "")


def _kana_variants(text: str) -> set[str]:
    """The query as typed, in hiragana and in katakana (ふりがな is stored either way)."""
    hira = "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)
    kata = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)
    return {text, hira, kata}


def find_plans(session: Session, scope: Scope, query: str, client: str = "") -> tuple[list[Found], bool]:
    """Plans in the reader's scope whose person matches `query` — 氏名, ふりがな (hiragana or
    katakana, spaces ignored) or 登録者番号 — at most SEARCH_LIMIT, and whether there were more.
    The rows listed are audited (ids only; the query itself may be a name and is not logged)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", query))
    if not text:
        return [], False
    matches = [Person.register_no == text, Person.register_no.like(_like(text)[1:], escape="\\")]
    for variant in _kana_variants(text):
        matches.append(_no_spaces(Person.name).like(_like(variant), escape="\\"))
        matches.append(_no_spaces(Person.name_kana).like(_like(variant), escape="\\"))
    rows = session.exec(
        select(EvacuationPlan.id, Person.register_no, Person.name, Person.name_kana, District.name,
               Person.preferred_language)
        .join(Person, Person.id == EvacuationPlan.person_id)
        .join(District, District.id == Person.district_id, isouter=True)
        .where(*scope.plans.clauses(), sa.or_(*matches))
        .order_by(Person.register_no, Person.municipality_code).limit(SEARCH_LIMIT + 1)).all()
    found = [Found(str(r[0]), r[1], r[2], r[3] or "", r[4] or "", r[5] or "ja") for r in rows[:SEARCH_LIMIT]]
    if found:
        record(session, "list", principal=scope.principal, resource="plans", record_ids=[f.plan_id for f in found],
               client=client, detail="print page search")
    return found, len(rows) > SEARCH_LIMIT
