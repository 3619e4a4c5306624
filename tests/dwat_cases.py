"""Small builders for the DWAT domain tests (tests/test_dwat_*.py) and the benchmark."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from server.domain.dwat.common import Site, Window
from server.domain.dwat.roster import Member, Team, TeamStatus
from server.models.vocab import MemberRole, Profession, Sex

P = Profession
DAY0 = date(2026, 1, 10)
T0 = datetime(2026, 1, 10, 0, 0, tzinfo=timezone.utc)  # 09:00 JST
ROLES = (MemberRole.leader, MemberRole.sub_leader)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def members(team_id, professions, *, women: int = 1, availability=(), registration: bool = True) -> tuple[Member, ...]:
    """One member per entry of `professions` (a Profession or a tuple of them); the first is
    the leader, the second the sub-leader; the first `women` members are women."""
    result = []
    for k, prof in enumerate(professions):
        profs = frozenset(prof if isinstance(prof, tuple) else (prof,))
        result.append(Member(f"{team_id}-m{k}", Sex.female if k < women else Sex.male,
                             ROLES[k] if k < 2 else MemberRole.member, profs,
                             f"REG-{team_id}-{k}" if registration else "", tuple(availability)))
    return tuple(result)


def team(team_id, professions=(P.care_worker, P.social_worker, P.care_manager, P.nurse), *, status=TeamStatus.standby,
         home=(139.48, 35.70), commitments=(), women: int = 1, availability=()) -> Team:
    return Team(team_id, f"班{team_id}", "テスト法人", status,
                members(team_id, professions, women=women, availability=availability),
                home[0] if home else None, home[1] if home else None, tuple(commitments))


def site(site_id, lon=139.48, lat=35.70, name="") -> Site:
    return Site(site_id, name or f"避難所{site_id}", lon, lat)


def busy(start: int, end: int) -> Window:
    return Window(day(start), day(end))


def synthetic_teams(n: int, seed: int = 1) -> list[Team]:
    """`n` teams of 4–6 around the Tama area with mixed professions and statuses (the
    benchmark's pool; deterministic for a seed)."""
    rng = random.Random(seed)
    pool = [P.care_worker, P.care_worker, P.social_worker, P.social_worker, P.care_manager,
            P.psychiatric_social_worker, P.nurse, P.childcare_worker]
    statuses = [TeamStatus.standby] * 7 + [TeamStatus.on_site, TeamStatus.resting, TeamStatus.stood_down]
    teams = []
    for j in range(n):
        status = rng.choice(statuses)
        commitments = (busy(-3, rng.randint(0, 4)),) if status == TeamStatus.on_site else ()
        professions = [rng.choice(pool) for _ in range(rng.randint(4, 6))]
        availability = (Window(day(rng.randint(-5, 10)), None),) if rng.random() < 0.2 else ()
        teams.append(team(f"T{j:03d}", professions, status=status, commitments=commitments,
                          home=(139.0 + rng.random() * 0.9, 35.5 + rng.random() * 0.4),
                          women=rng.randint(1, 3), availability=availability))
    return teams


def synthetic_sites(n: int, seed: int = 2) -> list[Site]:
    rng = random.Random(seed)
    return [site(f"S{i:03d}", 139.3 + rng.random() * 0.3, 35.6 + rng.random() * 0.15) for i in range(n)]
