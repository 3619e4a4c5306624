"""HTTP: printouts as PDF, batch jobs with progress, and the /print preview page.

Printing a plan is a read of personal data: the same policy as `GET /api/plans/{id}`
(out of scope → 404, the role's hidden fields left out), and every print is audited.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, StrictBool, ValidationInfo, field_validator
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..auth.guard import authorize, declares, public, requires
from ..auth.policy import rule_for
from ..domain.japan_time import today_jst
from ..domain.share_records import OUTSIDE, ShareTarget, TargetError, record_handover, target_for
from ..errors import ApiError
from ..models import EvacuationPlan
from ..models.vocab import ShareMedium
from ..printing import render
from ..printing.engine import EngineUnavailable
from ..printing.jobs import DONE, store_for
from ..printing.preview import MAX_QUERY, examples, find_plans
from ..printing.selection import Scope, select_plans
from ..printing.service import (
    audit_print,
    check_language,
    field_list_context,
    field_list_ids,
    plan_context,
    run_batch,
)
from ..web import templates
from .http import audit_unrecorded_refusal, client_address, in_session, path_uuid, read_body


def _target(principal, recipient: Optional[str], name: Optional[str]) -> ShareTarget:
    """For whom (Art. 49-11): the office names an outside recipient or prints for itself."""
    try:
        return target_for(principal, recipient, name)
    except TargetError as exc:
        raise ApiError(422, "validation failed", exc.errors) from None


def _scope(request: Request, target_params: Optional[tuple] = None) -> Scope:
    principal, rule = authorize(request, "plans", "read")
    params = target_params or (request.query_params.get("recipient"), request.query_params.get("recipient_name"))
    return Scope.for_principal(principal, rule, _target(principal, *params))


def _people_scope(request: Request) -> Scope:
    principal, _ = authorize(request, "people", "list")
    target = _target(principal, request.query_params.get("recipient"), request.query_params.get("recipient_name"))
    return Scope.for_principal(principal, rule_for("plans", principal), target)


def _handover(session: Session, scope: Scope, person_ids: list, what: str) -> None:
    """The 提供記録 of a print handed to an outside recipient (the office's own prints have none)."""
    target = scope.target
    if target is not None and target.recorded:
        record_handover(session, scope.principal, target.recipient, target.name, person_ids, ShareMedium.print,
                        what, today_jst())


def _plan_people(session: Session, plan_ids: list) -> list:
    rows = []
    for start in range(0, len(plan_ids), 500):
        rows += session.exec(select(EvacuationPlan.person_id).where(
            EvacuationPlan.id.in_(plan_ids[start:start + 500]))).all()
    return rows


async def _render(function, context) -> bytes:
    """Print in a worker thread; no PDF engine here is a 503 that says why, not a 500."""
    try:
        return await run_in_threadpool(function, context)
    except EngineUnavailable as exc:
        raise ApiError(503, str(exc)) from None


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


@requires("print.plan")
async def plan_pdf(request: Request) -> Response:
    scope = _scope(request)
    plan_id = path_uuid(request, "plan_id")
    language = check_language(request.query_params.get("lang"))
    request.state.audit_refusal = ("print", "plans", [plan_id])

    def run(session: Session):
        context = plan_context(session, plan_id, scope, language=language)
        audit_print(session, scope, "plans", [plan_id], client=client_address(request))
        _handover(session, scope, _plan_people(session, [plan_id]), f"plan {plan_id}")
        return context

    context = await in_session(request, run)
    return _pdf(await _render(render.plan_pdf, context), f"plan-{plan_id}.pdf")


class BatchRequest(BaseModel):
    """`POST /api/print/batches`: plans by district, supporter or shelter (`value`), or by `ids`."""

    by: Literal["district", "supporter", "shelter", "selection"]
    ids: Optional[list[Any]] = Field(default=None, validate_default=True, description="plan ids, for by=selection")
    value: Optional[str] = Field(default=None, validate_default=True, description="the district, supporter or shelter")
    duplex: StrictBool = False
    recipient: Optional[str] = Field(default=None, description="Art. 49-11: the outside recipient category "
                                     "(minsei, fire …); none: the office's own print")
    recipient_name: Optional[str] = Field(default=None, max_length=200, description="the recipient, e.g. 東消防署")

    @field_validator("ids")
    @classmethod
    def _ids_for_selection(cls, ids: Optional[list[Any]], info: ValidationInfo) -> Optional[list[Any]]:
        if info.data.get("by") == "selection" and ids is None:
            raise ValueError("a list of plan ids")
        return ids

    @field_validator("value")
    @classmethod
    def _value_for_the_rest(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        by = info.data.get("by")
        if by in (None, "selection"):
            return value
        if value is None or not value.strip():
            raise ValueError(f"the {by} to print")
        return value.strip()

    @property
    def selector(self) -> Any:
        return self.ids if self.by == "selection" else self.value


@requires("print.batch")
async def batch_create(request: Request) -> Response:
    body = await read_body(request, BatchRequest)
    scope = _scope(request, (body.recipient, body.recipient_name))
    by, value, duplex = body.by, body.selector, body.duplex
    request.state.audit_refusal = ("print", "plans", [])

    def run(session: Session):
        plans, description = select_plans(session, by, value, scope)
        ids = [p.id for p in plans]
        if not ids:  # refused now, not as a failed job later
            raise ApiError(422, "validation failed", [{"field": "ids" if by == "selection" else "value",
                                                       "message": "selects no plan you may print"}])
        audit_print(session, scope, "plans", ids, client=client_address(request), detail=f"batch by {by}")
        _handover(session, scope, [p.person_id for p in plans], f"plan batch: {description}")
        return ids, description

    ids, description = await in_session(request, run)
    engine = request.app.state.engine

    def work(job):
        result = run_batch(engine, ids, description, scope, progress=job.progress, duplex=duplex)
        return result.pdf, result.pages

    job = store_for(request.app).submit(str(scope.principal.user_id), len(ids), description, work)
    return JSONResponse(job.public(), status_code=202, headers={"Location": f"/api/print/batches/{job.id}"})


def _job(request: Request):
    principal, _ = authorize(request, "plans", "read")
    return store_for(request.app).get(request.path_params["job"], str(principal.user_id))


@requires("print.batch")
async def batch_status(request: Request) -> Response:
    return JSONResponse(_job(request).public())


@requires("print.batch")
async def batch_pdf(request: Request) -> Response:
    job = _job(request)
    if job.state != DONE or job.pdf is None:
        raise ApiError(409, f"the print job is {job.state}", extra={"job": job.public()})
    return _pdf(job.pdf, f"plans-{job.id[:8]}.pdf")


async def _field_list(request: Request, kind: str, detail: str, record: bool = True):
    """The field list the URL names, within the reader's scope; the read is audited."""
    scope = _people_scope(request)
    key = request.path_params["key"]
    request.state.audit_refusal = ("print", "field-list", [key])

    def run(session: Session):
        context = field_list_context(session, kind, key, scope)
        audit_print(session, scope, "field-list", [key, *field_list_ids(context)], client=client_address(request),
                    detail=detail)
        if record:
            _handover(session, scope, [uuid.UUID(i) for i in field_list_ids(context)],
                      f"{context.title}: {context.subject}")
        return context

    return await in_session(request, run)


def _field_list_endpoint(kind: str):
    async def endpoint(request: Request) -> Response:
        context = await _field_list(request, kind, f"{kind} list")
        return _pdf(await _render(render.field_list_pdf, context), f"{kind}-list-{request.path_params['key']}.pdf")
    endpoint.__name__ = f"{kind}_list_pdf"
    return requires("print.field_list")(endpoint)


# ---- the preview page and HTML previews ----

@public
async def print_css(request: Request) -> Response:
    return FileResponse(render.CSS_FILE, media_type="text/css")


async def print_page(request: Request) -> Response:
    principal = getattr(request.state, "principal", None)
    query = request.query_params.get("q", "").strip()
    context = {"version": __version__, "principal": principal, "examples": None, "error": "", "query": query,
               "found": None, "more": False, "query_error": "", "recipients": OUTSIDE}
    status = 200 if principal is not None else 401
    if principal is not None:
        try:
            scope = _scope(request)
        except ApiError as exc:
            context["error"] = exc.detail
            await audit_unrecorded_refusal(request, exc.status, exc.detail)  # shown on the page, still a refusal
        else:
            if len(query) > MAX_QUERY:
                context["query_error"] = f"{MAX_QUERY}文字以内で入力してください。 (at most {MAX_QUERY} characters)"
                status = 422

            def run(session: Session):
                if query and not context["query_error"]:
                    context["found"], context["more"] = find_plans(session, scope, query, client_address(request))
                return examples(session, scope, client_address(request))

            context["examples"] = await in_session(request, run)
    return templates.TemplateResponse(request, "print_index.html", context, status_code=status)


@requires("print.plan")
async def plan_preview(request: Request) -> Response:
    scope = _scope(request)
    plan_id = path_uuid(request, "plan_id")
    language = check_language(request.query_params.get("lang"))

    def run(session: Session):
        context = plan_context(session, plan_id, scope, language=language)
        audit_print(session, scope, "plans", [plan_id], client=client_address(request), detail="html preview")
        return context

    context = await in_session(request, run)
    return HTMLResponse(render.render_html(plans=[context], preview=True))


def _field_list_preview(kind: str):
    async def endpoint(request: Request) -> Response:
        context = await _field_list(request, kind, f"{kind} list html preview", record=False)
        return HTMLResponse(render.render_html(field_list=context, preview=True))
    endpoint.__name__ = f"{kind}_list_preview"
    return requires("print.field_list")(endpoint)


routes = [
    Route("/api/print/plans/{plan_id}.pdf", plan_pdf, methods=["GET"], name="print-plan"),
    Route("/api/print/batches", batch_create, methods=["POST"], name="print-batch-create"),
    Route("/api/print/batches/{job}.pdf", batch_pdf, methods=["GET"], name="print-batch-pdf"),
    Route("/api/print/batches/{job}", batch_status, methods=["GET"], name="print-batch-status"),
    Route("/api/print/field-lists/district/{key}.pdf", _field_list_endpoint("district"), methods=["GET"],
          name="print-district-list"),
    Route("/api/print/field-lists/shelter/{key}.pdf", _field_list_endpoint("shelter"), methods=["GET"],
          name="print-shelter-list"),
    declares("print.page", Route("/print", print_page, methods=["GET"], name="print-page")),
    Route("/print/print.css", print_css, methods=["GET"], name="print-css"),
    Route("/print/preview/plans/{plan_id}", plan_preview, methods=["GET"], name="print-preview-plan"),
    Route("/print/preview/field-lists/district/{key}", _field_list_preview("district"), methods=["GET"],
          name="print-preview-district-list"),
    Route("/print/preview/field-lists/shelter/{key}", _field_list_preview("shelter"), methods=["GET"],
          name="print-preview-shelter-list"),
]
