"""The roster (名簿): teams, members, their availability, and the checks HQ relies on before a
team is sent anywhere.

Rules (docs/dwat.md):
- a team has 4–6 members (errors otherwise), exactly one leader (リーダー), a sub-leader
  (サブリーダー; a warning when missing), and women (a warning when none: evacuees, most of
  them women and elderly, ask for a woman for intimate care and counselling);
- a member is in at most one active (活動中) deployment, and the dates of a member's live
  (派遣予定 or 活動中) deployments never overlap; a deployment's end is not before its start.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Hashable, Iterable, Optional, Sequence

from ...models.vocab import DeploymentState, MemberRole, Profession, Sex, TeamStatus  # noqa: F401 (TeamStatus re-exported)
from .common import Deployment, DwatError, Problem, Window, error, raise_errors, warning

MIN_MEMBERS, MAX_MEMBERS = 4, 6


@dataclass(frozen=True)
class Member:
    """A registered member (登録隊員). `availability` lists the windows the member can be
    dispatched in; empty means no restriction was declared."""

    id: Hashable
    sex: Sex = Sex.unknown
    role: MemberRole = MemberRole.member
    professions: frozenset[Profession] = frozenset()
    registration_no: str = ""
    availability: tuple[Window, ...] = ()
    contact: str = ""


@dataclass(frozen=True)
class Team:
    """A team of the 災害福祉支援ネットワーク. `commitments` are the windows of its live
    deployments (planned or active); home_lon/home_lat is its home base, for travel time."""

    id: Hashable
    name: str = ""
    organisation: str = ""
    status: TeamStatus = TeamStatus.standby
    members: tuple[Member, ...] = ()
    home_lon: Optional[float] = None
    home_lat: Optional[float] = None
    commitments: tuple[Window, ...] = ()


@dataclass(frozen=True)
class TeamCheck:
    """The result of `check_team`: problems (errors and warnings) and a professions summary."""

    problems: tuple[Problem, ...]
    professions: dict = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


def professions_summary(members: Iterable[Member]) -> dict[Profession, int]:
    """Members per profession (a member with two qualifications counts under both), in the
    vocabulary's order — what HQ reads to see what a team can do."""
    counts = Counter(p for m in members for p in m.professions)
    return {p: counts[p] for p in Profession if counts[p]}


def check_team(team: Team) -> TeamCheck:
    """Check a team's composition (see the module docstring). Errors block dispatch;
    warnings are shown to HQ, who may still send the team."""
    members = team.members
    problems: list[Problem] = []
    n = len(members)
    if n < MIN_MEMBERS:
        problems.append(error("too_few_members", f"隊員が{n}名です（4〜6名必要）",
                              f"{n} members; a team needs 4 to 6", "members"))
    elif n > MAX_MEMBERS:
        problems.append(error("too_many_members", f"隊員が{n}名です（4〜6名まで）",
                              f"{n} members; a team has at most 6", "members"))
    ids = Counter(m.id for m in members)
    if any(c > 1 for c in ids.values()):
        problems.append(error("duplicate_member", "同じ隊員が二度登録されています",
                              "the same member is listed twice", "members"))
    numbers = Counter(m.registration_no for m in members if m.registration_no)
    if any(c > 1 for c in numbers.values()):
        problems.append(error("duplicate_registration_no", "登録番号が重複しています",
                              "two members share a registration number", "members"))
    leaders = sum(1 for m in members if m.role == MemberRole.leader)
    if leaders == 0:
        problems.append(error("no_leader", "リーダーがいません", "the team has no leader", "members"))
    elif leaders > 1:
        problems.append(error("several_leaders", "リーダーは1名です", "a team has one leader", "members"))
    if not any(m.role == MemberRole.sub_leader for m in members):
        problems.append(warning("no_sub_leader", "サブリーダーがいません", "the team has no sub-leader",
                                "members"))
    if members and not any(m.sex == Sex.female for m in members):
        problems.append(warning("no_women", "女性隊員がいません（女性の配置が望まれます）",
                                "no woman in the team (women should be included)", "members"))
    if any(not m.professions for m in members):
        problems.append(warning("profession_missing", "資格が未登録の隊員がいます",
                                "a member has no profession recorded", "members"))
    return TeamCheck(tuple(problems), professions_summary(members))


def member_available(member: Member, start: date, end: date) -> bool:
    """Whether the member can be away for all of [start, end]: one declared window must
    cover the whole stay (a team does not swap members mid-deployment)."""
    if not member.availability:
        return True
    return any(w.covers(start, end) for w in member.availability)


def available_members(team: Team, start: date, end: date) -> tuple[Member, ...]:
    return tuple(m for m in team.members if member_available(m, start, end))


def team_can_go(team: Team, start: date, end: date, min_members: int = MIN_MEMBERS) -> tuple[bool, tuple[Member, ...]]:
    """Whether the team can be sent for [start, end]: status is standby, travelling or on
    site; no live deployment of the team overlaps; at least `min_members` members are
    available, one of them the leader or sub-leader (who then leads). Returns the answer and
    the members who would go."""
    if team.status in (TeamStatus.resting, TeamStatus.stood_down):
        return False, ()
    stay = Window(start, end)
    if any(c.overlaps(stay) for c in team.commitments):
        return False, ()
    going = available_members(team, start, end)
    leads = any(m.role in (MemberRole.leader, MemberRole.sub_leader) for m in going)
    return (len(going) >= min_members and leads), going


def check_deployment_dates(deployments: Sequence[Deployment]) -> list[Problem]:
    """Reversed dates; a member in two active deployments; overlapping dates of a member's
    live deployments. One problem per offending pair, naming both deployments."""
    return [problem for problem, _ in _date_findings(deployments)]


def _date_findings(deployments: Sequence[Deployment]) -> list[tuple[Problem, frozenset]]:
    """Each problem with the ids of the deployments it involves."""
    found: list[tuple[Problem, frozenset]] = []
    for d in deployments:
        if d.end is not None and d.end < d.start:
            found.append((error("reversed_dates", f"派遣終了日（{d.end}）が開始日（{d.start}）より前です",
                                f"deployment {d.id} ends ({d.end}) before it starts ({d.start})", "end_date"),
                          frozenset({d.id})))
    by_member: dict[Hashable, list[Deployment]] = defaultdict(list)
    for d in deployments:
        if d.live and (d.end is None or d.end >= d.start):
            for member in set(d.member_ids):
                by_member[member].append(d)
    for member, items in by_member.items():
        active = [d for d in items if d.state == DeploymentState.active]
        for a, b in zip(active, active[1:]):
            found.append((error("member_two_active", "同じ隊員が二つの活動中の派遣に含まれています",
                                f"member {member} is in two active deployments ({a.id}, {b.id})", "member_ids"),
                          frozenset({a.id, b.id})))
        items.sort(key=lambda d: (d.start, str(d.id)))
        reach: Optional[Deployment] = None  # of the earlier deployments, the one ending last
        for d in items:
            if reach is not None and (reach.end is None or d.start <= reach.end):
                found.append((error("member_overlap", "隊員の派遣期間が重複しています",
                                    f"member {member}: deployments {reach.id} and {d.id} overlap", "start_date"),
                              frozenset({reach.id, d.id})))
            if reach is None or (reach.end is not None and (d.end is None or d.end > reach.end)):
                reach = d
    return found


def check_new_deployment(new: Deployment, existing: Sequence[Deployment], team: Optional[Team] = None) -> None:
    """Refuse (DwatError) a deployment that would break the date rules against the existing
    ones, or that sends a stood-down or resting team. Existing clashes not involving `new`
    are not this caller's business and are ignored."""
    if team is not None and team.status in (TeamStatus.stood_down, TeamStatus.resting):
        raise DwatError([error(f"team_{team.status.value}", f"{team.status.ja}のチームは派遣できません",
                               f"a {team.status.en} team cannot be deployed", "team_id")])
    others = [d for d in existing if d.id != new.id]
    raise_errors(problem for problem, ids in _date_findings(others + [new]) if new.id in ids)
