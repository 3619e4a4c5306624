"""The SQLite connection settings that make an acknowledged write durable (docs/operations.md)."""

from __future__ import annotations

from sqlalchemy import text

from server.db import make_engine


def test_a_file_database_commits_with_synchronous_full(tmp_path):
    """In WAL mode `synchronous=NORMAL` loses the last commits on a power cut, after the field
    device was told they were stored; FULL (2) syncs the WAL on every commit."""
    engine = make_engine(f"sqlite:///{tmp_path / 'durable.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        # every pooled connection gets it, not only the first one
        connections = [engine.raw_connection() for _ in range(3)]
        try:
            assert [c.driver_connection.execute("PRAGMA synchronous").fetchone()[0] for c in connections] == [2, 2, 2]
        finally:
            for c in connections:
                c.close()
    finally:
        engine.dispose()
