"""The demo city's disaster in progress, for DWAT (災害派遣福祉チーム): deployments, requests
from shelters and daily activity reports, dated around the demo's `now` (day D).

An earthquake struck on D-7. The first team arrived at the busiest welfare shelter on D-6
(within 72 hours) and handed over on D-2 to the second team, which is in its third day
today; the third team is planned to take over there on D+2 (the handover day shows two
teams). Another team arrived at a second welfare shelter today. Four requests from other
shelters are still open — what the dispatch board (派遣調整) has to decide. Each past day
of each deployment has its daily report (活動日報).

The two teams at the busiest shelter made welfare triages (福祉的トリアージ) of people there:
most stay with support or in the welfare room, one went to hospital, and four must move to
another welfare shelter (it is full, or cannot give the care needed). The first team's two
moves have arrived (a safety check at the receiving shelter); the second team's two are
referred, waiting for matching to find them a place — HQ's referral list (/dwat/referrals)
follows them (docs/dwat-field.md).

Every row is checked with the product's own rules (server/domain/dwat) as it is made: a
demo the product itself would refuse would teach the wrong thing.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from ..domain.dwat.adapters import deployment_from_row, request_from_row, team_from_rows
from ..domain.dwat.common import DwatError, Site
from ..domain.dwat.daily_report import Activity, new_report
from ..domain.dwat.request_flow import STATE_OF_STEP, advance, assign_team, new_request
from ..domain.dwat.roster import check_deployment_dates, check_team, team_can_go
from ..domain.dwat.triage import TriageOutcome, TriagePerson, new_triage, placement_demand
from ..domain.japan_time import local_day
from ..domain.matching.rules import person_groups
from ..domain.dwat.request_flow import Request
from ..models import (DwatActivityReport, DwatDeployment, DwatMember, DwatRequest, DwatRequestStep, DwatTeam,
                      EvacuationPlan, Person, SafetyCheck, Shelter)
from ..models.dwat_field import DwatTriage
from ..models.vocab import (Consent, DeploymentState, MemberRole, RequestPriority, SafetyOutcome, ShelterKind,
                            TeamStatus)
from .common import JST, IdMaker

STAY_DAYS = 5            # a team stays about five days (docs/dwat.md)
QUAKE = -7               # the day of the earthquake, relative to `now`
HQ = "DWAT調整本部（デモ）"


@dataclass
class DwatScenario:
    deployments: list[DwatDeployment]
    requests: list[DwatRequest]
    reports: list[DwatActivityReport]
    steps: list[DwatRequestStep] = dataclasses.field(default_factory=list)
    triages: list[DwatTriage] = dataclasses.field(default_factory=list)
    arrivals: list[SafetyCheck] = dataclasses.field(default_factory=list)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in Japan time on `day`, as aware UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=JST).astimezone(timezone.utc)


def _ranked_welfare_shelters(shelters: list[Shelter], people: list[Person],
                             plans: list[EvacuationPlan]) -> list[Shelter]:
    """Welfare shelters, those expecting the most consenting people first: a deployed team's
    members see (in normal mode) the consenting people planned for their shelter."""
    consenting = {p.id for p in people if p.consent == Consent.yes}
    expected: dict = {}
    for plan in plans:
        if plan.person_id in consenting:
            for shelter_id in {plan.destination_shelter_id, plan.alternate_shelter_id} - {None}:
                expected[shelter_id] = expected.get(shelter_id, 0) + 1
    welfare = [s for s in shelters if s.kind != ShelterKind.designated]
    return sorted(welfare, key=lambda s: (-expected.get(s.id, 0), -(s.capacity or 0), s.name))


def _ready_teams(teams: list[DwatTeam], members: list[DwatMember]) -> list[DwatTeam]:
    """Teams the roster rules let go: no composition errors nor warnings."""
    ready = [t for t in teams if not check_team(team_from_rows(t, members)).problems]
    if len(ready) < 4:
        raise ValueError(f"the demo needs 4 teams fit to go, the roster has {len(ready)}")
    return ready


def build_scenario(rng: random.Random, ids: IdMaker, now: date, teams: list[DwatTeam],
                   members: list[DwatMember], shelters: list[Shelter], people: list[Person],
                   plans: list[EvacuationPlan]) -> DwatScenario:
    day = lambda offset: now + timedelta(days=offset)  # noqa: E731 — D+offset
    welfare = _ranked_welfare_shelters(shelters, people, plans)
    general = sorted((s for s in shelters if s.kind == ShelterKind.designated),
                     key=lambda s: (-(s.capacity or 0), s.name))
    first, second, third, fourth = _ready_teams(teams, members)[:4]
    busiest, other = welfare[0], welfare[1]

    # (key, team, shelter, first day, state, decided on, updated on, notes)
    plan = [
        ("first", fourth, busiest, QUAKE + 1, DeploymentState.ended, QUAKE, -2,
         f"第1陣（先遣）。発災後72時間以内に到着。{day(-2):%m/%d} {first.name}へ引継ぎ済み"),
        ("second", first, busiest, -2, DeploymentState.active, -4, -2,
         f"第2陣。{fourth.name}から引継ぎ。{day(2):%m/%d} {third.name}へ引継ぎ予定"),
        ("arrived", second, other, 0, DeploymentState.active, -2, -1, "本日到着。初日は環境確認と福祉的トリアージ"),
        ("next", third, busiest, 2, DeploymentState.planned, -1, -1,
         f"第3陣（予定）。到着日に{first.name}と引継ぎ（1日重複）"),
    ]
    deployments: dict[str, DwatDeployment] = {}
    for key, team, shelter, start, state, decided, updated, notes in plan:
        deployments[key] = DwatDeployment(
            id=ids("dwat_deployment", key), created_at=at(day(decided), 17, 30), updated_at=at(day(updated), 18, 0),
            team_id=team.id, shelter_id=shelter.id, start_date=day(start),
            end_date=day(start + STAY_DAYS - 1), state=state, notes=notes)
    check_deployments(list(deployments.values()), teams, members)

    requests, steps = _requests(ids, day, deployments, welfare, general, teams, members)
    reports = _reports(rng, ids, day, deployments.values(), teams, members)
    # drawn after the reports, so the reports' figures stay what they were before triages existed
    triages, arrivals = _triages(rng, ids, day, now, deployments, welfare, teams, members, people, plans)
    _count_triages(reports, triages, deployments.values())
    # Where the teams stand today (stored since migration 0015): the first team rests after its
    # stay, the two on site are on site, the third waits for its handover day.
    fourth.status = TeamStatus.resting
    first.status = second.status = TeamStatus.on_site
    return DwatScenario(list(deployments.values()), requests, reports, steps, triages, arrivals)


def _members_of(team_id, members: list[DwatMember]) -> list[DwatMember]:
    return [m for m in members if m.team_id == team_id]


def check_deployments(deployments: list[DwatDeployment], teams: list[DwatTeam], members: list[DwatMember]) -> None:
    """Dates by the roster's rules (no member in two overlapping live deployments), and each
    team able to go for its days, judged without its own deployment."""
    rows = [deployment_from_row(d, [m.id for m in _members_of(d.team_id, members)]) for d in deployments]
    problems = check_deployment_dates(rows)
    if problems:
        raise DwatError(problems)
    by_id = {t.id: t for t in teams}
    for d in deployments:
        others = [o for o in deployments if o is not d]
        team = team_from_rows(by_id[d.team_id], members, others)
        ok, _ = team_can_go(team, d.start_date, d.end_date)
        if not ok:
            raise ValueError(f"demo: {team.name} cannot go {d.start_date}–{d.end_date}")


# (key, shelter choice, needs, priority, asked on, wanted from, note)
OPEN_REQUESTS = [
    ("welfare-3", ["高齢者介護 10名", "看護 2名"], RequestPriority.high, -1, 0,
     "要介護高齢者が増加。夜間の見守り・排泄介助の人手が足りない"),
    ("welfare-4", ["子ども・保育 4名", "相談窓口 1"], RequestPriority.medium, -1, 1,
     "乳幼児のいる世帯が多く、保護者の疲労が目立つ"),
    ("general-1", ["精神保健 3名", "環境整備 1", "高齢者介護 5名"], RequestPriority.high, -2, 0,
     "指定避難所の要配慮者スペースが未整備。不眠・不安の訴えが続く"),
    ("general-2", ["障害者支援 2名", "相談窓口 1"], RequestPriority.low, 0, 2,
     "視覚障害のある方2名。動線の確保と情報提供の支援を希望"),
]


def _requests(ids: IdMaker, day, deployments: dict[str, DwatDeployment], welfare: list[Shelter],
              general: list[Shelter], teams: list[DwatTeam], members: list[DwatMember]
              ) -> tuple[list[DwatRequest], list[DwatRequestStep]]:
    """The requests (派遣要請): the busiest shelter's first request (closed when its first team
    left) and second one (its team on site), the other shelter's (its team arrived today),
    and four still open. Each goes through the request flow's own steps."""
    by_id = {t.id: t for t in teams}
    sites = {"welfare-3": welfare[2], "welfare-4": welfare[3], "general-1": general[0], "general-2": general[1]}
    # (key, deployment key, needs, priority, asked on, closed on, note)
    served = [
        ("busiest-1", "first", ["高齢者介護 8名", "相談窓口 1", "環境整備 1"], RequestPriority.high, QUAKE, -2,
         "発災直後。要介護高齢者の受入れが急増、福祉的トリアージを要請"),
        ("busiest-2", "second", ["高齢者介護 6名", "精神保健 2名"], RequestPriority.high, -4, None,
         "第1陣の活動終了後も継続支援が必要（交代要員）"),
        ("other-1", "arrived", ["高齢者介護 4名", "障害者支援 2名"], RequestPriority.medium, -3, None,
         "車いす利用者・知的障害のある方の生活支援"),
    ]
    rows, flow, steps = [], [], []
    for key, dep_key, needs, priority, asked, closed, note in served:
        deployment = deployments[dep_key]
        created = at(day(asked), 10, 15)
        assigned = created + timedelta(hours=5)  # the same afternoon; the deployment is made after
        updated = at(day(closed), 18, 0) if closed is not None else assigned
        row = DwatRequest(id=ids("dwat_request", key), created_at=created, updated_at=updated,
                          shelter_id=deployment.shelter_id, needs=needs, note=note, priority=priority,
                          deployment_id=deployment.id)
        # The flow: asked → accepted → team assigned (the team free for its stay then) → … closed.
        others = [d for d in deployments.values() if d is not deployment]
        team = team_from_rows(by_id[deployment.team_id], members, others)
        request = new_request(row.id, row.shelter_id, dict(request_from_row(row).needs), priority.value,
                              deployment.start_date, by=HQ, at=created, note=note)
        request = advance(request, "accepted", by=HQ, at=created + timedelta(hours=1))
        request = assign_team(request, team, by=HQ, at=assigned, others=flow)
        if deployment.state in (DeploymentState.active, DeploymentState.ended):  # the team arrived
            request = advance(request, "on_site", by=HQ, at=at(deployment.start_date, *ARRIVES[dep_key]))
        if closed is not None:
            request = advance(request, "closed", by=HQ, at=updated)
        flow.append(request)
        _store_flow(row, request, deployment.team_id, steps, ids)
        rows.append(row)
    for key, needs, priority, asked, wanted, note in OPEN_REQUESTS:
        created = at(day(asked), 9, 40) if asked < 0 else at(day(-1), 20, 10)  # "today's" came in last night
        row = DwatRequest(id=ids("dwat_request", key), created_at=created, updated_at=created,
                          shelter_id=sites[key].id, needs=needs, note=note, priority=priority)
        request = new_request(row.id, row.shelter_id, dict(request_from_row(row).needs), priority.value,
                              day(wanted), by=HQ, at=created, note=note)
        if key in ACCEPTED:  # HQ has accepted the urgent ones: a team is to be confirmed on the board
            request = advance(request, "accepted", by=HQ, at=created + timedelta(minutes=50))
        _store_flow(row, request, None, steps, ids)
        rows.append(row)
    return rows, steps


ACCEPTED = {"welfare-3", "general-1"}
# When each team reported in on site (the request's 現地活動中 step, the chronology's arrival): the
# first after the long drive in the afternoon, the relief in the morning of the handover day, the
# newest early today.
ARRIVES = {"first": (14, 20), "second": (10, 35), "arrived": (8, 40)}


def _store_flow(row: DwatRequest, request: Request, team_id, steps: list, ids: IdMaker) -> None:
    """The request's flow as stored: counts, wanted day, step and team on the row; each step of
    its history (who, when) as a dwat_request_step row."""
    row.need_counts = {kind.value: n for kind, n in request.needs}
    row.wanted_from = request.wanted_from
    row.origin = request.origin
    row.step = request.state
    row.state = STATE_OF_STEP[request.state]  # the legacy state is the step's, never its own
    row.team_id = team_id if request.team_id is not None else None
    for n, t in enumerate(request.history):
        steps.append(DwatRequestStep(id=ids("dwat_request_step", f"{row.id}:{n}"), request_id=row.id,
                                     from_step=t.from_state.value if t.from_state else None, to_step=t.to_state.value,
                                     by=t.by, at=t.at, team_id=team_id if t.team_id is not None else None,
                                     deployment_id=row.deployment_id if t.team_id is not None else None, note=t.note))


# What a team does, day by day of its stay (the first day: see the place, find who needs what).
ACTIVITIES = [
    "避難所の環境確認、要配慮者のスクリーニング（福祉的トリアージ）、相談窓口の開設",
    "要配慮者の個別アセスメント、介護・生活支援、福祉避難所への移送調整",
    "相談対応、段差解消・トイレ動線などの環境整備、保健師との情報共有",
    "在宅・車中泊避難者の訪問、継続支援が必要な方の整理",
    "次の班への引継ぎ（要配慮者リスト・課題の申し送り）、相談対応",
]
ISSUES = [
    "夜間の見守り・排泄介助の人手が足りない",
    "ポータブルトイレと簡易ベッドが不足",
    "認知症の方の不穏が夜間に増えている",
    "福祉避難所の空き状況がつかみにくい",
    "",
]
TO_HQ = ["ポータブルトイレ2台", "簡易ベッド5台", "夜間の介護職員2名", "福祉避難所の受入可能数の共有", ""]


def _reports(rng: random.Random, ids: IdMaker, day, deployments, teams: list[DwatTeam],
             members: list[DwatMember]) -> list[DwatActivityReport]:
    """One report for each past day of each deployment that has been on site, filed by its
    leader that evening. Counts follow a stay's shape: many assessments at first, then
    more consultations; a few transfers a day."""
    by_id = {t.id: t for t in teams}
    rows = []
    for deployment in deployments:
        if deployment.state not in (DeploymentState.active, DeploymentState.ended):
            continue
        team = by_id[deployment.team_id]
        leader = next(m for m in _members_of(team.id, members) if m.role == MemberRole.leader)
        # The deployment was active when each report was filed.
        as_filed = dataclasses.replace(deployment_from_row(deployment), state=DeploymentState.active)
        last = min(deployment.end_date, day(-1))
        for n in range((last - deployment.start_date).days + 1):
            report_day = deployment.start_date + timedelta(days=n)
            assessed = max(2, int(rng.gauss(28 - 6 * n, 4)))
            consultations = max(1, int(rng.gauss(6 + 3 * min(n, 3), 2)))
            referrals = rng.choice([0, 1, 1, 2, 2, 3]) if n else rng.choice([1, 2, 3, 4])
            filed = at(report_day, 19) + timedelta(minutes=rng.randrange(0, 150))  # after the evening meeting
            row = DwatActivityReport(
                id=ids("dwat_report", f"{deployment.id}:{report_day}"), recorded_at=filed + timedelta(minutes=2),
                observed_at=filed, reporter=f"{team.name} {leader.name}", device_id="",
                deployment_id=deployment.id, report_date=report_day, people_assessed=assessed,
                consultations=consultations, referrals=referrals,
                activities=ACTIVITIES[min(n, len(ACTIVITIES) - 1)], issues=rng.choice(ISSUES),
                requests_to_hq=rng.choice(TO_HQ))
            new_report(row.id, as_filed, report_date=report_day,
                       counts={Activity.assessment: assessed, Activity.consultation: consultations,
                               Activity.transfer: referrals},
                       submitted_at=filed, reporter=row.reporter, issues=row.issues,
                       handover=row.activities)
            rows.append(row)
    return rows


# The triages at the busiest shelter: (deployment key, day, outcome, urgent, needs, note, arrives on).
# A move's arrival (a safety check at the receiving welfare shelter) is on the day given, or not yet.
TRIAGES = [
    ("first", -5, TriageOutcome.move_to_welfare_shelter, False, ["elderly_care", "nursing"],
     "定員超過。医療的ケアのできる福祉避難所へ移送を調整", -4),
    ("first", -5, TriageOutcome.stay_with_support, False, ["elderly_care"], "夜間のトイレ介助で滞在可能", None),
    ("first", -4, TriageOutcome.hospital, True, ["nursing"], "発熱と脱水。救護所経由で医療機関へ搬送", None),
    ("first", -3, TriageOutcome.move_to_welfare_shelter, True, ["disability_support", "mental_health"],
     "環境の変化で不穏が強い。個室のある福祉避難所へ", -2),
    ("second", -2, TriageOutcome.welfare_room, False, ["elderly_care"], "福祉避難室（和室）へ。家族が付き添い", None),
    ("second", -2, TriageOutcome.move_to_welfare_shelter, False, ["elderly_care"],
     "要介護度が上がり、介護職員の常駐する福祉避難所が必要", None),
    ("second", -1, TriageOutcome.stay_with_support, False, ["consultation"], "相談窓口で継続支援", None),
    ("second", -1, TriageOutcome.move_to_welfare_shelter, True, ["elderly_care", "environment"],
     "褥瘡の悪化。ベッドのある福祉避難所へ至急", None),
]


def _triages(rng: random.Random, ids: IdMaker, day, now: date, deployments: dict[str, DwatDeployment],
             welfare: list[Shelter], teams: list[DwatTeam], members: list[DwatMember], people: list[Person],
             plans: list[EvacuationPlan]) -> tuple[list[DwatTriage], list[SafetyCheck]]:
    """Welfare triages by the teams at the busiest shelter, of consenting people planned for it
    (who the teams see), each checked with the product's rules as it was filed; the moves go
    to people a welfare shelter is for (matching's groups), and those that arrived get their
    safety check at a welfare shelter that takes their group."""
    busiest = deployments["first"].shelter_id
    planned = {p.person_id for p in plans if busiest in (p.destination_shelter_id, p.alternate_shelter_id)}
    here = sorted((p for p in people if p.id in planned and p.consent == Consent.yes), key=lambda p: p.register_no)
    groups = {p.id: person_groups([str(r) for r in p.reasons], [str(c) for c in p.care_needs], p.birth_date, now)
              for p in here}
    movers = [p for p in here if groups[p.id]]
    needed = sum(1 for t in TRIAGES if t[2] == TriageOutcome.move_to_welfare_shelter)
    if len(movers) < needed or len(here) < len(TRIAGES):
        return [], []  # a register too small for the scenario (tests build cities of a few dozen people)
    movers = rng.sample(movers, needed)
    stayers = rng.sample([p for p in here if p not in movers], len(TRIAGES) - needed)
    by_id = {t.id: t for t in teams}
    receiving = [s for s in welfare if s.id not in (busiest, deployments["arrived"].shelter_id)]
    triages, arrivals = [], []
    for n, (key, offset, outcome, urgent, needs, note, arrives) in enumerate(TRIAGES):
        deployment = deployments[key]
        person = movers.pop() if outcome == TriageOutcome.move_to_welfare_shelter else stayers.pop()
        team = by_id[deployment.team_id]
        leader = next(m for m in _members_of(team.id, members) if m.role == MemberRole.leader)
        observed = at(day(offset), 10 + n % 4, 5 * n % 60)
        row = DwatTriage(id=ids("dwat_triage", f"{key}:{n}"), observed_at=observed,
                         recorded_at=observed + timedelta(minutes=3), reporter=f"{team.name} {leader.name}",
                         device_id="", deployment_id=deployment.id, person_id=person.id, shelter_id=busiest,
                         outcome=outcome.value, needs=needs, groups=[], urgent=urgent, notes=note)
        as_filed = dataclasses.replace(deployment_from_row(deployment), state=DeploymentState.active)
        triage = new_triage(row.id, as_filed, person_id=person.id, person_site_id=busiest, outcome=row.outcome,
                            at=observed, by=row.reporter, needs=needs, urgent=urgent, notes=note)
        if outcome == TriageOutcome.move_to_welfare_shelter:
            facts = TriagePerson(person.id, tuple(str(r) for r in person.reasons),
                                 tuple(str(c) for c in person.care_needs), person.birth_date)
            placement_demand(triage, facts, Site(busiest), day(offset))
            if arrives is not None:
                to = next((s for s in receiving if groups[person.id] & set(s.target_groups)), receiving[0])
                moved = at(day(arrives), 14, 30)
                arrivals.append(SafetyCheck(id=ids("safety_check", f"arrival:{row.id}"), observed_at=moved,
                                            recorded_at=moved + timedelta(minutes=5), reporter=to.name, device_id="",
                                            person_id=person.id, outcome=SafetyOutcome.evacuated, shelter_id=to.id,
                                            note="DWATトリアージによる移送（到着）"))
        triages.append(row)
    return triages, arrivals


def _count_triages(reports: list[DwatActivityReport], triages: list[DwatTriage], deployments) -> None:
    """Each daily report counts its team's triages of that day by outcome (活動日報's triage
    section), checked again with the report's rules."""
    by_id = {d.id: d for d in deployments}
    for row in reports:
        day_triages = [t for t in triages if t.deployment_id == row.deployment_id
                       and local_day(t.observed_at) == row.report_date]
        if not day_triages:
            continue
        row.triage_counts = dict(Counter(t.outcome for t in day_triages))
        as_filed = dataclasses.replace(deployment_from_row(by_id[row.deployment_id]), state=DeploymentState.active)
        new_report(row.id, as_filed, report_date=row.report_date,
                   counts={Activity.assessment: row.people_assessed, Activity.consultation: row.consultations,
                           Activity.transfer: row.referrals},
                   triage=row.triage_counts, submitted_at=row.observed_at, reporter=row.reporter)
