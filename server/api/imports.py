"""CSV imports over HTTP: ``POST /api/imports/people``, ``/api/imports/shelters`` and ``/api/imports/plans``.

The CSV is the raw request body (``Content-Type: text/csv``) or the ``file`` field of a
multipart form. ``?apply=false`` (the default) is a dry run; ``?apply=true`` writes every
valid row in one transaction. The answer is the import report (200), 422 when the file as
a whole is refused (encoding, missing column, broken quoting), or 409 when someone else
changed the same records during the import (nothing written; try again). City office only; every
import is written to the audit log with its counts (never with row contents). The plan import is
all or nothing: with ``apply=true`` and any bad row, nothing is written (``applied: false``).
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..auth.audit import record_in_parts
from ..auth.guard import principal_of, requires
from ..errors import ApiError
from ..importers.people_csv import import_people
from ..importers.plans_db import import_plans
from ..importers.report import ImportConflictError, ImportFileError, ImportReport
from ..importers.shelters_csv import import_shelters
from ..models.geo import normalize_municipality_code

_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


def _apply_flag(request: Request) -> bool:
    raw = request.query_params.get("apply", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ApiError(422, "apply must be true or false", [{"field": "apply", "message": "expected true or false"}])


async def _csv_bytes(request: Request) -> bytes:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "the form has no file", [{"field": "file", "message": "send the CSV as field 'file'"}])
        data = await upload.read()
    else:
        data = await request.body()
    if not data.strip():
        raise ApiError(422, "the file is empty", [{"field": "file", "message": "ファイルが空です (the file is empty)"}])
    return data


def _file_error(exc: ImportFileError) -> ApiError:
    status = 409 if isinstance(exc, ImportConflictError) else 422
    return ApiError(status, exc.message, [{"field": "file", "message": exc.message}],
                    extra={"line": exc.line} if exc.line else None)


async def _audit(request: Request, resource: str, apply: bool, report: ImportReport | None, status: int,
                 detail: str) -> None:
    principal = principal_of(request)
    client = request.client.host if request.client else ""

    def write() -> None:
        with Session(request.app.state.engine) as session:
            # the plans written, by id (an API write names its records), in parts for a big file
            record_in_parts(session, "import" if apply else "import_dry_run", principal=principal,
                            resource=resource, status=status, detail=detail, client=client,
                            record_ids=report.record_ids if report is not None else ())
            session.commit()

    await run_in_threadpool(write)


def _counts(report: ImportReport) -> str:
    return (f"{report.source_format} rows={report.rows} valid={report.valid} invalid={report.invalid} "
            f"created={report.created} updated={report.updated} unchanged={report.unchanged}")


async def _run(request: Request, resource: str, importer, **options) -> Response:
    apply = _apply_flag(request)
    data = await _csv_bytes(request)
    try:
        report = await run_in_threadpool(lambda: importer(request.app.state.engine, data, apply=apply, **options))
    except ImportFileError as exc:
        status = 409 if isinstance(exc, ImportConflictError) else 422
        await _audit(request, resource, apply, None, status, f"refused at line {exc.line or '-'}")
        raise _file_error(exc) from None
    await _audit(request, resource, apply, report, 200, _counts(report))
    return JSONResponse(report.to_dict())


@requires("import.people")
async def import_people_endpoint(request: Request) -> Response:
    code = request.query_params.get("municipality_code") or None
    if code:
        try:
            code = normalize_municipality_code(code)
        except ValueError as exc:
            raise ApiError(422, "bad municipality_code", [{"field": "municipality_code", "message": str(exc)}]) from None
    codes = principal_of(request).municipality_codes  # several municipalities: the caller's own only
    if code is None and codes is not None and len(codes) == 1:
        code = next(iter(codes))
    return await _run(request, "people", import_people, default_municipality_code=code, municipality_codes=codes)


@requires("import.shelters")
async def import_shelters_endpoint(request: Request) -> Response:
    return await _run(request, "shelters", import_shelters, municipality_codes=principal_of(request).municipality_codes)


@requires("import.plans")
async def import_plans_endpoint(request: Request) -> Response:
    return await _run(request, "plans", import_plans, municipality_codes=principal_of(request).municipality_codes)


routes = [
    Route("/api/imports/people", import_people_endpoint, methods=["POST"]),
    Route("/api/imports/plans", import_plans_endpoint, methods=["POST"]),
    Route("/api/imports/shelters", import_shelters_endpoint, methods=["POST"]),
]
