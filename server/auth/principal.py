"""Who is asking: the signed-in user with role, scope and the mode in force."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from ..models.auth import AuthToken, Mode, Role, User
from ..models.dwat import DwatDeployment, DwatMember
from ..models.geo import District
from ..models.vocab import DeploymentState
from ..domain.japan_time import today_jst
from ..models.vocab import Recipient
from ..domain.share_records import category_of
from .mode import current_mode


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    username: str
    role: Role
    mode: Mode
    token_id: uuid.UUID | None = None
    token_kind: str = ""
    csrf_token: str = ""
    district_ids: frozenset = field(default_factory=frozenset)  # 町丁目 ids (welfare areas expanded)
    shelter_ids: frozenset = field(default_factory=frozenset)   # own shelters, or the active deployment's
    deployment_ids: frozenset = field(default_factory=frozenset)
    team_id: uuid.UUID | None = None
    # Art. 49-11: the recipient category the user receives register data as (None: the blanket
    # answer decides) and the city's ordinance setting (opt_in / opt_out).
    share_category: Recipient | None = None
    ordinance: str = "opt_in"

    @property
    def is_city_office(self) -> bool:
        """Inside the municipality the register may be used as evacuation support requires."""
        return self.role in (Role.admin, Role.welfare_staff)

    @property
    def consent_only(self) -> bool:
        """Normal times: supporters outside the city office see only people who consented."""
        return self.mode == Mode.normal and self.role in (Role.district_supporter, Role.shelter_staff, Role.dwat_member)


def sharing_ordinance(app) -> str:
    """The city's TSUNAGU_SHARING_ORDINANCE (opt_in when the app's settings do not say)."""
    settings = getattr(getattr(app, "state", None), "settings", None)
    values = getattr(settings, "values", {}) or {}
    return values.get("TSUNAGU_SHARING_ORDINANCE", "opt_in")


def active_deployments(session: Session, team_id: uuid.UUID, today: date | None = None) -> list[DwatDeployment]:
    today = today or today_jst()
    rows = session.exec(select(DwatDeployment).where(DwatDeployment.team_id == team_id,
                                                     DwatDeployment.state == DeploymentState.active)).all()
    return [d for d in rows if d.start_date <= today and (d.end_date is None or d.end_date >= today)]


def load_principal(session: Session, user: User, token: AuthToken | None = None, ordinance: str = "opt_in") -> Principal:
    mode = current_mode(session)
    districts: set = set()
    shelters: set = set()
    deployments: set = set()
    team_id = None
    if user.role == Role.district_supporter and user.district_ids:
        ids = [uuid.UUID(str(i)) for i in user.district_ids]
        children = session.exec(select(District.id).where(District.parent_id.in_(ids))).all()
        districts = set(ids) | set(children)
    if user.role == Role.shelter_staff:
        shelters = {uuid.UUID(str(i)) for i in user.shelter_ids}
    if user.role == Role.dwat_member and user.dwat_member_id:
        member = session.get(DwatMember, user.dwat_member_id)
        if member is not None:
            team_id = member.team_id
            for deployment in active_deployments(session, member.team_id):
                deployments.add(deployment.id)
                shelters.add(deployment.shelter_id)
    return Principal(user_id=user.id, username=user.username, role=Role(user.role), mode=mode,
                     token_id=token.id if token else None, token_kind=token.kind if token else "",
                     csrf_token=token.csrf_token if token else "", district_ids=frozenset(districts),
                     shelter_ids=frozenset(shelters), deployment_ids=frozenset(deployments), team_id=team_id,
                     share_category=category_of(user.role, user.affiliation), ordinance=ordinance)
