"""How many A4 pages a plan takes, measured in real PDFs. The やさしい日本語 and English plans fit
two pages like the Japanese one (printed double-sided, a third page costs a second sheet; a person
keeps two pages on the fridge), at the same font sizes, the やさしい日本語 one with ruby over every
kanji and the English one with the Japanese term beside every label; a plan with
unusually much text may take a third page, and then it breaks between sections, never inside
one (a table row, a supporter's block). docs/printing.md, "Two pages"."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from datetime import date

import pytest
from sqlmodel import Session, select

from server.models import EvacuationPlan, Person, Shelter
from server.printing import render
from server.printing.context import Reader, plan_prints
from tests.printing_helpers import NOW, load_city, page_count

THREE_SUPPORTERS = [
    {"name": "高木 美咲", "relation": "近隣住民", "address": "東京都つなぎ市結野一丁目12番12号", "phone": "042-181-0145"},
    {"name": "結野自主防災会", "relation": "自主防災組織", "address": "東京都つなぎ市結野一丁目3番1号",
     "phone": "03-1650-4011"},
    {"name": "松尾 美咲", "relation": "姪", "address": "東京都八王子市元本郷町三丁目24番1号", "phone": "090-1446-6644"},
]
CARE = {"walking_ability": "杖があれば近くまで歩ける。階段は手すりが必要", "how_to_help": "声をかけ続け、一人にしない。車椅子を押して移動する",
        "items_to_carry": "お薬手帳、保険証、眼鏡、補聴器の電池", "usual_location": "1階の寝室", "building_structure": "木造2階建",
        "doctor": "緑が丘ホームクリニック 042-127-6957", "conditions": "心不全、糖尿病", "allergies": "ペニシリン",
        "blood_type": "A型"}
CONTACTS = [{"name": "山田 太郎", "relation": "長男", "phone": "090-1234-5678"},
            {"name": "山田 次郎", "relation": "次男", "phone": "080-2345-6789"}]


def _contexts(engine, plans, language, numbered=False):
    with Session(engine) as s:
        return plan_prints(s, [s.get(EvacuationPlan, p.id) for p in plans], Reader("試験 職員"), now=NOW,
                           language=language, numbered=numbered)


def _batch_lengths(contexts) -> list[int]:
    """Pages each plan takes when printed in a batch (numbered, several plans per document), as
    render.batch_pdf prints its chunks."""
    lengths = []
    for i in range(0, len(contexts), render.CHUNK):
        group = contexts[i:i + render.CHUNK]
        lengths += render.plan_lengths(group, render.html_to_pdf(render.render_html(plans=group)))
    return lengths


@pytest.mark.parametrize("language", ["ja-easy", "en"])
def test_every_demo_plan_fits_two_pages(engine, language):
    """やさしい日本語 labels are hiragana words about twice as long as the kanji ones, and the English
    labels carry the Japanese term beside them (Register no. 登録者番号): in the Japanese plan's label
    columns they wrapped, and every plan took three pages."""
    load_city(engine)
    with Session(engine) as s:
        plans = list(s.exec(select(EvacuationPlan).order_by(EvacuationPlan.id)).all())
    assert len(plans) > 100
    lengths = Counter(_batch_lengths(_contexts(engine, plans, language, numbered=True)))
    assert set(lengths) <= {1, 2}, lengths  # the small demo city: 164 plans, all of them on 2 pages


def _usual_plan(engine, **overrides):
    """A complete plan: three supporters, destination and alternate, route, timing, every care
    field, two emergency contacts, consent, reasons and care needs."""
    with Session(engine, expire_on_commit=False) as s:
        shelters = list(s.exec(select(Shelter).order_by(Shelter.id).limit(2)).all())
        person = Person(register_no="USUAL-1", municipality_code="132993", name="山田 花子", name_kana="やまだ はなこ",
                        birth_date=date(1942, 3, 3), sex="female", postal_code="190-9902",
                        address="東京都つなぎ市結野一丁目25番8号 コーポ結野 101", phone="042-198-0884",
                        preferred_language="ja-easy", reasons=["care_level_3plus", "elderly_household"],
                        care_needs=["bedridden", "power_dependent", "suction"], household="elderly_only",
                        neighborhood_association="結野自治会", minsei_iin="石田 直美",
                        notes=overrides.pop("notes", "鍵は隣家の高木さんに預けている"),
                        emergency_contacts=CONTACTS, lon=139.43, lat=35.68, consent="yes",
                        consent_date=date(2026, 4, 9))
        s.add(person)
        s.flush()
        plan = EvacuationPlan(person_id=person.id, supporters=overrides.pop("supporters", THREE_SUPPORTERS),
                              destination_shelter_id=shelters[0].id, alternate_shelter_id=shelters[1].id,
                              route_note=overrides.pop("route_note", "自宅から南西へ約820m。福祉車両または家族の車で搬送"),
                              timing_note="高齢者等避難の発令で避難を開始する", care=overrides.pop("care", CARE),
                              author="つなぎ市地域共生推進課 山口", consent=True, consent_date=date(2026, 4, 9),
                              review_due=date(2027, 6, 5), status="done")
        s.add(plan)
        s.commit()
        return plan


def _word_heights(pdf: bytes, tmp_path, word: str) -> set[float]:
    path = tmp_path / "heights.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return {round(float(y1) - float(y0), 1) for y0, y1 in re.findall(
        r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">' + re.escape(word) + "</word>", out)}


def test_a_complete_plan_with_three_supporters_takes_two_pages_alone_and_in_a_batch(engine, tmp_path):
    load_city(engine)
    plan = _usual_plan(engine)
    heights = {}
    for language in ("ja", "ja-easy", "en"):
        [alone] = _contexts(engine, [plan], language)
        assert len(alone.supporters) == 3 and alone.destination and alone.alternate and len(alone.care) == 9
        pdf = render.plan_pdf(alone)
        assert page_count(pdf) == 2, language
        assert _batch_lengths(_contexts(engine, [plan], language, numbered=True)) == [2], language
        # the same body text size in all three (the phone numbers: the person's and the contacts')
        heights[language] = _word_heights(pdf, tmp_path, "090-1234-5678") | _word_heights(pdf, tmp_path, "042-198-0884")
    assert heights["ja-easy"] and heights["ja-easy"] == heights["ja"] == heights["en"], heights


def _page_lines(pdf: bytes, tmp_path) -> list[list[tuple[float, str]]]:
    """Per page, its lines of text top to bottom as (top y in points, text): the words of
    `pdftotext -bbox` that share a top (its own line grouping mixes ruby into other lines)."""
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in re.findall(r"<page [^>]*>(.*?)</page>", out, re.S):
        lines: dict[float, str] = {}
        for x, y, word in sorted((float(x), round(float(y), 1), w) for x, y, w in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', page)):
            lines[y] = lines.get(y, "") + word
        pages.append(sorted(lines.items()))
    return pages


@pytest.mark.parametrize("language", ["ja-easy", "en"])
def test_a_long_plan_breaks_between_sections(engine, tmp_path, language):
    load_city(engine)
    long_route = "\n".join(f"{n}. 自宅を出て公民館の前を左へ曲がり、坂道をゆっくり上って小学校の体育館へ向かう" for n in range(1, 7))
    long_care = dict(CARE, how_to_help="声をかけ続け、一人にしない。車椅子を押して移動する。" * 4,
                     items_to_carry="お薬手帳、保険証、眼鏡、補聴器の電池、紙おむつ、着替え、水。" * 3)
    plan = _usual_plan(engine, route_note=long_route, care=long_care, notes="鍵は隣家の高木さんに預けている。" * 6)
    [context] = _contexts(engine, [plan], language)
    pdf = render.plan_pdf(context)
    pages = _page_lines(pdf, tmp_path)
    assert len(pages) == 3
    headings = {str(context.labels[key].text) for key in (
        "person_section", "supporters_section", "destination_section", "route_section", "map", "care_section",
        "contacts_section", "consent_section")}
    squeezed = {h.replace(" ", ""): h for h in headings}
    for number, lines in enumerate(pages[1:], start=2):
        # below the running head (the plan's title, the name and the register number, with
        # their readings), the first line of the page is a section's heading: nothing of a
        # section was carried over from the page before (an English heading's Japanese term,
        # smaller, is a line of its own here)
        head = next(y for y, text in lines if "USUAL-1" in text)
        body = [(y, text) for y, text in lines if y > head]
        assert body and body[0][1] in squeezed, (number, body[:3])
    # the three supporters are on one page
    supporter_pages = {n for n, lines in enumerate(pages) for _, text in lines
                       if any(s["phone"] in text for s in THREE_SUPPORTERS)}
    assert len(supporter_pages) == 1
