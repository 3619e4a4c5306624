"""CSV exports over HTTP: ``GET /api/exports/people.csv`` and ``GET /api/exports/shelters.csv``.

The files are the importers' layout (UTF-8 with BOM, CRLF, Japanese headers), so they can be
edited in Excel and imported again. City office only; every export is audited, and the
answer is marked not to be cached.
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
from ..models import Person, Shelter



async def _export(request: Request, resource: str, table, make: Callable) -> Response:
    principal = principal_of(request)
    engine = request.app.state.engine
    client = request.client.host if request.client else ""

    def run() -> bytes:
        codes = principal.municipality_codes  # several municipalities: the caller's own only
        body = make(engine, codes)
        with Session(engine) as session:
            where = [] if codes is None else [table.c.municipality_code.in_(sorted(codes))]
            rows = session.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
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


routes = [
    Route("/api/exports/people.csv", export_people, methods=["GET"]),
    Route("/api/exports/shelters.csv", export_shelters, methods=["GET"]),
]
