"""Eight DWAT (災害派遣福祉チーム) teams of four to six welfare professionals.

Like real teams, each has a leader and a sub-leader, mixes professions and includes
women; members come from (invented) welfare corporations around the city.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from ..models import DwatMember, DwatTeam
from ..models.vocab import MemberRole, Profession, Sex
from .common import IdMaker, day_between, landline, mobile, stamp, Weighted
from .names import GIVEN_ADULT_FEMALE, GIVEN_ADULT_MALE, SURNAMES, TOWNS

TEAM_COUNT = 8
ORGANISATION = "東京都災害派遣福祉チーム（デモ）"
PROFESSIONS = Weighted({Profession.care_worker: 30, Profession.social_worker: 25, Profession.care_manager: 15,
                        Profession.psychiatric_social_worker: 10, Profession.nurse: 10,
                        Profession.childcare_worker: 7, Profession.other: 3})


# Home bases (拠点) for travel time: the city itself, neighbouring Tama cities, central Tokyo
# and one from a neighbouring prefecture — so the suggestions' travel part differs by team.
HOME_BASES = [(139.445, 35.690), (139.410, 35.698), (139.480, 35.669), (139.324, 35.656),
              (139.541, 35.652), (139.446, 35.548), (139.700, 35.690), (139.276, 35.789)]


def build_teams(rng: random.Random, stamps: random.Random, ids: IdMaker,
                now: date) -> tuple[list[DwatTeam], list[DwatMember]]:
    """The teams and their members; member numbers run across all teams."""
    teams, members = [], []
    for number in range(1, TEAM_COUNT + 1):
        stem = TOWNS[rng.randrange(len(TOWNS))][2]
        created_day = day_between(stamps, now - timedelta(days=4 * 365), now - timedelta(days=200))
        created = stamp(created_day, stamps)
        team = DwatTeam(
            id=ids("dwat_team", number), created_at=created, updated_at=created,
            name=f"多摩つなぎ第{number}班", organisation=ORGANISATION,
            home_base=f"社会福祉法人 {stem}福祉会", phone=landline(rng),
            notes="派遣期間は原則5日間（交代制）。72時間以内に先遣隊を派遣",
            home_lon=HOME_BASES[(number - 1) % len(HOME_BASES)][0], home_lat=HOME_BASES[(number - 1) % len(HOME_BASES)][1],
        )
        teams.append(team)
        size = rng.randint(4, 6)
        # Leader and sub-leader first; at least one woman in every team.
        sexes = [Sex.female] + [Sex.female if rng.random() < 0.5 else Sex.male for _ in range(size - 1)]
        rng.shuffle(sexes)
        for position, sex in enumerate(sexes):
            role = (MemberRole.leader, MemberRole.sub_leader)[position] if position < 2 else MemberRole.member
            professions = [PROFESSIONS.pick(rng)]
            if rng.random() < 0.3:  # many hold two qualifications, e.g. 介護福祉士 and 介護支援専門員
                second = PROFESSIONS.pick(rng)
                if second not in professions:
                    professions.append(second)
            surname = rng.choice(SURNAMES)
            given = rng.choice(GIVEN_ADULT_FEMALE if sex == Sex.female else GIVEN_ADULT_MALE)
            serial = len(members) + 1
            members.append(DwatMember(
                id=ids("dwat_member", serial), created_at=created, updated_at=created,
                team_id=team.id, name=f"{surname[0]} {given[0]}", name_kana=f"{surname[1]} {given[1]}",
                sex=sex, role=role, professions=professions, registration_no=f"TKY-DWAT-{serial:04d}",
                phone=mobile(rng), email=f"dwat{number:02d}-{position + 1:02d}@dwat.tsunagi.example",
            ))
    return teams, members
