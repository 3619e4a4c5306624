"""The PDF engine: headless Chromium, driven through Playwright, in one thread of this process.

Why Chromium: it lays out a plan in about a fifth of the time WeasyPrint needs (whose layout is
pure Python: ~200 ms of CPU per plan, so 1,000 plans could not print within a minute on two
cores), it has real ruby (furigana) and named pages, and it is installed anyway (Debian's
`chromium`, which the browser tests use too). docs/printing.md has the measurements.

How: one browser is started on first use and kept, with one browser context that has
JavaScript off and the network refused. Every document gets a fresh page in it, closed
afterwards (the HTML is self-contained: CSS inline, QR code and map inset as inline SVG), is
loaded with `set_content` (no temporary file holds the personal data) and printed with the
page size and margins of its own CSS. Playwright's
sync API belongs to the thread that started it, so all work goes through one worker thread
and a queue; callers in any thread wait for their result. If the browser dies it is started
again for the next document. After `IDLE_SECONDS` without work the browser, the driver and the
thread stop, giving their memory back (~300 MB); the next document starts them again (~0.7 s).

The browser binary: the TSUNAGU_CHROMIUM setting, or the first of `chromium`,
`chromium-browser`, `google-chrome` on PATH.
"""

from __future__ import annotations

import atexit
import logging
import queue
import shutil
import threading
from concurrent.futures import Future
from typing import Optional

from ..settings import load_settings

log = logging.getLogger("tsunagu.printing")

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-extensions", "--disable-dev-shm-usage"]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_MS = 300_000  # one document; a 100-plan chunk takes ~2 s
IDLE_SECONDS = 300  # an idle browser is closed after this (~300 MB); the next print starts it again (~0.7 s)


class EngineUnavailable(RuntimeError):
    """Chromium (or Playwright) is missing or cannot start: printing cannot work here."""


def find_chromium(configured: str = "") -> str:
    if configured:
        path = shutil.which(configured)
        if path is None:
            raise EngineUnavailable(f"TSUNAGU_CHROMIUM={configured!r}: no such program")
        return path
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise EngineUnavailable("printing needs Chromium: install Debian's `chromium` (scripts/setup does) "
                            "or set TSUNAGU_CHROMIUM to a Chromium or Chrome binary")


class PdfEngine:
    """`pdf(html)` → PDF bytes, from any thread; documents are printed one after another."""

    def __init__(self, executable: Optional[str] = None, idle_seconds: float = IDLE_SECONDS):
        self._executable = executable
        self._idle_seconds = idle_seconds
        self._queue: queue.Queue = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def pdf(self, html: str) -> bytes:
        future: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="tsunagu-pdf", daemon=True)
                self._thread.start()
            self._queue.put((html, future))
        return future.result(timeout=TIMEOUT_MS / 1000 + 60)

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=30)

    # ---- the worker thread ----

    def _work(self) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:  # pragma: no cover - Playwright is a dependency
            self._fail_all(EngineUnavailable("printing needs the Playwright package (pip install playwright)"))
            return
        try:
            driver = sync_playwright().start()
        except Exception as exc:  # the driver could not start
            self._fail_all(EngineUnavailable(f"the Playwright driver did not start: {exc}"))
            return
        browser = context = None
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self._idle_seconds)
                except queue.Empty:
                    with self._lock:  # pdf() enqueues under this lock: nothing can slip in unseen
                        if self._queue.empty():
                            self._thread = None
                            break
                    continue
                if item is None:
                    break
                html, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if browser is None or not browser.is_connected():
                        browser = self._launch(driver)
                        context = self._context(browser)
                    future.set_result(self._print(context, html))
                except EngineUnavailable as exc:
                    future.set_exception(exc)
                except Exception as exc:
                    # The document may be fine and the browser gone: start a new one next time.
                    log.warning("PDF engine error (%s); the browser will be restarted", type(exc).__name__)
                    browser = self._close_browser(browser)
                    future.set_exception(exc)
        finally:
            self._close_browser(browser)
            try:
                driver.stop()
            except Exception:  # pragma: no cover - the driver died already
                pass

    def _launch(self, driver):
        executable = self._executable or find_chromium(load_settings().TSUNAGU_CHROMIUM)
        try:
            return driver.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        except Exception as exc:
            raise EngineUnavailable(f"Chromium ({executable}) did not start: {str(exc).splitlines()[0]}") from exc

    @staticmethod
    def _context(browser):
        """The browser context every document is printed in: no JavaScript, no network."""
        context = browser.new_context(java_script_enabled=False, offline=True)
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", lambda route: route.abort())  # nothing is fetched: the HTML carries everything
        return context

    @staticmethod
    def _print(context, html: str) -> bytes:
        page = context.new_page()  # a fresh page per document, closed after it: nothing stays behind
        try:
            page.set_content(html, wait_until="load")
            return page.pdf(prefer_css_page_size=True, print_background=True)
        finally:
            page.close()

    @staticmethod
    def _close_browser(browser):
        if browser is not None:
            try:
                browser.close()
            except Exception:
                pass
        return None

    def _fail_all(self, exc: Exception) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[1].set_exception(exc)


_engine: Optional[PdfEngine] = None
_engine_lock = threading.Lock()


def engine() -> PdfEngine:
    """The process's PDF engine (started on first use, closed at exit)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = PdfEngine()
            atexit.register(_engine.close)
        return _engine
