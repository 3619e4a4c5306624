"""The `tsunagu` command: serve | settings | demo | import | export | db | users | geo | match | print | drill."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .serve import cmd_serve
from .settings import load_settings


def _engine(settings):
    from .db import make_engine

    return make_engine(settings.database_url)


def cmd_db_upgrade(args, settings) -> int:
    from .migrate import current_revision, upgrade

    engine = _engine(settings)
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


def cmd_settings(args, settings) -> int:
    """Every setting, its value and where the value came from; secrets masked."""
    import json

    from .settings import PROJECT_ROOT, describe

    rows = describe(settings)
    if args.json:
        print(json.dumps([{k: row[k] for k in ("name", "value", "source")} for row in rows],
                         ensure_ascii=False, indent=2))
        return 0
    print(f"Settings (environment, then {PROJECT_ROOT / '.env'}, then the default); see docs/operations.md")
    width = max(len(row["name"]) for row in rows)
    source_width = max(len(row["source"]) for row in rows)
    print(f"{'SETTING':<{width}}  {'SOURCE':<{source_width}}  VALUE")
    for row in rows:
        value = row["value"] if row["value"] != "" else "(empty)"
        print(f"{row['name']:<{width}}  {row['source']:<{source_width}}  {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsunagu", description="Tsunagu (つなぐ): disaster-time welfare coordination.")
    parser.add_argument("--version", action="version", version=f"tsunagu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web server (migrates the database first)")
    serve.add_argument("--host", help="address to listen on (default: TSUNAGU_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default: TSUNAGU_PORT)")
    serve.set_defaults(func=cmd_serve)

    show = sub.add_parser("settings", help="list every setting, its value and its source (secrets masked)")
    show.add_argument("--json", action="store_true", help="as JSON: [{name, value, source}]")
    show.set_defaults(func=cmd_settings)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply all Alembic migrations")
    up.set_defaults(func=cmd_db_upgrade)

    from .auth.cli import add_users_parser
    from .demo_city import add_demo_parser
    from .drills.cli import add_drill_parser
    from .geo_cli import add_geo_parser, add_match_parser
    from .importers.cli import add_export_parser, add_import_parser
    from .printing.cli import add_print_parser

    add_demo_parser(sub)
    add_import_parser(sub)
    add_export_parser(sub)
    add_users_parser(sub)
    add_geo_parser(sub)
    add_match_parser(sub)
    add_print_parser(sub)
    add_drill_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    settings = load_settings()
    return int(args.func(args, settings) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
