"""Shelters: 指定福祉避難所, 協定福祉避難所 and 指定避難所, with earthquake resistance."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import Field, SQLModel

from .base import (CreateMixin, PublicRecordMeta, RecordMeta, TextStripped, Update, UTCDateTime, enum_field,
                   json_list)
from .geo import check_lon_lat, normalize_municipality_code
from .vocab import Capability, Damage, OpenState, SeismicClass, ShelterKind, TargetGroup

COMMON_ID_RE = re.compile(r"^E\d{5}\d{5}[12][0-2][0-9A-Za-z]$")


def common_id_is_welfare(common_id: str) -> bool:
    """The 13th character of a 共通ID is the minor type; 2 marks a welfare shelter."""
    return len(common_id) == 14 and common_id[12] == "2"


class ShelterFields(TextStripped):
    common_id: Optional[str] = Field(default=None, max_length=14, description="共通ID (GSI)")
    municipality_code: str = Field(default="", max_length=6)
    name: str = Field(min_length=1, max_length=200, description="施設名")
    name_kana: str = Field(default="", max_length=300)
    kind: ShelterKind = enum_field(index=True, description="指定福祉避難所 / 協定福祉避難所 / 指定避難所")
    target_groups: list[TargetGroup] = json_list(description="受入対象者")
    target_groups_text: str = Field(default="", max_length=1000,
                                    description="受入対象者 as the source wrote it (GSI free text), kept for review")
    accepts_carers: Optional[bool] = Field(default=None, description="介助者・家族も受け入れる (carers accepted); None: not said")
    capacity: Optional[int] = Field(default=None, ge=0, description="受入可能人数 (people)")
    capabilities: list[Capability] = json_list()
    address: str = Field(default="", max_length=300)
    lon: Optional[float] = None
    lat: Optional[float] = None
    district_id: Optional[uuid.UUID] = Field(default=None, foreign_key="district.id", index=True)
    operator: str = Field(default="", max_length=200, description="運営法人 (often a 社会福祉法人)")
    phone: str = Field(default="", max_length=40)
    contact_name: str = Field(default="", max_length=100)
    building_permit_date: Optional[date] = Field(default=None, description="建築確認日")
    seismic_diagnosis_done: Optional[bool] = Field(default=None, description="耐震診断実施")
    is_value: Optional[float] = Field(default=None, description="Is値 from the 耐震診断")
    retrofit_done: Optional[bool] = Field(default=None, description="耐震改修実施")
    notes: str = Field(default="", max_length=2000)
    accepts_from: list[str] = json_list(
        description="広域避難 (受入協定): codes of other municipalities whose people this shelter may receive; "
                    "set by the shelter's own city office")

    @field_validator("common_id", mode="before")
    @classmethod
    def _common_id(cls, value: Any) -> Any:
        if value in ("", None):
            return None
        value = str(value).strip()
        if not COMMON_ID_RE.match(value):
            raise ValueError("共通ID must be E + 5-digit municipality + 5-digit number + type digits, 14 characters")
        return value

    @field_validator("accepts_from")
    @classmethod
    def _accepts_from(cls, value: list[str]) -> list[str]:
        return sorted({normalize_municipality_code(str(code)) for code in value})

    @field_validator("is_value")
    @classmethod
    def _is_range(cls, value: float | None) -> float | None:
        if value is not None and not (0.0 <= value <= 3.0):
            raise ValueError("Is値 must be between 0.0 and 3.0")
        return value

    @field_validator("target_groups", "capabilities")
    @classmethod
    def _unique(cls, value: list) -> list:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _checks(self):
        check_lon_lat(self.lon, self.lat)
        if self.is_value is not None and self.seismic_diagnosis_done is False:
            raise ValueError("an Is値 needs seismic_diagnosis_done")
        if self.kind != ShelterKind.designated and TargetGroup.general in self.target_groups:
            raise ValueError("a welfare shelter names its target groups; 'general' is for 指定避難所")
        return self

    def derived_seismic_class(self) -> SeismicClass:
        from ..domain.seismic import seismic_class  # domain depends on models, not the other way

        return seismic_class(self.building_permit_date, self.seismic_diagnosis_done,
                             self.is_value, self.retrofit_done)

    def incomplete_fields(self) -> list[str]:
        """Fields staff still have to fill in (e.g. after a GSI import, which lacks them)."""
        missing = []
        if self.capacity is None:
            missing.append("capacity")
        if self.building_permit_date is None and not self.retrofit_done:
            missing.append("building_permit_date")
        if self.kind != ShelterKind.designated and not self.target_groups:
            missing.append("target_groups")
        if self.lon is None:
            missing.append("location")
        return missing


class Shelter(ShelterFields, RecordMeta, table=True):
    common_id: Optional[str] = Field(default=None, max_length=14, unique=True, index=True)
    seismic_class: SeismicClass = enum_field(default=SeismicClass.unknown, index=True)
    # 協定福祉避難所 open on the city's request (開設要請): set by HQ through
    # POST /api/shelters/{id}/open-request, never through a shelter edit; matching uses a 協定
    # shelter only while this is set (docs/matching.md).
    opened_on_request_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime,
                                                     description="開設要請の日時 (協定福祉避難所)")
    opened_on_request_by: str = Field(default="", max_length=100, description="開設要請をした職員")


def accepts_people_of(codes) -> Any:
    """SQL: shelters whose `accepts_from` names one of `codes` (広域避難). The JSON list is matched as
    text ('"132144"'): both SQLite and PostgreSQL keep the JSON text as written."""
    text = sa.cast(Shelter.accepts_from, sa.String)
    codes = sorted(codes)
    return sa.or_(*[text.like(f'%"{code}"%') for code in codes]) if codes else sa.false()


class ShelterCreate(CreateMixin, ShelterFields):
    pass


class ShelterUpdate(Update):
    common_id: Optional[str] = None
    municipality_code: Optional[str] = None
    name: Optional[str] = None
    name_kana: Optional[str] = None
    kind: Optional[ShelterKind] = None
    target_groups: Optional[list[TargetGroup]] = None
    target_groups_text: Optional[str] = None
    accepts_carers: Optional[bool] = None
    capacity: Optional[int] = None
    capabilities: Optional[list[Capability]] = None
    address: Optional[str] = None
    lon: Optional[float] = None
    lat: Optional[float] = None
    district_id: Optional[uuid.UUID] = None
    operator: Optional[str] = None
    phone: Optional[str] = None
    contact_name: Optional[str] = None
    building_permit_date: Optional[date] = None
    accepts_from: Optional[list[str]] = None
    seismic_diagnosis_done: Optional[bool] = None
    is_value: Optional[float] = None
    retrofit_done: Optional[bool] = None
    notes: Optional[str] = None


class ShelterCurrent(SQLModel):
    """A shelter's current state: derived from its latest status report by observed time."""

    open_state: OpenState
    occupancy: int
    damage: Damage
    observed_at: datetime
    report_id: uuid.UUID


class ShelterPublic(ShelterFields, PublicRecordMeta):
    seismic_class: SeismicClass
    opened_on_request_at: Optional[datetime] = None
    opened_on_request_by: str = ""
    incomplete: list[str] = []
    current: Optional[ShelterCurrent] = None
