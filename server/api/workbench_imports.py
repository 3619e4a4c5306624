"""HTTP: plans in bulk on the workbench (計画の一括取り込み) — upload a plan CSV, read the dry
run's report (every bad row with its line, column and reason), then apply.

The apply step sends the same file again (the page's script keeps it; nothing is stored on the
server between the steps) with the SHA-256 the dry run showed: a different file is refused
(409), so what is written is what was checked. The import itself is `importers/plans_db`
(all or nothing); both steps are audited with their counts, like `POST /api/imports/plans`.
"""

from __future__ import annotations

import hashlib

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.guard import page
from ..importers.plans_db import import_plans
from ..importers.report import ImportConflictError, ImportFileError
from . import imports
from .workbench import _page

REFUSED = "計画の一括取り込みは市役所の福祉担当のみ使えます (city welfare office only)"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@page("import.plans", REFUSED)
async def plans_import_page(request: Request) -> Response:
    return _page(request, "plans_import.html", {"report": None, "problem": None, "digest": "", "filename": ""})


@page("import.plans", REFUSED)
async def plans_import_post(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    apply = form.get("apply") == "true"
    context = {"report": None, "problem": None, "digest": "", "filename": ""}
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["problem"] = "計画CSVのファイルを選んでください (choose the plan CSV file)"
        return _page(request, "plans_import.html", context, status=422)
    data = await upload.read()
    context["filename"] = upload.filename
    if not data.strip():
        context["problem"] = "ファイルが空です (the file is empty)"
        return _page(request, "plans_import.html", context, status=422)
    digest = _digest(data)
    if apply and form.get("digest") != digest:
        context["problem"] = ("確認したファイルと違います。もう一度確認してから取り込んでください "
                              "(not the file that was checked: check it again before applying)")
        return _page(request, "plans_import.html", context, status=409)
    try:
        codes = request.state.principal.municipality_codes  # several municipalities: the office's own register
        report = await run_in_threadpool(lambda: import_plans(request.app.state.engine, data, apply=apply,
                                                              municipality_codes=codes))
    except ImportFileError as exc:
        status = 409 if isinstance(exc, ImportConflictError) else 422
        await imports._audit(request, "plans", apply, None, status, f"refused at line {exc.line or '-'}")
        context["problem"] = exc.message + (f" ({exc.line}行目 / line {exc.line})" if exc.line else "")
        return _page(request, "plans_import.html", context, status=status)
    await imports._audit(request, "plans", apply, report, 200, "workbench " + imports._counts(report))
    context.update(report=report, digest=digest, asked_apply=apply)
    return _page(request, "plans_import.html", context)


routes = [
    Route("/workbench/plans/import", plans_import_page, methods=["GET"], name="workbench-plans-import"),
    Route("/workbench/plans/import", plans_import_post, methods=["POST"], name="workbench-plans-import-post"),
]
