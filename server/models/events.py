"""Append-only events: shelter status reports, safety checks (安否確認), DWAT activity reports.

An event is never updated; a correction is a new event. Offline writers each create their
own events, so they never overwrite one another. Current state is the latest event by
`observed_at` (the reporter's clock), ties broken by `recorded_at`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from pydantic import BaseModel, field_validator, model_validator
from sqlmodel import Field

from .base import CreateMixin, EventMeta, PublicEventMeta, TextStripped, UTCDateTime, enum_field, json_dict, json_list, utcnow
from .vocab import Damage, LifelineState, OpenState, SafetyOutcome

# A device clock may run a little fast; more than this in the future is refused.
MAX_CLOCK_SKEW = timedelta(minutes=10)


class EventFields(TextStripped):
    observed_at: datetime = Field(sa_type=UTCDateTime, index=True,
                                  description="When it was observed (device clock, with timezone)")
    reporter: str = Field(default="", max_length=100, description="Who reported it")
    device_id: str = Field(default="", max_length=64)

    @field_validator("observed_at")
    @classmethod
    def _not_from_the_future(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("observed_at needs a timezone, e.g. 2026-11-27T09:30:00+09:00")
        if value - utcnow() > MAX_CLOCK_SKEW:
            raise ValueError("observed_at is in the future; check the device clock")
        return value


class Lifelines(BaseModel):
    power: LifelineState = LifelineState.unknown
    water: LifelineState = LifelineState.unknown
    gas: LifelineState = LifelineState.unknown
    comms: LifelineState = LifelineState.unknown


class OccupancyByGroup(BaseModel):
    """Headcounts by group — what shelter staff are asked for first."""

    elderly: int = Field(default=0, ge=0)
    disabled: int = Field(default=0, ge=0)
    pregnant_infant: int = Field(default=0, ge=0)
    medical_care: int = Field(default=0, ge=0)
    other: int = Field(default=0, ge=0)


class ShelterReportFields(EventFields):
    shelter_id: uuid.UUID = Field(foreign_key="shelter.id", index=True)
    open_state: OpenState = enum_field()
    occupancy: int = Field(default=0, ge=0, description="避難者数")
    occupancy_by_group: OccupancyByGroup = json_dict()
    damage: Damage = enum_field(default=Damage.none)
    lifelines: Lifelines = json_dict()
    needs: list[str] = json_list(description="Needs: staff, supplies (free text items)")
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _groups_fit(self):
        groups = self.occupancy_by_group
        if isinstance(groups, OccupancyByGroup):
            total = groups.elderly + groups.disabled + groups.pregnant_infant + groups.medical_care + groups.other
            if total > self.occupancy:
                raise ValueError("occupancy_by_group adds up to more than occupancy")
        return self


class ShelterReport(ShelterReportFields, EventMeta, table=True):
    __tablename__ = "shelter_report"
    # "the latest report of each shelter" reads this index in order
    __table_args__ = (sa.Index("ix_shelter_report_latest", "shelter_id", "observed_at", "recorded_at"),)


class ShelterReportCreate(CreateMixin, ShelterReportFields):
    pass


class ShelterReportPublic(ShelterReportFields, PublicEventMeta):
    pass


class SafetyCheckFields(EventFields):
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    outcome: SafetyOutcome = enum_field()
    shelter_id: Optional[uuid.UUID] = Field(default=None, foreign_key="shelter.id",
                                            description="Where the person is, if at a shelter")
    whereabouts: str = Field(default="", max_length=300, description="Where the person is (free text)")
    note: str = Field(default="", max_length=2000)


class SafetyCheck(SafetyCheckFields, EventMeta, table=True):
    __tablename__ = "safety_check"
    # "the latest safety check of each person" reads this index in order
    __table_args__ = (sa.Index("ix_safety_check_latest", "person_id", "observed_at", "recorded_at"),)


class SafetyCheckCreate(CreateMixin, SafetyCheckFields):
    pass


class SafetyCheckPublic(SafetyCheckFields, PublicEventMeta):
    pass


class DwatActivityFields(EventFields):
    deployment_id: uuid.UUID = Field(foreign_key="dwat_deployment.id", index=True)
    report_date: date = Field(description="活動日")
    people_assessed: int = Field(default=0, ge=0, description="アセスメント人数")
    consultations: int = Field(default=0, ge=0, description="相談対応件数")
    referrals: int = Field(default=0, ge=0, description="福祉避難所等への移送・つなぎ件数")
    activities: str = Field(default="", max_length=4000, description="活動内容")
    issues: str = Field(default="", max_length=2000, description="課題")
    requests_to_hq: str = Field(default="", max_length=2000, description="本部への要望")
    # J-SPEED-like counts (migration 0016): activity kind → count, triage outcome → count
    # (domain.dwat.daily_report.Activity / triage.TriageOutcome), and the handover notes.
    counts: dict[str, int] = json_dict(description="Activities by kind: consultation, care_support …")
    triage_counts: dict[str, int] = json_dict(description="Triages by outcome")
    handover: str = Field(default="", max_length=4000, description="申し送り")


class DwatActivityReport(DwatActivityFields, EventMeta, table=True):
    __tablename__ = "dwat_activity_report"


class DwatActivityCreate(CreateMixin, DwatActivityFields):
    pass


class DwatActivityPublic(DwatActivityFields, PublicEventMeta):
    pass
