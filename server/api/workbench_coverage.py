"""HTTP: the web of support (つながれる先を複数もつこと) — the coverage page per 福祉圏域,
町丁目 and 民生委員, the list of people behind each figure, and the table as CSV.

Counts are not personal data, but the lists are: a list is an audited `list` of the people
shown (as the register search), the CSV an audited `export` of the table. Same roles as the
rest of the workbench.
"""

from __future__ import annotations

import csv
import io
import uuid

from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from starlette.concurrency import run_in_threadpool

from ..auth.audit import record
from ..db import readonly
from ..auth.guard import page
from ..domain.csvsafe import safe_row
from ..domain.japan_time import today_jst
from ..models import EvacuationPlan
from ..models.vocab import PlanStatus
from ..records.access import access_for
from ..records.audit import audit_operation
from ..records.registry import PEOPLE
from ..records.rows import list_rows
from . import workbench_coverage_data as data
from .http import client_address
from .workbench import REFUSED, _lang, _page, _run

PAGE_SIZE = 50
# (figure, Japanese, English, group) — the table's columns in order; groups head the columns.
COLUMNS = (
    ("registered", "登録者", "registered", "名簿"), ("consented", "同意あり", "consented", "名簿"),
    ("plan_not_started", "未着手", "not started", "個別避難計画"), ("plan_drafting", "作成中", "drafting", "個別避難計画"),
    ("plan_done", "作成済", "done", "個別避難計画"), ("plan_needs_review", "要見直し", "needs review", "個別避難計画"),
    ("supporters_0", "0人", "none", "支援者の数"), ("supporters_1", "1人", "one", "支援者の数"),
    ("supporters_2plus", "2人以上", "two or more", "支援者の数"),
    ("elderly_supporter", "高齢の支援者", "elderly supporter", "支援者"),
    ("registered_supporter", "名簿登録者の支援者", "supporter on the register", "支援者"),
    ("review_overdue", "見直し期限切れ", "review overdue", "見直し"),
    ("destination_unusable", "計", "total", "使えない避難先"),
    ("destination_seismic", "旧耐震・未診断", "old seismic code", "使えない避難先"),
    ("destination_hazard", "危険区域内", "in a hazard area", "使えない避難先"),
    ("destination_not_accepting", "受入不可", "does not accept", "使えない避難先"),
    ("destination_unknown", "不明な施設", "unknown shelter", "使えない避難先"),
)
GROUPS_EN = {"名簿": "Register", "個別避難計画": "Plans", "支援者の数": "Supporters", "支援者": "Who supports",
             "見直し": "Review", "使えない避難先": "Unusable destination"}
LEVEL_LABELS = {"welfare_area": ("福祉圏域別", "By welfare area"), "chome": ("町丁目別", "By 町丁目"),
                "minsei": ("民生委員別", "By 民生委員"), "city": ("市全体", "Whole city")}
assert [c[0] for c in COLUMNS] == list(data.FIGURES)


async def _warm(request: Request, people, plans) -> None:
    """Compute the figures in a read-only transaction first: on SQLite the audited transaction
    that follows holds the write lock, and a cold count (≈ 1 s at 50,000 people) must not hold
    up field devices' writes. The audited transaction then finds them in the cache."""
    engine = request.app.state.engine

    def run():
        with Session(readonly(engine)) as session:
            data.city_coverage(session, people, plans, today_jst())

    await run_in_threadpool(run)


def _accesses(request: Request):
    principal = request.state.principal
    return access_for(principal, "people", "list"), access_for(principal, "plans", "read")


def _level(request: Request, allow_city: bool = False) -> str:
    level = request.query_params.get("level", "welfare_area")
    if level not in data.LEVELS and not (allow_city and level == "city"):
        raise HTTPException(422, "level は welfare_area / chome / minsei のいずれかです (unknown level)")
    return level


def _groups():
    out = []
    for _, _, _, group in COLUMNS:
        if out and out[-1][0] == group:
            out[-1][1] += 1
        else:
            out.append([group, 1])
    return out


@page("workbench.view", REFUSED)
async def coverage_page(request: Request) -> Response:
    people, plans = _accesses(request)
    level = _level(request)

    def run(session: Session):
        cov = data.city_coverage(session, people, plans, today_jst())
        return {"rows": data.area_rows(session, cov, level), "city": cov.city.counts()}

    await _warm(request, people, plans)
    context = await _run(request, run)
    return _page(request, "coverage.html", {**context, "level": level, "levels": data.LEVELS,
                                            "level_labels": LEVEL_LABELS, "columns": COLUMNS, "groups": _groups(),
                                            "groups_en": GROUPS_EN})


@page("workbench.view", REFUSED)
async def coverage_list(request: Request) -> Response:
    """The people behind one figure of one area: the register list's columns, 50 a page."""
    people, plans = _accesses(request)
    level = _level(request, allow_city=True)
    key = request.query_params.get("key", "")
    figure = request.query_params.get("figure", "")
    if figure not in data.FIGURES:
        raise HTTPException(422, "figure が正しくありません (unknown figure)")
    try:
        page_no = int(request.query_params.get("page", "1"))
        if page_no < 1:
            raise ValueError
    except ValueError:
        raise HTTPException(422, "ページ番号が正しくありません (page must be a whole number from 1)") from None

    def run(session: Session):
        cov = data.city_coverage(session, people, plans, today_jst())
        area = data.find_area(cov, level, key)
        if area is None:
            raise HTTPException(404, "この地域はありません (no such area)")
        figure_ = area.figures[figure]
        total = figure_.count
        chunk = data.coverage_ids(figure_.ids[(page_no - 1) * PAGE_SIZE: page_no * PAGE_SIZE])
        found = list_rows(PEOPLE, session, [PEOPLE.table.id.in_(chunk)], PAGE_SIZE, 0, people) if chunk else \
            {"items": []}
        order = {str(i): n for n, i in enumerate(chunk)}
        items = sorted(found["items"], key=lambda item: order.get(item["id"], 0))
        shown = [uuid.UUID(item["id"]) for item in items]
        status = dict(session.exec(select(EvacuationPlan.person_id, EvacuationPlan.status)
                                   .where(EvacuationPlan.person_id.in_(shown), *plans.clauses())).all()) if shown else {}
        for item, pid in zip(items, shown):
            item["plan_status"] = PlanStatus(status.get(pid, PlanStatus.not_started))
        if shown:
            audit_operation(session, people, "list", PEOPLE, shown, client=client_address(request))
        match = None if level == "city" else next((k for k in getattr(cov, level) if data.key_text(k) == key), None)
        name = data.area_names(session, level, [match]).get(match, "") if match is not None else ""
        return {"items": items, "total": total, "name": name}

    await _warm(request, people, plans)
    context = await _run(request, run)
    column = next(c for c in COLUMNS if c[0] == figure)
    pages = max(1, -(-context["total"] // PAGE_SIZE))
    return _page(request, "coverage_list.html", {
        **context, "level": level, "key": key, "figure": figure, "column": column, "page_no": page_no,
        "pages": pages, "level_labels": LEVEL_LABELS, "groups_en": GROUPS_EN,
        "found": {"items": context["items"], "total": context["total"], "page": page_no, "pages": pages}})


@page("workbench.view", REFUSED)
async def coverage_csv(request: Request) -> Response:
    """The table of one level (with the city's row first) as CSV for Excel: UTF-8 with BOM,
    CRLF, formula cells escaped; an audited export (counts and area names, no people)."""
    people, plans = _accesses(request)
    level = _level(request)

    def run(session: Session):
        cov = data.city_coverage(session, people, plans, today_jst())
        rows = data.area_rows(session, cov, level)
        record(session, "export", principal=request.state.principal, resource="coverage",
               detail=f"coverage CSV by {level}: {len(rows)} areas", client=client_address(request))
        return rows, cov.city.counts()

    await _warm(request, people, plans)
    rows, city = await _run(request, run)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(["区分", "キー", "名称", *[f"{c[3]}:{c[1]}" for c in COLUMNS]]))
    writer.writerow(safe_row(["市全体", "city", "市全体", *[city[c[0]] for c in COLUMNS]]))
    label = LEVEL_LABELS[level][0].removesuffix("別")
    for r in rows:
        writer.writerow(safe_row([label, r["key"], r["name"] or "（未割当）", *[r["counts"][c[0]] for c in COLUMNS]]))
    body = ("\ufeff" + out.getvalue()).encode("utf-8")
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="coverage-{level}-{today_jst().isoformat()}.csv"',
        "Cache-Control": "no-store"})


routes = [
    Route("/workbench/coverage", coverage_page, methods=["GET"], name="workbench-coverage"),
    Route("/workbench/coverage/list", coverage_list, methods=["GET"], name="workbench-coverage-list"),
    Route("/workbench/coverage.csv", coverage_csv, methods=["GET"], name="workbench-coverage-csv"),
]
