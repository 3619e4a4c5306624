"""DWAT on site (現地活動): welfare triage (福祉的トリアージ) recorded by a team on the field app.

A triage is an append-only event like a safety check: a second assessment of the same person is
a new triage, and the latest by `observed_at` is the person's current outcome. A person the
register does not know is added on the spot (`new_person`): the server makes the person
record, flags the triage `registered_on_site` for the welfare office to review, and places the
person at the deployment's shelter with a safety check (so the team and the shelter see them).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Optional

import sqlalchemy as sa
from pydantic import BaseModel, field_validator
from sqlmodel import Field

from .base import CreateMixin, EventMeta, PublicEventMeta, json_list, not_future
from .events import EventFields
from .vocab import Reason, Sex


class NewPerson(BaseModel):
    """What a team can learn at the shelter of someone not on the register (現地登録)."""

    name: str = Field(min_length=1, max_length=100, description="氏名")
    name_kana: str = Field(default="", max_length=200)
    sex: Sex = Sex.unknown
    birth_date: date = Field(description="生年月日 (an estimate is fine: 1940-01-01)")
    reasons: list[Reason] = Field(default_factory=list)
    address: str = Field(default="", max_length=300, description="住所 (if known)")
    phone: str = Field(default="", max_length=40)

    @field_validator("name", "name_kana", "address", "phone", mode="before")
    @classmethod
    def _strip(cls, value):
        return value.strip() if isinstance(value, str) else value

    @field_validator("birth_date")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value.year < 1890:
            raise ValueError("birth_date is before 1890")
        return not_future(value)


class TriageFields(EventFields):
    deployment_id: uuid.UUID = Field(foreign_key="dwat_deployment.id", index=True)
    person_id: Optional[uuid.UUID] = Field(default=None, foreign_key="person.id", index=True,
                                           description="The person assessed; omit with new_person")
    shelter_id: Optional[uuid.UUID] = Field(default=None, foreign_key="shelter.id", index=True,
                                            description="Where the person was assessed: set by the server "
                                                        "to the deployment's shelter")
    outcome: str = Field(max_length=40, description="stay_with_support | welfare_room | "
                                                    "move_to_welfare_shelter | hospital | other")
    needs: list[str] = json_list(description="Need kinds (elderly_care, mental_health …)")
    groups: list[str] = json_list(description="The team's judgement of the person's 受入対象者 groups")
    urgent: bool = Field(default=False, description="緊急: raises the placement level one step")
    destination_shelter_id: Optional[uuid.UUID] = Field(default=None, foreign_key="shelter.id",
                                                        description="A welfare shelter the team already arranged")
    notes: str = Field(default="", max_length=2000)
    new_person: Optional[NewPerson] = Field(default=None, sa_type=sa.JSON,
                                            description="A person not on the register, added on the spot")


class DwatTriage(TriageFields, EventMeta, table=True):
    __tablename__ = "dwat_triage"
    registered_on_site: bool = Field(default=False, index=True,
                                     description="現地登録: the person was added by this triage (office to review)")


class DwatTriageCreate(CreateMixin, TriageFields):
    pass


class DwatTriagePublic(TriageFields, PublicEventMeta):
    registered_on_site: bool = False
