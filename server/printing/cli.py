"""``tsunagu print plan|batch|field-list``: printouts as PDF files, audited like the web.

The command line runs with the city office's reach (every record, every field), as the
other administrative commands do; each print is audited as ``cli:<os user>``.
"""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path

from ..errors import ApiError
from ..progress import ProgressBar
from .engine import EngineUnavailable


def add_print_parser(subparsers) -> None:
    """Register ``tsunagu print``."""
    parser = subparsers.add_parser(
        "print", help="print evacuation plans and field lists as PDF",
        description="Render individual evacuation plans (個別避難計画), batches with a cover and index, and "
                    "field lists (安否確認リスト, 受入予定者名簿) as A4 PDF. See docs/printing.md.")
    sub = parser.add_subparsers(dest="print_kind", metavar="KIND", required=True)

    plan = sub.add_parser("plan", help="one plan", description="Print one plan, by plan id or 登録者番号.")
    plan.add_argument("plan", metavar="PLAN_ID", help="plan id (UUID) or the person's 登録者番号 "
                      "(市区町村コード:登録者番号 when several municipalities hold the number)")
    plan.add_argument("--lang", choices=["ja", "en", "ja-easy"],
                      help="language (default: the person's preferred language)")
    plan.set_defaults(func=cmd_plan)

    batch = sub.add_parser("batch", help="many plans in one PDF with a cover page and index",
                           description="Print every plan of a district, a shelter, a supporter, or a list of ids.")
    which = batch.add_mutually_exclusive_group(required=True)
    which.add_argument("--district", metavar="CODE", help="district code or id (a 福祉圏域 includes its 町丁目)")
    which.add_argument("--shelter", metavar="ID", help="shelter id: plans with it as destination or alternate")
    which.add_argument("--supporter", metavar="NAME", help="a supporter on the plan, or the 担当民生委員")
    which.add_argument("--ids", metavar="ID", nargs="+", help="plan ids")
    batch.add_argument("--duplex", action="store_true",
                       help="for double-sided printing: a blank page after each plan with an odd number of pages, "
                            "so every plan starts on a new sheet")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(func=cmd_batch)

    field = sub.add_parser("field-list", help="a 民生委員's door-to-door list or a shelter roster",
                           description="A district's 安否確認リスト (tick boxes per visit) or a shelter's 受入予定者名簿.")
    which = field.add_mutually_exclusive_group(required=True)
    which.add_argument("--district", metavar="CODE", help="district code or id")
    which.add_argument("--shelter", metavar="ID", help="shelter id")
    field.set_defaults(func=cmd_field_list)

    for command in (plan, batch, field):
        command.add_argument("-o", "--output", metavar="FILE", required=True, help="the PDF file to write")


def _engine(settings):
    from ..db import make_engine
    from ..migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def _scope(engine, settings):
    """The operator's scope: everyone, printed as the office's own (Art. 49-11: 庁内限り on every page)."""
    from sqlmodel import Session

    from ..auth.mode import current_mode
    from ..domain.share_records import ShareTarget
    from ..models.vocab import Ordinance, Recipient
    from ..records.access import UNRESTRICTED
    from .context import Reader
    from .selection import Scope

    with Session(engine) as session:
        mode = current_mode(session)
    target = ShareTarget(Recipient.office, "", mode, Ordinance(settings.TSUNAGU_SHARING_ORDINANCE), True)
    return Scope(UNRESTRICTED, UNRESTRICTED, Reader(f"cli:{getpass.getuser()}"), target)


def _audit(session, scope, resource: str, ids: list, detail: str) -> None:
    from .service import audit_print

    audit_print(session, scope, resource, ids, client="cli", detail=detail, username=scope.reader.username)


def _write(path: str, data: bytes) -> None:
    Path(path).write_bytes(data)


def _fail(message: str) -> int:
    print(f"print: {message}", file=sys.stderr)
    return 1


def cmd_plan(args, settings) -> int:
    from sqlmodel import Session

    from . import render
    from .context import plan_prints
    from .selection import plan_by_key

    engine = _engine(settings)
    scope = _scope(engine, settings)
    try:
        with Session(engine) as session:
            plan = plan_by_key(session, args.plan, scope)
            context = plan_prints(session, [plan], scope.reader, language=args.lang)[0]
            context.share_line = scope.share_line
            _audit(session, scope, "plans", [plan.id], "cli plan")
            session.commit()
    except ApiError as exc:
        return _fail(exc.detail)
    started = time.perf_counter()
    try:
        data = render.plan_pdf(context)
    except EngineUnavailable as exc:
        return _fail(str(exc))
    _write(args.output, data)
    print(f"print: wrote {args.output} (plan {context.plan_id}, {time.perf_counter() - started:.1f} s)")
    return 0


def cmd_batch(args, settings) -> int:
    from sqlmodel import Session

    from .selection import select_plans
    from .service import run_batch

    by, value = (("district", args.district) if args.district else ("shelter", args.shelter) if args.shelter
                 else ("supporter", args.supporter) if args.supporter else ("selection", args.ids))
    engine = _engine(settings)
    scope = _scope(engine, settings)
    try:
        with Session(engine) as session:
            plans, description = select_plans(session, by, value, scope)
            ids = [p.id for p in plans]
            _audit(session, scope, "plans", ids, f"cli batch by {by}")
            session.commit()
    except ApiError as exc:
        return _fail(exc.detail)
    try:
        result = run_batch(engine, ids, description, scope, duplex=args.duplex,
                           progress=ProgressBar("plans", enabled=not args.quiet))
    except EngineUnavailable as exc:
        return _fail(str(exc))
    _write(args.output, result.pdf)
    print(f"print: wrote {args.output}: {result.plans} plans, {result.pages} pages in {result.seconds:.1f} s "
          f"({result.pages_per_second:.1f} pages/s)")
    return 0


def cmd_field_list(args, settings) -> int:
    from sqlmodel import Session

    from . import render
    from .service import field_list_context, field_list_ids

    kind, key = ("district", args.district) if args.district else ("shelter", args.shelter)
    engine = _engine(settings)
    scope = _scope(engine, settings)
    try:
        with Session(engine) as session:
            context = field_list_context(session, kind, key, scope)
            _audit(session, scope, "field-list", [key, *field_list_ids(context)], f"cli {kind} list")
            session.commit()
    except ApiError as exc:
        return _fail(exc.detail)
    try:
        data = render.field_list_pdf(context)
    except EngineUnavailable as exc:
        return _fail(str(exc))
    _write(args.output, data)
    print(f"print: wrote {args.output}: {context.title} {context.subject}, {len(context.rows)} people")
    return 0
