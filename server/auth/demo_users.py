"""Demo accounts: one per role, with fresh passwords printed by `tsunagu demo` — demo mode only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from ..models import District, DwatMember, DwatTeam, Shelter
from ..models.auth import Role, User
from ..models.vocab import DistrictKind, MemberRole, ShelterKind
from .passwords import hash_password
from .principal import active_deployments
from .tokens import revoke_all_for_user

DEMO_PREFIX = "demo-"
# One account per role (the front page names them in demo mode; the passwords stay in the terminal).
DEMO_ROLES = (("admin", Role.admin), ("fukushi", Role.welfare_staff), ("minsei", Role.district_supporter),
              ("hinanjo", Role.shelter_staff), ("dwat", Role.dwat_member), ("honbu", Role.hq_viewer))


@dataclass
class DemoAccount:
    username: str
    role: Role
    password: str
    scope: str


def seed_demo_users(session: Session, *, demo_mode: bool) -> list[DemoAccount]:
    """Create (or reset the passwords of) one demo account per role. Refuses outside demo mode:
    printed passwords must never exist on a real installation."""
    if not demo_mode:
        raise PermissionError("demo accounts exist only in demo mode")
    area = session.exec(select(District).where(District.kind == DistrictKind.welfare_area).order_by(District.code)).first()
    shelter = session.exec(select(Shelter).where(Shelter.kind != ShelterKind.designated).order_by(Shelter.name)).first()
    team = _deployed_team(session)
    leader = None
    if team is not None:
        leader = session.exec(select(DwatMember).where(DwatMember.team_id == team.id)
                              .order_by(DwatMember.role != MemberRole.leader, DwatMember.name)).first()
    scopes = {
        "admin": ({}, "すべて / everything"),
        "fukushi": ({}, "すべて / everything"),
        "minsei": ({"district_ids": [area.id] if area else []}, f"福祉圏域 {area.name}" if area else "(no district)"),
        "hinanjo": ({"shelter_ids": [shelter.id] if shelter else []}, shelter.name if shelter else "(no shelter)"),
        "dwat": ({"dwat_member_id": leader.id if leader else None},
                 f"{team.name} (派遣中のみ / only while deployed)" if team else "(no team)"),
        "honbu": ({}, "すべて・限られた項目 / everything, fewer fields"),
    }
    plan = [(name, role, *scopes[name]) for name, role in DEMO_ROLES]
    accounts = []
    for name, role, scope, scope_text in plan:
        username = DEMO_PREFIX + name
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
        accounts.append(DemoAccount(username, role, password, scope_text))
    return accounts


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
