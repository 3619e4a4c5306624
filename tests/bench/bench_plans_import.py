"""Benchmark: the plan CSV import into the database (issue 12 item 6), dry run and apply.

    /work/main/.venv/bin/python tests/bench/bench_plans_import.py [--people 50000] [--runs 3] [--linked 3000]

Target: a 50,000-row plan CSV ≤ 60 s and ≤ 1 GiB. The demo city (tests/bench/bench_city.py) is
loaded into a SQLite file; its plans are exported (one row per person) and every row's
避難のタイミング is changed, so the apply updates every stored plan (a kept version and a
change-log row each) and creates a plan for everyone without one. Each run is a fresh
subprocess on a fresh copy of the database (copied outside the measurement), so ru_maxrss is
that run's peak (interpreter and imports included). Prints medians; not a test.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench_city import big_city  # noqa: E402

_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from server.db import make_engine
from server.importers.plans_db import import_plans
engine = make_engine("sqlite:///" + {db!r})
data = open({csv!r}, "rb").read()
t0, c0 = time.perf_counter(), time.process_time()
report = import_plans(engine, data, apply={apply})
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
import sqlalchemy as sa
with engine.connect() as conn:  # after the timing: the 要見直し reasons the load pass wrote
    reasons = conn.execute(sa.text("SELECT count(*) FROM plan_review_reason")).scalar_one()
print(json.dumps({{"seconds": seconds, "cpu": cpu, "counts": report.to_dict()["counts"], "errors": len(report.errors),
                  "applied": report.applied, "review_reasons": reasons, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def register(engine, count: int) -> list[str]:
    """`count` supporter register entries (支援者台帳), for --linked; returns their ids."""
    from sqlmodel import Session

    from server.models import SupporterRecord

    rows = [SupporterRecord(kind="neighbour", name=f"支援者{i}", name_kana=f"しえんしゃ{i}",
                            phone=f"090-{i // 10000:04d}-{i % 10000:04d}", availability="anytime") for i in range(count)]
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
        return [str(r.id) for r in rows]


def changed_export(engine, path: Path, linked: int = 0) -> int:
    """The city's plan CSV with every row's 避難のタイミング rewritten; returns the row count.
    `linked`: that many register entries, every row's first supporter linked to one of them in
    turn (支援者1台帳ID), so the import checks the links and runs the load pass over them."""
    from server.importers.plans_db import export_plans

    ids = register(engine, linked) if linked else []
    text = export_plans(engine).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    column = rows[0].index("避難のタイミング")
    name, link = rows[0].index("支援者1氏名"), rows[0].index("支援者1台帳ID")
    for n, row in enumerate(rows[1:]):
        row[column] = "高齢者等避難が出たら家族と避難する（2026年度見直し）"
        if ids and row[name]:
            row[link] = ids[n % len(ids)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return len(rows) - 1


def run(db: Path, csv_path: Path, apply: bool) -> dict:
    code = _CHILD.format(root=str(ROOT), db=str(db), csv=str(csv_path), apply=apply)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--linked", type=int, default=0, help="supporter register entries the file links (0: none)")
    args = parser.parse_args()
    engine = big_city(args.people, "tsunagu-bench-plans-")
    source = Path(engine.url.database)
    work = source.parent
    csv_path = work / "plans.csv"
    rows = changed_export(engine, csv_path, args.linked)
    engine.dispose()
    print(f"plan CSV: {rows} rows, {csv_path.stat().st_size / 1e6:.1f} MB (UTF-8 with BOM)")
    for apply in (False, True):
        results = []
        for _ in range(args.runs):
            copy = work / "run.sqlite3"
            shutil.copyfile(source, copy)  # every run starts from the same database, outside the timing
            results.append(run(copy, csv_path, apply))
        first = results[0]
        label = "apply (one transaction)" if apply else "dry run"
        print(f"plan CSV import, {label:24s} median {statistics.median(r['seconds'] for r in results):6.1f} s   "
              f"cpu {statistics.median(r['cpu'] for r in results):6.1f} s   "
              f"peak RSS {statistics.median(r['maxrss_kib'] for r in results) / 1024:7.1f} MiB   "
              f"(targets 60 s, 1024 MiB)  counts {first['counts']} errors {first['errors']} applied {first['applied']} "
              f"review reasons {first['review_reasons']}")


if __name__ == "__main__":
    main()
