"""HTTP: Art. 49-11 on the workbench — what each outside recipient holds (提供記録 and the
per-recipient report, with CSV), the consent-request letters (同意確認書) and the screen that
records the replies from their slips.

City office only (workbench.view / workbench.edit). Every page naming people is audited through
the records layer; answers are `Cache-Control: no-store`.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from urllib.parse import quote

from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.guard import page
from ..auth.policy import municipal_clauses
from ..domain.csvsafe import escape_cell
from ..domain.japan_time import today_jst
from ..domain.share_records import OUTSIDE, holdings_report, parse_recipient, visible_people
from ..errors import ApiError
from ..models import District, Person, ShareHandover
from ..models.vocab import ConsentAnswer, ConsentMethod, Ordinance, Recipient
from ..printing.consent_letters import MAX_LETTERS, SharedNumber, find_by_code, letters_for, letters_pdf, select_people
from ..printing.engine import EngineUnavailable
from ..records.access import access_for
from ..records.audit import audit_operation
from ..records.registry import CONSENTS, PEOPLE
from ..records.rows import create_row
from .http import client_address, in_session
from .workbench import NO_STORE, REFUSED, _lang, _page

from starlette.concurrency import run_in_threadpool


def _ordinance(request: Request) -> Ordinance:
    return Ordinance(request.state.principal.ordinance)


# ---- what each recipient holds ----

def _report(session: Session, request: Request, name: str | None):
    today = today_jst()
    people_access = access_for(request.state.principal, "people", "list")
    report, last = holdings_report(session, today, _ordinance(request), people_access.clauses())
    if name is not None:
        report = {k: v for k, v in report.items() if k == name}
    wanted = {pid for h in report.values() for pid in (*h.held, *h.to_retrieve)}
    people = {}
    ids = list(wanted)
    for start in range(0, len(ids), 500):
        for p in session.exec(select(Person).where(Person.id.in_(ids[start:start + 500]))).all():
            people[p.id] = p
    if people:
        audit_operation(session, people_access, "list", PEOPLE, list(people), client=client_address(request))
    rows = []
    for recipient_name, h in sorted(report.items()):
        for pid in h.held:
            rows.append((recipient_name, h.recipient, people.get(pid), last.get((recipient_name, pid)), "held"))
        for pid in h.to_retrieve:
            rows.append((recipient_name, h.recipient, people.get(pid), last.get((recipient_name, pid)), "to_retrieve"))
    return report, rows, today


def _recent(session: Session, people_clauses: list, count: int = 50) -> list[ShareHandover]:
    """The latest handovers naming the caller's people (several municipalities: a handover is
    scoped through the people it names); at most `count`, looked for among the latest 1,000."""
    rows = session.exec(select(ShareHandover).order_by(ShareHandover.recorded_at.desc())
                        .limit(count if not people_clauses else 1000)).all()
    if not people_clauses:
        return list(rows)
    seen = {str(i) for i in visible_people(session, (i for r in rows for i in r.person_ids), people_clauses)}
    return [r for r in rows if seen.intersection(r.person_ids)][:count]


@page("workbench.view", REFUSED)
async def sharing_page(request: Request) -> Response:
    name = request.query_params.get("recipient_name") or None

    def run(session: Session):
        report, rows, today = _report(session, request, name)
        recent = _recent(session, access_for(request.state.principal, "people", "list").clauses())
        return {"report": report, "rows": rows if name else [], "today": today, "recent": recent,
                "recipient_name": name, "Recipient": Recipient, "ordinance": _ordinance(request)}

    return _page(request, "sharing.html", await in_session(request, run))


@page("workbench.view", REFUSED)
async def sharing_csv(request: Request) -> Response:
    """Every person each recipient holds today (or one recipient's, `?recipient_name=`)."""
    name = request.query_params.get("recipient_name") or None

    def run(session: Session):
        _, rows, today = _report(session, request, name)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write("\ufeff")
        writer.writerow(["提供先", "提供先区分", "登録者番号", "氏名", "提供日", "状態"])
        for recipient_name, category, person, on, state in rows:
            writer.writerow([escape_cell(x) for x in (
                recipient_name, category.ja, person.register_no if person else "", person.name if person else "",
                on.isoformat() if on else "", "保有" if state == "held" else "回収対象（同意撤回）")])
        return buffer.getvalue().encode("utf-8"), today

    body, today = await in_session(request, run)
    filename = f"holdings-{today.isoformat()}.csv"
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        **NO_STORE, "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"})


# ---- consent letters and replies ----

def _districts(session: Session, principal) -> list[District]:
    """The caller's municipalities' districts (all with one municipality)."""
    return list(session.exec(select(District).where(*municipal_clauses("districts", principal))
                             .order_by(District.kind, District.code)).all())


def _letter_selection(session: Session, params, principal) -> tuple[list, dict]:
    errors: dict[str, str] = {}
    district_ids = None
    raw = (params.get("district") or "").strip()
    if raw:
        try:
            district = session.exec(select(District).where(District.id == uuid.UUID(raw),
                                                           *municipal_clauses("districts", principal))).first()
        except ValueError:
            district = None
        if district is None:
            errors["district"] = "地区が見つかりません (unknown district)"
        else:
            children = session.exec(select(District.id).where(District.parent_id == district.id)).all()
            district_ids = [district.id, *children]
    missing = None
    raw = (params.get("missing") or "").strip()
    if raw and raw != "any":
        try:
            missing = parse_recipient(raw)
        except ValueError:
            errors["missing"] = "提供先の区分を選んでください (choose a recipient category)"
    if errors:
        return [], errors
    people = select_people(session, district_ids, missing,
                           clauses=access_for(principal, "people", "list").clauses())
    if len(people) > MAX_LETTERS:
        errors["district"] = f"一度に印刷できるのは{MAX_LETTERS}通までです。地区を絞ってください (at most {MAX_LETTERS} letters)"
    elif not people:
        errors["district"] = "該当する方はいません (nobody matches)"
    return people, errors


def _consents_context(session: Session, request: Request, values: dict, errors: dict, saved=None) -> dict:
    return {"districts": _districts(session, request.state.principal), "categories": OUTSIDE, "values": values, "errors": errors,
            "saved": saved, "today": today_jst()}


@page("workbench.view", REFUSED)
async def consents_page(request: Request) -> Response:
    params = dict(request.query_params)

    def run(session: Session):
        return _consents_context(session, request, {"answered_on": today_jst().isoformat(), **params}, {})

    return _page(request, "consents.html", await in_session(request, run))


@page("workbench.view", REFUSED)
async def letters_pdf_endpoint(request: Request) -> Response:
    params = dict(request.query_params)
    principal = request.state.principal

    def run(session: Session):
        people, errors = _letter_selection(session, params, principal)
        if errors:
            return None, _consents_context(session, request, params, errors)
        audit_operation(session, access_for(principal, "people", "list"), "print", PEOPLE, [p.id for p in people],
                        client=client_address(request))
        return letters_for(session, people, today_jst()), None

    letters, context = await in_session(request, run)
    if letters is None:
        return _page(request, "consents.html", context, status=422)
    try:
        pdf = await run_in_threadpool(letters_pdf, letters)
    except EngineUnavailable as exc:
        raise ApiError(503, str(exc)) from None
    return Response(pdf, media_type="application/pdf", headers={
        **NO_STORE, "Content-Disposition": f'inline; filename="consent-letters-{today_jst().isoformat()}.pdf"'})


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@page("workbench.edit", REFUSED)
async def reply_save(request: Request) -> Response:
    """One returned slip: the person (code), the categories ticked 同意する (the others: 同意しない),
    the day written on the slip; method 書面. Saved through the records layer (recorded_by, audit)."""
    form = await request.form()
    values = {"code": (form.get("code") or "").strip(), "answered_on": (form.get("answered_on") or "").strip(),
              "method": form.get("method") or ConsentMethod.written.value}
    ticked = {c for c in OUTSIDE if form.get(f"c_{c.value}") == "consented"}
    refused = {c for c in OUTSIDE if form.get(f"c_{c.value}") == "refused"}
    access = access_for(request.state.principal, "consents", "create")

    def run(session: Session):
        errors: dict[str, str] = {}
        # a 登録者番号 or slip of another municipality is "not found", like one that does not exist
        try:
            person = find_by_code(session, values["code"], access_for(request.state.principal, "people", "list").clauses())
        except SharedNumber:
            person = None
            errors["code"] = ("この登録者番号の方が複数の市区町村にいます。伝票のQRコードか「番号-確認コード」を入力してください "
                              "(several municipalities hold this register number: use the slip's QR code or number-check code)")
        else:
            if person is None:
                errors["code"] = "この番号・コードの方は見つかりません (no person with this number or code)"
        day = _parse_day(values["answered_on"])
        if day is None:
            errors["answered_on"] = "日付を YYYY-MM-DD で入力してください (a date)"
        elif day > today_jst():
            errors["answered_on"] = "未来の日付は登録できません (a date in the future)"
        try:
            method = ConsentMethod(values["method"])
        except ValueError:
            method = None
            errors["method"] = "書面 または 口頭 (written or oral)"
        if method == ConsentMethod.migrated:
            errors["method"] = "書面 または 口頭 (written or oral)"
        if not ticked and not refused:
            errors["categories"] = "少なくとも一つの提供先に印をつけてください (tick at least one category)"
        if errors:
            return _consents_context(session, request, {**values, **{f"c_{c.value}": form.get(f"c_{c.value}")
                                                                     for c in OUTSIDE}}, errors), 422
        for category in OUTSIDE:
            if category in ticked or category in refused:
                answer = ConsentAnswer.consented if category in ticked else ConsentAnswer.refused
                create_row(CONSENTS, session, {"person_id": str(person.id), "recipient": category.value,
                                               "answer": answer.value, "method": method.value,
                                               "answered_on": day.isoformat()}, access)
        saved = {"register_no": person.register_no, "name": person.name,
                 "consented": [c for c in OUTSIDE if c in ticked], "refused": [c for c in OUTSIDE if c in refused]}
        audit_operation(session, access, "create", CONSENTS, [person.id], status=201, client=client_address(request))
        return _consents_context(session, request, {"answered_on": values["answered_on"], "method": method.value},
                                 {}, saved), 200

    context, status = await in_session(request, run)
    return _page(request, "consents.html", context, status=status)


routes = [
    Route("/workbench/sharing", sharing_page, methods=["GET"], name="workbench-sharing"),
    Route("/workbench/sharing.csv", sharing_csv, methods=["GET"], name="workbench-sharing-csv"),
    Route("/workbench/consents", consents_page, methods=["GET"], name="workbench-consents"),
    Route("/workbench/consents/letters.pdf", letters_pdf_endpoint, methods=["GET"], name="workbench-consent-letters"),
    Route("/workbench/consents", reply_save, methods=["POST"], name="workbench-consent-reply"),
]
