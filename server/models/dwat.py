"""DWAT (災害派遣福祉チーム): teams, members, deployments to shelters, requests from shelters."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from pydantic import BaseModel, field_validator, model_validator
from sqlmodel import Field, SQLModel

from .base import (CreateMixin, PublicRecordMeta, RecordMeta, TextStripped, Update, enum_field, json_dict, json_list,
                   time_field)
from .vocab import (DeploymentState, MemberRole, NeedKind, Profession, RequestOrigin, RequestPriority, RequestState,
                    RequestStep, Sex, TeamStatus)


class TeamFields(TextStripped):
    name: str = Field(min_length=1, max_length=100, description="チーム名")
    organisation: str = Field(default="", max_length=200, description="所属 (e.g. 東京都DWAT)")
    home_base: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    notes: str = Field(default="", max_length=2000)
    status: TeamStatus = enum_field(default=TeamStatus.standby, index=True, description="待機・移動中・活動中・休養中・解隊")
    # the home base, for the travel time of suggestions and the rotation plan (JGD2011 lon/lat)
    home_lon: Optional[float] = Field(default=None, ge=122.0, le=154.0)
    home_lat: Optional[float] = Field(default=None, ge=20.0, le=46.0)


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
    status: Optional[TeamStatus] = None
    home_lon: Optional[float] = None
    home_lat: Optional[float] = None


class DwatTeamPublic(TeamFields, PublicRecordMeta):
    pass


class AvailabilityWindow(BaseModel):
    """Days a member can be dispatched (inclusive); no end = until further notice."""

    start: date
    end: Optional[date] = None

    @model_validator(mode="after")
    def _order(self):
        if self.end is not None and self.end < self.start:
            raise ValueError("availability ends before it starts")
        return self


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
    availability: list[AvailabilityWindow] = json_list(description="派遣可能期間 (none: no restriction declared)")

    @field_validator("availability")
    @classmethod
    def _few_windows(cls, value):
        if len(value) > 50:
            raise ValueError("at most 50 availability windows")
        return value


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
    availability: Optional[list[AvailabilityWindow]] = None


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


# The request's step moves only through the flow's routes, and the legacy `state` is derived from
# it (docs/dwat.md "Requests and their flow"): the OpenAPI document says so on both fields.
FLOW_ROUTES = "POST /api/dwat/requests/{id}/advance (accepted, on_site, closed, cancelled) or /confirm (a team)"
STATE_DESCRIPTION = ("状態 (legacy summary of `step`, kept for filters): requested, accepted → open; team_assigned, "
                     "on_site → assigned; closed, cancelled → closed. It follows the step and is never set on its "
                     "own: a value other than the step's is refused (422 on `state`); move the request with "
                     + FLOW_ROUTES + ".")
DEPLOYMENT_DESCRIPTION = ("派遣 (the deployment serving the request): set by /confirm with the team, and moved with "
                          "the request by /advance (on site → active, closed → ended). A create naming one, or an "
                          "update changing it, is refused (422 on `deployment_id`).")
STEP_DESCRIPTION = ("手順 (the request flow): a request is created as requested; it moves only through "
                    + FLOW_ROUTES + ", never through this record's create or update.")


class RequestFields(TextStripped):
    shelter_id: uuid.UUID = Field(foreign_key="shelter.id", index=True)
    needs: list[str] = json_list(description="What is needed (e.g. 介護福祉士2名, 夜間対応)")
    note: str = Field(default="", max_length=2000)
    priority: RequestPriority = enum_field(default=RequestPriority.medium)
    state: RequestState = enum_field(default=RequestState.open, index=True, description=STATE_DESCRIPTION)
    deployment_id: Optional[uuid.UUID] = Field(default=None, foreign_key="dwat_deployment.id",
                                               description=DEPLOYMENT_DESCRIPTION)
    # Needs as counts of people by kind (NeedKind); `needs` above stays as free text.
    need_counts: dict[str, int] = json_dict(description="人数 by need kind, e.g. {\"elderly_care\": 10}")
    wanted_from: Optional[date] = Field(default=None, description="希望開始日")
    origin: RequestOrigin = enum_field(default=RequestOrigin.shelter)
    # The request flow (server/domain/dwat/request_flow.py); moved only by /api/dwat/requests/{id}/…
    step: RequestStep = enum_field(default=RequestStep.requested, index=True, description=STEP_DESCRIPTION)
    team_id: Optional[uuid.UUID] = Field(default=None, foreign_key="dwat_team.id", index=True)

    @field_validator("need_counts")
    @classmethod
    def _counts(cls, value):
        out = {}
        for kind, count in (value or {}).items():
            try:
                kind = NeedKind.parse(str(kind)).value
            except ValueError:
                raise ValueError(f"unknown need kind {kind!r}") from None
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100000:
                raise ValueError(f"the count for {kind} must be a whole number from 0")
            if count:
                out[kind] = out.get(kind, 0) + count
        return out


class DwatRequest(RequestFields, RecordMeta, table=True):
    __tablename__ = "dwat_request"


class DwatRequestCreate(CreateMixin, RequestFields):
    @model_validator(mode="after")
    def _some_need(self):
        # A request with nothing asked for cannot be matched to a team (docs/dwat.md: no_needs).
        if not self.need_counts and not any(str(n).strip() for n in self.needs):
            raise ValueError("the request has no needs: give at least one count above 0 (支援ニーズが1件もありません)")
        return self


class DwatRequestUpdate(Update):
    needs: Optional[list[str]] = None
    note: Optional[str] = None
    priority: Optional[RequestPriority] = None
    state: Optional[RequestState] = Field(default=None, description=STATE_DESCRIPTION)
    deployment_id: Optional[uuid.UUID] = Field(default=None, description=DEPLOYMENT_DESCRIPTION)
    need_counts: Optional[dict[str, int]] = None
    wanted_from: Optional[date] = None
    origin: Optional[RequestOrigin] = None


class DwatRequestPublic(RequestFields, PublicRecordMeta):
    pass


class DwatRequestStep(SQLModel, table=True):
    """One step of a request's flow: who moved it, when, from which step to which, and (on
    assignment) which team and deployment. Written only by the dispatch endpoints; never changed."""

    __tablename__ = "dwat_request_step"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    request_id: uuid.UUID = Field(foreign_key="dwat_request.id", index=True)
    from_step: Optional[str] = Field(default=None, sa_type=sa.String(40))
    to_step: str = Field(sa_type=sa.String(40))
    by: str = Field(default="", max_length=200)
    at: datetime = time_field()
    team_id: Optional[uuid.UUID] = Field(default=None, foreign_key="dwat_team.id")
    deployment_id: Optional[uuid.UUID] = Field(default=None, foreign_key="dwat_deployment.id")
    note: str = Field(default="", max_length=2000)
