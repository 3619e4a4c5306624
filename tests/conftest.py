"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when
TSUNAGU_TEST_DATABASE_URL is set), and an HTTP client over the real app."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from server.db import make_engine
from server.migrate import upgrade

PG_URL = os.environ.get("TSUNAGU_TEST_DATABASE_URL", "")
PERSONA_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory) -> str:
    """Migrate once per run; each test then starts from a copy (SQLite) or a truncation (PostgreSQL)."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = _sqlite_engine(path)
    upgrade(engine)
    raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    engine.dispose()
    return str(path)


def _pg_engine():
    from sqlalchemy import event

    eng = make_engine(PG_URL)

    @event.listens_for(eng, "connect")
    def _fast_commits(dbapi_conn, _record):  # tests only: durability is not what they check
        with dbapi_conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
        dbapi_conn.commit()

    return eng


def _sqlite_engine(path):
    from sqlalchemy import event

    eng = make_engine(f"sqlite:///{path}")

    @event.listens_for(eng, "connect")
    def _fast_commits(dbapi_conn, _record):  # tests only: durability is not what they check
        # The app runs with synchronous=FULL (tests/test_db_sqlite.py checks it); an fsync per
        # commit made the suite about a fifth slower and tests cannot cut the power anyway.
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    return eng


@pytest.fixture
def engine(_template_db, tmp_path):
    if PG_URL:
        eng = _pg_engine()
        with eng.begin() as conn:
            # DELETE (children first) is much faster than TRUNCATE on small tables; the audit log
            # refuses DELETE by design, and TRUNCATE does not fire its row trigger.
            conn.execute(text("TRUNCATE audit_log"))
            for table in reversed(SQLModel.metadata.sorted_tables):
                if table.name != "audit_log":
                    conn.execute(text(f'DELETE FROM "{table.name}"'))
        yield eng
        eng.dispose()
        return
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(_template_db, path)
    eng = _sqlite_engine(path)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def persona_password_hash() -> str:
    from server.auth.passwords import hash_password

    return hash_password(PERSONA_PASSWORD)  # argon2 is slow on purpose: hash once per run


@pytest.fixture
def app(engine):
    from server.app import create_app

    return create_app(engine=engine)


@pytest.fixture
def make_user(engine, persona_password_hash):
    """Create a user with a role and scope; returns the User row (password: PERSONA_PASSWORD)."""
    from server.models.auth import User

    def make(role: str, username: str | None = None, **fields):
        with Session(engine, expire_on_commit=False) as s:
            user = User(username=username or f"{role.replace('_', '-')}-{uuid.uuid4().hex[:6]}", role=role,
                        password_hash=persona_password_hash, display_name=role, **fields)
            s.add(user)
            s.commit()
            return user

    return make


@pytest.fixture
def client_for(app, engine, make_user):
    """A factory of HTTP clients signed in (device bearer token) as a new user of the given role."""
    from datetime import timedelta

    from starlette.testclient import TestClient

    from server.auth.tokens import DEVICE, issue_token

    opened = []

    def make(role: str, **fields) -> TestClient:
        user = make_user(role, **fields)
        with Session(engine, expire_on_commit=False) as s:
            secret, _ = issue_token(s, user, DEVICE, timedelta(days=1), "test device")
            s.commit()
        c = TestClient(app)
        c.__enter__()
        c.headers["Authorization"] = f"Bearer {secret}"
        c.user = user
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def client(client_for):
    """Signed in as an administrator: for tests about the data, not about access."""
    return client_for("admin")


@pytest.fixture
def anon_client(app):
    from starlette.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"
