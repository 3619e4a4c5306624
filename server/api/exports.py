"""CSV exports over HTTP: ``GET /api/exports/people.csv``, ``/api/exports/shelters.csv`` and
``/api/exports/plans.csv`` (個別避難計画, one row per person on the register).

The files are the importers' layout (UTF-8 with BOM, CRLF, Japanese headers), so they can be
edited in Excel and imported again. City office only; every export is audited, and the
answer is marked not to be cached. Cells that Excel would run as a formula are escaped
(server/domain/csvsafe.py); the importers take the escape off again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import sqlalchemy as sa
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import principal_of, requires
from ..importers.export import export_people_csv, export_shelters_csv
from ..importers.plans_db import export_plans
from ..models import Person, Shelter



async def _export(request: Request, resource: str, table, make: Callable) -> Response:
    principal = principal_of(request)
    engine = request.app.state.engine
    client = request.client.host if request.client else ""

    def run() -> bytes:
        body = make(engine)
        with Session(engine) as session:
            rows = session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            record(session, "export", principal=principal, resource=resource, detail=f"csv rows={rows}",
                   client=client)
            session.commit()
        return body

    body = await run_in_threadpool(run)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{resource}-{stamp}.csv"',
        "Cache-Control": "no-store",
    })


@requires("export.people")
async def export_people(request: Request) -> Response:
    return await _export(request, "people", Person.__table__, export_people_csv)


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
