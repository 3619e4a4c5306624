"""Context objects → HTML (Jinja2) → PDF (headless Chromium, engine.py); batches in chunks merged with pypdf.

A printout is one self-contained HTML document: print.css inline, the QR code and the map
inset as inline SVG. A batch is printed in chunks of `CHUNK` plans, one after another, so that
the browser's memory stays bounded (one document of 1,000 plans needs ~3 GB); the chunks are
appended after the cover and index. Page numbers run through the whole batch: each chunk's
page footer counts with a CSS counter style that starts where the previous chunk ended, and
the index gives each plan's first page, read from the chunk PDFs' named destinations (each
plan's "No." links to the plan itself, which makes Chromium name that spot).
tests/bench/bench_print.py measures it.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from . import furigana
from .context import BatchCover, FieldList, PlanPrint
from .engine import engine

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS_FILE = TEMPLATES / "print.css"
CHUNK = 50
PAGES_PER_PLAN_MAX = 40  # counter-style symbols per plan of a chunk (a chunk needing more is printed again)

Progress = Callable[[int, int], None]


def css_string(value) -> Markup:
    """A CSS string literal, safe inside <style>: quotes, backslashes, <, >, & and controls escaped."""
    out = []
    for ch in str(value):
        if ch in '"\\\'<>&' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


# A phone number: digits with the separators people type (hyphens of every width, brackets,
# spaces, a leading +), at least 7 characters. It is printed in one piece (no line break inside).
PHONE = re.compile(r"[+＋]?[(（]?[0-9０-９][0-9０-９()（）\-‐‑–−－ー ]{5,}[0-9０-９]")


def tel(value) -> Markup:
    """The text, escaped, with every phone number in a <span class="tel"> that never wraps."""
    text = "" if value is None else str(value)
    out, last = [], 0
    for match in PHONE.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<span class="tel">{}</span>').format(match.group()))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


BLOOD = re.compile(r"\s*(AB|A|B|O|0)\s*(?:型)?\s*(.*)", re.I | re.S)
LETTER_NAMES = {"A": "エー", "B": "ビー", "O": "オー", "AB": "エービー"}


def blood_type(value, code: str) -> Markup:
    """Blood type so that O never reads as zero: the letter with its name as ruby (O, オー);
    in English "(letter O)". "0型" typed by mistake is the letter O: no blood type is zero."""
    text = "" if value is None else str(value).strip()
    match = BLOOD.fullmatch(unicodedata.normalize("NFKC", text))
    if match is None:
        return escape(text)
    letter, rest = match.group(1).upper().replace("0", "O"), match.group(2).strip()
    rest_html = Markup(" {}").format(rest) if rest else Markup("")
    if code == "en":
        note = Markup(' <span class="blood-note">(letter O)</span>') if letter == "O" else Markup("")
        return Markup('<span class="blood">{}</span>{}{}').format(letter, note, rest_html)
    name = LETTER_NAMES[letter]
    if code == "ja-easy":
        return Markup('<ruby class="blood">{}型<rt>{}がた</rt></ruby>{}').format(
            letter, furigana.hiragana(name), rest_html)
    return Markup('<ruby class="blood">{}<rt>{}</rt></ruby>型{}').format(letter, name, rest_html)


def furigana_filter(value, enabled: bool) -> Markup:
    """Ruby over every kanji of a rendered fragment (the やさしい日本語 plan), else unchanged."""
    return furigana.annotate_html(value) if enabled else Markup(value)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    env.filters["tel"] = tel
    env.filters["blood_type"] = blood_type
    env.filters["furigana"] = furigana_filter
    return env


@lru_cache(maxsize=1)
def stylesheet() -> Markup:
    return Markup(CSS_FILE.read_text(encoding="utf-8"))


def render_html(*, plans: list[PlanPrint] = (), cover: BatchCover | None = None,
                field_list: FieldList | None = None, title: str = "", preview: bool = False,
                css_href: str = "/print/print.css", page_css: str = "", blank_after: frozenset = frozenset()) -> str:
    """The printout as one HTML document: print.css inline, or linked for a browser (`preview`).
    `page_css` is added after print.css (the batch's page counter); a blank page follows each
    plan whose id is in `blank_after` (double-sided printing)."""
    plans = list(plans)
    html_lang = plans[0].language.html_lang if len(plans) == 1 and not cover else "ja"
    return environment().get_template("document.html").render(
        plans=plans, cover=cover, field_list=field_list, title=title or _title(plans, cover, field_list),
        preview=preview, css_href=css_href, html_lang=html_lang, stylesheet=stylesheet(),
        page_css=Markup(page_css), blank_after=blank_after)


def _title(plans, cover, field_list) -> str:
    if field_list is not None:
        return f"{field_list.title} {field_list.subject}"
    if cover is not None:
        return cover.title
    return "個別避難計画" if not plans else f"個別避難計画 {plans[0].person.register_no}"


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    starts: dict[str, int]  # element id (plan-<uuid>) → first page, 1-based within this PDF


def html_to_pdf(html: str) -> Rendered:
    from pypdf import PdfReader

    pdf = engine().pdf(html)
    reader = PdfReader(io.BytesIO(pdf))
    starts: dict[str, int] = {}
    for name, destination in reader.named_destinations.items():
        name = str(name).lstrip("/")
        if name.startswith("plan-"):
            starts[name] = reader.get_destination_page_number(destination) + 1
    return Rendered(pdf, len(reader.pages), starts)


# ---- single printouts ----

def plan_pdf(plan: PlanPrint) -> bytes:
    return html_to_pdf(render_html(plans=[plan])).pdf


def field_list_pdf(field_list: FieldList) -> bytes:
    return html_to_pdf(render_html(field_list=field_list)).pdf


# ---- batches ----

@dataclass
class BatchResult:
    pdf: bytes
    pages: int
    plans: int
    cover_pages: int
    seconds: float
    timings: dict = None  # seconds by step: html, plans, cover, merge

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def page_counter_css(first: int, count: int) -> str:
    """Page footers numbered first, first + 1, … (CSS cannot start the page counter elsewhere
    than 1, so a counter style spells the numbers out); the total is on the cover."""
    symbols = " ".join(f'"{n}"' for n in range(first, first + count))
    return ("@counter-style tsunagu-batch-page { system: fixed 1; symbols: " + symbols + "; }\n"
            "@page { @bottom-right { content: counter(page, tsunagu-batch-page); } }")


COVER_PAGE_CSS = "@page { @bottom-right { content: counter(page); } }"


def batch_pdf(plans: list[PlanPrint], cover: BatchCover, *, progress: Optional[Progress] = None,
              chunk: int = CHUNK) -> BatchResult:
    """One PDF: the cover and index, then every plan from a new page, with a bookmark per plan.

    `progress(done, total)` is called as chunks of plans are printed. With `cover.duplex`
    (double-sided printing) the cover and every plan take an even number of pages — a blank
    page follows those that would not — so each plan starts on a new sheet.
    """
    started = time.perf_counter()
    total = len(plans)
    groups = [plans[i:i + chunk] for i in range(0, total, chunk)]
    timings = {"html": 0.0, "plans": 0.0, "cover": 0.0}
    if progress:
        progress(0, total)
    # The index has one line per plan and a fixed-width page column, so its length does not
    # depend on the page numbers: print it once without them to know where the plans start.
    mark = time.perf_counter()
    cover.total_pages, cover.blank_page = None, False
    cover_rendered = html_to_pdf(render_html(cover=cover, page_css=COVER_PAGE_CSS))
    if cover.duplex and cover_rendered.pages % 2:
        cover.blank_page = True
        cover_rendered = html_to_pdf(render_html(cover=cover, page_css=COVER_PAGE_CSS))
    timings["cover"] += time.perf_counter() - mark
    for _ in range(3):
        cover_pages = cover_rendered.pages
        chunk_pdfs: list[Rendered] = []
        offset, done = cover_pages, 0
        for group in groups:
            rendered = _print_chunk(group, offset + 1, timings, duplex=cover.duplex)
            chunk_pdfs.append(rendered)
            offset += rendered.pages
            done += len(group)
            if progress:
                progress(done, total)
        first_pages = _first_pages(groups, chunk_pdfs, cover_pages)
        for entry in cover.entries:
            entry.page = first_pages.get(entry.plan_id)
        cover.cover_pages, cover.total_pages = cover_pages, offset
        mark = time.perf_counter()
        cover_rendered = html_to_pdf(render_html(cover=cover, page_css=COVER_PAGE_CSS))
        timings["cover"] += time.perf_counter() - mark
        if cover_rendered.pages == cover_pages:
            break
        # Not expected (fixed one-line rows); the plans' page numbers would be off: print them again.
    mark = time.perf_counter()
    pages = cover_rendered.pages + sum(r.pages for r in chunk_pdfs)
    pdf = _merge(cover_rendered, plans, chunk_pdfs, first_pages)
    timings["merge"] = time.perf_counter() - mark
    return BatchResult(pdf, pages, total, cover_rendered.pages, time.perf_counter() - started, timings)


def _print_chunk(group: list[PlanPrint], first_page: int, timings: dict, duplex: bool = False) -> Rendered:
    count = max(1, len(group)) * PAGES_PER_PLAN_MAX
    blank_after: frozenset = frozenset()
    while True:
        mark = time.perf_counter()
        html = render_html(plans=group, page_css=page_counter_css(first_page, count), blank_after=blank_after)
        timings["html"] += time.perf_counter() - mark
        mark = time.perf_counter()
        rendered = html_to_pdf(html)
        timings["plans"] += time.perf_counter() - mark
        if rendered.pages > count:
            count = rendered.pages  # more pages than the counter style spelled out: print again with enough
            continue
        if duplex:
            # Plans start on a new page whatever comes before them, so a blank page after each
            # odd-length plan changes nothing else: print the chunk again with those pages.
            odd = frozenset(plan.plan_id for plan, length in zip(group, plan_lengths(group, rendered))
                            if length % 2) | blank_after
            if odd != blank_after:
                blank_after = odd
                continue
        return rendered


def plan_lengths(group: list[PlanPrint], rendered: Rendered) -> list[int]:
    """Pages each plan of a chunk takes (a blank page after it included), from the plans' first pages."""
    starts = [rendered.starts.get(f"plan-{plan.plan_id}", 1) for plan in group]
    ends = starts[1:] + [rendered.pages + 1]
    return [end - start for start, end in zip(starts, ends)]


def _first_pages(groups: list[list[PlanPrint]], chunks: list[Rendered], cover_pages: int) -> dict[str, int]:
    """Plan id → the plan's first page in the whole batch (1-based), from each chunk's starts."""
    first_pages: dict[str, int] = {}
    offset = cover_pages
    for group, rendered in zip(groups, chunks):
        for plan in group:
            first_pages[plan.plan_id] = offset + rendered.starts.get(f"plan-{plan.plan_id}", 1)
        offset += rendered.pages
    return first_pages


def _merge(cover: Rendered, plans: list[PlanPrint], chunks: list[Rendered], first_pages: dict[str, int]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for rendered in (cover, *chunks):
        writer.append(PdfReader(io.BytesIO(rendered.pdf)), import_outline=False)
    writer.add_outline_item(title="表紙・索引 Cover and index", page_number=0)
    for plan in plans:
        title = f"No.{plan.sequence} {plan.person.name} ({plan.person.register_no})"
        writer.add_outline_item(title=title, page_number=first_pages[plan.plan_id] - 1)
    writer.add_metadata({"/Title": "個別避難計画 一括印刷", "/Creator": "Tsunagu"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
