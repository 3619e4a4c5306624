"""A demo city of N people in a fresh, migrated SQLite file: the setup the benchmarks share."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from server.db import make_engine  # noqa: E402
from server.demo_city import build_demo_city, load_demo_city  # noqa: E402
from server.migrate import upgrade  # noqa: E402


def big_city(people: int, prefix: str = "tsunagu-bench-"):
    """The engine of a new SQLite database holding the demo city with `people` people."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite3'}")
    upgrade(engine)
    started = time.perf_counter()
    load_demo_city(engine, build_demo_city(people=people))
    print(f"setup: {people} people built and loaded in {time.perf_counter() - started:.1f} s")
    return engine
