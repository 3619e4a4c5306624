"""Shelter matching proposals: who goes to which welfare shelter, proposed by the solver and
confirmed by staff. A proposal is a document: its assignments and unplaced people are kept as
JSON lists of ids (never names), together with the parameters and the diff against the last
confirmed proposal, so the HQ map can show exactly what staff confirmed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from .base import UTCDateTime, enum_field, json_dict, json_list, utcnow
from .vocab import LabelledEnum


class ProposalState(LabelledEnum):
    proposed = ("proposed", "提案", "proposed")
    confirmed = ("confirmed", "確定", "confirmed")
    superseded = ("superseded", "置換済", "superseded")


class MatchProposal(SQLModel, table=True):
    __tablename__ = "match_proposal"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    created_by: str = Field(default="", max_length=100, description="username, or cli:NAME")
    trigger: str = Field(default="manual", max_length=80, description="manual | cli | shelter_report:<id>")
    state: ProposalState = enum_field(default=ProposalState.proposed, index=True)
    params: dict = json_dict(description="The rules the run used (intensity, walking limit, detour …)")
    summary: dict = json_dict()
    # [[person_id, shelter_id, walking_m or null, "plan" | "plan_alternate" | "optimised"(, because)], …]
    # `because` only at a plan's alternate: why its destination was not used
    assignments: list = json_list()
    # [[person_id, reason], …]
    unplaced: list = json_list()
    compared_with_id: Optional[uuid.UUID] = Field(default=None, description="The confirmed proposal diffed against")
    diff: dict = json_dict()
    confirmed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    confirmed_by: str = Field(default="", max_length=100)


class DistrictIntensity(SQLModel, table=True):
    """The seismic intensity (計測震度) HQ has set for a district (町丁目 or 福祉圏域) after an
    earthquake: matching takes it for every shelter and person there instead of the city-wide
    value (docs/matching.md, "Intensity per place"). One current value per district; setting it
    again replaces it, with who and when."""

    __tablename__ = "district_intensity"
    district_id: uuid.UUID = Field(foreign_key="district.id", primary_key=True)
    intensity: float = Field(description="instrumental intensity (計測震度), e.g. 5.5 for 震度6弱")
    note: str = Field(default="", max_length=300, description="source, e.g. 気象庁 観測点 or 推計震度分布")
    set_by: str = Field(default="", max_length=100)
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
