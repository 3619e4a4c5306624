"""HTTP: the review cycle (見直し) — the list of plans to review and the review-request letters.

A plan is on the list when its 次回見直し日 has passed, when it is done (作成済) without any
review date, or when something it rests on changed (要見直し reasons recorded by
server/records/review_flags.py: the person's needs, address or reasons, the destination's
seismic class, kind or target groups, a supporter leaving or overloaded). Filtered by 福祉圏域
or 町丁目. The letters (見直し依頼) go to each person, with a copy for each supporter named
on the plan, as one A4 PDF through the printing engine (docs/printing.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

import sqlalchemy as sa
from markupsafe import Markup
from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.audit import record
from ..auth.guard import page
from ..domain.japan_time import today_jst
from ..domain.workbench.review import overdue_reviews
from ..domain.workbench.common import Plan
from ..models import District, EvacuationPlan, Person
from ..models.vocab import PlanStatus
from ..records.access import access_for
from ..records.audit import audit_operation
from ..records.registry import PEOPLE
from ..records.review_flags import flagged_plan_ids, reasons_of
from .http import client_address
from .workbench import REFUSED, _page, _run

PAGE_SIZE = 100
MAX_LETTERS = 500  # one PDF; more: filter by district (a batch of thousands belongs to the print jobs)


@dataclass
class ReviewRow:
    plan_id: uuid.UUID
    person_id: uuid.UUID
    register_no: str
    name: str
    address: str
    district: str
    status: PlanStatus
    review_due: Optional[date]
    days_overdue: Optional[int]
    reasons: list[dict] = field(default_factory=list)
    supporters: list[dict] = field(default_factory=list)


def _district_filter(session: Session, raw: str) -> Optional[list]:
    """A 福祉圏域 stands for its 町丁目; None when no filter; 422 for a malformed id."""
    if not raw:
        return None
    try:
        district_id = uuid.UUID(raw)
    except ValueError:
        raise HTTPException(422, "地区を一覧から選んでください (choose a district from the list)") from None
    children = session.exec(select(District.id).where(District.parent_id == district_id)).all()
    return [district_id, *children]


def review_rows(session: Session, people_access, plan_access, today: date, district: Optional[list]) -> list[ReviewRow]:
    """Every plan due for review in the caller's scope, most overdue first, then done plans
    without a date, then plans flagged for a change only."""
    flagged = flagged_plan_ids(session)
    query = (select(EvacuationPlan, Person.register_no, Person.name, Person.address, Person.district_id)
             .join(Person, Person.id == EvacuationPlan.person_id)
             .where(*plan_access.clauses(), *people_access.clauses())
             .where((EvacuationPlan.review_due < today)
                    | ((EvacuationPlan.review_due.is_(None)) & (EvacuationPlan.status == PlanStatus.done))
                    | (EvacuationPlan.id.in_(flagged) if flagged else sa.false())))
    if district is not None:
        query = query.where(Person.district_id.in_(district))
    found = session.exec(query).all()
    by_plan = {row[0].id: row for row in found}
    order = {o.plan_id: o for o in overdue_reviews(
        [Plan(p.id, p.person_id, PlanStatus(p.status), review_due=p.review_due) for p, *_ in found], today)}
    reasons = reasons_of(session, list(by_plan))
    names = dict(session.exec(select(District.id, District.name)).all())
    rows = []
    for plan_id, (plan, register_no, name, address, district_id) in by_plan.items():
        o = order.get(plan_id)
        rows.append(ReviewRow(plan_id, plan.person_id, register_no, name, address, names.get(district_id, ""),
                              PlanStatus(plan.status), plan.review_due, o.days_overdue if o else None,
                              reasons.get(plan_id, []),
                              [s if isinstance(s, dict) else s.model_dump() for s in plan.supporters or ()]))
    position = {pid: n for n, pid in enumerate(order)}
    return sorted(rows, key=lambda r: (position.get(r.plan_id, len(position)), r.register_no))


def _accesses(request: Request):
    principal = request.state.principal
    return access_for(principal, "people", "list"), access_for(principal, "plans", "read")


@page("workbench.view", REFUSED)
async def reviews_page(request: Request) -> Response:
    people, plans = _accesses(request)
    raw = request.query_params.get("district", "")
    try:
        page_no = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        raise HTTPException(422, "ページ番号が正しくありません (page must be a whole number from 1)") from None

    def run(session: Session):
        rows = review_rows(session, people, plans, today_jst(), _district_filter(session, raw))
        shown = rows[(page_no - 1) * PAGE_SIZE: page_no * PAGE_SIZE]
        if shown:
            audit_operation(session, people, "list", PEOPLE, [r.person_id for r in shown], client=client_address(request))
        districts = list(session.exec(select(District).order_by(District.kind.desc(), District.code)).all())
        return {"rows": shown, "total": len(rows), "districts": districts}

    context = await _run(request, run)
    pages = max(1, -(-context["total"] // PAGE_SIZE))
    return _page(request, "reviews.html", {**context, "district": raw, "page_no": page_no, "pages": pages,
                                           "today": today_jst()})


@page("workbench.view", REFUSED)
async def review_letters(request: Request) -> Response:
    """見直し依頼: one letter per person on the list (the same filter), each followed by a copy
    for every supporter on the plan; A4 portrait PDF, an audited print."""
    from ..printing.engine import EngineUnavailable
    from ..printing.i18n import date_text, resolve_language
    from ..printing.render import environment, html_to_pdf, stylesheet

    people, plans = _accesses(request)
    raw = request.query_params.get("district", "")
    today = today_jst()

    def run(session: Session):
        rows = review_rows(session, people, plans, today, _district_filter(session, raw))
        if len(rows) > MAX_LETTERS:
            raise HTTPException(422, f"{len(rows)}件あります。{MAX_LETTERS}件以下になるよう地区で絞り込んでください "
                                     f"(too many letters: filter by district to {MAX_LETTERS} or fewer)")
        if rows:
            record(session, "print", principal=request.state.principal, resource="plans/review-letters",
                   record_ids=[r.plan_id for r in rows], detail=f"review-request letters: {len(rows)} plans",
                   client=client_address(request))
        return rows

    rows = await _run(request, run)
    if not rows:
        raise HTTPException(404, "見直しの対象はありません (no plans to review)")
    html = environment().get_template("review_letters.html").render(
        rows=rows, printed=date_text(today, resolve_language("ja")), stylesheet=stylesheet(),
        office=Markup("福祉担当"), title="見直し依頼")
    try:
        from starlette.concurrency import run_in_threadpool
        rendered = await run_in_threadpool(html_to_pdf, html)
    except EngineUnavailable as exc:
        raise HTTPException(503, f"PDFを作れません (PDF engine unavailable): {exc}") from None
    return Response(rendered.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="review-letters-{today.isoformat()}.pdf"',
        "Cache-Control": "no-store"})


routes = [
    Route("/workbench/reviews", reviews_page, methods=["GET"], name="workbench-reviews"),
    Route("/workbench/reviews/letters.pdf", review_letters, methods=["GET"], name="workbench-review-letters"),
]
