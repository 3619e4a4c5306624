"""支援者台帳 — the supporter register: the people and groups named on evacuation plans.

A plan's `supporters` JSON keeps a copy of each supporter's name, relation and phone (every
existing reader — field app, printing, sync, matching — reads that copy); the line's
`supporter_id` points here, and this entry is the source of name and phone
(docs/workbench.md, "Supporter register"). Kinds and availability are the domain's
(`server/domain/workbench/supporters.py`); they are stored as plain codes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Optional

from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from .geo import normalize_municipality_code
from .base import (CreateMixin, PublicRecordMeta, RecordMeta, TextStripped, Update, UTCDateTime, enum_field,
                   json_list, not_future, utcnow)

# The codes of domain.workbench.supporters.SupporterKind / Availability (the domain imports the
# models, so the models name the codes; tests/test_workbench_supporter_register.py keeps them equal).
KINDS = ("minsei", "jichikai", "jishubo", "neighbour", "family", "care_manager", "business", "other")
AVAILABILITIES = ("anytime", "daytime_only", "night_ok")
MAX_AREA = 200


class SupporterFields(TextStripped):
    kind: str = enum_field(default="other", index=True,
                           description="minsei=民生委員・児童委員, jichikai=自治会, jishubo=自主防災組織, "
                                       "neighbour=近隣住民, family=家族・親族, care_manager=ケアマネジャー, "
                                       "business=事業所, other=その他")
    name: str = Field(min_length=1, max_length=100, description="氏名 or the group's name")
    name_kana: str = Field(default="", max_length=200, description="ふりがな")
    organisation: str = Field(default="", max_length=100, description="所属 (自治会名, 事業所名 …)")
    phone: str = Field(default="", max_length=40, description="電話番号 (normalised)")
    phone_alt: str = Field(default="", max_length=40, description="2つ目の電話番号 (携帯 …, normalised)")
    address: str = Field(default="", max_length=300, description="住所")
    district_id: Optional[uuid.UUID] = Field(default=None, foreign_key="district.id", index=True,
                                             description="町丁目 the supporter lives in")
    area_district_ids: list[uuid.UUID] = json_list(description="担当区域: 町丁目 ids (民生委員, 自治会, 自主防災組織)")
    availability: str = enum_field(default="anytime",
                                   description="anytime=終日可, daytime_only=日中のみ, night_ok=夜間・休日可（日中不在）")
    lives_outside_city: bool = Field(default=False, description="市外在住")
    birth_year: Optional[int] = Field(default=None, description="生まれ年 (for 高齢者が高齢者を支える)")
    elderly: Optional[bool] = Field(default=None, description="高齢 (when the birth year is not known)")
    person_id: Optional[uuid.UUID] = Field(default=None, foreign_key="person.id", index=True,
                                           description="The supporter's own register entry, if they are on it")
    active: bool = Field(default=True, index=True, description="false: 辞退・転出 (left)")
    left_on: Optional[date] = Field(default=None, description="辞退・転出日")
    notes: str = Field(default="", max_length=1000, description="備考")
    # Several municipalities in one installation: whose register the entry is on. Set on create
    # from the 町丁目, else the caller's only municipality, else the installation's only one
    # (records/supporter_links.py: default_municipality); never changed by an update.
    municipality_code: Optional[str] = Field(default=None, max_length=6, index=True,
                                             description="全国地方公共団体コード of the city keeping the entry")

    @field_validator("municipality_code", mode="before")
    @classmethod
    def _municipality(cls, value):
        return normalize_municipality_code(str(value)) if value not in (None, "") else None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError("unknown kind; use one of " + ", ".join(KINDS))
        return value

    @field_validator("availability")
    @classmethod
    def _availability(cls, value: str) -> str:
        if value not in AVAILABILITIES:
            raise ValueError("unknown availability; use one of " + ", ".join(AVAILABILITIES))
        return value

    @field_validator("birth_year")
    @classmethod
    def _birth_year(cls, value: Optional[int]) -> Optional[int]:
        if value is not None and not 1900 <= value <= date.today().year:
            raise ValueError(f"a birth year from 1900 to {date.today().year}")
        return value

    @field_validator("left_on")
    @classmethod
    def _left_not_future(cls, value: Optional[date]) -> Optional[date]:
        return not_future(value)

    @field_validator("area_district_ids")
    @classmethod
    def _area(cls, value: list) -> list:
        if len(value) > MAX_AREA:
            raise ValueError(f"at most {MAX_AREA} districts")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _left_needs_inactive(self):
        if self.left_on is not None and self.active:
            raise ValueError("a leaving date is given but the supporter is still marked active")
        return self


class SupporterRecord(SupporterFields, RecordMeta, table=True):
    __tablename__ = "supporter"


class SupporterCreate(CreateMixin, SupporterFields):
    pass


class SupporterUpdate(Update):
    kind: Optional[str] = None
    name: Optional[str] = None
    name_kana: Optional[str] = None
    organisation: Optional[str] = None
    phone: Optional[str] = None
    phone_alt: Optional[str] = None
    address: Optional[str] = None
    district_id: Optional[uuid.UUID] = None
    area_district_ids: Optional[list[uuid.UUID]] = None
    availability: Optional[str] = None
    lives_outside_city: Optional[bool] = None
    birth_year: Optional[int] = None
    elderly: Optional[bool] = None
    person_id: Optional[uuid.UUID] = None
    active: Optional[bool] = None
    left_on: Optional[date] = None
    notes: Optional[str] = None


class SupporterPublic(SupporterFields, PublicRecordMeta):
    pass


class SupporterCandidate(SQLModel, table=True):
    """Two register entries that may be one person (found when free text was migrated): staff
    merge them (plans are relinked) or keep them apart. Never merged automatically."""

    __tablename__ = "supporter_candidate"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Plain ids, no foreign key: the pair is kept as a record of the decision after a merge deletes b.
    a_id: uuid.UUID = Field(index=True)
    b_id: uuid.UUID = Field(index=True)
    reason: str = Field(max_length=40, description="same_name_other_phone | kana_match")
    state: str = Field(default="open", max_length=20, index=True, description="open | merged | kept_apart")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    decided_by: str = Field(default="", max_length=100)
