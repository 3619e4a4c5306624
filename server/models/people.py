"""Person (要配慮者) as entered on the 避難行動要支援者名簿 (災害対策基本法 Art. 49-10)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from pydantic import BaseModel, field_validator, model_validator
from sqlmodel import Field, SQLModel

from ..domain.textnorm import kana_key
from .base import (CreateMixin, NormalisedCodes, PublicRecordMeta, RecordMeta, TextStripped, Update, enum_field,
                   json_list, not_future)
from .geo import MunicipalityCodeMixin, check_lon_lat
from .vocab import CareNeed, Consent, Household, Reason, SafetyOutcome, Sex

LANGUAGES = ("ja", "ja-easy", "en", "zh", "ko", "vi", "pt", "es", "tl", "ne", "id", "th", "my")


class EmergencyContact(BaseModel):
    """緊急連絡先."""

    name: str = Field(min_length=1, max_length=100)
    relation: str = Field(default="", max_length=40)
    phone: str = Field(default="", max_length=40)


class EmergencyContactInput(NormalisedCodes, EmergencyContact):
    """緊急連絡先 as sent to the API: the phone number is normalised like the importer's."""


class PersonFields(TextStripped, MunicipalityCodeMixin):
    register_no: str = Field(min_length=1, max_length=32, description="登録者番号")
    municipality_code: str = Field(max_length=6, description="全国地方公共団体コード (6 digits)")
    name: str = Field(min_length=1, max_length=100, description="氏名")
    name_kana: str = Field(default="", max_length=200, description="ふりがな (katakana or hiragana)")
    birth_date: date = Field(description="生年月日")
    sex: Sex = enum_field(description="性別")
    postal_code: str = Field(default="", max_length=8)
    address: str = Field(min_length=1, max_length=300, description="住所又は居所")
    phone: str = Field(default="", max_length=40, description="電話番号")
    contact_other: str = Field(default="", max_length=200, description="その他の連絡先 (FAX, e-mail, family)")
    reasons: list[Reason] = json_list(description="避難支援等を必要とする事由")
    reason_note: str = Field(default="", max_length=1000)
    district_id: Optional[uuid.UUID] = Field(default=None, foreign_key="district.id", index=True,
                                             description="町丁目 the person lives in")
    lon: Optional[float] = Field(default=None, description="JGD2011 longitude")
    lat: Optional[float] = Field(default=None, description="JGD2011 latitude")
    household: Household = enum_field(default=Household.other, description="世帯構成")
    household_note: str = Field(default="", max_length=300)
    emergency_contacts: list[EmergencyContact] = json_list(description="緊急連絡先")
    care_needs: list[CareNeed] = json_list(description="Care needs")
    preferred_language: str = Field(default="ja", max_length=10,
                                    description="ja, ja-easy (やさしい日本語), en, zh, ko, vi, …")
    consent: Consent = enum_field(default=Consent.not_asked, index=True,
                                  description="平常時の名簿情報提供への同意")
    consent_date: Optional[date] = None
    neighborhood_association: str = Field(default="", max_length=100, description="自治会")
    minsei_iin: str = Field(default="", max_length=100, description="担当民生委員")
    notes: str = Field(default="", max_length=2000, description="申し伝え事項")

    @field_validator("birth_date")
    @classmethod
    def _birth_not_future(cls, value: date) -> date:
        not_future(value)
        if value.year < 1890:
            raise ValueError("birth date before 1890 is not plausible")
        return value

    @field_validator("consent_date")
    @classmethod
    def _consent_not_future(cls, value: date | None) -> date | None:
        return not_future(value)

    @field_validator("preferred_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError("unsupported language; use one of " + ", ".join(LANGUAGES))
        return value

    @field_validator("reasons", "care_needs")
    @classmethod
    def _unique(cls, value: list) -> list:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _cross_checks(self):
        check_lon_lat(self.lon, self.lat)
        if self.consent == Consent.yes and self.consent_date is None:
            # A consent without a date cannot be traced; municipal forms always date it.
            raise ValueError("consent_date is required when consent is yes")
        return self


# Binary order on PostgreSQL too, so that a prefix is one index range (a linguistic collation
# does not sort every string that starts with a prefix together).
KANA_KEY_TYPE = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


class Person(PersonFields, RecordMeta, table=True):
    # 登録者番号 are numbered by each municipality's own 名簿: unique per municipality, not per
    # installation (two cities in one installation hold the same numbers). The plain index serves
    # lookups by number alone (search, filters).
    __table_args__ = (sa.Index("ix_person_district_register", "district_id", "register_no"),
                      sa.Index("ix_person_municipality_register", "municipality_code", "register_no", unique=True))
    register_no: str = Field(max_length=32, index=True)
    # kana_key(name_kana): the register search's ふりがな prefix key. Derived, never sent or shown;
    # every write path sets it (records layer, importers, the demo loader; see with_kana_key).
    kana_key: str = Field(default="", sa_column=sa.Column(KANA_KEY_TYPE, nullable=False, server_default="",
                                                          index=True))


def with_kana_key(values: dict) -> dict:
    """A person's column values for a Core insert or update, with the kana key of its ふりがな."""
    if "name_kana" in values:
        values["kana_key"] = kana_key(values["name_kana"] or "")
    return values


@sa.event.listens_for(Person, "before_insert")
@sa.event.listens_for(Person, "before_update")
def _keep_kana_key(mapper, connection, target: Person) -> None:
    """ORM writes (the records layer's create, a test's session.add) keep the key in step."""
    target.kana_key = kana_key(target.name_kana or "")


class PersonCreate(CreateMixin, PersonFields):
    emergency_contacts: list[EmergencyContactInput] = json_list(description="緊急連絡先")


class PersonUpdate(Update):
    register_no: Optional[str] = None
    municipality_code: Optional[str] = None
    name: Optional[str] = None
    name_kana: Optional[str] = None
    birth_date: Optional[date] = None
    sex: Optional[Sex] = None
    postal_code: Optional[str] = None
    address: Optional[str] = None
    phone: Optional[str] = None
    contact_other: Optional[str] = None
    reasons: Optional[list[Reason]] = None
    reason_note: Optional[str] = None
    district_id: Optional[uuid.UUID] = None
    lon: Optional[float] = None
    lat: Optional[float] = None
    household: Optional[Household] = None
    household_note: Optional[str] = None
    emergency_contacts: Optional[list[EmergencyContactInput]] = None
    care_needs: Optional[list[CareNeed]] = None
    preferred_language: Optional[str] = None
    consent: Optional[Consent] = None
    consent_date: Optional[date] = None
    neighborhood_association: Optional[str] = None
    minsei_iin: Optional[str] = None
    notes: Optional[str] = None


class SafetySummary(SQLModel):
    """A person's current safety status: the latest 安否確認 by observed time."""

    outcome: SafetyOutcome
    observed_at: datetime
    check_id: uuid.UUID


class PersonPublic(PersonFields, PublicRecordMeta):
    latest_safety: Optional[SafetySummary] = None
