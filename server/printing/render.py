"""Context objects → HTML (Jinja2) → PDF (WeasyPrint); batches in parallel chunks merged with pypdf.

Why chunks: WeasyPrint's layout time per page grows with the document's length (a
200-page document costs ~1.5× per page what a 40-page one does) and its memory with the
page count, while a PDF per plan would embed a font subset per plan. Plans are therefore
rendered in chunks of `CHUNK` plans, in worker processes (one per core), and the chunk PDFs
are appended in order, after the cover and index. tests/bench/bench_print.py measures it.
"""

from __future__ import annotations

import io
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .context import BatchCover, FieldList, PlanPrint

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS_FILE = TEMPLATES / "print.css"
CHUNK = 25
INDEX_ROWS_PER_PAGE = 45  # one-line index rows (print.css): the cover's length, checked after rendering
# In a batch each chunk counts its own pages, so the page footer shows the plan's No. instead.
BATCH_CSS = "@page { @bottom-right { content: string(sequence); } }"

Progress = Callable[[int, int], None]


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_html(*, plans: list[PlanPrint] = (), cover: BatchCover | None = None,
                field_list: FieldList | None = None, title: str = "", preview: bool = False,
                css_href: str = "/print/print.css") -> str:
    """The printout as one HTML document (`preview`: link the CSS, for a browser)."""
    plans = list(plans)
    html_lang = plans[0].language.html_lang if len(plans) == 1 and not cover else "ja"
    return environment().get_template("document.html").render(
        plans=plans, cover=cover, field_list=field_list, title=title or _title(plans, cover, field_list),
        preview=preview, css_href=css_href, html_lang=html_lang)


def _title(plans, cover, field_list) -> str:
    if field_list is not None:
        return f"{field_list.title} {field_list.subject}"
    if cover is not None:
        return cover.title
    return "個別避難計画" if not plans else f"個別避難計画 {plans[0].person.register_no}"


# ---- WeasyPrint, per process ----

@lru_cache(maxsize=1)
def _weasy():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return fonts, CSS(filename=str(CSS_FILE), font_config=fonts), CSS(string=BATCH_CSS, font_config=fonts)


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    starts: dict[str, int]  # element id (plan-<uuid>) → first page, 1-based within this PDF


def html_to_pdf(html: str, batch: bool = False) -> Rendered:
    from weasyprint import HTML

    fonts, css, batch_css = _weasy()
    stylesheets = [css, batch_css] if batch else [css]
    document = HTML(string=html, base_url=str(TEMPLATES)).render(stylesheets=stylesheets, font_config=fonts)
    starts: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for anchor in page.anchors:
            if anchor.startswith("plan-"):
                starts.setdefault(anchor, number)
    return Rendered(document.write_pdf(), len(document.pages), starts)


def _chunk_job(html: str) -> Rendered:
    return html_to_pdf(html, batch=True)


def _warm() -> int:
    _weasy()
    return os.getpid()


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


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def batch_pdf(plans: list[PlanPrint], cover: BatchCover, *, progress: Optional[Progress] = None,
              workers: int | None = None, chunk: int = CHUNK) -> BatchResult:
    """One PDF: the cover and index, then every plan from a new page, with a bookmark per plan.

    `progress(done, total)` is called as plans are rendered (from this thread).
    `workers` > 1 renders chunks in that many processes; 1 renders here.
    """
    started = time.perf_counter()
    workers = default_workers() if workers is None else max(1, workers)
    total = len(plans)
    groups = [plans[i:i + chunk] for i in range(0, total, chunk)]
    htmls = [render_html(plans=group) for group in groups]
    timings = {"html": time.perf_counter() - started}
    results: list[Rendered | None] = [None] * len(groups)
    done = 0
    if progress:
        progress(0, total)
    if workers == 1 or len(groups) <= 1:
        for index, html in enumerate(htmls):
            results[index] = _chunk_job(html)
            done += len(groups[index])
            if progress:
                progress(done, total)
        chunk_pdfs = [r for r in results if r is not None]
        mark = time.perf_counter()
        timings["plans"] = mark - started - timings["html"]
        cover_rendered = _render_cover(cover, groups, chunk_pdfs, html_to_pdf)
    else:
        context = get_context("spawn")  # never fork a process that holds threads and DB connections
        with ProcessPoolExecutor(max_workers=min(workers, len(groups)), mp_context=context) as pool:
            futures = {pool.submit(_chunk_job, html): index for index, html in enumerate(htmls)}
            del htmls
            for future in as_completed(futures):  # progress as chunks finish, in any order
                index = futures[future]
                results[index] = future.result()
                done += len(groups[index])
                if progress:
                    progress(done, total)
            chunk_pdfs = [r for r in results if r is not None]
            mark = time.perf_counter()
            timings["plans"] = mark - started - timings["html"]
            # The cover too is laid out in a worker: WeasyPrint's memory stays out of this process.
            cover_rendered = _render_cover(cover, groups, chunk_pdfs,
                                           lambda html: pool.submit(html_to_pdf, html).result())
    timings["cover"] = time.perf_counter() - mark
    mark = time.perf_counter()
    pages = cover_rendered.pages + sum(r.pages for r in chunk_pdfs)
    pdf = _merge(cover_rendered, groups, chunk_pdfs)
    del chunk_pdfs, results
    timings["merge"] = time.perf_counter() - mark
    return BatchResult(pdf, pages, total, cover_rendered.pages, time.perf_counter() - started, timings)


def _render_cover(cover: BatchCover, groups: list[list[PlanPrint]], chunks: list[Rendered],
                  to_pdf: Callable[[str], Rendered]) -> Rendered:
    """Render the cover with each plan's first page; again if its own page count was guessed wrong
    (the page column has a fixed width, so the numbers do not change the cover's length)."""
    cover_pages = 1 + math.ceil((len(cover.entries) + 2) / INDEX_ROWS_PER_PAGE)
    for _ in range(3):
        offset = cover_pages
        by_id: dict[str, int] = {}
        for group, rendered in zip(groups, chunks):
            for plan in group:
                by_id[plan.plan_id] = offset + rendered.starts.get(f"plan-{plan.plan_id}", 1)
            offset += rendered.pages
        for entry in cover.entries:
            entry.page = by_id.get(entry.plan_id)
        cover.cover_pages = cover_pages
        result = to_pdf(render_html(cover=cover))
        if result.pages == cover_pages:
            return result
        cover_pages = result.pages
    return result


def _merge(cover: Rendered, groups: list[list[PlanPrint]], chunks: list[Rendered]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover.pdf)), import_outline=False)
    writer.add_outline_item(title="表紙・索引 Cover and index", page_number=0)
    offset = cover.pages
    for group, rendered in zip(groups, chunks):
        writer.append(PdfReader(io.BytesIO(rendered.pdf)), import_outline=False)
        for plan in group:
            start = rendered.starts.get(f"plan-{plan.plan_id}")
            if start is not None:
                title = f"No.{plan.sequence} {plan.person.name} ({plan.person.register_no})"
                writer.add_outline_item(title=title, page_number=offset + start - 1)
        offset += rendered.pages
    writer.add_metadata({"/Title": "個別避難計画 一括印刷", "/Creator": "Tsunagu"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
