"""Requests for a DWAT team (派遣要請) and their state flow.

A request comes from a shelter, or from HQ for people sheltering at home or in cars
(在宅避難・車中泊, in DWAT's remit since 2025). Its needs are counts of people by kind of need
(高齢者介護 12, 子ども・保育 5 …), with an urgency and the day a team is wanted from.

State flow (each step records who and when; no step may be skipped):

    requested (要請受付) → accepted (受理) → team_assigned (チーム決定) → on_site (現地活動中) → closed (完了)
    requested | accepted | team_assigned → cancelled (取消)

A team is assigned only to an accepted request, only once, and only if it is not resting or
stood down and not already assigned to another live request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Hashable, Mapping, Optional, Sequence

from ...models.vocab import (NeedKind, Profession, RequestOrigin, RequestPriority, RequestState,  # noqa: F401 (re-exported)
                             RequestStep)
from .common import DwatError, Problem, Window, error, raise_errors, require_aware
from .roster import Team, TeamStatus, check_team

P = Profession


# Need kind → profession → how well one member of that profession covers it (1 = fully,
# 0.5 = partly). Why these: 介護福祉士 and 介護支援専門員 are the care professions; 精神保健福祉士
# is the mental-health one; 社会福祉士 runs consultation and supports disabled people; 保育士
# children; 看護師 nursing, and partly care and mental health. A modelling choice, kept as data.
COVERAGE: dict[NeedKind, dict[Profession, float]] = {
    NeedKind.elderly_care: {P.care_worker: 1.0, P.care_manager: 1.0, P.nurse: 0.5, P.social_worker: 0.5},
    NeedKind.disability_support: {P.social_worker: 1.0, P.psychiatric_social_worker: 0.5, P.care_worker: 0.5},
    NeedKind.children: {P.childcare_worker: 1.0, P.social_worker: 0.5, P.nurse: 0.5},
    NeedKind.mental_health: {P.psychiatric_social_worker: 1.0, P.nurse: 0.5, P.social_worker: 0.5},
    NeedKind.consultation: {P.social_worker: 1.0, P.psychiatric_social_worker: 1.0, P.care_manager: 1.0,
                            P.care_worker: 0.5, P.childcare_worker: 0.5},
    NeedKind.environment: {P.care_worker: 1.0, P.nurse: 0.5, P.social_worker: 0.5, P.care_manager: 0.5},
    NeedKind.nursing: {P.nurse: 1.0},
}


S = RequestStep
NEXT: dict[RequestStep, RequestStep] = {S.requested: S.accepted, S.accepted: S.team_assigned,
                                        S.team_assigned: S.on_site, S.on_site: S.closed}
CANCELLABLE = frozenset({S.requested, S.accepted, S.team_assigned})
FINAL = frozenset({S.closed, S.cancelled})
OPEN = frozenset({S.requested, S.accepted})           # waiting for a team: what suggestions are for
HOLDS_TEAM = frozenset({S.team_assigned, S.on_site})  # a team is committed to the request
# The legacy three-value `state` (open / assigned / closed) is a summary of the step, kept for the
# field app's and the HQ map's filters: derived from the step, never set on its own.
STATE_OF_STEP: dict[RequestStep, RequestState] = {
    S.requested: RequestState.open, S.accepted: RequestState.open,
    S.team_assigned: RequestState.assigned, S.on_site: RequestState.assigned,
    S.closed: RequestState.closed, S.cancelled: RequestState.closed}


@dataclass(frozen=True)
class Transition:
    """One step of the flow: who moved the request, when, and (for assignment) which team."""

    to_state: RequestStep
    by: str
    at: datetime
    from_state: Optional[RequestStep] = None
    team_id: Optional[Hashable] = None
    note: str = ""


@dataclass(frozen=True)
class Request:
    id: Hashable
    site_id: Hashable
    needs: tuple[tuple[NeedKind, int], ...]
    urgency: RequestPriority
    wanted_from: date
    origin: RequestOrigin = RequestOrigin.shelter
    note: str = ""
    state: RequestStep = RequestStep.requested
    team_id: Optional[Hashable] = None
    history: tuple[Transition, ...] = ()

    def need_count(self, kind: NeedKind) -> int:
        return sum(count for k, count in self.needs if k == kind)


def parse_needs(needs: Mapping) -> tuple[tuple[tuple[NeedKind, int], ...], list[Problem]]:
    """Needs as {kind: count} (kind as code, Japanese or English label) → sorted pairs, plus
    the problems found. Zero counts are dropped; at least one count must be positive."""
    problems: list[Problem] = []
    counts: dict[NeedKind, int] = {}
    for raw_kind, count in dict(needs or {}).items():
        try:
            kind = raw_kind if isinstance(raw_kind, NeedKind) else NeedKind.parse(str(raw_kind))
        except ValueError:
            problems.append(error("unknown_need", f"不明な支援ニーズ「{raw_kind}」", f"unknown need {raw_kind!r}", "needs"))
            continue
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            problems.append(error("bad_need_count", f"{kind.ja}の人数は0以上の整数です",
                                  f"the count for {kind.en} must be a whole number ≥ 0", "needs"))
            continue
        if count:
            counts[kind] = counts.get(kind, 0) + count
    if not counts and not problems:
        problems.append(error("no_needs", "支援ニーズが1件もありません（人数を1以上で入力）",
                              "the request has no needs (enter at least one count above 0)", "needs"))
    order = list(NeedKind)
    return tuple(sorted(counts.items(), key=lambda kv: order.index(kv[0]))), problems


def new_request(id: Hashable, site_id: Hashable, needs: Mapping, urgency: str, wanted_from: date, *,
                by: str, at: datetime, origin: str = RequestOrigin.shelter, note: str = "") -> Request:
    """Validate and create a request in state `requested` (the first entry of its history).
    Raises DwatError with every problem found, not just the first, so a form shows them all."""
    parsed, problems = parse_needs(needs)
    try:
        urgency = RequestPriority.parse(str(urgency))
    except ValueError:
        problems.append(error("bad_urgency", "緊急度は高・中・低のいずれかです", "urgency must be high, medium or low",
                              "urgency"))
    try:
        origin = RequestOrigin.parse(str(origin))
    except ValueError:
        problems.append(error("bad_origin", "要請元が不明です", "unknown origin", "origin"))
    if not isinstance(wanted_from, date) or isinstance(wanted_from, datetime):
        problems.append(error("bad_wanted_from", "希望開始日は日付で入力してください", "wanted_from must be a date",
                              "wanted_from"))
    if not str(by).strip():
        problems.append(error("no_actor", "記録者が必要です", "who recorded it is required", "by"))
    raise_errors(problems)
    require_aware(at)
    return Request(id, site_id, parsed, urgency, wanted_from, origin, note,
                   history=(Transition(S.requested, by, at),))


def _step(request: Request, to: RequestStep, by: str, at: datetime, *, team_id=None, note: str = "") -> Request:
    require_aware(at)
    if not str(by).strip():
        raise DwatError([error("no_actor", "操作者が必要です", "who made the change is required", "by")])
    if request.history and at < request.history[-1].at:
        raise DwatError([error("time_before_last", "前の記録より前の時刻です",
                               "the time is before the request's last step", "at")])
    transition = Transition(to, by, at, request.state, team_id, note)
    return replace(request, state=to, team_id=team_id if team_id is not None else request.team_id,
                   history=request.history + (transition,))


def advance(request: Request, to: str, *, by: str, at: datetime, note: str = "") -> Request:
    """Move a request one step along the flow (or cancel it). Refuses a skipped step, a step
    back, a move out of a final state, and `team_assigned` (use `assign_team`, which checks
    the team)."""
    to = RequestStep.parse(str(to))
    if request.state in FINAL:
        raise DwatError([error("request_final", f"この要請は{request.state.ja}です",
                               f"the request is already {request.state.en}", "state")])
    if to == S.cancelled:
        if request.state not in CANCELLABLE:
            raise DwatError([error("cannot_cancel", "現地活動中の要請は取消できません（完了にしてください）",
                                   "a request on site cannot be cancelled; close it", "state")])
        return _step(request, to, by, at, note=note)
    if to == S.team_assigned:
        raise DwatError([error("team_required", "チーム決定にはチームの指定が必要です",
                               "assigning needs a team (assign_team)", "team_id")])
    if NEXT.get(request.state) != to:
        raise DwatError([error("skipped_step", f"{request.state.ja}から{to.ja}へは進めません",
                               f"cannot go from {request.state.en} to {to.en}", "state")])
    return _step(request, to, by, at, note=note)


def assign_team(request: Request, team: Team, *, by: str, at: datetime, others: Sequence[Request] = (),
                note: str = "", days: int = 5) -> Request:
    """Assign `team` to an accepted request. Refuses: a request not yet accepted (skipped
    step), one that already has a team (double assignment), a resting or stood-down team, a
    team whose composition has errors, a team with a live deployment over the `days` days
    from the wanted day, and a team already holding another live request in `others` (the
    other requests HQ knows of)."""
    if request.state in FINAL:
        raise DwatError([error("request_final", f"この要請は{request.state.ja}です",
                               f"the request is already {request.state.en}", "state")])
    if request.state in HOLDS_TEAM or request.team_id is not None:
        raise DwatError([error("already_assigned", "この要請には既にチームが決まっています",
                               "the request already has a team", "team_id")])
    if request.state != S.accepted:
        raise DwatError([error("skipped_step", f"{request.state.ja}の要請にはチームを決定できません（先に受理）",
                               f"a {request.state.en} request cannot get a team; accept it first", "state")])
    if team.status in (TeamStatus.resting, TeamStatus.stood_down):
        raise DwatError([error(f"team_{team.status.value}", f"{team.status.ja}のチームは派遣できません",
                               f"a {team.status.en} team cannot be assigned", "team_id")])
    problems = check_team(team).errors
    if problems:
        raise DwatError([error("team_invalid", "チーム編成に問題があります", "the team's composition has errors",
                               "team_id"), *problems])
    stay = Window(request.wanted_from, request.wanted_from + timedelta(days=days - 1))
    if any(c.overlaps(stay) for c in team.commitments):
        raise DwatError([error("team_busy", "このチームは希望期間に別の派遣があります",
                               "the team has another deployment over the wanted days", "team_id")])
    busy = [r.id for r in others if r.id != request.id and r.team_id == team.id and r.state in HOLDS_TEAM]
    if busy:
        raise DwatError([error("team_already_assigned", "このチームは別の要請に派遣中です",
                               f"the team already holds request {busy[0]}", "team_id")])
    return _step(request, S.team_assigned, by, at, team_id=team.id, note=note)
