"""Real PDFs, read back with poppler and pypdf: the fields are in the text, page counts are
right, pages are not blank, every font is embedded and a CJK font is there (no tofu), bad
input prints (blanks, wrapping, no map) instead of crashing."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlmodel import Session, select

from server.models import EvacuationPlan, Person, Shelter
from server.printing import render
from server.printing.context import Reader, batch_cover, plan_prints
from server.printing.selection import Scope, district_list, select_plans, shelter_roster
from tests.printing_helpers import (NOW, assert_fonts_embedded_with_cjk, dark_fraction, flat, load_city, page_count,
                                    page_texts, pdf_text, words_inside_pages)


@pytest.fixture
def city(engine):
    return load_city(engine)


def _complete_plan(city, language="ja"):
    people = {p.id: p for p in city.people}
    for plan in city.plans:
        person = people[plan.person_id]
        if (person.preferred_language == language and plan.status == "done" and plan.care.doctor
                and plan.alternate_shelter_id and person.emergency_contacts and person.lon is not None):
            return plan, person
    # the demo city is deterministic: a missing example means the generator changed — fail, never skip
    pytest.fail(f"no complete {language} plan in the small demo city")


def _print(engine, plan_id, language=None):
    with Session(engine) as s:
        plan = s.get(EvacuationPlan, plan_id)
        [context] = plan_prints(s, [plan], Reader("試験 職員"), now=NOW, language=language)
    return context, render.plan_pdf(context)


def test_plan_pdf_has_every_field_in_japanese_and_embeds_cjk_fonts(engine, city, tmp_path):
    plan, person = _complete_plan(city)
    context, pdf = _print(engine, plan.id)
    text = flat(pdf_text(pdf, tmp_path))
    shelters = {s.id: s for s in city.shelters}
    expected = [
        "個別避難計画", person.name.replace(" ", ""), person.name_kana.replace(" ", ""), person.register_no,
        flat(person.address), person.phone, context.person.birth_date.main, context.person.birth_date.aside,
        *(flat(s.name) for s in plan.supporters), flat(shelters[plan.destination_shelter_id].name),
        flat(shelters[plan.alternate_shelter_id].name), flat(plan.route_note), flat(plan.timing_note),
        flat(plan.care.walking_ability), flat(plan.care.doctor), flat(plan.care.how_to_help),
        *(flat(c.name) for c in person.emergency_contacts), flat(plan.author),
        "私は、この計画の内容を避難支援等関係者に提供することに同意します。", "避難支援等実施者", "緊急連絡先",
        "配慮事項", "地図", "線は自宅から避難先への直線です", context.review_due.main, "令和8年11月27日",
    ]
    missing = [e for e in expected if e and e not in text]
    assert not missing, missing
    assert 2 <= page_count(pdf) <= 4
    assert_fonts_embedded_with_cjk(pdf, tmp_path)
    assert dark_fraction(pdf, tmp_path, 1) > 0.01  # a rendered page, not a blank one
    assert words_inside_pages(pdf, tmp_path)


def test_english_easy_japanese_and_fallback_printouts(engine, city, tmp_path):
    plan, person = _complete_plan(city)
    _, en = _print(engine, plan.id, language="en")
    text = flat(pdf_text(en, tmp_path))
    for phrase in ("IndividualEvacuationPlan", "Emergencycontacts", "Whentoleave", "氏名", person.register_no):
        assert phrase in text, phrase
    _, easy = _print(engine, plan.id, language="ja-easy")
    text = flat(pdf_text(easy, tmp_path))
    assert "ひなんのけいかく" in text and "にげるところ" in text
    with Session(engine) as s:
        row = s.get(Person, person.id)
        row.preferred_language = "pt"
        s.add(row)
        s.commit()
    context, fallback = _print(engine, plan.id)
    assert context.language.fallback and context.language.code == "ja-easy"
    text = flat(pdf_text(fallback, tmp_path))
    assert "やさしいにほんごとえいご" in text and "easyJapaneseandEnglish" in text and "Name" in text
    assert_fonts_embedded_with_cjk(fallback, tmp_path)


def _bare_plan(engine, **person_fields):
    with Session(engine, expire_on_commit=False) as s:
        person = Person(register_no=person_fields.pop("register_no", "BARE-1"), municipality_code="132993",
                        name=person_fields.pop("name", "空欄 試験"), birth_date=date(1950, 1, 1), sex="unknown",
                        address=person_fields.pop("address", "住所不明"), **person_fields)
        s.add(person)
        s.flush()
        plan = EvacuationPlan(person_id=person.id)
        s.add(plan)
        s.commit()
        return plan


def test_plan_with_missing_fields_prints_blanks_and_says_there_is_no_map(engine, city, tmp_path):
    plan = _bare_plan(engine)
    context, pdf = _print(engine, plan.id)
    text = flat(pdf_text(pdf, tmp_path))
    assert "空欄試験" in text and "BARE-1" in text
    assert "位置情報が登録されていないため、地図はありません。" in text
    assert "空欄は手書きで記入してください" in text and "年月日" in text
    assert context.map.svg is None
    assert_fonts_embedded_with_cjk(pdf, tmp_path)


def test_very_long_name_address_and_notes_wrap_inside_the_page(engine, city, tmp_path):
    long_name = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処" * 2
    long_address = "東京都つなぎ市" + "長い長い番地の" * 35 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 2
    notes = "鍵は隣家に預けている。" * 150
    plan = _bare_plan(engine, register_no="LONG-1", name=long_name[:100], address=long_address[:300],
                      notes=notes[:2000], lon=139.43, lat=35.68)
    with Session(engine) as s:
        row = s.get(EvacuationPlan, plan.id)
        row.route_note = "まっすぐ北へ進み、" * 100
        row.care = {"how_to_help": "声をかけて一緒に移動する。" * 70, "items_to_carry": "Medication" * 90}
        s.add(row)
        s.commit()
    _, pdf = _print(engine, plan.id)
    text = flat(pdf_text(pdf, tmp_path))
    assert flat(long_address[:300]) in text
    assert flat(long_name[:100]) in text
    assert words_inside_pages(pdf, tmp_path)


def test_batch_has_cover_index_and_a_new_page_per_person(engine, city, tmp_path):
    with Session(engine) as s:
        plans, description = select_plans(s, "shelter", _busiest_shelter(s), Scope())
        plans = plans[:6]
        prints = plan_prints(s, plans, Reader("staff"), now=NOW, numbered=True)
    cover = batch_cover(prints, description, Reader("staff"), now=NOW)
    result = render.batch_pdf(prints, cover, chunk=4)  # two chunks: page numbers run on across them
    pages = page_texts(result.pdf, tmp_path)
    assert len(pages) == result.pages == page_count(result.pdf)
    assert result.cover_pages >= 1 and result.plans == 6
    index = flat("".join(pages[:result.cover_pages]))
    assert "個別避難計画一括印刷" in index and flat(description) in index
    starts = [e.page for e in cover.entries]
    assert starts == sorted(starts) and starts[0] == result.cover_pages + 1
    for entry, plan_print in zip(cover.entries, prints):
        first_page = flat(pages[entry.page - 1])
        assert f"No.{entry.sequence}" in first_page and plan_print.person.name.replace(" ", "") in first_page
        assert plan_print.person.name.replace(" ", "") in index
    # each plan starts on its own page: the page before a plan's first page belongs to the previous one
    ends = starts[1:] + [result.pages + 1]
    assert all(end - start >= 1 for start, end in zip(starts, ends))
    # every page of a plan repeats its running head: the name and the No.
    for entry, plan_print, end in zip(cover.entries, prints, ends):
        for number in range(entry.page, end):
            page = flat(pages[number - 1])
            assert f"No.{entry.sequence}" in page and plan_print.person.name.replace(" ", "") in page, number
    # page numbers run through the whole batch, across the two chunks: each page's last word
    assert [page.split()[-1] for page in pages] == [str(n) for n in range(1, result.pages + 1)]
    assert f"{result.pages:,}ページ" in index  # the cover gives the total
    assert_fonts_embedded_with_cjk(result.pdf, tmp_path)


def _busiest_shelter(session):
    from collections import Counter

    counts = Counter(session.exec(select(EvacuationPlan.destination_shelter_id)).all())
    counts.pop(None, None)
    return str(counts.most_common(1)[0][0])


def test_door_to_door_list_and_shelter_roster(engine, city, tmp_path):
    with Session(engine) as s:
        chome = next(d for d in city.chome if any(p.district_id == d.id for p in city.people))
        listing = district_list(s, chome.code, Scope(), now=NOW)
        shelter_id = _busiest_shelter(s)
        roster = shelter_roster(s, shelter_id, Scope(), now=NOW)
        shelter = s.get(Shelter, uuid.UUID(shelter_id))
    people = [p for p in city.people if p.district_id == chome.id]
    assert len(listing.rows) == len(people) and listing.visits == 3
    pdf = render.field_list_pdf(listing)
    text = flat(pdf_text(pdf, tmp_path))
    assert "安否確認リスト" in text and flat(chome.name) in text and "1回目" in text and "3回目" in text
    for person in people:
        assert person.name.replace(" ", "") in text and flat(person.address) in text
        if person.phone:
            assert person.phone in text
    assert_fonts_embedded_with_cjk(pdf, tmp_path)
    from pypdf import PdfReader
    import io

    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert box.width > box.height  # landscape
    roster_pdf = render.field_list_pdf(roster)
    text = flat(pdf_text(roster_pdf, tmp_path))
    assert "受入予定者名簿" in text and flat(shelter.name) in text and roster.rows
    assert all(row.name.replace(" ", "") in text for row in roster.rows)
    assert {row.destination for row in roster.rows} <= {"避難先", "第二避難先"}


def test_empty_field_list_and_empty_batch_still_print(engine, tmp_path):
    from server.printing.context import FieldList
    from server.printing.i18n import date_text, resolve_language

    empty = FieldList(kind="district", title="安否確認リスト", subject="無人町", subject_detail="", rows=[], visits=3,
                      printed=date_text(NOW, resolve_language("ja")), printed_by="")
    assert "該当する人はいません" in flat(pdf_text(render.field_list_pdf(empty), tmp_path))
    result = render.batch_pdf([], batch_cover([], "地区: 無人町", Reader(), now=NOW))
    assert result.pages == result.cover_pages and "該当する計画はありません" in flat(pdf_text(result.pdf, tmp_path))


def test_field_list_running_head_is_escaped_css_and_printed_on_every_page(engine, tmp_path):
    """The running head of a field list is a CSS string built from data: quotes, backslashes and
    markup in it print as they are and cannot end the style sheet."""
    from server.printing.context import FieldList, FieldListRow
    from server.printing.i18n import date_text, resolve_language

    subject = '無人町"</style><h1>X</h1>\\'
    rows = [FieldListRow(sequence=n, person_id=str(uuid.uuid4()), register_no=f"R{n:04d}", name=f"試験 {n}号",
                         name_kana="しけん", age=80, address="つなぎ市一丁目", phone="", needs=["移動"],
                         emergency="", household="", destination="", group="") for n in range(1, 41)]
    listing = FieldList(kind="district", title="安否確認リスト", subject=subject, subject_detail="", rows=rows,
                        visits=3, printed=date_text(NOW, resolve_language("ja")), printed_by="試験")
    pdf = render.field_list_pdf(listing)
    pages = page_texts(pdf, tmp_path)
    assert len(pages) >= 2
    for page in pages:
        assert flat(f"安否確認リスト — {subject}") in flat(page)
        assert "個人情報を含みます" in page
    assert all(f"試験{n}号" in flat("".join(pages)) for n in range(1, 41))


def test_css_string_escapes_everything_that_could_leave_the_string():
    from server.printing.render import css_string

    out = str(css_string('a"b\\c</style>&\n'))
    assert out.startswith('"') and out.endswith('"')
    inner = out[1:-1]
    assert not any(ch in inner for ch in '"<>&\n')
    assert inner == "a\\22 b\\5c c\\3c /style\\3e \\26 \\a "


def test_missing_chromium_is_a_clear_error_not_a_crash():
    from server.printing.engine import EngineUnavailable, PdfEngine, find_chromium

    engine = PdfEngine(executable="/nonexistent/chromium")
    try:
        with pytest.raises(EngineUnavailable, match="did not start"):
            engine.pdf("<p>x</p>")
    finally:
        engine.close()
    with pytest.raises(EngineUnavailable, match="no such program"):
        find_chromium("/nonexistent/chromium")


def test_idle_engine_stops_and_starts_again_for_the_next_document():
    import time

    from server.printing.engine import PdfEngine

    engine = PdfEngine(idle_seconds=0.5)
    try:
        first = engine.pdf("<p>一枚目</p>")
        deadline = time.monotonic() + 30
        while engine._thread is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert engine._thread is None  # browser, driver and thread have stopped
        second = engine.pdf("<p>二枚目</p>")
        assert first.startswith(b"%PDF") and second.startswith(b"%PDF")
    finally:
        engine.close()


def test_duplex_batch_starts_every_plan_on_a_new_sheet(engine, city, tmp_path):
    """Double-sided printing: the cover and every plan take an even number of pages (a blank page
    after odd-length ones), so every plan starts on an odd page; page numbers still run through."""
    with Session(engine) as s:
        ids = [p.id for p in s.exec(select(EvacuationPlan).order_by(EvacuationPlan.id).limit(3)).all()]
        long = s.get(EvacuationPlan, ids[1])
        long.route_note = "まっすぐ北へ進み、" * 100  # this plan runs to three pages
        s.add(long)
        s.commit()
        plans = [s.get(EvacuationPlan, i) for i in ids]
        prints = plan_prints(s, plans, Reader("staff"), now=NOW, numbered=True)
    single = render.batch_pdf(prints, batch_cover(prints, "選択", Reader("staff"), now=NOW), chunk=2)
    lengths = render.plan_lengths(prints, render.html_to_pdf(render.render_html(plans=prints)))
    assert any(n % 2 for n in lengths), lengths  # the test needs an odd-length plan
    cover = batch_cover(prints, "選択", Reader("staff"), now=NOW, duplex=True)
    result = render.batch_pdf(prints, cover, chunk=2)
    pages = page_texts(result.pdf, tmp_path)
    starts = [e.page for e in cover.entries]
    assert result.cover_pages % 2 == 0 and all(start % 2 == 1 for start in starts), (result.cover_pages, starts)
    assert result.pages % 2 == 0 and result.pages > single.pages
    assert "この面は白紙です" in flat("".join(pages)) and "両面印刷用" in flat("".join(pages[:result.cover_pages]))
    assert [page.split()[-1] for page in pages] == [str(n) for n in range(1, result.pages + 1)]
    for entry, plan_print in zip(cover.entries, prints):
        assert f"No.{entry.sequence}" in flat(pages[entry.page - 1])

