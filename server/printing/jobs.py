"""Batch print jobs: run in a background thread, kept in memory, polled for progress.

Jobs live in the server process only (a restart forgets them; print again). The store
holds at most `MAX_JOBS` jobs; finished jobs are dropped `TTL_SECONDS` after they finish,
and the oldest finished job makes room for a new one. One job renders at a time (the
process has one PDF engine, engine.py); others wait their turn in order. A job belongs
to the user who started it: anyone else gets 404 for its id.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..errors import ApiError
from .engine import EngineUnavailable

MAX_JOBS = 20
TTL_SECONDS = 3600
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
log = logging.getLogger("tsunagu.printing")


@dataclass
class PrintJob:
    owner: str
    total: int
    description: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = QUEUED
    done: int = 0
    pages: int = 0
    seconds: float = 0.0
    error: str = ""
    created: float = field(default_factory=time.time)
    finished: Optional[float] = None
    pdf: Optional[bytes] = field(default=None, repr=False)
    ended: threading.Event = field(default_factory=threading.Event, repr=False)  # set when done or failed

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total, "pages": self.pages,
                "seconds": round(self.seconds, 1), "description": self.description, "error": self.error,
                "status_url": f"/api/print/batches/{self.id}",
                "pdf_url": f"/api/print/batches/{self.id}.pdf" if self.state == DONE else None}


class JobStore:
    def __init__(self, max_jobs: int = MAX_JOBS, ttl_seconds: float = TTL_SECONDS):
        self.max_jobs = max_jobs
        self.ttl_seconds = ttl_seconds
        self._jobs: dict[str, PrintJob] = {}
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()  # one job renders at a time

    def _expire(self, now: float) -> None:
        for job_id, job in list(self._jobs.items()):
            if job.finished is not None and now - job.finished > self.ttl_seconds:
                del self._jobs[job_id]

    def _make_room(self) -> None:
        if len(self._jobs) < self.max_jobs:
            return
        finished = sorted((j for j in self._jobs.values() if j.finished is not None), key=lambda j: j.finished)
        if not finished:
            raise ApiError(429, f"{self.max_jobs} print jobs are already waiting or running; try again later",
                           headers={"Retry-After": "30"})
        del self._jobs[finished[0].id]

    def submit(self, owner: str, total: int, description: str,
               work: Callable[[PrintJob], tuple[bytes, int]]) -> PrintJob:
        """Start `work(job)` in a thread; it returns (pdf, pages) and may call job.progress."""
        with self._lock:
            self._expire(time.time())
            self._make_room()
            job = PrintJob(owner=owner, total=total, description=description)
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, work), name=f"print-{job.id[:8]}", daemon=True).start()
        return job

    def _run(self, job: PrintJob, work: Callable[[PrintJob], tuple[bytes, int]]) -> None:
        with self._render_lock:
            job.state = RUNNING
            started = time.perf_counter()
            try:
                job.pdf, job.pages = work(job)
                job.state = DONE
            except Exception as exc:  # the job reports it; the thread must not die silently
                log.error("print job %s failed: %s", job.id, type(exc).__name__, exc_info=exc)
                job.state = FAILED
                job.error = (exc.detail if isinstance(exc, ApiError) else str(exc) if isinstance(exc, EngineUnavailable)
                             else type(exc).__name__)  # never the exception's text: it may hold personal data
            finally:
                job.seconds = time.perf_counter() - started
                job.finished = time.time()
                job.ended.set()

    def get(self, job_id: str, owner: str) -> PrintJob:
        with self._lock:
            self._expire(time.time())
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise ApiError(404, "print job not found (jobs are kept for an hour after they finish)")
        return job


def store_for(app) -> JobStore:
    store = getattr(app.state, "print_jobs", None)
    if store is None:
        store = app.state.print_jobs = JobStore()
    return store
