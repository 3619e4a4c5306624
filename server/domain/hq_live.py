"""Live updates for the HQ map: the change log (server/models/sync.py) turned into small
messages carrying the *current* state of what changed.

Every write appends a `change_log` row in its own transaction (docs/sync.md), so reading
rows after a sequence number never misses a write. A message carries current state, not
the event itself: a report that arrives late (older `observed_at`) does not move the map
backwards, and applying a message twice changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from ..models import ChangeLog, SafetyCheck, ShelterReport
from . import hq_map

WATCHED = ("shelter-reports", "safety-checks", "dwat-deployments", "dwat-requests", "shelters", "people")
BATCH = 1000
# A client further behind than this reloads the layers instead of replaying the log.
MAX_REPLAY = 20_000


def latest_seq(session: Session) -> int:
    return session.exec(select(sa.func.coalesce(sa.func.max(ChangeLog.seq), 0))).one()


def changes_after(session: Session, seq: int, limit: int = BATCH) -> list[ChangeLog]:
    return list(session.exec(select(ChangeLog).where(ChangeLog.seq > seq, ChangeLog.entity.in_(WATCHED))
                             .order_by(ChangeLog.seq).limit(limit)).all())


def updates_after(session: Session, seq: int, people_scope: list, limit: int = BATCH,
                  request_scope: list | None = None, shelter_scope: list = (),
                  deployment_scope: list = ()) -> dict[str, Any] | None:
    """The next message after `seq`, or None when nothing the map shows has changed.

    `seq` in the answer is where to continue; `more` says whether to ask again at once.
    People leave the map (`removed_people`) when deleted or no longer in the caller's scope.
    DWAT requests (for the decision strip) are sent only with a `request_scope`, the caller's row
    clauses for dwat-requests; one that is gone or out of scope is in `removed_requests`. Shelters
    and deployments keep to `shelter_scope` / `deployment_scope` (several municipalities).
    """
    rows = changes_after(session, seq, limit)
    if not rows:
        return None
    by_entity: dict[str, set[uuid.UUID]] = {}
    for row in rows:
        by_entity.setdefault(row.entity, set()).add(row.record_id)

    shelter_ids = set(by_entity.get("shelters", set()))
    report_ids = list(by_entity.get("shelter-reports", set()))
    if report_ids:
        shelter_ids |= set(session.exec(select(ShelterReport.shelter_id).where(ShelterReport.id.in_(report_ids))).all())
    person_ids = set(by_entity.get("people", set()))
    check_ids = list(by_entity.get("safety-checks", set()))
    if check_ids:
        person_ids |= set(session.exec(select(SafetyCheck.person_id).where(SafetyCheck.id.in_(check_ids))).all())

    shelters = hq_map.some_shelter_states(session, sorted(shelter_ids), shelter_scope)
    people = hq_map.some_person_points(session, sorted(person_ids), people_scope)
    deployment_ids = sorted(by_entity.get("dwat-deployments", set()))
    deployments = hq_map.some_deployments(session, deployment_ids, deployment_scope)
    found = {kind: {item["id"] for item in items}
             for kind, items in (("shelters", shelters), ("people", people), ("deployments", deployments))}
    request_ids = sorted(by_entity.get("dwat-requests", set())) if request_scope is not None else []
    requests = hq_map.some_dwat_requests(session, request_ids, request_scope or [])
    found_requests = {item["id"] for item in requests}
    return {
        "seq": rows[-1].seq, "more": len(rows) == limit,
        "requests": requests, "removed_requests": _missing(request_ids, found_requests),
        "shelters": shelters,
        "removed_shelters": _missing(shelter_ids, found["shelters"]),
        "people": people,
        "removed_people": _missing(person_ids, found["people"]),
        "deployments": deployments,
        "removed_deployments": _missing(deployment_ids, found["deployments"]),
    }


def _missing(wanted, found: set[str]) -> list[str]:
    return sorted(str(i) for i in wanted if str(i) not in found)
