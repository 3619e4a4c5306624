"""``tsunagu import people|shelters|plans FILE`` and ``tsunagu export people|shelters|plans``.

The printed report shows counts, then every bad row as ``line 12, 生年月日: reason``. It
never prints a name, address or other personal value — only line numbers, columns,
register numbers and reasons. Exit status 1 when the file or any row had an error.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TextIO

from .report import ImportFileError, ImportReport

MISSING_LABELS = {"capacity": "受入可能人数", "building_permit_date": "建築確認日（または耐震改修）",
                  "target_groups": "受入対象者", "location": "経度・緯度"}


def add_import_parser(subparsers) -> None:
    """Register ``tsunagu import``."""
    parser = subparsers.add_parser(
        "import", help="import people, shelters or map layers (dry run unless --apply)",
        description="people, shelters: read a CSV (UTF-8, UTF-8 with BOM or Shift_JIS/CP932) and report every "
                    "bad row. Nothing is written without --apply; with --apply all valid rows are written in "
                    "one transaction. See docs/data-formats.md for the columns, and `tsunagu import KIND "
                    "--help` for each kind.")
    sub = parser.add_subparsers(dest="import_kind", metavar="KIND", required=True)

    people = sub.add_parser("people", help="the register (避難行動要支援者名簿)",
                            description="Import people; existing people are updated by 登録者番号.")
    people.add_argument("file", metavar="FILE", help="CSV file, or - for standard input")
    people.add_argument("--municipality-code", metavar="CODE",
                        help="市区町村コード for rows (or files) without one, e.g. 132144")
    shelters = sub.add_parser("shelters", help="shelters: the GSI 指定避難所 CSV or the project's own format",
                              description="Import shelters; the format is recognised from the header. "
                                          "Existing shelters are updated by 共通ID (or name) without erasing "
                                          "what staff filled in.")
    shelters.add_argument("file", metavar="FILE", help="CSV file, or - for standard input")
    plans = sub.add_parser("plans", help="evacuation plans (個別避難計画): one row per person, supporters as columns",
                           description="Import plans by 登録者番号 (支援者1氏名, 支援者1続柄, 支援者1電話 …; 避難先 by 共通ID "
                                       "or name). All or nothing: with --apply, any bad row means nothing is written.")
    plans.add_argument("file", metavar="FILE", help="CSV file, or - for standard input")
    for command in (people, shelters, plans):
        command.add_argument("--apply", action="store_true", help="write the valid rows (default: dry run)")
        command.add_argument("--json", action="store_true", help="print the report as JSON")
        command.set_defaults(func=cmd_import)
    from ..geo_cli import add_layer_import_parsers

    add_layer_import_parsers(sub)  # districts | hazards (polygon layers)


def add_export_parser(subparsers) -> None:
    """Register ``tsunagu export``."""
    parser = subparsers.add_parser(
        "export", help="export people, shelters or plans as CSV (UTF-8 with BOM, re-importable)",
        description="Write all people, all shelters or every person's plan (one row per person) in the import "
                    "layout: UTF-8 with BOM, CRLF, Japanese headers.")
    parser.add_argument("export_kind", choices=["people", "shelters", "plans"], metavar="people|shelters|plans",
                        help="what to export")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    parser.set_defaults(func=cmd_export)


def _engine(settings):
    from ..db import make_engine
    from ..migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def _audit(engine, action: str, resource: str, detail: str, status: int = 200, record_ids=()) -> None:
    from sqlmodel import Session

    from ..auth.audit import record_in_parts

    with Session(engine) as session:
        record_in_parts(session, action, username=f"cli:{getpass.getuser()}", resource=resource, status=status,
                        detail=detail, client="cli", record_ids=record_ids)
        session.commit()


def cmd_import(args, settings) -> int:
    from .people_csv import import_people
    from .plans_db import import_plans
    from .shelters_csv import import_shelters

    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    engine = _engine(settings)
    action = "import" if args.apply else "import_dry_run"
    try:
        if args.import_kind == "people":
            report = import_people(engine, data, apply=args.apply,
                                   default_municipality_code=args.municipality_code)
        elif args.import_kind == "plans":
            report = import_plans(engine, data, apply=args.apply)
        else:
            report = import_shelters(engine, data, apply=args.apply)
    except ImportFileError as exc:
        _audit(engine, action, args.import_kind, f"refused at line {exc.line or '-'}", 422)
        if args.json:
            print(json.dumps(exc.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
            print("nothing was written", file=sys.stderr)
        return 1
    _audit(engine, action, args.import_kind,
           f"rows={report.rows} invalid={report.invalid} created={report.created} updated={report.updated}",
           record_ids=report.record_ids)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report, sys.stdout)
    return 1 if report.errors else 0


def print_report(report: ImportReport, out: TextIO) -> None:
    """The human-readable report: counts, errors, warnings, incomplete shelters."""
    what = {"people_csv": "people CSV", "shelters_csv": "shelter CSV", "gsi_shelters": "GSI 指定避難所 CSV",
            "plans_csv": "plan CSV"}
    state = "applied" if report.applied else "dry run, nothing written"
    if report.kind == "plans" and not report.applied and report.errors:
        state = "nothing written: a plan import is all or nothing, fix the rows below"
    out.write(f"{what.get(report.source_format, report.source_format)} ({report.encoding}) — {state}\n")
    verb = ("created", "updated", "unchanged") if report.applied else ("would create", "would update", "unchanged")
    out.write(f"rows {report.rows}: valid {report.valid}, invalid {report.invalid}; "
              f"{verb[0]} {report.created}, {verb[1]} {report.updated}, {verb[2]} {report.unchanged}\n")
    if report.errors:
        out.write(f"\nerrors ({len(report.errors)}):\n")
        for issue in report.errors:
            out.write(f"  line {issue.line}, {issue.column}: {issue.reason}\n")
    if report.warnings:
        out.write(f"\nwarnings ({len(report.warnings)}):\n")
        for issue in report.warnings:
            out.write(f"  line {issue.line}, {issue.column}: {issue.reason}\n")
    if report.incomplete:
        out.write(f"\nshelters to complete ({len(report.incomplete)}):\n")
        for item in report.incomplete:
            missing = "、".join(MISSING_LABELS.get(m, m) for m in item.missing)
            out.write(f"  {item.common_id or '-'} {item.name}: {missing}\n")
    if not report.applied and report.valid and not (report.kind == "plans" and report.errors):
        out.write("\nrun again with --apply to write the valid rows\n")


def cmd_export(args, settings) -> int:
    from .export import iter_people_csv, iter_shelters_csv
    from .plans_db import iter_plans_export

    engine = _engine(settings)
    make = {"people": iter_people_csv, "shelters": iter_shelters_csv, "plans": iter_plans_export}[args.export_kind]
    chunks = make(engine)
    if args.output:
        with open(args.output, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
    else:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    _audit(engine, "export", args.export_kind, f"csv to {'file' if args.output else 'stdout'}")
    return 0
