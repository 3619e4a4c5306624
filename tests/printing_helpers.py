"""Helpers for the printing tests: real PDFs read back with poppler (pdftotext, pdffonts,
pdftoppm) and pypdf; the small demo city loaded into the test database."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from functools import lru_cache
from pathlib import Path

NOW = date(2026, 11, 27)


@lru_cache(maxsize=1)
def small_city():
    from server.demo_city import build_demo_city

    return build_demo_city(people=200, now=NOW)


def load_city(engine):
    from server.demo_city import load_demo_city

    city = small_city()
    load_demo_city(engine, city)
    return city


def _run(args: list[str], data: bytes, tmp: Path) -> str:
    path = tmp / "in.pdf"
    path.write_bytes(data)
    return subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_text(data: bytes, tmp: Path, layout: bool = False) -> str:
    return _run(["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else [])], data, tmp)


def flat(text: str) -> str:
    """Text without any whitespace: wrapped lines joined, for 'contains' checks."""
    return re.sub(r"\s+", "", text)


def page_texts(data: bytes, tmp: Path) -> list[str]:
    return pdf_text(data, tmp).split("\f")[:-1]


def page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def fonts(data: bytes, tmp: Path) -> list[dict]:
    """pdffonts rows: name, type, emb (yes/no)."""
    path = tmp / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type... encoding emb sub uni object ID — emb is the 5th column from the end
        rows.append({"name": parts[0], "emb": parts[-5], "line": line})
    return rows


def assert_fonts_embedded_with_cjk(data: bytes, tmp: Path) -> None:
    rows = fonts(data, tmp)
    assert rows, "no fonts in the PDF"
    assert all(r["emb"] == "yes" for r in rows), [r["line"] for r in rows]
    # BIZ UD(P)Gothic (print.css), embedded as TrueType subsets: a Japanese font is there, so no tofu
    assert any("BIZUD" in r["name"] for r in rows), [r["name"] for r in rows]


def dark_fraction(data: bytes, tmp: Path, page: int = 1) -> float:
    """Share of dark pixels on a page rendered to PNG at 40 dpi (a blank page is ~0)."""
    from PIL import Image

    path = tmp / "page.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", "-f", str(page), "-l", str(page), str(path),
                    str(tmp / "page")], check=True)
    png = sorted(tmp.glob("page*.png"))[-1]
    image = Image.open(png).convert("L")
    pixels = image.tobytes()
    png.unlink()
    return sum(1 for p in pixels if p < 128) / len(pixels)


RIGHT_MARGIN_PT = 13 * 72 / 25.4  # print.css: 13 mm left and right on portrait pages


def words_inside_pages(data: bytes, tmp: Path) -> bool:
    """Every word lies inside the page's printable width (nothing overflows into the margin)."""
    path = tmp / "bbox.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        width = float(page.group(1))
        for x_max in re.findall(r'xMax="([\d.]+)"', page.group(3)):
            if float(x_max) > width - RIGHT_MARGIN_PT + 1:
                return False
    return True


def wait_for_batch(client, job_id: str, timeout: float = 300) -> dict:
    """A print batch's status once its job has ended (the job's own event, not polling), as the
    API reports it."""
    from server.printing.jobs import store_for

    job = store_for(client.app)._jobs[job_id]
    assert job.ended.wait(timeout), "the print batch did not end"
    return client.get(f"/api/print/batches/{job_id}").json()
