"""HTTP: the supporter register screens of the workbench (支援者台帳) — list with filters, the
supporter page (contact, availability, the plans they are on and the load), new / edit with the
version check and the side-by-side merge, mark as left, the duplicate candidates (merge or keep
apart), and the plan form's search-as-you-type.

City office only, like the rest of the workbench; every page with supporter data is an audited
read (workbench_supporter_data) and answered `Cache-Control: no-store`.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from sqlmodel import Session

from ..auth.guard import page
from ..domain.workbench.supporters import Availability, SupporterKind
from ..errors import ApiError
from ..records.access import access_for
from . import workbench_supporter_data as data
from .http import client_address, form_version, in_session, path_uuid
from .workbench import NO_STORE, REFUSED, _lang, _merge_rows, _page


async def _run(request: Request, fn, supporter_id=None):
    if supporter_id is not None:
        request.state.audit_refusal = ("read", "supporters", [supporter_id])
    try:
        return await in_session(request, fn)
    except ApiError as exc:
        if exc.status == 404:
            raise HTTPException(404, "この支援者は見つかりません (no such supporter)") from None
        raise


def _show(request: Request, name: str, context: dict, status: int = 200) -> Response:
    return _page(request, name, {"labels": data.LABELS, "SupporterKind": SupporterKind,
                                 "Availability": Availability, **context}, status)


def _suffix(request: Request) -> str:
    return "?lang=en" if _lang(request) == "en" else ""


@page("workbench.view", REFUSED)
async def list_page(request: Request) -> Response:
    access = access_for(request.state.principal, "supporters", "list")
    filters = data.parse_filters(dict(request.query_params))

    def run(session: Session):
        found = None if filters.errors else data.list_supporters(session, filters, access, client_address(request))
        return found, data.districts(session, request.state.principal)

    found, districts = await _run(request, run)
    query = {k: v for k, v in filters.values.items() if v}
    return _show(request, "supporters.html", {"filters": filters, "found": found, "districts": districts,
                                              "query": query}, status=422 if filters.errors else 200)


@page("workbench.view", REFUSED)
async def supporter_page(request: Request) -> Response:
    principal = request.state.principal
    access, plan_access = access_for(principal, "supporters", "read"), access_for(principal, "plans", "list")
    supporter_id = path_uuid(request, "supporter_id", "supporter")
    context = await _run(request, lambda session: data.supporter_page(session, supporter_id, access, plan_access,
                                                                      client_address(request)), supporter_id)
    return _show(request, "supporter.html", context)


@page("workbench.view", REFUSED)
async def supporter_form(request: Request) -> Response:
    access = access_for(request.state.principal, "supporters", "read")
    new = "supporter_id" not in request.path_params
    supporter_id = None if new else path_uuid(request, "supporter_id", "supporter")

    def run(session: Session):
        row = None if new else data.get_row(data.SUPPORTERS, session, supporter_id, access)
        item = None if row is None else access.shape(data.to_public(data.SUPPORTERS, session, [row]))[0]
        if row is not None:
            data.audit_operation(session, access, "read", data.SUPPORTERS, [row.id], client=client_address(request))
        principal = request.state.principal
        return {"row": row, "values": data.supporter_to_form(item, data.register_no_of(session, row and row.person_id)),
                "version": item["version"] if item else "", "outcome": None,
                "districts": data.districts(session, principal, row),
                "municipalities": [] if row else data.municipality_choices(session, principal)}

    return _show(request, "supporter_form.html", await _run(request, run, supporter_id))


@page("workbench.edit", REFUSED)
async def supporter_save(request: Request) -> Response:
    new = "supporter_id" not in request.path_params
    access = access_for(request.state.principal, "supporters", "create" if new else "update")
    supporter_id = None if new else path_uuid(request, "supporter_id", "supporter")
    form = await request.form()
    values = data.resolve_merge(form) if form.get("merge") else data.read_form(form)
    raw_version, version = form_version(form)

    def run(session: Session):
        row = None if new else data.get_row(data.SUPPORTERS, session, supporter_id, access)
        outcome, saved_id = data.save_supporter(session, row, values, version, access, client_address(request))
        return {"row": row, "values": outcome.values, "outcome": outcome, "saved_id": saved_id,
                "version": outcome.version if outcome.version is not None else raw_version,
                "districts": data.districts(session, request.state.principal, row),
                "municipalities": [] if row else data.municipality_choices(session, request.state.principal)}

    context = await _run(request, run, supporter_id)
    outcome = context["outcome"]
    if outcome.status == 200:
        return RedirectResponse(f"/workbench/supporters/{context['saved_id']}{_suffix(request)}", status_code=303)
    if outcome.status != 409:
        return _show(request, "supporter_form.html", context, status=outcome.status)
    names = {str(d.id): d.name for d in context["districts"]}
    lang = _lang(request)

    def show(key: str, value: str) -> str:
        if key == "district_id":
            return names.get(value, value)
        if key == "area_district_ids":
            return "、".join(names.get(v, v) for v in value.split(",") if v)
        enum = data.CHOICES.get(key)
        if enum is not None and value in {m.value for m in enum}:
            return enum(value).en if lang == "en" else enum(value).ja
        return value

    context["rows"] = _merge_rows(data.MERGE_GROUPS, data.LABELS, outcome.theirs, context["values"], show, lang)
    context["action"] = f"/workbench/supporters/{supporter_id}/edit{_suffix(request)}"
    return _show(request, "merge.html", context, status=409)


@page("workbench.edit", REFUSED)
async def supporter_left(request: Request) -> Response:
    principal = request.state.principal
    access = access_for(principal, "supporters", "update")
    plan_access = access_for(principal, "plans", "list")
    supporter_id = path_uuid(request, "supporter_id", "supporter")
    form = await request.form()
    raw_version, version = form_version(form)

    def run(session: Session):
        row = data.get_row(data.SUPPORTERS, session, supporter_id, access)
        outcome = data.mark_left(session, row, version, (form.get("left_on") or "").strip(), access,
                                 client_address(request))
        context = data.supporter_page(session, supporter_id, access, plan_access, client_address(request))
        return {**context, "left_outcome": outcome}

    context = await _run(request, run, supporter_id)
    return _show(request, "supporter.html", context, status=context["left_outcome"].status)


@page("workbench.view", REFUSED)
async def candidates_page(request: Request) -> Response:
    access = access_for(request.state.principal, "supporters", "list")
    raw = request.query_params.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < int(raw) < 100000 else 1
    pairs = await _run(request, lambda session: data.open_candidates(session, access, client_address(request), number))
    return _show(request, "supporter_candidates.html", {"pairs": pairs, "decided": None})


@page("workbench.edit", REFUSED)
async def candidate_decide(request: Request) -> Response:
    principal = request.state.principal
    access = access_for(principal, "supporters", "delete")
    plan_access = access_for(principal, "plans", "update")
    candidate_id = path_uuid(request, "candidate_id", "candidate")
    form = await request.form()
    decision = "merge" if form.get("decision") == "merge" else "keep_apart"

    def run(session: Session):
        kept = data.decide_candidate(session, candidate_id, decision, form.get("keep") or "a", access, plan_access,
                                     getattr(principal, "username", ""))
        return kept, data.open_candidates(session, access, client_address(request))

    kept, pairs = await _run(request, run)
    if kept is None:
        raise HTTPException(404, "この候補は見つからないか、既に判断済みです (no such open candidate pair)")
    return _show(request, "supporter_candidates.html", {"pairs": pairs, "decided": decision})


@page("workbench.view", REFUSED)
async def search(request: Request) -> Response:
    access = access_for(request.state.principal, "supporters", "list")
    text = request.query_params.get("q", "")
    found = await _run(request, lambda session: data.search_json(session, text, access, client_address(request)))
    return JSONResponse({"items": found}, headers=NO_STORE)


routes = [
    Route("/workbench/supporters", list_page, methods=["GET"], name="workbench-supporters"),
    Route("/workbench/supporters/new", supporter_form, methods=["GET"], name="workbench-supporter-new"),
    Route("/workbench/supporters/new", supporter_save, methods=["POST"], name="workbench-supporter-create"),
    Route("/workbench/supporters/search", search, methods=["GET"], name="workbench-supporter-search"),
    Route("/workbench/supporters/candidates", candidates_page, methods=["GET"], name="workbench-supporter-candidates"),
    Route("/workbench/supporters/candidates/{candidate_id}", candidate_decide, methods=["POST"],
          name="workbench-supporter-candidate-decide"),
    Route("/workbench/supporters/{supporter_id}", supporter_page, methods=["GET"], name="workbench-supporter"),
    Route("/workbench/supporters/{supporter_id}/edit", supporter_form, methods=["GET"], name="workbench-supporter-edit"),
    Route("/workbench/supporters/{supporter_id}/edit", supporter_save, methods=["POST"],
          name="workbench-supporter-save"),
    Route("/workbench/supporters/{supporter_id}/left", supporter_left, methods=["POST"],
          name="workbench-supporter-left"),
]
