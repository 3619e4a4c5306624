"""CSV exports over HTTP: ``GET /api/exports/people.csv``, ``/api/exports/shelters.csv`` and
``/api/exports/plans.csv`` (個別避難計画, one row per person on the register).

The files are the importers' layout (UTF-8 with BOM, CRLF, Japanese headers), so they can be
edited in Excel and imported again. City office only; every export is audited, and the
answer is marked not to be cached. Cells that Excel would run as a formula are escaped
(server/domain/csvsafe.py); the importers take the escape off again.

Art. 49-11: the people export names its recipient. ``?recipient=fire&recipient_name=東消防署``
(an outside recipient category and its name) exports, in normal mode, only the people the
sharing rule allows for that category and writes a 提供記録 (handover record); without a
recipient it is the office's own file: everyone, named ``people-office-only-….csv`` and marked
with the ``X-Tsunagu-Sharing`` header (a line inside would break the re-import layout).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable
from urllib.parse import quote

import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import principal_of, requires
from ..domain.japan_time import today_jst
from ..domain.share_records import TargetError, record_handover, target_for
from ..errors import ApiError
from ..importers.export import export_people_csv, export_shelters_csv
from ..importers.plans_db import export_plans
from ..models import Person, Shelter
from ..models.vocab import ShareMedium


async def _export(request: Request, resource: str, table, make: Callable, where=None, on_export=None,
                  filename: str = "", headers: dict | None = None) -> Response:
    principal = principal_of(request)
    engine = request.app.state.engine
    client = request.client.host if request.client else ""

    def run() -> bytes:
        codes = principal.municipality_codes  # several municipalities: the caller's own only
        body = make(engine, codes)
        with Session(engine) as session:
            clauses = [] if codes is None else [table.c.municipality_code.in_(sorted(codes))]
            if where is not None:
                clauses.append(where)
            rows = session.execute(sa.select(sa.func.count()).select_from(table).where(*clauses)).scalar_one()
            record(session, "export", principal=principal, resource=resource, detail=f"csv rows={rows}",
                   client=client)
            if on_export is not None:
                on_export(session)
            session.commit()
        return body

    body = await run_in_threadpool(run)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename or resource}-{stamp}.csv"',
        "Cache-Control": "no-store", **(headers or {}),
    })


@requires("export.people")
async def export_people(request: Request) -> Response:
    principal = principal_of(request)
    try:
        target = target_for(principal, request.query_params.get("recipient"), request.query_params.get("recipient_name"))
    except TargetError as exc:
        raise ApiError(422, "validation failed", exc.errors) from None
    where = target.people_clause()
    if not target.outside:
        return await _export(request, "people", Person.__table__, export_people_csv, filename="people-office-only",
                             headers={"X-Tsunagu-Sharing": quote(target.line)})

    def handover(session: Session) -> None:
        codes = principal.municipality_codes
        clauses = ([] if codes is None else [Person.municipality_code.in_(sorted(codes))]) + \
            ([] if where is None else [where])
        ids = session.exec(select(Person.id).where(*clauses)).all()
        record_handover(session, principal, target.recipient, target.name, ids, ShareMedium.export,
                        "people CSV", today_jst())

    return await _export(request, "people", Person.__table__, lambda engine, codes: export_people_csv(engine, codes, where),
                         where=where, on_export=handover, filename=f"people-{target.recipient.value}",
                         headers={"X-Tsunagu-Sharing": quote(target.line)})


@requires("export.shelters")
async def export_shelters(request: Request) -> Response:
    return await _export(request, "shelters", Shelter.__table__, export_shelters_csv)


@requires("export.plans")
async def export_plans_endpoint(request: Request) -> Response:
    return await _export(request, "plans", Person.__table__, export_plans)  # one row per person


routes = [
    Route("/api/exports/plans.csv", export_plans_endpoint, methods=["GET"]),
    Route("/api/exports/people.csv", export_people, methods=["GET"]),
    Route("/api/exports/shelters.csv", export_shelters, methods=["GET"]),
]
