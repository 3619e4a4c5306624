"""個別避難計画 — individual evacuation plan (災害対策基本法 Art. 49-14), with its history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from pydantic import BaseModel, field_validator, model_validator
from sqlmodel import Field, SQLModel

from .base import (CreateMixin, NormalisedCodes, PublicRecordMeta, RecordMeta, TextStripped, Update, UTCDateTime,
                   enum_field, json_dict, json_list, not_future, utcnow)
from .vocab import PlanStatus


class Supporter(BaseModel):
    """避難支援等実施者 — a person or organisation who helps (not a legal duty)."""

    name: str = Field(min_length=1, max_length=100, description="Name or organisation")
    relation: str = Field(default="", max_length=60, description="e.g. 長男, 近隣住民, 自主防災組織")
    address: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=40)
    # The supporter register entry (支援者台帳) this line copies its name and phone from; None for
    # free text not (yet) linked. Readers that know only name/relation/phone keep working.
    supporter_id: Optional[uuid.UUID] = Field(default=None, description="支援者台帳 entry (supporters resource)")


class SupporterInput(NormalisedCodes, Supporter):
    """A supporter as sent to the API: the phone number is normalised like the importer's."""


class CareNotes(BaseModel):
    """配慮事項."""

    walking_ability: str = Field(default="", max_length=300, description="歩行の状況")
    how_to_help: str = Field(default="", max_length=1000, description="支援の方法")
    items_to_carry: str = Field(default="", max_length=1000, description="持ち出す物 (薬, 機器, 電源)")
    doctor: str = Field(default="", max_length=200, description="かかりつけ医 (name, phone)")
    conditions: str = Field(default="", max_length=500, description="病名・状態")
    allergies: str = Field(default="", max_length=300, description="アレルギー")
    blood_type: str = Field(default="", max_length=10, description="血液型")
    usual_location: str = Field(default="", max_length=200, description="普段いる場所 (e.g. 1階奥の和室)")
    building_structure: str = Field(default="", max_length=200, description="建物の構造 (木造2階建 …)")


class PlanFields(TextStripped):
    person_id: uuid.UUID = Field(foreign_key="person.id", description="The person the plan is for")
    status: PlanStatus = enum_field(default=PlanStatus.not_started, index=True)
    supporters: list[Supporter] = json_list(description="One to three supporters")
    destination_shelter_id: Optional[uuid.UUID] = Field(default=None, foreign_key="shelter.id", index=True,
                                                         description="避難先")
    alternate_shelter_id: Optional[uuid.UUID] = Field(default=None, foreign_key="shelter.id",
                                                       description="第二避難先")
    route_note: str = Field(default="", max_length=1000, description="避難経路")
    timing_note: str = Field(default="", max_length=500, description="避難のタイミング (e.g. 高齢者等避難で避難開始)")
    care: CareNotes = json_dict(description="配慮事項")
    carer_accompanies: bool = Field(default=False, description="家族等の介助者が同行する (counts two places at the shelter)")
    consent: bool = Field(default=False, description="本人の同意")
    consent_date: Optional[date] = None
    author: str = Field(default="", max_length=100, description="作成者")
    review_due: Optional[date] = Field(default=None, description="次回見直し日")

    @field_validator("supporters")
    @classmethod
    def _at_most_three(cls, value: list) -> list:
        if len(value) > 3:
            raise ValueError("a plan has at most three supporters")
        return value

    @field_validator("consent_date")
    @classmethod
    def _consent_not_future(cls, value: date | None) -> date | None:
        return not_future(value)

    @model_validator(mode="after")
    def _done_means_complete(self):
        if self.status == PlanStatus.done:
            missing = []
            if not self.supporters:
                missing.append("supporters")
            if not self.consent:
                missing.append("consent")
            if missing:
                raise ValueError("a plan marked done needs: " + ", ".join(missing))
        if self.alternate_shelter_id is not None and self.alternate_shelter_id == self.destination_shelter_id:
            raise ValueError("the alternate shelter must differ from the destination")
        return self


class EvacuationPlan(PlanFields, RecordMeta, table=True):
    __tablename__ = "evacuation_plan"
    # The register search's plan-status filter reads the person ids of a status from the index alone.
    __table_args__ = (sa.Index("ix_evacuation_plan_status_person", "status", "person_id"),)
    person_id: uuid.UUID = Field(foreign_key="person.id", unique=True, index=True)


class PlanCreate(CreateMixin, PlanFields):
    supporters: list[SupporterInput] = json_list(description="One to three supporters")


class PlanUpdate(Update):
    status: Optional[PlanStatus] = None
    supporters: Optional[list[SupporterInput]] = None
    destination_shelter_id: Optional[uuid.UUID] = None
    alternate_shelter_id: Optional[uuid.UUID] = None
    route_note: Optional[str] = None
    timing_note: Optional[str] = None
    care: Optional[CareNotes] = None
    carer_accompanies: Optional[bool] = None
    consent: Optional[bool] = None
    consent_date: Optional[date] = None
    author: Optional[str] = None
    review_due: Optional[date] = None


class PlanPublic(PlanFields, PublicRecordMeta):
    pass


class PlanVersion(SQLModel, table=True):
    """A saved earlier version of a plan: every save keeps the one before it."""

    __tablename__ = "evacuation_plan_version"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    plan_id: uuid.UUID = Field(foreign_key="evacuation_plan.id", index=True)
    version: int
    saved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    data: dict = json_dict()


class PlanVersionPublic(SQLModel):
    plan_id: uuid.UUID
    version: int
    saved_at: datetime
    data: dict
