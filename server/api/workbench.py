"""HTTP: the welfare office's workbench pages (福祉課の業務画面) — register search, the person
page, plan authoring with the side-by-side merge.

City office roles only (admin, welfare staff): anonymous callers go to /login, other roles get
403 (until the page decorator of the one access table replaces this check). Every page that
shows personal data is audited through the records layer and answered `Cache-Control: no-store`.
Japanese first; `?lang=en` shows English.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from sqlmodel import Session

from .. import __version__
from ..auth.guard import page
from ..domain.japan_time import today_jst
from ..errors import ApiError
from ..models.auth import Mode
from ..models.vocab import CareNeed, Consent, Household, OpenState, PlanStatus, Reason, SafetyOutcome, Sex
from ..records.access import access_for
from ..web import templates
from . import workbench_data as data
from . import workbench_person as persons
from . import workbench_plan as plans
from .workbench_supporter_data import supporter_loads
from .http import client_address, form_version, in_session, path_uuid

REFUSED = "業務画面は市役所の福祉担当のみ使えます (city welfare office only)"
NO_STORE = {"Cache-Control": "no-store"}


async def _run(request: Request, fn, person_id=None):
    """One transaction; a person outside the caller's scope or unknown is an HTML 404 page, and
    the refusal is audited (by `in_session`) like the API's."""
    if person_id is not None:
        request.state.audit_refusal = ("read", "people", [person_id])
    try:
        return await in_session(request, fn)
    except ApiError as exc:
        if exc.status == 404:
            raise HTTPException(404, "この方は見つかりません (no such person in your scope)") from None
        raise


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "ja"


def _page(request: Request, name: str, context: dict, status: int = 200) -> Response:
    lang = _lang(request)
    base = {"version": __version__, "lang": lang, "Reason": Reason, "CareNeed": CareNeed, "Consent": Consent,
            "PlanStatus": PlanStatus, "Sex": Sex, "Household": Household, "SafetyOutcome": SafetyOutcome,
            "OpenState": OpenState, "path": request.url.path,
            "labels": persons.LABELS if name.startswith("person_form") else plans.LABELS,
            "t": (lambda ja, en: en if lang == "en" else ja),
            "office_banner": office_banner(request, lang)}
    return templates.TemplateResponse(request, f"workbench/{name}", {**base, **context}, status_code=status,
                                      headers=NO_STORE)


def office_banner(request: Request, lang: str) -> str:
    """Art. 49-11: the workbench is the office's own view; in normal times it lists people who have
    not consented, so every page says it is not to be handed to an outside recipient."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return ""
    if principal.mode == Mode.disaster:
        return "庁内用の画面です（災害時）" if lang == "ja" else "Office use only (disaster mode)"
    return ("庁内限り：同意のない方も表示しています。外部への提供は、提供先を指定した印刷・CSV出力で行ってください（提供記録が残ります）。"
            if lang == "ja" else "Office use only: this page shows people who have not consented. Hand lists to "
            "outside recipients only through a print or export that names the recipient (a handover record is kept).")


def _accesses(principal):
    return (access_for(principal, "people", "list"), access_for(principal, "plans", "read"),
            access_for(principal, "safety-checks", "list"))


@page("workbench.view", REFUSED)
async def register_page(request: Request) -> Response:
    principal = request.state.principal
    people, plan_access, _ = _accesses(principal)
    search = data.parse_search(dict(request.query_params))

    def run(session: Session):
        found = None if search.errors else data.run_search(session, search, people, plan_access,
                                                           client_address(request))
        return found, data.districts(session, people)

    found, districts = await _run(request, run)
    query = {k: v for k, v in search.values.items() if v}
    return _page(request, "register.html", {"search": search, "found": found, "districts": districts,
                                            "query": query}, status=422 if search.errors else 200)


@page("workbench.view", REFUSED)
async def person_page(request: Request) -> Response:
    principal = request.state.principal
    people, plan_access, safety = _accesses(principal)
    person_id = path_uuid(request, "person_id", "person")

    def run(session: Session):
        return data.person_page(session, person_id, people, plan_access, safety, client_address(request),
                                today_jst())

    context = await _run(request, run, person_id)
    return _page(request, "person.html", context)


def _plan_context(session: Session, person_id, people, plan_access, today) -> dict:
    row = data.get_row(data.PEOPLE, session, person_id, people)
    plan = plans.current_plan(session, person_id, plan_access)
    return {"row": row, "plan": plan,
            "options": plans.options_for(session, row, today, several=people.principal.municipality_codes is not None)}


@page("workbench.view", REFUSED)
async def plan_form(request: Request) -> Response:
    principal = request.state.principal
    people, plan_access, _ = _accesses(principal)
    person_id = path_uuid(request, "person_id", "person")

    def run(session: Session):
        context = _plan_context(session, person_id, people, plan_access, today_jst())
        stored = plans.public(session, context["plan"], plan_access)
        data.audit_operation(session, people, "read", data.PEOPLE, [person_id], client=client_address(request))
        if context["plan"] is not None:
            data.audit_operation(session, plan_access, "read", data.PLANS, [context["plan"].id],
                                 client=client_address(request))
        values = plans.plan_to_form(stored)
        return {**context, "values": values, "version": stored["version"] if stored else "",
                "outcome": None, "loads": supporter_loads(session, values)}

    return _page(request, "plan.html", await _run(request, run, person_id))


@page("workbench.edit", REFUSED)
async def plan_save(request: Request) -> Response:
    principal = request.state.principal
    people, _, _ = _accesses(principal)
    plan_access = access_for(principal, "plans", "update")
    person_id = path_uuid(request, "person_id", "person")
    form = await request.form()
    values = plans.resolve_merge(form) if form.get("merge") else plans.read_form(form)
    raw_version, version = form_version(form)

    def run(session: Session):
        today = today_jst()
        context = _plan_context(session, person_id, people, plan_access, today)
        outcome = plans.save_plan(session, context["row"], context["plan"], values, version, plan_access, today,
                                  client_address(request), access_for(principal, "supporters", "create"))
        context["loads"] = supporter_loads(session, outcome.values)
        if outcome.status == 200:
            context["plan"] = plans.current_plan(session, person_id, plan_access)
        return {**context, "values": outcome.values, "outcome": outcome,
                "version": outcome.version if outcome.version is not None else (raw_version or "")}

    context = await _run(request, run, person_id)
    status = context["outcome"].status
    if status != 409:
        return _page(request, "plan.html", context, status=status)
    names = {str(o.shelter_id): o.name for o in context["options"]}
    lang = _lang(request)

    def show(key: str, value: str) -> str:
        if key in ("destination_shelter_id", "alternate_shelter_id"):
            return names.get(value, value)
        if key == "status" and value in {m.value for m in PlanStatus}:
            return PlanStatus(value).en if lang == "en" else PlanStatus(value).ja
        if key in ("consent", "carer_accompanies"):
            return ("yes" if lang == "en" else "はい") if value else ""
        return value

    context["rows"] = _merge_rows(plans.MERGE_GROUPS, plans.LABELS, context["outcome"].theirs, context["values"],
                                  show, lang)
    context["action"] = f"/workbench/people/{person_id}/plan" + ("?lang=en" if lang == "en" else "")
    return _page(request, "merge.html", context, status=409)


def _merge_rows(groups, labels, theirs: dict, mine: dict, show, lang: str) -> list[dict]:
    """One row per field group: both sides' raw values (carried in the form) and as shown."""
    rows = []
    for group, keys in groups:
        label = labels[group][1] if lang == "en" else labels[group][0]
        rows.append({"group": group, "label": label, "differs": any(theirs[k] != mine[k] for k in keys),
                     "theirs": [(k, theirs[k], show(k, theirs[k])) for k in keys],
                     "mine": [(k, mine[k], show(k, mine[k])) for k in keys]})
    return rows


# ---- a register entry: new and edit ----

@page("workbench.view", REFUSED)
async def person_form(request: Request) -> Response:
    principal = request.state.principal
    people, _, _ = _accesses(principal)
    new = "person_id" not in request.path_params
    person_id = None if new else path_uuid(request, "person_id", "person")

    def run(session: Session):
        row = None if new else data.get_row(data.PEOPLE, session, person_id, people)
        stored = None if row is None else people.shape(data.to_public(data.PEOPLE, session, [row]))[0]
        if row is not None:
            data.audit_operation(session, people, "read", data.PEOPLE, [row.id], client=client_address(request))
        return {"row": row, "values": persons.person_to_form(stored), "version": stored["version"] if stored else "",
                "outcome": None, "districts": data.districts(session, people)}

    return _page(request, "person_form.html", await _run(request, run, person_id))


@page("workbench.edit", REFUSED)
async def person_save(request: Request) -> Response:
    principal = request.state.principal
    new = "person_id" not in request.path_params
    access = access_for(principal, "people", "create" if new else "update")
    person_id = None if new else path_uuid(request, "person_id", "person")
    form = await request.form()
    values = persons.resolve_merge(form) if form.get("merge") else persons.read_form(form)
    raw_version, version = form_version(form)

    def run(session: Session):
        row = None if new else data.get_row(data.PEOPLE, session, person_id, access)
        outcome, saved_id = persons.save_person(session, row, values, version, access, client_address(request))
        return {"row": row, "values": outcome.values, "outcome": outcome, "saved_id": saved_id,
                "version": outcome.version if outcome.version is not None else raw_version,
                "districts": data.districts(session, access)}

    context = await _run(request, run, person_id)
    outcome = context["outcome"]
    lang = _lang(request)
    suffix = "?lang=en" if lang == "en" else ""
    if outcome.status == 200:
        return RedirectResponse(f"/workbench/people/{context['saved_id']}{suffix}", status_code=303)
    if outcome.status != 409:
        return _page(request, "person_form.html", context, status=outcome.status)
    names = {str(d.id): d.name for d in context["districts"]}

    def show(key: str, value: str) -> str:
        if key == "district_id":
            return names.get(value, value)
        ja, en = persons.choice_label(key, value)
        return en if lang == "en" else ja

    context["rows"] = _merge_rows(persons.MERGE_GROUPS, persons.LABELS, outcome.theirs, context["values"], show, lang)
    context["action"] = f"/workbench/people/{person_id}/edit{suffix}"
    return _page(request, "merge.html", context, status=409)


routes = [
    Route("/workbench", register_page, methods=["GET"], name="workbench-register"),
    Route("/workbench/people/new", person_form, methods=["GET"], name="workbench-person-new"),
    Route("/workbench/people/new", person_save, methods=["POST"], name="workbench-person-create"),
    Route("/workbench/people/{person_id}/edit", person_form, methods=["GET"], name="workbench-person-edit"),
    Route("/workbench/people/{person_id}/edit", person_save, methods=["POST"], name="workbench-person-save"),
    Route("/workbench/people/{person_id}", person_page, methods=["GET"], name="workbench-person"),
    Route("/workbench/people/{person_id}/plan", plan_form, methods=["GET"], name="workbench-plan"),
    Route("/workbench/people/{person_id}/plan", plan_save, methods=["POST"], name="workbench-plan-save"),
]
