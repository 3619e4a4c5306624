"""Measurement: how many A4 pages each demo plan takes, in 日本語, English and やさしい日本語.

Run: ``.venv/bin/python tests/bench/bench_plan_pages.py [--people 200] [--limit N]``

Loads the demo city (the small one the printing tests use: 200 people, as of 2026-11-27) into
a temporary SQLite database, prints every plan alone (as `tsunagu print` and the plan endpoint
do) in each language and counts the pages with pypdf; with ``--batch``, as a batch prints
them (numbered, 50 plans per document, each plan's pages read from its first page). Prints a
histogram per language, e.g. ``ja-easy  164 plans: {2: 164}``.
"""

from __future__ import annotations

import argparse
import collections
import io
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
NOW = date(2026, 11, 27)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--limit", type=int, default=0, help="only the first N plans")
    parser.add_argument("--languages", default="ja,en,ja-easy")
    parser.add_argument("--show", type=int, default=0, help="list the N longest plans per language")
    parser.add_argument("--batch", action="store_true", help="print as a batch does (numbered, in chunks)")
    args = parser.parse_args()

    from pypdf import PdfReader
    from sqlmodel import Session, select

    from server.db import make_engine
    from server.demo_city import build_demo_city, load_demo_city
    from server.migrate import upgrade
    from server.models import EvacuationPlan
    from server.printing import render
    from server.printing.context import Reader, plan_prints

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'pages.sqlite3'}")
        upgrade(engine)
        load_demo_city(engine, build_demo_city(people=args.people, now=NOW))
        with Session(engine) as s:
            plans = list(s.exec(select(EvacuationPlan).order_by(EvacuationPlan.id)).all())
            if args.limit:
                plans = plans[:args.limit]
            for language in args.languages.split(","):
                counts: collections.Counter = collections.Counter()
                lengths = []
                contexts = plan_prints(s, plans, Reader("bench"), now=NOW, language=language, numbered=args.batch)
                if args.batch:
                    pages_each = []
                    for i in range(0, len(contexts), render.CHUNK):
                        group = contexts[i:i + render.CHUNK]
                        pages_each += render.plan_lengths(group, render.html_to_pdf(render.render_html(plans=group)))
                else:
                    pages_each = [len(PdfReader(io.BytesIO(render.plan_pdf(c))).pages) for c in contexts]
                for context, pages in zip(contexts, pages_each):
                    counts[pages] += 1
                    lengths.append((pages, context.person.register_no))
                print(f"{language:8} {len(plans)} plans{' (batch)' if args.batch else ''}: {dict(sorted(counts.items()))}", flush=True)
                for pages, register_no in sorted(lengths, reverse=True)[:args.show]:
                    print(f"    {register_no}: {pages}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
