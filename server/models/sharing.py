"""Art. 49-11 sharing in normal times: consent per recipient category (同意) and the handover
record (提供記録) of every list, export and print given to an outside recipient."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Optional

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from .base import CreateMixin, EventMeta, PublicEventMeta, TextStripped, enum_field, json_list, not_future
from .vocab import ConsentAnswer, ConsentMethod, Recipient, ShareMedium


class PersonConsentFields(TextStripped):
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    recipient: Recipient = enum_field(description="recipient category (民生委員, 消防 …)")
    answer: ConsentAnswer = enum_field(description="同意 / 不同意")
    method: ConsentMethod = enum_field(default=ConsentMethod.written, description="書面, 口頭, 移行")
    answered_on: date = Field(description="the day the person answered (not in the future)")
    recorded_by: str = Field(default="", max_length=100, description="who recorded it (set by the server)")
    note: str = Field(default="", max_length=500)

    @field_validator("answered_on")
    @classmethod
    def _not_future(cls, value: date) -> date:
        return not_future(value)

    @field_validator("recipient")
    @classmethod
    def _outside(cls, value: Recipient) -> Recipient:
        if value == Recipient.office:
            raise ValueError("the office's own use needs no consent (市役所内部の利用に同意は不要です)")
        return value


class PersonConsent(PersonConsentFields, EventMeta, table=True):
    """One answer of one person for one recipient category; never changed (a new answer is a
    new row: the latest by `answered_on`, then `recorded_at`, is in force)."""

    __tablename__ = "person_consent"
    __table_args__ = (sa.Index("ix_person_consent_latest", "person_id", "recipient", "answered_on", "recorded_at"),)


class PersonConsentCreate(CreateMixin, PersonConsentFields):
    pass


class PersonConsentPublic(PersonConsentFields, PublicEventMeta):
    pass


class ShareHandover(EventMeta, SQLModel, table=True):
    """提供記録: which people's register data went to which recipient, when, how, by whom."""

    __tablename__ = "share_handover"

    recipient: Recipient = enum_field(index=True)
    recipient_name: str = Field(max_length=200, description="e.g. 民生委員 山田花子, 東消防署")
    handed_on: date = Field(index=True)
    person_ids: list[str] = json_list()
    mode: str = Field(max_length=20, description="normal / disaster")
    medium: ShareMedium = enum_field()
    what: str = Field(default="", max_length=300, description="which list, export or print")
    handed_by: str = Field(max_length=100)
    handed_by_id: Optional[uuid.UUID] = None
