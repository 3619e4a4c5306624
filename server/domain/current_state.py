"""Current state derived from append-only events: the latest event by observed time wins.

Ties on `observed_at` are broken by `recorded_at` then id, so every reader picks the same one.
"""

from __future__ import annotations

import uuid
from typing import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from ..models.events import SafetyCheck, ShelterReport


def _latest(session: Session, model, key_column, keys: Iterable[uuid.UUID]) -> dict[uuid.UUID, object]:
    keys = list(keys)
    if not keys:
        return {}
    ranked = (
        select(model.id, sa.func.row_number().over(
            partition_by=key_column,
            order_by=(model.observed_at.desc(), model.recorded_at.desc(), model.id.desc()),
        ).label("rank"))
        .where(key_column.in_(keys))
        .subquery()
    )
    rows = session.exec(select(model).join(ranked, ranked.c.id == model.id).where(ranked.c.rank == 1)).all()
    return {getattr(row, key_column.key): row for row in rows}


def latest_safety_checks(session: Session, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, SafetyCheck]:
    """The latest 安否確認 for each of the given people (people never checked are absent)."""
    return _latest(session, SafetyCheck, SafetyCheck.person_id, person_ids)


def latest_shelter_reports(session: Session, shelter_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ShelterReport]:
    """The latest status report for each of the given shelters."""
    return _latest(session, ShelterReport, ShelterReport.shelter_id, shelter_ids)
