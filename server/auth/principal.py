"""Who is asking: the signed-in user with role, scope and the mode in force."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from ..models.auth import AuthToken, Mode, Role, User
from ..models.dwat import DwatDeployment, DwatMember
from ..models.geo import District, Municipality
from ..models.shelters import Shelter
from ..models.vocab import DeploymentState
from ..domain.japan_time import today_jst
from ..models.vocab import Recipient
from ..domain.share_records import category_of
from .mode import current_mode, current_modes


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
    # Several municipalities in one installation (docs/access.md "Municipalities"): the 市区町村コード
    # whose records the caller works on; None = every municipality of the installation (always so
    # when it has only one: no clause is added, a single city works as before).
    municipality_codes: frozenset | None = None
    # The mode above is the most open one among the caller's municipalities; when they differ, the
    # codes in disaster mode: a field role sees people of the others only with consent.
    disaster_codes: frozenset = field(default_factory=frozenset)

    @property
    def is_city_office(self) -> bool:
        """Inside the municipality the register may be used as evacuation support requires."""
        return self.role in (Role.admin, Role.welfare_staff)

    @property
    def consent_only(self) -> bool:
        """Normal times: supporters outside the city office see only people who consented."""
        return self.mode == Mode.normal and self.role in (Role.district_supporter, Role.shelter_staff, Role.dwat_member)

    @property
    def mixed_modes(self) -> bool:
        """The caller's municipalities are not all in the same mode (only some declared a disaster)."""
        return bool(self.disaster_codes)


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


def installed_municipalities(session: Session) -> list[str]:
    return list(session.exec(select(Municipality.municipality_code)).all())


def municipality_scope(session: Session, user: User, extra: set | None = None) -> tuple[frozenset | None, Mode, frozenset]:
    """(codes or None for all, the mode in force for the caller, the disaster codes when mixed).

    One municipality (or none yet) in the installation: everybody works for it and its mode is the
    installation's, exactly as before municipalities were a scope. Several: the user's codes (plus
    `extra`, e.g. a deployed DWAT member's shelters); an account with none sees nothing — never
    widened by default."""
    installed = installed_municipalities(session)
    if len(installed) <= 1:
        return None, current_mode(session), frozenset()
    codes = (set(user.municipality_codes or []) | (extra or set())) & set(installed)
    modes = current_modes(session, codes)
    in_disaster = frozenset(c for c, m in modes.items() if m == Mode.disaster)
    mode = Mode.disaster if in_disaster else Mode.normal
    mixed = in_disaster if in_disaster and len(in_disaster) < len(modes) else frozenset()
    return (None if codes >= set(installed) else frozenset(codes)), mode, mixed


def load_principal(session: Session, user: User, token: AuthToken | None = None, ordinance: str = "opt_in") -> Principal:
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
    # a DWAT team deployed across the border works under the mode of the deployment's municipality
    extra = set(session.exec(select(Shelter.municipality_code).where(Shelter.id.in_(list(shelters))))) \
        if deployments else set()
    codes, mode, mixed = municipality_scope(session, user, extra)
    return Principal(user_id=user.id, username=user.username, role=Role(user.role), mode=mode,
                     token_id=token.id if token else None, token_kind=token.kind if token else "",
                     csrf_token=token.csrf_token if token else "", district_ids=frozenset(districts),
                     shelter_ids=frozenset(shelters), deployment_ids=frozenset(deployments), team_id=team_id,
                     share_category=category_of(user.role, user.affiliation), ordinance=ordinance,
                     municipality_codes=codes, disaster_codes=mixed)
