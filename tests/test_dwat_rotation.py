"""DWAT rotation plan: no gap when enough teams exist, the gap shown when not, handovers,
rest between deployments, and what happens when a team drops out."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.dwat.common import DwatError, Window
from server.domain.dwat.roster import TeamStatus
from server.domain.dwat.rotation import Gap, RotationParams, SiteNeed, drop_team, plan_rotation
from tests.dwat_cases import day, site, team


def pool(n, **kw):
    return [team(f"T{i}", home=(139.40 + 0.01 * i, 35.70), **kw) for i in range(n)]


def assert_rules_kept(plan):
    """Each team: deployments never closer than rest_days; every deployment at most
    deployment_days long and within its site's wanted days."""
    params = plan.params
    by_team = defaultdict(list)
    for d in plan.deployments:
        by_team[d.team_id].append(d)
        assert (d.end - d.start).days + 1 <= params.deployment_days
    for items in by_team.values():
        items.sort(key=lambda d: d.start)
        for a, b in zip(items, items[1:]):
            assert (b.start - a.end).days > params.rest_days, (a, b)
    needs = {n.site.id: n for n in plan.needs}
    for d in plan.deployments:
        need = needs[d.site_id]
        assert need.start <= d.start and d.end <= need.start + timedelta(days=need.days - 1)


def test_enough_teams_leave_no_gap_and_hand_over_on_site():
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 30)], pool(8))
    assert plan.gaps == ()
    days = plan.coverage["S1"]
    assert len(days) == 30 and all(d.covered == 1 and not d.gap for d in days)
    chain = [d for d in plan.deployments if d.site_id == "S1"]
    for a, b in zip(chain, chain[1:]):
        assert b.start == a.end  # one day of overlap: the handover
    handovers = [d.day for d in days if d.handover]
    assert handovers == [b.start for b in chain[1:]]
    assert all(len(d.teams) == 2 for d in days if d.handover)
    assert_rules_kept(plan)


def test_too_few_teams_show_the_gap():
    # T1 (nearer) on days 0–4, T0 on 4–8 (handover on 4); T1 rested 7 days is free again on day 12.
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 20)], pool(2))
    assert [(d.team_id, d.start, d.end) for d in plan.deployments][:3] == [
        ("T1", day(0), day(4)), ("T0", day(4), day(8)), ("T1", day(12), day(16))]
    assert plan.gaps[0] == Gap("S1", 0, day(9), day(11))
    gap_days = [d.day for d in plan.coverage["S1"] if d.gap]
    assert gap_days[:3] == [day(9), day(10), day(11)]
    assert_rules_kept(plan)


def test_several_sites_and_slots_with_a_big_pool_are_all_covered():
    needs = [SiteNeed(site("S1"), day(0), 30, teams=2), SiteNeed(site("S2", 139.3), day(3), 10),
             SiteNeed(site("S3", 139.6), day(5), 25)]
    plan = plan_rotation(needs, pool(40))
    assert plan.gaps == ()
    assert all(d.covered == 2 for d in plan.coverage["S1"])
    assert plan.coverage["S2"][0].day == day(3) and len(plan.coverage["S2"]) == 10
    assert_rules_kept(plan)
    assert plan_rotation(needs, pool(40)) == plan  # deterministic


def test_two_slots_with_too_few_teams_mark_the_uncovered_slot():
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 5, teams=2)], pool(1))
    assert plan.gaps == (Gap("S1", 1, day(0), day(4)),)
    assert all(d.covered == 1 and d.gap for d in plan.coverage["S1"])


@pytest.mark.parametrize("status", [TeamStatus.resting, TeamStatus.stood_down])
def test_resting_and_stood_down_teams_are_not_planned(status):
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 5)], [team("X", status=status)])
    assert plan.deployments == () and plan.gaps == (Gap("S1", 0, day(0), day(4)),)


def test_availability_and_commitments_delay_a_team():
    late = team("late", availability=(Window(day(3), None),))
    committed = team("committed", commitments=(Window(day(-5), day(0)),))
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 3)], [late])
    assert plan.deployments == () and plan.gaps == (Gap("S1", 0, day(0), day(2)),)
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 12)], [late])
    assert plan.deployments[0].start == day(3) and plan.gaps[0] == Gap("S1", 0, day(0), day(2))
    # A commitment ending on day 0 plus 7 days' rest: free from day 8.
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 12)], [committed])
    assert plan.deployments[0].start == day(8)


def test_the_nearest_free_team_is_chosen():
    far, near = team("far", home=(139.0, 35.7)), team("near", home=(139.47, 35.7))
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 5)], [far, near])
    assert [d.team_id for d in plan.deployments] == ["near"]


def test_bad_parameters_and_needs_are_refused():
    with pytest.raises(DwatError) as caught:
        plan_rotation([SiteNeed(site("S1"), day(0), 5)], pool(2), RotationParams(deployment_days=3, overlap_days=3))
    assert caught.value.codes == ("bad_rotation_params",)
    with pytest.raises(DwatError) as caught:
        plan_rotation([SiteNeed(site("S1"), day(0), 0), SiteNeed(site("S1"), day(0), 5)], pool(2))
    assert set(caught.value.codes) == {"bad_site_need", "duplicate_site"}


def test_a_dropped_team_is_replaced_from_the_pool():
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 15)], pool(6))
    second = plan.deployments[1]
    result = drop_team(plan, second.team_id, second.start + timedelta(days=1))
    assert result.changed == (second,)
    assert result.new_gaps == () and result.plan.gaps == ()
    (replacement,) = result.replacements
    assert replacement.start == second.start + timedelta(days=1) and replacement.end == second.end
    assert replacement.team_id not in {d.team_id for d in plan.deployments}
    cut = [d for d in result.plan.deployments if d.team_id == second.team_id]
    assert [(d.start, d.end) for d in cut] == [(second.start, second.start)]
    # Everyone else keeps their deployments; the original plan is untouched.
    others = {d for d in plan.deployments if d.team_id != second.team_id}
    assert others <= set(result.plan.deployments)
    assert second in plan.deployments
    assert_rules_kept(result.plan)


def test_a_dropped_team_with_no_replacement_leaves_a_gap():
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 9)], pool(2))
    assert plan.gaps == ()
    second = plan.deployments[1]
    assert (second.team_id, second.start, second.end) == ("T0", day(4), day(8))
    result = drop_team(plan, "T0", day(4))
    assert result.replacements == ()
    assert result.new_gaps == (Gap("S1", 0, day(5), day(8)),)  # day 4 is T1's last day
    assert [d.day for d in result.plan.coverage["S1"] if d.gap] == [day(5), day(6), day(7), day(8)]


def test_dropping_an_unknown_team_is_refused():
    plan = plan_rotation([SiteNeed(site("S1"), day(0), 5)], pool(1))
    with pytest.raises(DwatError) as caught:
        drop_team(plan, "nobody", day(0))
    assert caught.value.codes == ("unknown_team",)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n_teams=st.integers(0, 12), lengths=st.lists(st.integers(1, 30), min_size=1, max_size=4),
       starts=st.lists(st.integers(0, 6), min_size=4, max_size=4), resting=st.integers(0, 3))
def test_any_plan_keeps_the_rules_and_its_gaps_are_exactly_the_uncovered_days(n_teams, lengths, starts, resting):
    teams = pool(n_teams)
    teams = [team(t.id, status=TeamStatus.resting) if k < resting else t for k, t in enumerate(teams)]
    needs = [SiteNeed(site(f"S{i}", 139.3 + 0.05 * i), day(starts[i]), n, teams=1 + i % 2)
             for i, n in enumerate(lengths)]
    plan = plan_rotation(needs, teams)
    assert_rules_kept(plan)
    assert not {d.team_id for d in plan.deployments} & {t.id for t in teams[:resting]}
    gap_days = {(g.site_id, g.slot, g.start + timedelta(days=k))
                for g in plan.gaps for k in range((g.end - g.start).days + 1)}
    for need in needs:
        for d in plan.coverage[need.site.id]:
            uncovered = {slot for slot in range(need.teams) if (need.site.id, slot, d.day) in gap_days}
            assert d.covered == need.teams - len(uncovered) and d.gap == bool(uncovered)
    # Enough rested teams for every slot's chain: no gap at all.
    slots = sum(n.teams for n in needs)
    if n_teams - resting >= slots * 4:
        assert plan.gaps == ()
    dropped = drop_team(plan, teams[-1].id, day(3)) if teams else None
    if dropped:
        assert_rules_kept(dropped.plan)
        assert not [d for d in dropped.plan.deployments if d.team_id == teams[-1].id and d.end >= day(3)]


def test_plan_around_keeps_decided_deployments_and_continues_with_a_handover():
    from server.domain.dwat.rotation import PlannedDeployment, plan_around

    here = site("S")
    fixed = [PlannedDeployment("S", 0, "T0", day(-2), day(2))]
    teams = [team("T0", commitments=(Window(day(-2), day(2)),)), *pool(3)[1:]]
    plan = plan_around(fixed, [SiteNeed(here, day(0), 10)], teams)
    assert plan.deployments[0] == fixed[0]
    assert [d.start for d in plan.deployments[1:]] == [day(2), day(6)]  # each arrives on the last day before
    assert plan.gaps == () and plan.coverage["S"][2].handover
    short = plan_around(fixed, [SiteNeed(here, day(0), 10)], teams[:2])
    assert short.gaps == (Gap("S", 0, day(7), day(9)),)
    # a site fully covered by decided deployments needs no new team
    assert plan_around(fixed, [SiteNeed(here, day(0), 3)], teams).deployments == tuple(fixed)
