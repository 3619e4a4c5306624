"""Benchmark: import 50,000 people from a CP932 CSV (dry run, apply, re-apply, update).

Run: ``.venv/bin/python tests/bench/bench_import.py [--rows 50000] [--runs 3] [--postgres URL]``

Each measurement runs in its own subprocess on a fresh SQLite database migrated with
``server.migrate.upgrade``; the child reports the import's wall time and its own peak RSS
(``ru_maxrss``, which includes the interpreter and the migration), and the import's CPU time
of this process (on a busy machine wall time grows, CPU time much less; PostgreSQL's own
work is not in it). The figure printed is the median of the runs. "reapply" imports the same file into a full database (all unchanged);
"update" imports a file with the same register numbers and other values (all updated).
Targets: ≤ 30 s and ≤ 1 GiB for each.

The CSV is synthetic and deterministic (seeded); it does not use the demo city generator.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 30.0
TARGET_BYTES = 1 << 30

SURNAMES = [("佐藤", "さとう"), ("鈴木", "すずき"), ("高橋", "たかはし"), ("田中", "たなか"), ("伊藤", "いとう"),
            ("渡辺", "わたなべ"), ("山本", "やまもと"), ("中村", "なかむら"), ("小林", "こばやし"), ("加藤", "かとう")]
GIVEN = [("太郎", "たろう"), ("花子", "はなこ"), ("一郎", "いちろう"), ("幸子", "さちこ"), ("茂", "しげる"),
         ("和子", "かずこ"), ("清", "きよし"), ("節子", "せつこ"), ("勇", "いさむ"), ("文子", "ふみこ")]
TOWNS = ["戸倉", "光町", "高木町", "新町", "西元町", "西町", "西恋ケ窪", "泉町", "東元町", "東戸倉",
         "東恋ケ窪", "内藤", "南町", "日吉町", "並木町", "北町", "本多", "本町", "富士本", "東元町"]
REASONS = ["要介護3以上", "身体障害者手帳1・2級", "療育手帳", "難病", "医療的ケア", "高齢者のみ世帯"]
NEEDS = ["車いす", "寝たきり", "歩行補助", "在宅酸素", "認知症", "聴覚障害", "常用薬"]
HEADER = ["登録者番号", "市区町村コード", "氏名", "ふりがな", "生年月日", "性別", "郵便番号", "住所", "電話番号",
          "事由", "町丁目コード", "経度", "緯度", "世帯構成", "緊急連絡先1氏名", "緊急連絡先1続柄", "緊急連絡先1電話",
          "配慮事項", "使用言語", "同意", "同意日", "自治会", "担当民生委員", "申し伝え事項"]
DISTRICTS = 40


def _birth(rng: random.Random) -> str:
    year, month, day = rng.randint(1925, 1990), rng.randint(1, 12), rng.randint(1, 28)
    form = rng.randrange(4)
    if form == 0 and 1927 <= year <= 1988:
        return f"昭和{year - 1925}年{month}月{day}日"
    if form == 1 and 1927 <= year <= 1988:
        return f"S{year - 1925}.{month}.{day}"
    if form == 2:
        return f"{year}/{month}/{day}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def make_csv(rows: int, seed: int = 20240401) -> bytes:
    """A deterministic CP932 people CSV of `rows` rows."""
    rng = random.Random(seed)
    lines = [",".join(HEADER)]
    for n in range(1, rows + 1):
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        consent = rng.random() < 0.4
        town = rng.randrange(len(TOWNS))
        number = f"K{n:06d}" if n % 10 else f"Ｋ{n:06d}".translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
        cells = [
            number, "132144", f"{surname[0]}　{given[0]}", f"{surname[1]} {given[1]}", _birth(rng),
            rng.choice(["男", "女"]), f"185-{rng.randint(1, 36):04d}",
            f"東京都国分寺市{TOWNS[town]}{rng.randint(1, 6)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
            f"042-{rng.randint(300, 399)}-{rng.randint(0, 9999):04d}",
            "、".join(rng.sample(REASONS, rng.randint(1, 2))), f"C{rng.randrange(DISTRICTS):03d}",
            f"{139.43 + rng.random() * 0.06:.6f}", f"{35.69 + rng.random() * 0.03:.6f}",
            rng.choice(["独居", "高齢者のみ世帯", "家族と同居"]), f"{surname[0]}　一郎", "長男",
            f"090-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}",
            ";".join(rng.sample(NEEDS, rng.randint(0, 2))), "日本語", "同意" if consent else "未確認",
            f"R{rng.randint(2, 5)}.{rng.randint(1, 12)}.{rng.randint(1, 28)}" if consent else "",
            f"{TOWNS[town]}自治会", f"民生委員{rng.randint(1, 80)}", "",
        ]
        lines.append(",".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def child(mode: str, csv_path: str, db_dir: str, postgres_url: str | None = None) -> None:
    """One measurement: migrate a fresh database, prepare it for `mode`, time one import."""
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from server.db import make_engine
    from server.importers.people_csv import import_people
    from server.migrate import upgrade
    from server.models import District

    if postgres_url:
        engine = make_engine(postgres_url)
        with engine.begin() as conn:  # a fresh schema, as the SQLite runs get a fresh file
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        engine = make_engine(f"sqlite:///{db_dir}/bench.sqlite3")
    upgrade(engine)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(sa.insert(District.__table__), [
            {"id": uuid.uuid4(), "version": 1, "created_at": now, "updated_at": now,
             "municipality_code": "132144", "code": f"C{i:03d}", "name": f"町丁目{i}", "name_kana": "",
             "kind": "chome", "geometry": {}} for i in range(DISTRICTS)])
    data = Path(csv_path).read_bytes()
    if mode in ("reapply", "update"):
        import_people(engine, data, apply=True)
    if mode == "update":
        data = Path(csv_path).with_name("people-changed.csv").read_bytes()
    start, cpu_start = time.perf_counter(), time.process_time()
    report = import_people(engine, data, apply=mode != "dry")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak, "counts": report.to_dict()["counts"],
                      "errors": len(report.errors)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL",
                        help="measure on this PostgreSQL database instead (its public schema is DROPPED each run)")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "CSV", "DBDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, postgres_url=args.postgres)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "people.csv"
        csv_path.write_bytes(make_csv(args.rows))
        # Same register numbers, other values: every person is updated.
        csv_path.with_name("people-changed.csv").write_bytes(make_csv(args.rows, seed=7))
        where = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{args.rows} rows, {csv_path.stat().st_size / 1e6:.1f} MB CP932, {where}; median of {args.runs} runs")
        failed = False
        for mode in ("dry", "apply", "reapply", "update"):
            results = []
            for run in range(args.runs):
                db_dir = Path(tmp) / f"{mode}{run}"
                db_dir.mkdir()
                extra = ["--postgres", args.postgres] if args.postgres else []
                done = subprocess.run([sys.executable, __file__, "--child", mode, str(csv_path), str(db_dir), *extra],
                                      capture_output=True, text=True)
                if done.returncode:
                    sys.stderr.write(done.stderr)
                    return 2
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            seconds = statistics.median(r["seconds"] for r in results)
            cpu = statistics.median(r["cpu_seconds"] for r in results)
            peak = statistics.median(r["peak_bytes"] for r in results)
            ok = seconds <= TARGET_SECONDS and peak <= TARGET_BYTES
            failed |= not ok
            print(f"{mode:8s} {seconds:6.2f} s (CPU {cpu:5.2f} s)  peak RSS {peak / 2**20:6.0f} MiB  "
                  f"counts {results[0]['counts']}  errors {results[0]['errors']}  {'ok' if ok else 'OVER TARGET'}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
