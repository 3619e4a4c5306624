"""DWAT roster: team composition, availability, and the deployment-date rules per member."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.dwat.common import Deployment, DwatError, Window
from server.domain.dwat.roster import (TeamStatus, available_members, check_deployment_dates, check_new_deployment,
                                       check_team, team_can_go)
from server.models.vocab import DeploymentState, MemberRole, Sex
from tests.dwat_cases import P, day, members, team

ACTIVE, PLANNED, ENDED = DeploymentState.active, DeploymentState.planned, DeploymentState.ended


def codes(problems):
    return {p.code for p in problems}


def test_a_full_team_passes_with_a_professions_summary():
    t = team("A", (P.care_worker, (P.care_worker, P.care_manager), P.social_worker, P.nurse, P.childcare_worker))
    result = check_team(t)
    assert result.ok and not result.problems
    assert result.professions == {P.social_worker: 1, P.care_worker: 2, P.care_manager: 1, P.childcare_worker: 1,
                                  P.nurse: 1}
    assert list(result.professions) == [p for p in P if p in result.professions]  # vocabulary order


@pytest.mark.parametrize("size, code", [(3, "too_few_members"), (7, "too_many_members")])
def test_team_size_outside_four_to_six_is_an_error(size, code):
    result = check_team(team("A", [P.care_worker] * size))
    assert code in codes(result.errors) and not result.ok
    error = next(p for p in result.errors if p.code == code)
    assert error.ja and error.en and error.field == "members"


def test_no_leader_and_two_leaders_are_errors():
    t = team("A")
    no_leader = replace(t, members=tuple(replace(m, role=MemberRole.member) for m in t.members))
    assert "no_leader" in codes(check_team(no_leader).errors)
    two = replace(t, members=tuple(replace(m, role=MemberRole.leader) for m in t.members))
    assert "several_leaders" in codes(check_team(two).errors)


def test_a_team_without_women_gets_a_warning_not_an_error():
    result = check_team(team("A", women=0))
    assert result.ok
    assert codes(result.warnings) == {"no_women"}
    assert "女性" in result.warnings[0].ja


def test_missing_sub_leader_is_a_warning_and_duplicates_are_errors():
    t = team("A")
    no_sub = replace(t, members=tuple(replace(m, role=MemberRole.member) if m.role == MemberRole.sub_leader else m
                                      for m in t.members))
    assert codes(check_team(no_sub).warnings) == {"no_sub_leader"} and check_team(no_sub).ok
    doubled = replace(t, members=t.members[:3] + (t.members[2],))
    assert {"duplicate_member", "duplicate_registration_no"} <= codes(check_team(doubled).errors)


def test_availability_windows_decide_who_can_go():
    late = (Window(day(3), day(20)),)
    t = team("A", [P.care_worker] * 5)
    t = replace(t, members=t.members[:3] + tuple(replace(m, availability=late) for m in t.members[3:]))
    assert len(available_members(t, day(0), day(4))) == 3
    assert team_can_go(t, day(0), day(4)) == (False, t.members[:3])
    ok, going = team_can_go(t, day(3), day(7))
    assert ok and len(going) == 5
    # A window must cover the whole stay, not just part of it.
    assert not team_can_go(t, day(18), day(22))[0]


def test_a_team_goes_with_the_sub_leader_when_the_leader_cannot():
    t = team("A", [P.care_worker] * 5)
    away = replace(t.members[0], availability=(Window(day(10), day(12)),))
    t = replace(t, members=(away,) + t.members[1:])
    ok, going = team_can_go(t, day(0), day(4))
    assert ok and MemberRole.leader not in {m.role for m in going}
    no_leads = replace(t, members=(away, replace(t.members[1], availability=(Window(day(10), day(12)),)))
                       + t.members[2:])
    assert not team_can_go(no_leads, day(0), day(4))[0]


@pytest.mark.parametrize("status", [TeamStatus.resting, TeamStatus.stood_down])
def test_resting_or_stood_down_teams_cannot_go(status):
    assert team_can_go(team("A", status=status), day(0), day(4)) == (False, ())


def test_a_team_with_a_commitment_over_the_days_cannot_go():
    t = team("A", commitments=(Window(day(2), day(6)),))
    assert not team_can_go(t, day(0), day(4))[0]
    assert team_can_go(t, day(7), day(11))[0]


def dep(id, start, end, state=ACTIVE, members=("m1", "m2", "m3", "m4"), team_id="A"):
    return Deployment(id, team_id, "S1", day(start), None if end is None else day(end), state, tuple(members))


def test_reversed_deployment_dates_are_an_error():
    problems = check_deployment_dates([dep("d1", 5, 2)])
    assert codes(problems) == {"reversed_dates"}
    assert problems[0].field == "end_date"


def test_overlapping_dates_for_a_member_are_an_error_even_across_teams():
    problems = check_deployment_dates([dep("d1", 0, 4, PLANNED), dep("d2", 4, 8, PLANNED, ("x", "m3"), "B")])
    assert codes(problems) == {"member_overlap"}
    assert "m3" in problems[0].en and "d1" in problems[0].en and "d2" in problems[0].en


def test_a_member_in_two_active_deployments_is_an_error():
    problems = check_deployment_dates([dep("d1", 0, 4), dep("d2", 10, 14, members=("m1",), team_id="B")])
    assert codes(problems) == {"member_two_active"}


def test_ended_or_adjacent_deployments_do_not_clash():
    assert check_deployment_dates([dep("d1", 0, 4, ENDED), dep("d2", 2, 6)]) == []
    assert check_deployment_dates([dep("d1", 0, 4, PLANNED), dep("d2", 5, 9, PLANNED)]) == []
    # An open-ended live deployment overlaps anything after its start.
    open_ended = [dep("d1", 0, None, PLANNED), dep("d2", 30, 34, PLANNED)]
    assert codes(check_deployment_dates(open_ended)) == {"member_overlap"}


def test_check_new_deployment_refuses_and_changes_nothing():
    existing = [dep("d1", 0, 4, PLANNED)]
    before = list(existing)
    with pytest.raises(DwatError) as caught:
        check_new_deployment(dep("d2", 3, 7, PLANNED, ("m4", "z")), existing)
    assert caught.value.codes == ("member_overlap",)
    assert existing == before
    with pytest.raises(DwatError) as caught:
        check_new_deployment(dep("d3", 9, 6, PLANNED), existing)
    assert caught.value.codes == ("reversed_dates",)
    # A clash among the existing ones is not the new deployment's fault.
    clashing = [dep("d1", 0, 4, PLANNED, ("q",)), dep("d2", 2, 6, PLANNED, ("q",))]
    check_new_deployment(dep("d3", 0, 4, PLANNED, ("r",)), clashing)


@pytest.mark.parametrize("status", [TeamStatus.stood_down, TeamStatus.resting])
def test_check_new_deployment_refuses_a_stood_down_or_resting_team(status):
    with pytest.raises(DwatError) as caught:
        check_new_deployment(dep("d1", 0, 4, PLANNED), [], team("A", status=status))
    assert caught.value.codes == (f"team_{status.value}",)


def test_member_builder_marks_women_and_roles():
    ms = members("X", [P.nurse] * 4, women=2)
    assert [m.sex for m in ms] == [Sex.female, Sex.female, Sex.male, Sex.male]
    assert [m.role for m in ms[:2]] == [MemberRole.leader, MemberRole.sub_leader]


def test_team_from_todays_rows():
    import uuid

    from server.domain.dwat.adapters import deployment_from_row, team_from_rows
    from server.models import DwatDeployment, DwatMember, DwatTeam

    t = DwatTeam(id=uuid.uuid4(), name="多摩つなぎ第1班", organisation="東京都DWAT", status="on_site")
    rows = [DwatMember(id=uuid.uuid4(), team_id=t.id, name=f"隊員{k}", sex="female" if k == 0 else "male",
                       role=("leader", "sub_leader", "member", "member")[k],
                       professions=["care_worker", "nurse"][:k % 2 + 1],
                       registration_no=f"TKY-{k}") for k in range(4)]
    other_team = DwatMember(id=uuid.uuid4(), team_id=uuid.uuid4(), name="他班", professions=[])
    deps = [DwatDeployment(id=uuid.uuid4(), team_id=t.id, shelter_id=uuid.uuid4(), start_date=day(0), end_date=day(4),
                           state="active"),
            DwatDeployment(id=uuid.uuid4(), team_id=t.id, shelter_id=uuid.uuid4(), start_date=day(-9),
                           end_date=day(-5), state="ended")]
    late = {rows[3].id: [Window(day(10), None)]}
    team_ = team_from_rows(t, rows + [other_team], deps, home=(139.48, 35.70), availability=late)
    assert team_.status == TeamStatus.on_site and len(team_.members) == 4
    # the stored status is HQ's word (migration 0015); the home base comes from the row when not given
    resting = DwatTeam(id=t.id, name=t.name, status="resting", home_lon=139.4, home_lat=35.7)
    assert team_from_rows(resting, rows, deps).status == TeamStatus.resting
    assert (team_from_rows(resting, rows, deps).home_lon, team_from_rows(resting, rows, deps).home_lat) == (139.4, 35.7)
    assert team_.commitments == (Window(day(0), day(4)),)
    assert team_.members[1].professions == {P.care_worker, P.nurse}
    assert team_.members[3].availability == (Window(day(10), None),)
    assert check_team(team_).ok and not check_team(team_).warnings
    d = deployment_from_row(deps[0], [m.id for m in rows])
    assert (d.state, d.start, d.end, len(d.member_ids)) == (ACTIVE, day(0), day(4), 4)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 20), st.one_of(st.none(), st.integers(0, 8)),
                          st.sampled_from([ACTIVE, PLANNED, ENDED]), st.sets(st.sampled_from("abc"), min_size=1)),
                max_size=6))
def test_overlap_is_reported_exactly_when_two_live_deployments_of_a_member_share_a_day(items):
    deployments = [dep(f"d{k}", start, None if length is None else start + length, state, tuple(sorted(who)))
                   for k, (start, length, state, who) in enumerate(items)]
    reported = {p.en.split(":")[0].removeprefix("member ") for p in check_deployment_dates(deployments)
                if p.code == "member_overlap"}
    expected = set()
    for a in deployments:
        for b in deployments:
            if a.id < b.id and a.live and b.live and a.window.overlaps(b.window):
                expected |= set(a.member_ids) & set(b.member_ids)
    assert reported == expected
