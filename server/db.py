"""Engine and sessions. SQLite (WAL mode, synchronous=FULL) by default, PostgreSQL by URL; same code for both."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import json
import threading

from pydantic_core import to_jsonable_python
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


def _json_dumps(value) -> str:
    # JSON columns may hold pydantic models (supporters, contacts ...) as well as plain data.
    return json.dumps(value, default=to_jsonable_python, ensure_ascii=False)


# SQLite's `synchronous` level. In WAL mode NORMAL syncs only at checkpoints: a commit survives a
# crash of the process but not a power cut or an OS crash, so a field device could be told that a
# record is stored, delete it from its outbox, and the record be gone. FULL syncs the WAL on every
# commit. The reconnect-storm benchmark overrides this module value to measure what FULL costs.
SQLITE_SYNCHRONOUS = "FULL"


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine; for SQLite switch on WAL, synchronous=FULL, foreign keys and a busy timeout.

    `hide_parameters` keeps personal data (names, addresses) out of error messages and logs.
    """
    common = dict(echo=echo, hide_parameters=True, json_serializer=_json_dumps)
    if url.startswith("sqlite"):
        if SQLITE_SYNCHRONOUS not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {SQLITE_SYNCHRONOUS!r}")
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **common)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            # We issue BEGIN ourselves (below); the driver's own transaction handling is switched off.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - exercised by every test
            # Nearly every request writes (an audit entry, a change-log row), usually after reading.
            # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
            # another writer committed in between; BEGIN IMMEDIATE waits for the lock instead.
            # Pure readers opt out with execution_options(sqlite_readonly=True).
            readonly = conn.get_execution_options().get("sqlite_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **common)


_WRITE_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def write_lock(engine: Engine) -> Iterator[None]:
    """On SQLite, one writing transaction at a time per process, queued on a Python lock.

    SQLite allows one writer anyway; without this, threads wait in SQLite's busy handler, which
    sleeps in steps of up to 100 ms and so leaves the database idle between writers. PostgreSQL
    needs no such lock.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    key = str(engine.url)
    with _LOCKS_GUARD:
        lock = _WRITE_LOCKS.setdefault(key, threading.Lock())
    with lock:
        yield


def readonly(engine: Engine) -> Engine:
    """The same engine for transactions that only read: on SQLite they do not take the write lock."""
    return engine.execution_options(sqlite_readonly=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
