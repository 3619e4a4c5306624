"""Rotation plan (ローテーション計画): which team is at which site on which day, for the coming
days, with the gaps marked; and what happens when a team drops out.

Each site wants `teams` teams a day from `start` for `days` days. Each wanted team is a
*slot*, filled by a chain of deployments: a deployment lasts `deployment_days` (default 5)
days on site, and the next team arrives `overlap_days` (default 1) before the last day of
the one it relieves, so the two hand over on site (引継ぎ). A team that has been deployed
rests `rest_days` (default 7: the journey home, rest, the home organisation's own work)
before it can go again; the same applies after its existing deployments (commitments).

Filling is greedy in time order across all sites (the earliest start first, then the site
order given, then the slot): the team chosen is, among those that can go for the whole
stay (roster.team_can_go's rules: not resting or stood down, no overlapping commitment,
at least 4 members available for the whole stay with a leader or sub-leader), the one
with the shortest travel time to the site, then the first in the input order. When no team
can go on a day, the next day is tried; the days a slot is left uncovered are its gaps.
The same inputs always give the same plan.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Hashable, Optional, Sequence

import numpy as np

from ...models.vocab import MemberRole
from .common import DwatError, Site, error
from .roster import Team, TeamStatus
from .suggest import SuggestParams, travel_matrix


@dataclass(frozen=True)
class SiteNeed:
    site: Site
    start: date
    days: int
    teams: int = 1


@dataclass(frozen=True)
class RotationParams:
    deployment_days: int = 5
    overlap_days: int = 1
    rest_days: int = 7
    min_members: int = 4
    travel: SuggestParams = SuggestParams()


@dataclass(frozen=True)
class PlannedDeployment:
    site_id: Hashable
    slot: int
    team_id: Hashable
    start: date
    end: date


@dataclass(frozen=True)
class Gap:
    site_id: Hashable
    slot: int
    start: date
    end: date


@dataclass(frozen=True)
class DayCoverage:
    day: date
    wanted: int
    covered: int                  # slots with a team that day
    teams: tuple[Hashable, ...]   # teams on site (two in a slot on a handover day)
    handover: bool
    gap: bool


@dataclass(frozen=True)
class RotationPlan:
    deployments: tuple[PlannedDeployment, ...]
    coverage: dict                # site id → tuple[DayCoverage, ...]
    gaps: tuple[Gap, ...]
    needs: tuple[SiteNeed, ...] = field(repr=False, default=())
    teams: tuple[Team, ...] = field(repr=False, default=())
    params: RotationParams = field(repr=False, default=RotationParams())


@dataclass(frozen=True)
class DropResult:
    plan: RotationPlan
    changed: tuple[PlannedDeployment, ...]       # the dropped team's deployments as they were
    replacements: tuple[PlannedDeployment, ...]
    new_gaps: tuple[Gap, ...]


class _Pool:
    """The teams as arrays over days 0..H-1 from `day0`, so 'who can go for [s, e]' is a few
    vector operations (members × days prefix sums) rather than a loop over teams."""

    def __init__(self, teams: Sequence[Team], sites: Sequence[Site], day0: date, horizon: int,
                 params: RotationParams):
        self.day0, self.h, self.params = day0, horizon, params
        n = len(teams)
        self.status_ok = np.array([t.status not in (TeamStatus.resting, TeamStatus.stood_down) for t in teams],
                                  dtype=bool)
        busy = np.zeros((n, horizon), dtype=np.int32)
        member_rows, member_team, member_lead = [], [], []
        for j, team in enumerate(teams):
            for c in team.commitments:
                a = self._index(c.start)
                b = horizon - 1 if c.end is None else self._index(c.end) + params.rest_days
                busy[j, max(a, 0):max(min(b, horizon - 1) + 1, 0)] = 1
            for m in team.members:
                row = np.zeros(horizon, dtype=np.int32)
                if not m.availability:
                    row[:] = 1
                for w in m.availability:
                    a = max(self._index(w.start), 0)
                    b = horizon - 1 if w.end is None else min(self._index(w.end), horizon - 1)
                    if a <= b:
                        row[a:b + 1] = 1
                member_rows.append(row)
                member_team.append(j)
                member_lead.append(m.role in (MemberRole.leader, MemberRole.sub_leader))
        self.n = n
        self.busy_cum = np.concatenate([np.zeros((n, 1), dtype=np.int32), busy.cumsum(axis=1)], axis=1)
        rows = np.array(member_rows, dtype=np.int32).reshape(len(member_rows), horizon)
        self.member_cum = np.concatenate([np.zeros((len(rows), 1), dtype=np.int32), rows.cumsum(axis=1)], axis=1)
        self.member_team = np.array(member_team, dtype=np.int64)
        self.member_lead = np.array(member_lead, dtype=bool)
        _, hours = travel_matrix(sites, teams, params.travel)
        self.hours = np.nan_to_num(hours, nan=np.inf)
        self.order = np.arange(n)

    def _index(self, day: date) -> int:
        return (day - self.day0).days

    def feasible(self, s: int, e: int) -> np.ndarray:
        """Teams that can go for days s..e (indices), ignoring this plan's own deployments."""
        length = e - s + 1
        free = (self.busy_cum[:, e + 1] - self.busy_cum[:, s]) == 0
        member_ok = (self.member_cum[:, e + 1] - self.member_cum[:, s]) == length
        count = np.bincount(self.member_team, weights=member_ok, minlength=self.n)
        leads = np.bincount(self.member_team, weights=member_ok & self.member_lead, minlength=self.n)
        return self.status_ok & free & (count >= self.params.min_members) & (leads > 0)

    def best(self, candidates: np.ndarray, site_index: int) -> Optional[int]:
        idx = np.flatnonzero(candidates)
        if not len(idx):
            return None
        return int(idx[np.lexsort((idx, self.hours[site_index, idx]))[0]])


def _check(needs: Sequence[SiteNeed], params: RotationParams) -> None:
    problems = []
    if params.deployment_days < 1 or not 0 <= params.overlap_days < params.deployment_days:
        problems.append(error("bad_rotation_params", "派遣日数は1日以上、引継ぎ日数は派遣日数未満です",
                              "deployment_days must be ≥ 1 and 0 ≤ overlap_days < deployment_days"))
    for need in needs:
        if need.days < 1 or need.teams < 1:
            problems.append(error("bad_site_need", "日数とチーム数は1以上です", "days and teams must be ≥ 1",
                                  str(need.site.id)))
    if len({n.site.id for n in needs}) != len(needs):
        problems.append(error("duplicate_site", "同じ拠点が二度指定されています", "a site is listed twice"))
    if problems:
        raise DwatError(problems)


def _frame(needs: Sequence[SiteNeed], params: RotationParams) -> tuple[date, int]:
    day0 = min(n.start for n in needs)
    last = max(n.start + timedelta(days=n.days - 1) for n in needs)
    return day0, (last - day0).days + params.deployment_days + params.rest_days + 2


def plan_rotation(needs: Sequence[SiteNeed], teams: Sequence[Team], params: RotationParams = RotationParams()
                  ) -> RotationPlan:
    """The rotation plan for `needs` from the `teams` pool (see the module docstring)."""
    needs, teams = tuple(needs), tuple(teams)
    _check(needs, params)
    if not needs:
        return RotationPlan((), {}, (), needs, teams, params)
    day0, horizon = _frame(needs, params)
    pool = _Pool(teams, [n.site for n in needs], day0, horizon, params)
    free_from = np.zeros(len(teams), dtype=np.int64)  # first day index each team may start again
    deployments: list[PlannedDeployment] = []
    queue = []
    for i, need in enumerate(needs):
        first = (need.start - day0).days
        for slot in range(need.teams):
            heapq.heappush(queue, (first, i, slot))
    while queue:
        s, i, slot = heapq.heappop(queue)
        need = needs[i]
        last = (need.start - day0).days + need.days - 1
        if s > last:
            continue
        e = min(s + params.deployment_days - 1, last)
        j = pool.best(pool.feasible(s, e) & (free_from <= s), i)
        if j is None:
            heapq.heappush(queue, (s + 1, i, slot))
            continue
        deployments.append(PlannedDeployment(need.site.id, slot, teams[j].id, day0 + timedelta(days=s),
                                             day0 + timedelta(days=e)))
        free_from[j] = e + 1 + params.rest_days
        if e < last:
            heapq.heappush(queue, (max(e - params.overlap_days + 1, s + 1), i, slot))
    return _assemble(deployments, needs, teams, params)


def _assemble(deployments: list[PlannedDeployment], needs, teams, params) -> RotationPlan:
    """Coverage per site per day and the gaps, from the deployments."""
    deployments = sorted(deployments, key=lambda d: (d.start, [n.site.id for n in needs].index(d.site_id),
                                                     d.slot, str(d.team_id)))
    by_slot: dict[tuple, list[PlannedDeployment]] = {}
    for d in deployments:
        by_slot.setdefault((d.site_id, d.slot), []).append(d)
    coverage, gaps = {}, []
    for need in needs:
        days = []
        open_gap: dict[int, date] = {}
        for offset in range(need.days):
            day = need.start + timedelta(days=offset)
            present, covered, handover = [], 0, False
            for slot in range(need.teams):
                here = [d for d in by_slot.get((need.site.id, slot), ()) if d.start <= day <= d.end]
                present.extend(d.team_id for d in here)
                handover |= len(here) > 1
                if here:
                    covered += 1
                    if slot in open_gap:
                        gaps.append(Gap(need.site.id, slot, open_gap.pop(slot), day - timedelta(days=1)))
                elif slot not in open_gap:
                    open_gap[slot] = day
            days.append(DayCoverage(day, need.teams, covered, tuple(present), handover, covered < need.teams))
        end = need.start + timedelta(days=need.days - 1)
        gaps.extend(Gap(need.site.id, slot, start, end) for slot, start in sorted(open_gap.items()))
        coverage[need.site.id] = tuple(days)
    gaps.sort(key=lambda g: (g.start, str(g.site_id), g.slot))
    return RotationPlan(tuple(deployments), coverage, tuple(gaps), needs, teams, params)


def drop_team(plan: RotationPlan, team_id: Hashable, from_date: date) -> DropResult:
    """What happens if `team_id` drops out from `from_date` on: its deployments are cut at
    the day before (or removed when they had not started); each hole is given to a
    replacement from the pool — the nearest team that can go for the rest of the hole and
    is not deployed in the plan within `rest_days` of it, trying each later day in turn —
    or left as a gap. Every other deployment stays as it was, so HQ sees only the change."""
    index = {t.id: j for j, t in enumerate(plan.teams)}
    if team_id not in index:
        raise DwatError([error("unknown_team", "計画にないチームです", "the team is not in the plan's pool", "team_id")])
    params, needs = plan.params, plan.needs
    kept, changed, holes = [], [], []
    for d in plan.deployments:
        if d.team_id != team_id or d.end < from_date:
            kept.append(d)
            continue
        changed.append(d)
        if d.start < from_date:
            kept.append(replace(d, end=from_date - timedelta(days=1)))
        holes.append((max(d.start, from_date), d))
    if not needs:
        return DropResult(plan, (), (), ())
    day0, horizon = _frame(needs, params)
    pool = _Pool(plan.teams, [n.site for n in needs], day0, horizon, params)
    pool.status_ok = pool.status_ok.copy()
    pool.status_ok[index[team_id]] = False
    site_index = {n.site.id: i for i, n in enumerate(needs)}
    replacements = []
    for start, original in sorted(holes, key=lambda h: (h[0], site_index[h[1].site_id], h[1].slot)):
        e = (original.end - day0).days
        for s in range((start - day0).days, e + 1):
            clear = _clear_of(kept, plan.teams, s, e, params.rest_days, day0)
            j = pool.best(pool.feasible(s, e) & clear, site_index[original.site_id])
            if j is not None:
                new = PlannedDeployment(original.site_id, original.slot, plan.teams[j].id,
                                        day0 + timedelta(days=s), original.end)
                kept.append(new)
                replacements.append(new)
                break
    new_plan = _assemble(kept, needs, plan.teams, params)
    before = set(plan.gaps)
    return DropResult(new_plan, tuple(changed), tuple(replacements),
                      tuple(g for g in new_plan.gaps if g not in before))


def _clear_of(deployments, teams, s: int, e: int, rest: int, day0: date) -> np.ndarray:
    """Teams with no deployment in the plan within `rest` days of s..e."""
    index = {t.id: j for j, t in enumerate(teams)}
    clear = np.ones(len(teams), dtype=bool)
    for d in deployments:
        a, b = (d.start - day0).days, (d.end - day0).days
        if a - rest <= e and s <= b + rest:
            clear[index[d.team_id]] = False
    return clear


def plan_around(fixed: Sequence[PlannedDeployment], needs: Sequence[SiteNeed], teams: Sequence[Team],
                params: RotationParams = RotationParams()) -> RotationPlan:
    """The rotation plan for `needs` (one team a day per site) around deployments already
    decided (`fixed`: planned or active ones, slot 0): at each site the days the fixed chain
    covers from the need's start are kept, and the planner continues from the last of them,
    its next team arriving `overlap_days` before that one leaves (the handover). The teams'
    commitments must already hold the fixed deployments (they are their live deployments), so
    no team is planned twice. Coverage and gaps are judged over the whole of each need."""
    needs = tuple(needs)
    _check(needs, params)
    remaining = []
    for need in needs:
        last = need.start + timedelta(days=need.days - 1)
        here = sorted((d for d in fixed if d.site_id == need.site.id), key=lambda d: (d.start, d.end))
        covered_to = need.start - timedelta(days=1)
        for d in here:  # extend the chain of fixed deployments that covers the days from the start
            if d.start <= covered_to + timedelta(days=1) and d.end > covered_to:
                covered_to = d.end
        if covered_to >= last:
            continue
        start = need.start if covered_to < need.start else \
            max(need.start, covered_to - timedelta(days=params.overlap_days - 1))
        remaining.append(replace(need, start=start, days=(last - start).days + 1, teams=1))
    planned = plan_rotation(remaining, teams, params).deployments if remaining else ()
    ours = [replace(d, slot=0) for d in fixed if d.site_id in {n.site.id for n in needs}]
    return _assemble(ours + list(planned), needs, teams, params)
