"""DWAT (災害派遣福祉チーム): teams, members, deployments to shelters, requests from shelters."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Optional

from pydantic import model_validator
from sqlmodel import Field

from .base import CreateMixin, PublicRecordMeta, RecordMeta, TextStripped, Update, enum_field, json_dict, json_list
from .vocab import DeploymentState, MemberRole, Profession, RequestPriority, RequestState, Sex


class TeamFields(TextStripped):
    name: str = Field(min_length=1, max_length=100, description="チーム名")
    organisation: str = Field(default="", max_length=200, description="所属 (e.g. 東京都DWAT)")
    home_base: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    notes: str = Field(default="", max_length=2000)


class DwatTeam(TeamFields, RecordMeta, table=True):
    __tablename__ = "dwat_team"


class DwatTeamCreate(CreateMixin, TeamFields):
    pass


class DwatTeamUpdate(Update):
    name: Optional[str] = None
    organisation: Optional[str] = None
    home_base: Optional[str] = None
    phone: Optional[str] = None
    notes: Optional[str] = None


class DwatTeamPublic(TeamFields, PublicRecordMeta):
    pass


class MemberFields(TextStripped):
    team_id: uuid.UUID = Field(foreign_key="dwat_team.id", index=True)
    name: str = Field(min_length=1, max_length=100)
    name_kana: str = Field(default="", max_length=200)
    sex: Sex = enum_field(default=Sex.unknown)
    role: MemberRole = enum_field(default=MemberRole.member)
    professions: list[Profession] = json_list(description="資格")
    registration_no: str = Field(default="", max_length=40, description="DWAT登録番号")
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=200)


class DwatMember(MemberFields, RecordMeta, table=True):
    __tablename__ = "dwat_member"


class DwatMemberCreate(CreateMixin, MemberFields):
    pass


class DwatMemberUpdate(Update):
    team_id: Optional[uuid.UUID] = None
    name: Optional[str] = None
    name_kana: Optional[str] = None
    sex: Optional[Sex] = None
    role: Optional[MemberRole] = None
    professions: Optional[list[Profession]] = None
    registration_no: Optional[str] = None
    phone: Optional[str] = None
    email: Optional[str] = None


class DwatMemberPublic(MemberFields, PublicRecordMeta):
    pass


class DeploymentFields(TextStripped):
    team_id: uuid.UUID = Field(foreign_key="dwat_team.id", index=True)
    shelter_id: uuid.UUID = Field(foreign_key="shelter.id", index=True)
    start_date: date
    end_date: Optional[date] = None
    state: DeploymentState = enum_field(default=DeploymentState.planned, index=True)
    notes: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _dates(self):
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class DwatDeployment(DeploymentFields, RecordMeta, table=True):
    __tablename__ = "dwat_deployment"


class DwatDeploymentCreate(CreateMixin, DeploymentFields):
    pass


class DwatDeploymentUpdate(Update):
    shelter_id: Optional[uuid.UUID] = None
    start_date: Optional[date] = None
    end_date: Optional[date] = None
    state: Optional[DeploymentState] = None
    notes: Optional[str] = None


class DwatDeploymentPublic(DeploymentFields, PublicRecordMeta):
    pass


class RequestFields(TextStripped):
    shelter_id: uuid.UUID = Field(foreign_key="shelter.id", index=True)
    needs: list[str] = json_list(description="What is needed (e.g. 介護福祉士2名, 夜間対応)")
    note: str = Field(default="", max_length=2000)
    priority: RequestPriority = enum_field(default=RequestPriority.medium)
    state: RequestState = enum_field(default=RequestState.open, index=True)
    deployment_id: Optional[uuid.UUID] = Field(default=None, foreign_key="dwat_deployment.id")
    # Added by the field side (migration 0016): needs as counts of people by kind
    # (domain.dwat.request_flow.NeedKind) and the day a team is wanted from.
    need_counts: dict[str, int] = json_dict(description="Needs as counts of people by kind (elderly_care: 3 …)")
    wanted_from: Optional[date] = Field(default=None, description="A team is wanted from this day")


class DwatRequest(RequestFields, RecordMeta, table=True):
    __tablename__ = "dwat_request"


class DwatRequestCreate(CreateMixin, RequestFields):
    pass


class DwatRequestUpdate(Update):
    needs: Optional[list[str]] = None
    note: Optional[str] = None
    priority: Optional[RequestPriority] = None
    state: Optional[RequestState] = None
    deployment_id: Optional[uuid.UUID] = None
    need_counts: Optional[dict[str, int]] = None
    wanted_from: Optional[date] = None


class DwatRequestPublic(RequestFields, PublicRecordMeta):
    pass
