"""要見直し — why a plan needs review: one row per reason, written when the facts a plan was
made on change (the person's needs, address or reasons; the destination's seismic class, kind
or target groups; a supporter leaving or overloaded). Cleared when the plan is saved 作成済
again (server/records/review_flags.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from .base import UTCDateTime, utcnow


class PlanReviewReason(SQLModel, table=True):
    __tablename__ = "plan_review_reason"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="evacuation_plan.id", index=True)
    code: str = Field(max_length=40, description="review.Trigger code, e.g. needs_changed")
    subject: Optional[str] = Field(default=None, max_length=64, description="the person, shelter or supporter id")
    ja: str = Field(default="", max_length=200)
    en: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
