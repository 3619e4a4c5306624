"""Suggestions: for each open request, the teams ranked, each with its score parts and its
reasons in Japanese and English. HQ confirms; nothing here assigns anything.

Score = 0.6 · coverage + 0.2 · availability + 0.2 · travel (weights in SuggestParams).

- coverage (0–1): how the professions of the members who can go cover the needed counts.
  A member covers a need kind by the weight in request_flow.COVERAGE (1 or 0.5; a member
  with two qualifications counts with the better one). A kind is fully covered when the
  team's weights for it add up to `depth` (2: two fitting professionals). The kinds are
  weighted by their counts, so the team covering the 12 elderly people beats the one
  covering the 2 children.
- availability: 1 for a standby team; `busy_score` (0.6) for a team travelling or on site
  whose live deployments all end before the wanted day (it comes on from there, a handover).
  Not proposed at all: resting or stood-down teams, a team with a live deployment over the
  wanted days, a team with composition errors, fewer than 4 members available for the
  whole stay or none of them leader or sub-leader.
- travel: 1 − hours / max_hours (floored at 0). Hours = straight-line distance between the
  home base and the site in the plane rectangular zone (domain.geo) × detour 1.3 ÷ 40 km/h
  — an assumption for roads after an earthquake (closures, congestion, emergency vehicles
  only), documented in docs/dwat.md. Without coordinates the travel part is 0.5.

Vectorised: for each distinct wanted day the teams' capacities are built once (a Python
loop over teams), then coverage, travel and score are matrix operations over requests ×
teams.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Hashable, Mapping, Optional, Sequence

import numpy as np

from ...models.vocab import Profession, Sex
from ..geo import Zone, to_plane, zone_for
from .common import Site
from .request_flow import COVERAGE, OPEN, NeedKind, Request
from .roster import Team, TeamStatus, check_team, team_can_go

KINDS = list(NeedKind)
PROFESSIONS = list(Profession)
# profession × kind weight matrix, from COVERAGE
_WEIGHT = np.array([[COVERAGE[k].get(p, 0.0) for k in KINDS] for p in PROFESSIONS])
_URGENCY_ORDER = {"high": 0, "medium": 1, "low": 2}
_KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
_PROF_INDEX = {p: i for i, p in enumerate(PROFESSIONS)}


@dataclass(frozen=True)
class SuggestParams:
    weight_coverage: float = 0.6
    weight_availability: float = 0.2
    weight_travel: float = 0.2
    depth: float = 2.0          # fitting professionals that fully cover a need kind
    busy_score: float = 0.6     # availability of a team coming on after its current deployment
    speed_kmh: float = 40.0
    detour: float = 1.3
    max_hours: float = 12.0     # travel of this long or longer scores 0
    deployment_days: int = 5
    min_members: int = 4
    top: int = 5
    zone: Optional[Zone] = None


@dataclass(frozen=True)
class Reason:
    code: str
    ja: str
    en: str


@dataclass(frozen=True)
class Suggestion:
    request_id: Hashable
    team_id: Hashable
    rank: int
    score: float
    coverage: float
    availability: float
    travel: float
    distance_km: Optional[float]
    travel_hours: Optional[float]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class RequestSuggestions:
    request_id: Hashable
    suggestions: tuple[Suggestion, ...]
    excluded: dict  # why teams were left out: code → number of teams


def _member_vectors(teams: Sequence[Team]) -> dict:
    """Per member: the best weight of their professions for each need kind (a member with
    two qualifications counts once per kind, with the better one)."""
    vectors = {}
    for team in teams:
        for m in team.members:
            idx = [_PROF_INDEX[p] for p in m.professions]
            vectors[(team.id, m.id)] = _WEIGHT[idx].max(axis=0) if idx else np.zeros(len(KINDS))
    return vectors


def _plane_points(points: Sequence[tuple[Optional[float], Optional[float]]], zone: Zone) -> np.ndarray:
    xy = np.full((len(points), 2), np.nan)
    ok = [i for i, (lon, lat) in enumerate(points) if lon is not None and lat is not None]
    if ok:
        xy[ok] = to_plane([points[i][0] for i in ok], [points[i][1] for i in ok], zone)
    return xy


def _zone(points, params: SuggestParams) -> Zone:
    if params.zone is not None:
        return params.zone
    known = [(lon, lat) for lon, lat in points if lon is not None and lat is not None]
    if not known:
        return zone_for(139.7, 35.7)
    lon, lat = np.mean(known, axis=0)
    return zone_for(float(lon), float(lat))


def travel_matrix(sites: Sequence[Site], teams: Sequence[Team], params: SuggestParams = SuggestParams()
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(distance km, hours) for sites × teams; NaN where a coordinate is missing."""
    site_points = [(s.lon, s.lat) for s in sites]
    team_points = [(t.home_lon, t.home_lat) for t in teams]
    zone = _zone(site_points + team_points, params)
    a, b = _plane_points(site_points, zone), _plane_points(team_points, zone)
    km = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)) / 1000.0
    return km, km * params.detour / params.speed_kmh


def suggest(requests: Sequence[Request], teams: Sequence[Team], sites: Mapping[Hashable, Site],
            params: SuggestParams = SuggestParams()) -> list[RequestSuggestions]:
    """Rank teams for every open request (requested or accepted), most urgent request first
    (urgency, then wanted day, then id). See the module docstring for the score."""
    open_requests = sorted((r for r in requests if r.state in OPEN),
                           key=lambda r: (_URGENCY_ORDER.get(str(r.urgency), 1), r.wanted_from, str(r.id)))
    if not open_requests or not teams:
        return [RequestSuggestions(r.id, (), {}) for r in open_requests]
    n_teams = len(teams)
    invalid = np.array([not check_team(t).ok for t in teams])
    req_sites = [sites.get(r.site_id, Site(r.site_id)) for r in open_requests]
    km, hours = travel_matrix(req_sites, teams, params)
    travel = np.where(np.isnan(hours), 0.5, 1.0 - np.minimum(hours, params.max_hours) / params.max_hours)
    counts = np.array([[r.need_count(k) for k in KINDS] for r in open_requests], dtype=float)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)

    by_day: dict[date, list[int]] = defaultdict(list)
    for i, r in enumerate(open_requests):
        by_day[r.wanted_from].append(i)
    vectors = _member_vectors(teams)
    results: dict[int, RequestSuggestions] = {}
    for day, rows in by_day.items():
        end = day + timedelta(days=params.deployment_days - 1)
        eligible = np.zeros(n_teams, dtype=bool)
        availability = np.zeros(n_teams)
        capacity = np.zeros((n_teams, len(KINDS)))
        going_of: list[tuple] = [()] * n_teams
        excluded: Counter = Counter()
        for j, team in enumerate(teams):
            code = _exclusion(team, invalid[j])
            if code is None:
                ok, going = team_can_go(team, day, end, params.min_members)
                if not ok:
                    code = "busy" if any(c.overlaps_days(day, end) for c in team.commitments) \
                        else "too_few_available"
            if code is not None:
                excluded[code] += 1
                continue
            eligible[j] = True
            going_of[j] = going
            if going:
                capacity[j] = np.sum([vectors[(team.id, m.id)] for m in going], axis=0)
            availability[j] = 1.0 if team.status == TeamStatus.standby else params.busy_score
        quality = np.minimum(capacity / params.depth, 1.0)          # teams × kinds
        coverage = share[rows] @ quality.T                           # rows × teams
        score = (params.weight_coverage * coverage + params.weight_availability * availability[None, :]
                 + params.weight_travel * travel[rows])
        score = np.where(eligible[None, :], score, -np.inf)
        tie = np.nan_to_num(hours[rows], nan=np.inf)
        for local, i in enumerate(rows):
            order = np.lexsort((np.arange(n_teams), tie[local], -np.round(score[local], 9)))
            picked = [j for j in order[:params.top] if eligible[j]]
            request = open_requests[i]
            items = tuple(Suggestion(
                request.id, teams[j].id, rank + 1, round(float(score[local, j]), 4),
                round(float(coverage[local, j]), 4), float(availability[j]), round(float(travel[i, j]), 4),
                None if np.isnan(km[i, j]) else round(float(km[i, j]), 1),
                None if np.isnan(hours[i, j]) else round(float(hours[i, j]), 2),
                _reasons(request, teams[j], going_of[j], quality[j], km[i, j], hours[i, j], params))
                for rank, j in enumerate(picked))
            results[i] = RequestSuggestions(request.id, items, dict(excluded))
    return [results[i] for i in range(len(open_requests))]


def _exclusion(team: Team, invalid: bool) -> Optional[str]:
    if team.status in (TeamStatus.resting, TeamStatus.stood_down):
        return str(team.status)
    if invalid:
        return "team_invalid"
    if team.status in (TeamStatus.travelling, TeamStatus.on_site) and not team.commitments:
        return "busy"  # on the road or on site with no known end: cannot be promised
    return None


def _reasons(request: Request, team: Team, going, quality: np.ndarray, km: float, hours: float,
             params: SuggestParams) -> tuple[Reason, ...]:
    reasons = []
    held = Counter(p for m in going for p in m.professions)
    for kind, count in request.needs:
        k = _KIND_INDEX[kind]
        fitting = [(p, held[p]) for p in PROFESSIONS if held.get(p) and COVERAGE[kind].get(p, 0) > 0]
        who_ja = "・".join(f"{p.ja}{n}" for p, n in fitting)
        who_en = ", ".join(f"{n} {p.en}" for p, n in fitting)
        reasons.append(Reason("coverage", f"{kind.ja}{count}名: {who_ja or '対応資格なし'}（充足{quality[k]:.0%}）",
                              f"{kind.en} for {count}: {who_en or 'no fitting profession'} ({quality[k]:.0%} covered)"))
    if team.status == TeamStatus.standby:
        reasons.append(Reason("standby", "待機中", "on standby"))
    else:
        ends = [c.end for c in team.commitments if c.end is not None and c.end < request.wanted_from]
        last = max(ends).isoformat() if ends else "?"
        reasons.append(Reason("after_current", f"{team.status.ja}・現派遣は{last}まで（引継ぎで交代）",
                              f"{team.status.en}; current deployment ends {last} (handover)"))
    women = sum(1 for m in going if m.sex == Sex.female)
    reasons.append(Reason("members", f"派遣可能{len(going)}名（うち女性{women}名）",
                          f"{len(going)} members can go ({women} women)"))
    if np.isnan(hours):
        reasons.append(Reason("travel_unknown", "位置不明のため移動時間は未算出", "no location: travel time unknown"))
    else:
        reasons.append(Reason("travel", f"拠点から直線約{km:.0f}km・車で約{hours:.1f}時間",
                              f"about {km:.0f} km from home base, about {hours:.1f} h by road"))
    return tuple(reasons)
