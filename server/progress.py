"""A text progress bar on stderr for long commands (`tsunagu print batch`, `tsunagu drill run`)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Called as progress(done, total): ``[########------] 120/1000 plans 12.3 s``."""

    def __init__(self, unit: str, stream=None, width: int = 30, enabled: bool = True):
        self.unit, self.stream, self.width, self.enabled = unit, stream or sys.stderr, width, enabled
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r[{bar}] {done}/{total} {self.unit} {time.perf_counter() - self.started:.1f} s{end}")
        self.stream.flush()
