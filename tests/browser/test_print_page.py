"""The /print page and the printout previews in Debian's Chromium: find one person's plan by
kana, name or 登録者番号, batch form with labelled selects, no axe violations on the page and
on the previews (ja, en, やさしい日本語, field list) at 1280×800 and 390×844; map labels that
never collide, measured in the browser. Writes test-artifacts/print-*.png for people to look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from server.models import EvacuationPlan, Person
from server.printing import render
from server.printing.mapinset import MapPoint, map_svg

from .conftest import PASSWORD
from .pwa_helpers import PHONE, TABLET, run_axe

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts() -> Path:
    folder = ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def _signed_in(browser, server, role: str, viewport: dict):
    user = server.add_user(role)
    context = browser.new_context(base_url=server.url, viewport=viewport, locale="ja-JP")
    answer = context.request.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert answer.ok, answer.text()
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return context, page


def _no_violations(page, what: str):
    violations = run_axe(page)
    assert violations == [], what + ": " + json.dumps(violations, ensure_ascii=False, indent=1)


def _person_with_plan(server) -> Person:
    with server.session() as s:
        return s.exec(select(Person).join(EvacuationPlan, EvacuationPlan.person_id == Person.id)
                      .where(Person.name_kana != "").order_by(Person.register_no)).first()


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["1280x800", "390x844"])
def test_find_one_persons_plan_and_no_axe_violations(live_server, browser, artifacts, viewport):
    person = _person_with_plan(live_server)
    context, page = _signed_in(browser, live_server, "welfare_staff", viewport)
    size = f"{viewport['width']}x{viewport['height']}"
    try:
        page.goto("/print")
        _no_violations(page, "/print")
        # the reading typed in hiragana finds a katakana ふりがな, spaces ignored
        kana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in person.name_kana.replace(" ", ""))
        page.get_by_label("氏名・ふりがな・登録者番号").fill(kana)
        page.get_by_role("button", name="探す").click()
        page.wait_for_selector("#find-results")
        rows = page.locator("#find-results tbody tr")
        assert rows.count() >= 1
        assert person.register_no in page.locator("#find-results").inner_text()
        _no_violations(page, "/print with results")
        page.screenshot(path=str(artifacts / f"print-page-{size}.png"), full_page=True)
        page.get_by_label("氏名・ふりがな・登録者番号").fill(person.register_no)
        page.get_by_role("button", name="探す").click()
        page.wait_for_selector("#find-results")
        assert page.locator("#find-results tbody tr").count() == 1
        preview = page.locator("#find-results a", has_text="表示").first.get_attribute("href")
        for lang in ("ja", "en", "ja-easy"):
            page.goto(f"{preview}?lang={lang}")
            assert page.locator("main h1").count() == 1
            _no_violations(page, f"preview {lang}")
            page.screenshot(path=str(artifacts / f"print-preview-{lang}-{size}.png"))
        page.goto("/print")
        district_preview = page.locator("a[href^='/print/preview/field-lists/district/']").first.get_attribute("href")
        page.goto(district_preview)
        _no_violations(page, "district list preview")
        assert page.errors == []
    finally:
        context.close()


def test_batch_form_value_lists_are_labelled_and_a_batch_prints(live_server, browser):
    context, page = _signed_in(browser, live_server, "welfare_staff", TABLET)
    try:
        page.goto("/print")
        # each value list is named by its label (axe: select-name), and only the chosen one shows
        assert page.evaluate("() => [...document.querySelectorAll('select')].every((s) => s.labels.length === 1)")
        assert page.locator("#batch-district").is_visible() and not page.locator("#batch-shelter").is_visible()
        page.select_option("#batch-by", "shelter")
        assert page.locator("#batch-shelter").is_visible() and not page.locator("#batch-district").is_visible()
        page.get_by_role("button", name="印刷開始").click()
        page.wait_for_selector("#batch-link:not([hidden])", timeout=120_000)
        assert page.locator("#batch-text").inner_text().startswith("完了")
        assert page.errors == []
    finally:
        context.close()


# ---- the map inset's labels, measured in Chromium with the print fonts ----

HOME = (139.4300, 35.6800)
CASES = {
    "same point": [HOME, HOME, HOME],
    "one metre apart": [HOME, (139.43001, 35.68), (139.43, 35.68001)],
    "ten metres apart": [HOME, (139.4301, 35.68), (139.4299, 35.6800)],
    "destination just right": [HOME, (139.4306, 35.6800), None],
    "destination just above": [HOME, (139.4300, 35.6803), None],
}
LABELS = {"ja": ("自宅", "避難先", "第二避難先"), "en": ("Home", "Destination", "Alternate"),
          "ja-easy": ("いえ", "にげる ところ", "つぎに にげる ところ")}


def _maps_html() -> str:
    parts = []
    for lang, (home, dest, alt) in LABELS.items():
        for name, (h, d, a) in CASES.items():
            points = [MapPoint(*h, home, "home"), MapPoint(*d, dest, "destination")]
            if a is not None:
                points.append(MapPoint(*a, alt, "alternate"))
            parts.append(f'<div class="map-case" lang="{"en" if lang == "en" else "ja"}" '
                         f'data-case="{lang}: {name}">{map_svg(points, None)}</div>')
    return (f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><style>{render.stylesheet()}</style>'
            f'</head><body>{"".join(parts)}</body></html>')


def test_map_labels_never_collide(browser):
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    try:
        page.set_content(_maps_html())
        cases = page.evaluate("""() => [...document.querySelectorAll('.map-case')].map((div) => ({
            name: div.dataset.case,
            labels: [...div.querySelectorAll('text[data-kind]')].map((t) => {
                const b = t.getBBox();
                const r = t.previousElementSibling;  // the label's white background: its estimated box
                return { kind: t.dataset.kind, x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height,
                         est: [r.x.baseVal.value, r.y.baseVal.value, r.x.baseVal.value + r.width.baseVal.value,
                               r.y.baseVal.value + r.height.baseVal.value] };
            }),
        }))""")
        assert len(cases) == len(CASES) * len(LABELS)
        for case in cases:
            labels = case["labels"]
            assert len(labels) >= 2, case
            for i, a in enumerate(labels):
                # the text as drawn lies inside its estimated box, and inside the 170×44 frame
                est = a["est"]
                assert est[0] <= a["x0"] + 0.05 and a["x1"] <= est[2] + 0.05, (case["name"], a)
                assert 0 <= a["x0"] and a["x1"] <= 170 and 0 <= a["y0"] and a["y1"] <= 44, (case["name"], a)
                for b in labels[i + 1:]:
                    apart = a["x1"] <= b["x0"] or b["x1"] <= a["x0"] or a["y1"] <= b["y0"] or b["y1"] <= a["y0"]
                    assert apart, (case["name"], a, b)
    finally:
        context.close()
