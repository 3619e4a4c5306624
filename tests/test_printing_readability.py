"""Printouts for the people who read them: a reading over every kanji of the やさしい日本語 plan
(SudachiPy), 西暦 first there, line breaks typed into the route kept, phone numbers never broken
across lines, blood type O that cannot be read as zero. Real PDFs read back with poppler."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlmodel import Session

from server.models import EvacuationPlan, Person
from server.printing import furigana, render
from server.printing.context import Reader, plan_prints
from tests.printing_helpers import NOW, flat, pdf_text

KANJI = furigana.KANJI
STAFF_ROUTE = "高齢者等避難の発令で出発\n長女が迎えに来る"


def _plan(engine, *, language="ja-easy", route=STAFF_ROUTE, care=None, supporters=None, **person):
    with Session(engine, expire_on_commit=False) as s:
        row = Person(register_no=person.pop("register_no", "READ-1"), municipality_code="132993",
                     name=person.pop("name", "山田 花子"), name_kana=person.pop("name_kana", "やまだ はなこ"),
                     birth_date=date(1948, 3, 3), sex="female", address="東京都つなぎ市糸見台一丁目2番3号",
                     phone=person.pop("phone", "042-555-0101"), preferred_language=language,
                     notes=person.pop("notes", "鍵は隣家に預けている"), lon=139.43, lat=35.68, **person)
        s.add(row)
        s.flush()
        plan = EvacuationPlan(person_id=row.id, route_note=route, timing_note="避難指示が出たらすぐ",
                              care=care or {"how_to_help": "車椅子を押して移動する", "blood_type": "O"},
                              supporters=supporters or [], author="福祉課 佐藤", consent=True,
                              consent_date=date(2026, 12, 6))
        s.add(plan)
        s.commit()
        return plan


def _context(engine, plan, language=None):
    with Session(engine) as s:
        [context] = plan_prints(s, [s.get(EvacuationPlan, plan.id)], Reader("試験 職員"), now=NOW,
                                language=language)
    return context


class _KanjiOutsideRuby(HTMLParser):
    """Collects text with kanji that is not inside a <ruby> carrying an <rt> (SVG, <title> and
    <style> aside: checked separately or not rendered as text)."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.bare: list[str] = []
        self.rubies: list[dict] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "ruby":
            self.rubies.append({"base": "", "rt": ""})

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data):
        if "ruby" in self.stack:
            key = "rt" if self.stack[-1] == "rt" else "base"
            self.rubies[-1][key] += data
        elif KANJI.search(data) and not {"svg", "title", "style"} & set(self.stack):
            self.bare.append(data)


def test_easy_japanese_plan_has_a_reading_over_every_kanji(engine, tmp_path):
    plan = _plan(engine)
    context = _context(engine, plan)
    html = render.render_html(plans=[context])
    article = html[html.index("<article"):html.index("</article>")]
    parser = _KanjiOutsideRuby()
    parser.feed(article)
    assert not parser.bare, parser.bare[:10]
    # every ruby has a reading in hiragana, and kana outside the base (okurigana stay outside)
    assert parser.rubies and all(r["rt"] and re.fullmatch("[ぁ-ゖー 　]+", r["rt"]) for r in parser.rubies)
    # the staff-written route: one ruby per kanji word, okurigana outside the ruby
    for piece in ("<ruby>高齢者<rt>こうれいしゃ</rt></ruby>", "<ruby>避難<rt>ひなん</rt></ruby>の",
                  "<ruby>発令<rt>はつれい</rt></ruby>で", "<ruby>出発<rt>しゅっぱつ</rt></ruby>",
                  "<ruby>迎<rt>むか</rt></ruby>えに", "<ruby>車椅子<rt>くるまいす</rt></ruby>を"):
        assert piece in article, piece
    # the name keeps its registered reading; the map's SVG (no ruby there) names the 町丁目 in kana
    assert "<ruby>山田 花子<rt>やまだ はなこ</rt></ruby>" in article
    svg = article[article.index("<svg"):article.index("</svg>")] if "<svg" in article else ""
    assert not KANJI.search(re.sub(r"<[^>]*>", "", svg))
    # 西暦 first, the era year beside it
    assert (context.consent_date.main, context.consent_date.aside) == ("2026年12月6日", "令和8年")
    # and the PDF carries the readings
    text = flat(pdf_text(render.plan_pdf(context), tmp_path))
    for reading in ("こうれいしゃ", "はつれい", "しゅっぱつ", "くるまいす"):
        assert reading in text, reading


def test_japanese_and_english_plans_have_no_ruby_from_the_analyzer(engine):
    plan = _plan(engine, language="ja")
    html = render.render_html(plans=[_context(engine, plan)])
    assert "<ruby>高齢者" not in html and "高齢者等避難の発令で出発" in html
    assert _context(engine, plan).consent_date.main == "令和8年12月6日"


def test_readings_are_aligned_per_kanji_run():
    assert furigana.segments("避難する") == [("避難", "ひなん"), ("する", "")]
    assert furigana.segments("取り扱い注意") == [("取", "と"), ("り", ""), ("扱", "あつか"), ("い", ""),
                                                ("注意", "ちゅうい")]
    assert furigana.segments("ひらがなだけ") == [("ひらがなだけ", "")]
    # escaped once, never twice; tags and text already in ruby left alone
    assert str(furigana.annotate_html("<td>&lt;避難&gt;</td><ruby>山田<rt>やまだ</rt></ruby>")) == \
        "<td>&lt;<ruby>避難<rt>ひなん</rt></ruby>&gt;</td><ruby>山田<rt>やまだ</rt></ruby>"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_line_breaks_typed_into_the_route_are_printed(engine, tmp_path):
    route = "自宅を出て右へ\n公民館の前を左へ\r\n<b>小学校</b>の体育館へ"
    plan = _plan(engine, language="ja", route=route)
    text = pdf_text(render.plan_pdf(_context(engine, plan)), tmp_path)
    lines = _lines(text)
    assert "自宅を出て右へ" in lines and "公民館の前を左へ" in lines, [x for x in lines if "右へ" in x]
    assert "<b>小学校</b>の体育館へ" in lines  # escaped: printed as typed, not taken as markup


def _bbox_lines(pdf: bytes, tmp_path) -> list[str]:
    """The PDF's text one physical line at a time (pdftotext -bbox-layout: its <line> elements)."""
    path = tmp_path / "lines.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return ["".join(re.findall(r"<word[^>]*>([^<]*)</word>", line))
            for line in re.findall(r"<line[^>]*>(.*?)</line>", out, re.S)]


LONG_PHONE = "+81-90-1234-5678"


@pytest.mark.parametrize("language", ["en", "ja"])
def test_phone_numbers_are_never_broken_across_lines(engine, tmp_path, language):
    supporters = [{"name": "Maria Santos-Oliveira", "relation": "Neighbour", "address": "",
                   "phone": "携帯 " + LONG_PHONE}]  # too long for one line: wraps before the number
    plan = _plan(engine, language=language, supporters=supporters, phone="+81-42-555-0101",
                 emergency_contacts=[{"name": "Ana", "relation": "daughter", "phone": "+1-415-555-0134"}])
    pdf = render.plan_pdf(_context(engine, plan))
    lines = _bbox_lines(pdf, tmp_path)
    for number in (LONG_PHONE, "+81-42-555-0101", "+1-415-555-0134"):
        assert any(number in line for line in lines), (number, [x for x in lines if "81" in x or "415" in x])
    from tests.printing_helpers import words_inside_pages
    assert words_inside_pages(pdf, tmp_path)


def test_blood_type_o_cannot_be_read_as_zero(engine, tmp_path):
    plan = _plan(engine, language="ja", care={"blood_type": "0型"})  # typed with a zero: no blood type is zero
    ja = flat(pdf_text(render.plan_pdf(_context(engine, plan)), tmp_path))
    assert "オー" in ja and "0型" not in ja and "O" in ja
    en = flat(pdf_text(render.plan_pdf(_context(engine, plan, language="en")), tmp_path))
    assert "O(letterO)" in en
    easy = render.render_html(plans=[_context(engine, plan, language="ja-easy")])
    assert "<ruby class=\"blood\">O型<rt>おーがた</rt></ruby>" in easy
    assert str(render.blood_type("AB型 Rh-", "ja")) == '<ruby class="blood">AB<rt>エービー</rt></ruby>型 Rh-'
    assert str(render.blood_type("不明", "ja")) == "不明"
