"""要見直し flags written where records are saved: the one service every write path calls.

Why one place: people and shelters are written by the API and the workbench (`rows.update_row`,
through the resources' `after_write`), by field devices (sync, also `update_row`) and by the
CSV importers (bulk Core writes). Each passes (values before, values after) here; the rules
of what matters are `domain.workbench.review` (`person_changes`, `shelter_changes`).

What a flag does (docs/workbench.md, "Review cycle"):
- one `plan_review_reason` row per reason, so the review list says why;
- a plan marked 作成済 (done) becomes 要見直し: its version goes up, the previous version is
  kept (as every plan save does) and the change feed carries it to field devices;
- a plan in any other status keeps it (a draft is not "reviewed"), but its reasons are listed.
The reasons are cleared when the plan is saved 作成済 again (`clear_on_done`).

Supporter triggers (a supporter leaves or is overloaded) call `flag_plans` with their own
`review.Trigger` (e.g. `supporter_left`): see `flag_plans`.
"""

from __future__ import annotations

import uuid
from typing import Any, Hashable, Iterable, Mapping, Optional, Sequence

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlmodel import Session

from ..domain.seismic import seismic_class
from ..domain.workbench.common import PersonFacts, ShelterFacts
from ..domain.workbench.review import Trigger, person_changes, shelter_changes
from ..models import EvacuationPlan, PlanVersion
from ..models.base import utcnow
from ..models.review import PlanReviewReason
from ..models.vocab import PlanStatus, SeismicClass, ShelterKind
from ..sync.changelog import log_changes

PLAN = EvacuationPlan.__table__
REASON = PlanReviewReason.__table__
VERSION = PlanVersion.__table__
CHUNK = 500


def _conn(executor):
    return executor.connection() if isinstance(executor, Session) else executor


def _codes(values: Iterable) -> frozenset[str]:
    return frozenset(str(getattr(v, "value", v)) for v in values or ())


def _person(record_id, values: Mapping[str, Any]) -> PersonFacts:
    return PersonFacts(record_id, reasons=_codes(values.get("reasons")), care_needs=_codes(values.get("care_needs")),
                       address=values.get("address") or "")


def _shelter(record_id, values: Mapping[str, Any]) -> ShelterFacts:
    stored = values.get("seismic_class")
    if stored is None:  # the values before a write lack the derived class: derive it as the row does
        stored = seismic_class(values.get("building_permit_date"), values.get("seismic_diagnosis_done"),
                               values.get("is_value"), values.get("retrofit_done"))
    return ShelterFacts(record_id, kind=ShelterKind(getattr(values.get("kind"), "value", values.get("kind"))),
                        target_groups=_codes(values.get("target_groups")),
                        seismic_class=SeismicClass(getattr(stored, "value", stored)))


def _plans_where(conn, clause) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(PLAN).where(clause)).mappings()]


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def after_people_write(executor, pairs: Iterable[tuple[Hashable, Optional[Mapping], Mapping]]) -> dict:
    """`pairs`: (person id, values before or None for a new person, values after). Plans of
    people whose needs, address or reasons changed are flagged; returns plan id → triggers."""
    found = {pid: ts for pid, before, after in pairs if before is not None
             for ts in [person_changes(_person(pid, before), _person(pid, after))] if ts}
    if not found:
        return {}
    conn = _conn(executor)
    reasons: dict = {}
    ids = list(found)
    for part in _chunks(ids):
        for plan in _plans_where(conn, PLAN.c.person_id.in_(part)):
            reasons[plan["id"]] = found[plan["person_id"]]
    return flag_plans(executor, reasons)


def after_shelters_write(executor, pairs: Iterable[tuple[Hashable, Optional[Mapping], Mapping]]) -> dict:
    """`pairs`: (shelter id, values before or None, values after). Plans naming a shelter whose
    seismic class, kind or target groups changed (as destination or alternate) are flagged."""
    found = {sid: ts for sid, before, after in pairs if before is not None
             for ts in [shelter_changes(_shelter(sid, before), _shelter(sid, after))] if ts}
    if not found:
        return {}
    conn = _conn(executor)
    reasons: dict = {}
    ids = list(found)
    for part in _chunks(ids):
        clause = sa.or_(PLAN.c.destination_shelter_id.in_(part), PLAN.c.alternate_shelter_id.in_(part))
        for plan in _plans_where(conn, clause):
            named = dict.fromkeys(s for s in (plan["destination_shelter_id"], plan["alternate_shelter_id"]) if s in found)
            reasons[plan["id"]] = tuple(t for sid in named for t in found[sid])
    return flag_plans(executor, reasons)


def flag_plans(executor, reasons: Mapping[Hashable, Sequence[Trigger]]) -> dict:
    """Record `reasons` (plan id → review.Trigger list) and set 要見直し on the done plans among
    them. The entry point for every trigger, including the supporter register's
    (`flag_plans(session, {plan_id: [Trigger("supporter_left", ja, en, supporter_id)]})`).
    A reason already recorded for a plan (same code and subject, not yet cleared) is not
    repeated. Returns plan id → the triggers recorded."""
    reasons = {uuid.UUID(str(k)): tuple(v) for k, v in reasons.items() if v}
    if not reasons:
        return {}
    conn = _conn(executor)
    now = utcnow()
    known: set = set()
    plans: dict = {}
    for part in _chunks(list(reasons)):
        known.update(tuple(r) for r in conn.execute(sa.select(REASON.c.plan_id, REASON.c.code, REASON.c.subject)
                                                    .where(REASON.c.plan_id.in_(part))))
        plans.update({p["id"]: p for p in _plans_where(conn, PLAN.c.id.in_(part))})
    rows, written = [], {}
    for plan_id, triggers in reasons.items():
        if plan_id not in plans:
            continue
        for t in dict.fromkeys(triggers):
            subject = None if t.subject is None else str(t.subject)
            if (plan_id, t.code, subject) in known:
                continue
            known.add((plan_id, t.code, subject))
            rows.append({"id": uuid.uuid4(), "plan_id": plan_id, "code": t.code, "subject": subject,
                         "ja": t.ja[:200], "en": t.en[:200], "at": now})
            written.setdefault(plan_id, []).append(t)
    if rows:
        conn.execute(sa.insert(REASON), rows)
    done = [plans[pid] for pid in written if plans[pid]["status"] == PlanStatus.done.value
            or plans[pid]["status"] == PlanStatus.done]
    if done:
        _set_needs_review(executor, conn, done, now)
    return {pid: tuple(ts) for pid, ts in written.items()}


def _set_needs_review(executor, conn, done: list[dict], now) -> None:
    """Done → 要見直し as a plan save: previous version kept, version + 1, change feed."""
    fields = [c.name for c in PLAN.columns if c.name not in ("id", "version", "created_at", "updated_at")]
    conn.execute(sa.insert(VERSION), [
        {"id": uuid.uuid4(), "plan_id": p["id"], "version": p["version"], "saved_at": now,
         "data": to_jsonable_python({k: p[k] for k in fields})} for p in done])
    # one statement, executed for many (a plan import may flag thousands of plans at once)
    conn.execute(sa.update(PLAN).where(PLAN.c.id == sa.bindparam("b_id"), PLAN.c.version == sa.bindparam("b_version"))
                 .values(status=PlanStatus.needs_review.value, version=sa.bindparam("b_next"), updated_at=now),
                 [{"b_id": p["id"], "b_version": p["version"], "b_next": p["version"] + 1} for p in done])
    log_changes(conn, "plans", [p["id"] for p in done], befores={p["id"]: p for p in done})
    if isinstance(executor, Session):  # plans this session holds were changed under it
        for obj in list(executor.identity_map.values()):
            if isinstance(obj, EvacuationPlan) and obj.id in {p["id"] for p in done}:
                executor.expire(obj)


def clear_on_done(executor, plan_id, status) -> int:
    """A plan saved 作成済 has been looked at again: its reasons are done with."""
    return clear_all_on_done(executor, [(plan_id, status)])


def clear_all_on_done(executor, saved: Iterable[tuple[Hashable, Any]]) -> int:
    """`saved`: (plan id, status after the save) of plans saved at once (the plan CSV import)."""
    done = [plan_id for plan_id, status in saved if str(getattr(status, "value", status)) == PlanStatus.done.value]
    conn = _conn(executor)
    return sum(conn.execute(sa.delete(REASON).where(REASON.c.plan_id.in_(part))).rowcount or 0
               for part in _chunks(done))


def reasons_of(executor, plan_ids: Iterable) -> dict[uuid.UUID, list[dict]]:
    """Plan id → its recorded reasons (oldest first), for the review list and letters."""
    out: dict = {}
    ids = [uuid.UUID(str(i)) for i in plan_ids]
    conn = _conn(executor)
    for part in _chunks(ids):
        query = sa.select(REASON).where(REASON.c.plan_id.in_(part)).order_by(REASON.c.at, REASON.c.code)
        for r in conn.execute(query).mappings():
            out.setdefault(r["plan_id"], []).append(dict(r))
    return out


def flagged_plan_ids(executor) -> set:
    return set(_conn(executor).execute(sa.select(REASON.c.plan_id).distinct()).scalars())
