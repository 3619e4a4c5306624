"""DWAT suggestions: quality on built cases (the team whose professions cover the needs ranks
first; resting and stood-down teams are never proposed), availability, travel, reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.domain.dwat.common import Window
from server.domain.dwat.request_flow import advance, new_request
from server.domain.dwat.roster import TeamStatus
from server.domain.dwat.suggest import SuggestParams, suggest, travel_matrix
from tests.dwat_cases import P, at, busy, day, site, team

CARE = (P.care_worker, P.care_worker, P.care_manager, P.care_worker, P.social_worker)
CHILD = (P.childcare_worker, P.childcare_worker, P.childcare_worker, P.nurse)
MIND = (P.psychiatric_social_worker, P.psychiatric_social_worker, P.nurse, P.social_worker)
SITES = {"S1": site("S1"), "S2": site("S2", lon=139.40)}


def request(id="R1", needs=None, wanted=1, urgency="medium", site_id="S1"):
    return new_request(id, site_id, needs or {"elderly_care": 12, "children": 2}, urgency, day(wanted),
                       by="本部", at=at(0))


def ranked(requests, teams, **params):
    return [[s.team_id for s in rs.suggestions] for rs in suggest(requests, teams, SITES, SuggestParams(**params))]


def test_the_team_whose_professions_cover_the_needs_ranks_first():
    teams = [team("child", CHILD), team("mind", MIND), team("care", CARE)]
    # mind's nurse and social worker half-cover elderly care (the 12), child's only the 2 children
    assert ranked([request()], teams) == [["care", "mind", "child"]]
    assert ranked([request(needs={"children": 6, "elderly_care": 1})], teams)[0][0] == "child"
    assert ranked([request(needs={"mental_health": 4})], teams)[0][0] == "mind"


def test_coverage_is_weighted_by_the_needed_counts_and_capped_at_full():
    result = suggest([request(needs={"elderly_care": 3, "children": 1})], [team("care", CARE), team("child", CHILD)],
                     SITES)[0]
    care, child = result.suggestions
    # care: elderly fully covered (3/4), children by the social worker's 0.5 of depth 2 (¼ of 1/4)
    assert care.coverage == pytest.approx(0.75 + 0.25 * 0.25)
    # child: the nurse gives 0.5 for elderly (¼ of 3/4), children fully (1/4)
    assert child.coverage == pytest.approx(0.75 * 0.25 + 0.25)
    assert care.score == pytest.approx(0.6 * care.coverage + 0.2 * 1.0 + 0.2 * care.travel, abs=1e-4)


@pytest.mark.parametrize("status", [TeamStatus.resting, TeamStatus.stood_down])
def test_a_resting_or_stood_down_team_is_not_proposed_even_when_it_fits_best(status):
    teams = [team("best", CARE, status=status), team("other", CHILD)]
    result = suggest([request()], teams, SITES)[0]
    assert [s.team_id for s in result.suggestions] == ["other"]
    assert result.excluded == {status.value: 1}


def test_an_on_site_team_is_proposed_only_when_its_deployment_ends_before_the_wanted_day():
    ends_early = team("early", CARE, status=TeamStatus.on_site, commitments=(busy(-4, 0),))
    ends_late = team("late", CARE, status=TeamStatus.on_site, commitments=(busy(-2, 3),))
    unknown_end = team("unknown", CARE, status=TeamStatus.travelling)
    standby = team("standby", CARE)
    result = suggest([request(wanted=1)], [ends_early, ends_late, unknown_end, standby], SITES)[0]
    assert [s.team_id for s in result.suggestions] == ["standby", "early"]
    early = result.suggestions[1]
    assert early.availability == 0.6 and early.reasons[-3].code == "after_current"
    assert day(0).isoformat() in early.reasons[-3].ja
    assert result.excluded == {"busy": 2}


def test_a_standby_team_already_committed_over_the_days_is_not_proposed():
    result = suggest([request(wanted=1)], [team("A", CARE, commitments=(busy(3, 7),)), team("B", CHILD)], SITES)[0]
    assert [s.team_id for s in result.suggestions] == ["B"] and result.excluded == {"busy": 1}


def test_members_unavailable_for_the_stay_leave_the_team_out_or_change_its_coverage():
    later = (Window(day(10), None),)
    short = team("short", CARE, availability=later)
    assert suggest([request(wanted=1)], [short], SITES)[0].excluded == {"too_few_available": 1}
    assert [s.team_id for s in suggest([request(wanted=10)], [short], SITES)[0].suggestions] == ["short"]


def test_a_team_with_composition_errors_is_not_proposed():
    result = suggest([request()], [team("small", CARE[:3]), team("ok", CHILD)], SITES)[0]
    assert [s.team_id for s in result.suggestions] == ["ok"] and result.excluded == {"team_invalid": 1}


def test_among_equal_teams_the_nearer_one_ranks_first():
    far = team("far", CARE, home=(139.20, 35.70))
    near = team("near", CARE, home=(139.47, 35.70))
    result = suggest([request()], [far, near], SITES)[0]
    assert [s.team_id for s in result.suggestions] == ["near", "far"]
    assert result.suggestions[0].travel > result.suggestions[1].travel


def test_travel_time_is_straight_line_distance_times_detour_over_speed():
    km, hours = travel_matrix([site("S", 139.50, 35.70)], [team("A", home=(139.40, 35.70))])
    assert 8.9 < km[0, 0] < 9.2  # 0.1° of longitude at 35.7°N
    assert hours[0, 0] == pytest.approx(km[0, 0] * 1.3 / 40)
    suggestion = suggest([request()], [team("A", CARE, home=(139.38, 35.70))], SITES)[0].suggestions[0]
    travel_reason = suggestion.reasons[-1]
    assert travel_reason.code == "travel" and "km" in travel_reason.ja and "h by road" in travel_reason.en
    assert suggestion.travel == pytest.approx(1 - suggestion.travel_hours / 12, abs=1e-3)


def test_a_team_without_a_home_location_gets_a_neutral_travel_part():
    s = suggest([request()], [team("A", CARE, home=None)], SITES)[0].suggestions[0]
    assert s.travel == 0.5 and s.distance_km is None and s.reasons[-1].code == "travel_unknown"


def test_every_suggestion_explains_itself_in_japanese_and_english():
    s = suggest([request()], [team("care", CARE)], SITES)[0].suggestions[0]
    assert [r.code for r in s.reasons] == ["coverage", "coverage", "standby", "members", "travel"]
    assert s.reasons[0].ja.startswith("高齢者介護12名") and "介護福祉士3" in s.reasons[0].ja
    assert s.reasons[0].en.startswith("elderly care for 12")
    assert s.reasons[3].ja == "派遣可能5名（うち女性1名）"
    assert all(r.ja and r.en for r in s.reasons)


def test_only_open_requests_get_suggestions_most_urgent_first():
    low, high = request("low", urgency="low"), request("high", urgency="high", wanted=3)
    assigned = advance(request("done"), "cancelled", by="x", at=at(1))
    result = suggest([low, assigned, high], [team("A", CARE)], SITES)
    assert [rs.request_id for rs in result] == ["high", "low"]
    assert all(rs.suggestions[0].rank == 1 for rs in result)


def test_top_limits_the_list_and_the_ranking_is_deterministic():
    teams = [team(f"T{i}", CARE, home=(139.3 + i * 0.01, 35.7)) for i in range(8)]
    first = suggest([request()], teams, SITES, SuggestParams(top=3))
    assert len(first[0].suggestions) == 3
    assert [s.rank for s in first[0].suggestions] == [1, 2, 3]
    assert suggest([request()], list(teams), SITES, SuggestParams(top=3)) == first
    # Identical teams at one place: ties go to the input order.
    twins = [replace(teams[0], id=name) for name in ("b", "a", "c")]
    assert ranked([request()], twins) == [["b", "a", "c"]]
