"""Demo accounts: one per role, with fresh passwords printed by `tsunagu demo` — demo mode only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from ..models import District, DwatMember, DwatTeam, Municipality, Shelter
from ..models.auth import Role, User
from ..models.vocab import DistrictKind, MemberRole, ShelterKind
from .passwords import hash_password
from .principal import active_deployments
from .tokens import revoke_all_for_user

DEMO_PREFIX = "demo-"
# One account per role (the front page names them in demo mode; the passwords stay in the terminal).
DEMO_ROLES = (("admin", Role.admin), ("fukushi", Role.welfare_staff), ("minsei", Role.district_supporter),
              ("hinanjo", Role.shelter_staff), ("dwat", Role.dwat_member), ("honbu", Role.hq_viewer),
              ("pref", Role.prefecture_coordinator))
# With a neighbouring demo municipality (`tsunagu demo --cities 2`) its city accounts end in "-2";
# DWAT and the prefecture stay one account each (the prefecture's teams serve both).
CITY_ROLES = ("admin", "fukushi", "minsei", "hinanjo", "honbu")


@dataclass
class DemoAccount:
    username: str
    role: Role
    password: str
    scope: str


def seed_demo_users(session: Session, *, demo_mode: bool, municipalities: list[str] | None = None) -> list[DemoAccount]:
    """Create (or reset the passwords of) one demo account per role. Refuses outside demo mode:
    printed passwords must never exist on a real installation. `municipalities`: the demo
    municipalities, the first (the demo city) with plain names, the next with "-2" (default: the
    installation's only one)."""
    if not demo_mode:
        raise PermissionError("demo accounts exist only in demo mode")
    codes = municipalities or sorted(session.exec(select(Municipality.municipality_code)).all())[:1]
    accounts = []
    for number, code in enumerate(codes or [None], 1):
        suffix = "" if number == 1 else f"-{number}"
        names = DEMO_ROLES if number == 1 else [(n, r) for n, r in DEMO_ROLES if n in CITY_ROLES]
        for name, role, scope, scope_text in _plan(session, code, names, codes):
            accounts.append(_account(session, DEMO_PREFIX + name + suffix, role, scope, scope_text))
    return accounts


def _plan(session: Session, code: str | None, names, codes: list[str]) -> list[tuple]:
    """(name, role, scope fields, scope text) for the demo accounts of municipality `code`."""
    def of(model):
        return select(model) if code is None else select(model).where(model.municipality_code == code)
    area = session.exec(of(District).where(District.kind == DistrictKind.welfare_area).order_by(District.code)).first()
    shelter = session.exec(of(Shelter).where(Shelter.kind != ShelterKind.designated).order_by(Shelter.name)).first()
    team = _deployed_team(session)
    leader = None
    if team is not None:
        leader = session.exec(select(DwatMember).where(DwatMember.team_id == team.id)
                              .order_by(DwatMember.role != MemberRole.leader, DwatMember.name)).first()
    own = {"municipality_codes": [code] if code else []}
    scopes = {
        "admin": (own, "すべて / everything"),
        "fukushi": (own, "すべて / everything"),
        "minsei": ({**own, "district_ids": [area.id] if area else []}, f"福祉圏域 {area.name}" if area else "(no district)"),
        "hinanjo": ({**own, "shelter_ids": [shelter.id] if shelter else []}, shelter.name if shelter else "(no shelter)"),
        "dwat": ({**own, "dwat_member_id": leader.id if leader else None},
                 f"{team.name} (派遣中のみ / only while deployed)" if team else "(no team)"),
        "honbu": (own, "すべて・限られた項目 / everything, fewer fields"),
        "pref": ({"municipality_codes": list(codes)}, "DWATのみ・名簿なし / DWAT only, no register"),
    }
    return [(name, role, *scopes[name]) for name, role in names]


def _account(session: Session, username: str, role: Role, scope: dict, scope_text: str) -> DemoAccount:
    password = secrets.token_urlsafe(9)
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, role=role, display_name=f"デモ {role.ja}", password_hash="")
    user.password_hash = hash_password(password)
    for key, value in scope.items():
        setattr(user, key, value)
    session.add(user)
    session.flush()
    revoke_all_for_user(session, user.id)
    return DemoAccount(username, role, password, scope_text)


def _deployed_team(session: Session) -> DwatTeam | None:
    """The first team (by name) on site today, so that `demo-dwat` syncs a deployment, its
    shelter and its people at once; the first team at all when none is deployed (the DWAT
    account then waits for a deployment, as a real one would)."""
    teams = session.exec(select(DwatTeam).order_by(DwatTeam.name)).all()
    return next((t for t in teams if active_deployments(session, t.id)), teams[0] if teams else None)


def print_accounts(accounts: list[DemoAccount]) -> None:
    print("demo: accounts (パスワードはデモ起動のたびに変わります / new passwords on every demo start):")
    for a in accounts:
        print(f"  {a.username:14} {a.password:14} {a.role.ja}（{a.role.en}） — {a.scope}")
