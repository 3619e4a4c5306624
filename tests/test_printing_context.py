"""The printouts' context objects (the documented contract in docs/printing.md): built from
DB rows, every plan field present, labels in the chosen language, role shaping applied,
missing values as blanks, no location → no map."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from server.auth.policy import POLICY
from server.models import EvacuationPlan, Person
from server.models.auth import Role
from server.printing import context as ctx_module
from server.printing.context import (CARE_FIELDS, BatchCover, CareField, ContactLine, FieldList, FieldListRow,
                                     IndexEntry, MapInset, PersonInfo, PlanPrint, Reader, ShelterInfo,
                                     SupporterLine, batch_cover, plan_prints)
from server.printing.i18n import TEXTS, DateText, Label, PrintLanguage, date_text, labels, resolve_language, vocab_text
from server.printing.mapinset import MapPoint, map_svg
from server.printing.qr import parse_payload, payload
from tests.printing_helpers import NOW, load_city

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def city(engine):
    return load_city(engine)


def _plan(session, city, *, language: str | None = None, status: str | None = None) -> EvacuationPlan:
    by_person = {p.id: p for p in city.people}
    for plan in city.plans:
        person = by_person[plan.person_id]
        if language and person.preferred_language != language:
            continue
        if status and plan.status != status:
            continue
        if plan.care.doctor and plan.supporters and plan.alternate_shelter_id and person.emergency_contacts:
            return session.get(EvacuationPlan, plan.id)
    # the demo city is deterministic: a missing example means the generator changed — fail, never skip
    pytest.fail("no such plan in the small demo city")


def test_languages_and_fallback():
    assert resolve_language("ja") == resolve_language(None)
    assert (resolve_language("en").code, resolve_language("en").aside) == ("en", "ja")
    assert (resolve_language("ja-easy").code, resolve_language("ja-easy").aside) == ("ja-easy", "")
    pt = resolve_language("pt")
    assert (pt.code, pt.aside, pt.fallback, pt.requested) == ("ja-easy", "en", True, "pt")
    assert all(len(triple) == 3 and all(triple) for triple in TEXTS.values())


def test_dates_in_wareki_with_seireki_beside():
    ja = date_text(date(2025, 8, 29), resolve_language("ja"))
    assert (ja.main, ja.aside, ja.iso) == ("令和7年8月29日", "2025年8月29日", "2025-08-29")
    en = date_text(date(2019, 5, 1), resolve_language("en"))
    assert (en.main, en.aside) == ("1 May 2019", "令和元年5月1日")
    assert date_text(None, resolve_language("ja")).blank


def test_vocabulary_in_three_languages():
    assert vocab_text("wheelchair", "CareNeed", "ja") == "車いす"
    assert vocab_text("wheelchair", "CareNeed", "en") == "wheelchair"
    assert vocab_text("wheelchair", "CareNeed", "ja-easy") == "くるまいす"
    assert vocab_text("no-such-code", "CareNeed", "en") == "no-such-code"


def test_plan_context_carries_every_field(engine, city):
    with Session(engine) as s:
        found = _plan(s, city, language="ja", status="done")
        [p] = plan_prints(s, [found], Reader("staff"), now=NOW)
    plan = next(x for x in city.plans if x.id == found.id)  # the model instances: typed JSON fields
    person = next(x for x in city.people if x.id == plan.person_id)
    assert isinstance(p, PlanPrint)
    assert p.plan_id == str(plan.id) and p.language.code == "ja"
    assert (p.person.name, p.person.name_kana, p.person.register_no) == (person.name, person.name_kana,
                                                                          person.register_no)
    assert p.person.birth_date.iso == person.birth_date.isoformat()
    assert re.match(r"(昭和|平成|大正|令和)", p.person.birth_date.main)
    assert p.person.address == person.address and p.person.phone == person.phone
    assert [c.name for c in p.person.emergency_contacts] == [c.name for c in person.emergency_contacts]
    assert [s.name for s in p.supporters] == [s.name for s in plan.supporters]
    assert p.destination is not None and p.destination.id == str(plan.destination_shelter_id)
    assert p.alternate is not None and p.alternate.id == str(plan.alternate_shelter_id)
    assert p.destination.distance_m is not None
    assert (p.route_note, p.timing_note, p.author) == (plan.route_note, plan.timing_note, plan.author)
    assert [f.key for f in p.care] == list(CARE_FIELDS) and p.hidden == []
    assert {f.key: f.value for f in p.care}["doctor"] == plan.care.doctor
    assert p.consent is True and not p.consent_date.blank and not p.review_due.blank
    assert p.person.reason_note == person.reason_note
    assert p.map.svg and "<polygon" in p.map.svg and p.person.district
    assert p.qr_payload == f"TSUNAGU:PLAN:{str(plan.id).upper()}" and p.qr_svg.startswith("<svg")
    assert p.printed.iso == NOW.isoformat() and p.printed_by == "staff"
    assert set(p.labels) == set(TEXTS) and p.labels["name"].text == "氏名"


def test_english_context_has_japanese_beside(engine, city):
    with Session(engine) as s:
        plan = s.exec(select(EvacuationPlan)).first()
        [p] = plan_prints(s, [plan], Reader("staff"), now=NOW, language="en")
    assert (p.labels["name"].text, p.labels["name"].aside) == ("Name", "氏名")
    assert p.status.text in {"not started", "drafting", "done", "needs review"}
    assert re.match(r"\d{1,2} [A-Z][a-z]+ \d{4}", p.printed.main)


@pytest.mark.parametrize("role", ["district_supporter", "shelter_staff", "dwat_member", "welfare_staff"])
def test_role_shaping_reaches_the_context(engine, city, role):
    reader = Reader("someone", POLICY["plans"][Role(role)], POLICY["people"][Role(role)])
    with Session(engine) as s:
        plan = _plan(s, city, status="done")
        [p] = plan_prints(s, [plan], reader, now=NOW)
    keys = {f.key for f in p.care}
    if role == "district_supporter":
        assert keys == set(CARE_FIELDS) - {"conditions", "doctor", "blood_type"}
        assert set(p.hidden) == {"care.conditions", "care.doctor", "care.blood_type", "person.reason_note"}
        assert p.person.reason_note is None
    else:
        assert keys == set(CARE_FIELDS) and p.hidden == []


def test_missing_values_are_blanks_not_errors(engine, city):
    with Session(engine, expire_on_commit=False) as s:
        person = s.exec(select(Person)).first()
        bare = Person(register_no="BARE-1", municipality_code=person.municipality_code, name="空欄 試験",
                      birth_date=date(1950, 1, 1), sex="unknown", address="住所不明")
        s.add(bare)
        s.flush()
        plan = EvacuationPlan(person_id=bare.id)
        s.add(plan)
        s.commit()
        [p] = plan_prints(s, [plan], Reader(), now=NOW)
    assert p.supporters == [] and p.destination is None and p.alternate is None
    assert p.route_note == "" and all(f.value == "" for f in p.care)
    assert p.consent is False and p.consent_date.blank and p.review_due.blank
    assert p.person.name_kana == "" and p.person.emergency_contacts == []
    assert p.map.svg is None and p.map.note.text == TEXTS["map_no_location"][0]


def test_batch_cover_lists_every_plan_in_order(engine, city):
    with Session(engine) as s:
        plans = list(s.exec(select(EvacuationPlan).limit(5)).all())
        prints = plan_prints(s, plans, Reader("staff"), now=NOW, numbered=True)
    cover = batch_cover(prints, "地区: 試験", Reader("staff"), now=NOW)
    assert isinstance(cover, BatchCover) and cover.count == 5
    assert [e.sequence for e in cover.entries] == [1, 2, 3, 4, 5] == [p.sequence for p in prints]
    assert [e.plan_id for e in cover.entries] == [str(p.id) for p in plans]


def test_map_inset_is_projected_with_scale_bar_and_north_arrow():
    square = {"type": "Polygon", "coordinates": [[[139.44, 35.70], [139.45, 35.70], [139.45, 35.71],
                                                   [139.44, 35.71], [139.44, 35.70]]]}
    svg = map_svg([MapPoint(139.445, 35.705, "自宅", "home"), MapPoint(139.452, 35.701, "避難先", "destination")],
                  square, "試験町")
    assert svg.count("<polygon") == 1 and "<line" in svg and ">N</text>" in svg
    assert re.search(r">\d+ (m|km)</text>", svg) and "試験町" in svg
    assert map_svg([MapPoint(139.452, 35.701, "避難先", "destination")], square) is None  # no home, no map


def test_qr_payload_round_trip():
    plan_id = uuid.uuid4()
    assert parse_payload(payload("plan", plan_id)) == ("plan", plan_id)
    assert parse_payload(payload("plan", plan_id).lower()) == ("plan", plan_id)
    with pytest.raises(ValueError):
        parse_payload("https://example.org/")


CONTRACT = [PlanPrint, PersonInfo, ShelterInfo, SupporterLine, ContactLine, CareField, MapInset, BatchCover, IndexEntry,
            FieldList, FieldListRow, Label, DateText, PrintLanguage]


@pytest.mark.parametrize("cls", CONTRACT, ids=lambda c: c.__name__)
def test_every_context_field_is_documented(cls):
    """docs/printing.md documents the context object: each field as `name` in its class's table."""
    doc = (ROOT / "docs" / "printing.md").read_text(encoding="utf-8")
    section = re.search(rf"### `{cls.__name__}`(.*?)(?=\n### |\n## |\Z)", doc, re.S)
    assert section, f"docs/printing.md has no section for {cls.__name__}"
    missing = [f.name for f in dataclasses.fields(cls) if f"`{f.name}`" not in section.group(1)]
    assert not missing, f"{cls.__name__} fields missing from docs/printing.md: {missing}"


def test_labels_cover_every_label_used_by_the_plan_template():
    template = (ROOT / "server" / "printing" / "templates" / "plan.html").read_text(encoding="utf-8")
    used = set(re.findall(r"\bL\.(\w+)", template)) | set(re.findall(r"L\[\"?'?(\w+)", template))
    used -= {"key"}
    assert used <= set(labels(resolve_language("ja")))
    assert ctx_module.CARE_FIELDS


def _label_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """The white boxes drawn behind the map's labels (x0, y0, x1, y1), in mm."""
    boxes = re.findall(r'<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)" fill="#ffffff" '
                       r'fill-opacity="0.8"/><text', svg)
    return [(float(x), float(y), float(x) + float(w), float(y) + float(h)) for x, y, w, h in boxes]


@pytest.mark.parametrize("others", [
    [(139.43, 35.68), (139.43, 35.68)],            # all three at the same point
    [(139.43001, 35.68), (139.43, 35.68001)],      # a metre apart
    [(139.4306, 35.68)],                           # the destination just beside the home
    [(139.4300, 35.6803)],                         # just above
])
@pytest.mark.parametrize("names", [("自宅", "避難先", "第二避難先"), ("Home", "Destination", "Alternate"),
                                   ("いえ", "にげる ところ", "つぎに にげる ところ")])
def test_map_labels_never_overlap(others, names):
    points = [MapPoint(139.43, 35.68, names[0], "home")]
    points += [MapPoint(lon, lat, name, kind) for (lon, lat), name, kind in
               zip(others, names[1:], ("destination", "alternate"))]
    boxes = _label_boxes(map_svg(points, None))
    assert len(boxes) == len(points)
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= 170 and 0 <= a[1] and a[3] <= 44, a  # inside the frame
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
