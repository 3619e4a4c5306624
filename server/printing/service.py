"""Printing as plain functions (no HTTP): used by the routes and by `tsunagu print`.

Every function that prints personal data writes one audit entry — action "print",
resource "plans" or "field-list", the record ids — in the caller's transaction.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Optional

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..auth.audit import record
from ..errors import ApiError
from . import render
from .context import FieldList, PlanPrint, batch_cover, plan_prints
from .i18n import PRINT_LANGUAGES
from .selection import Scope, _by_ids, district_list, one_plan, shelter_roster


def check_language(language: Optional[str]) -> Optional[str]:
    if language in (None, ""):
        return None
    if language not in PRINT_LANGUAGES:
        raise ApiError(422, "validation failed", [{"field": "lang", "message": "one of " + ", ".join(PRINT_LANGUAGES)}])
    return language


def audit_print(session: Session, scope: Scope, resource: str, ids: list, *, client: str = "", detail: str = "",
                username: str = "") -> None:
    record(session, "print", principal=scope.principal, resource=resource, record_ids=[str(i) for i in ids],
           client=client, detail=detail, username=username)


def plan_context(session: Session, plan_id: uuid.UUID, scope: Scope, *, language: Optional[str] = None,
                 now: Optional[date] = None) -> PlanPrint:
    plan = one_plan(session, plan_id, scope)
    context = plan_prints(session, [plan], scope.reader, now=now, language=language)[0]
    context.share_line = scope.share_line
    return context


def field_list_context(session: Session, kind: str, key, scope: Scope, now: Optional[date] = None) -> FieldList:
    if kind == "district":
        return district_list(session, key, scope, now=now)
    if kind == "shelter":
        return shelter_roster(session, key, scope, now=now)
    raise ValueError(kind)


def field_list_ids(field_list: FieldList) -> list[str]:
    return [row.person_id for row in field_list.rows]


def run_batch(engine: Engine, plan_ids: list[uuid.UUID], description: str, scope: Scope, progress=None,
              now: Optional[date] = None, duplex: bool = False) -> render.BatchResult:
    """Render a batch of already-selected (and audited) plans, in this order."""
    with Session(engine) as session:
        plans = _by_ids(session, plan_ids, list(scope.plans.clauses()))
        prints = plan_prints(session, plans, scope.reader, now=now, numbered=True)
    for p in prints:
        p.share_line = scope.share_line
    cover = batch_cover(prints, description, scope.reader, now=now, duplex=duplex)
    cover.share_line = scope.share_line
    return render.batch_pdf(prints, cover, progress=progress)
