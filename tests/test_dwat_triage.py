"""Welfare triage (福祉的トリアージ): validation against the deployment, and a "move" turned
into a placement demand that matching places like any other."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from server.domain.dwat.common import Deployment, DwatError
from server.domain.dwat.triage import (TriageOutcome, TriagePerson, new_triage, outcome_counts,
                                       placement_demand)
from server.domain.matching import MatchShelter, propose
from server.models.vocab import Capability, DeploymentState, TargetGroup
from tests.dwat_cases import at, day, site

ACTIVE = Deployment("D1", "A", "S1", day(0), day(4), DeploymentState.active, ("m1",))
HERE = site("S1", 139.48, 35.70)


def triage(outcome="move_to_welfare_shelter", deployment=ACTIVE, person_site="S1", when=None, **kw):
    return new_triage("TR1", deployment, person_id="P1", person_site_id=person_site, outcome=outcome,
                      at=when or at(3), by="班長 田中", **kw)


def refused(**kw) -> tuple:
    with pytest.raises(DwatError) as caught:
        triage(**kw)
    return caught.value.codes


def test_outcomes_have_japanese_labels_and_parse_either_way():
    assert [o.value for o in TriageOutcome] == ["stay_with_support", "welfare_room", "move_to_welfare_shelter",
                                                "hospital", "other"]
    assert TriageOutcome.parse("福祉避難所へ移送") == TriageOutcome.move_to_welfare_shelter
    t = triage("福祉避難室（同じ建物内）", needs=["高齢者介護", "nursing"], groups=["高齢者"], notes="夜間の見守り")
    assert t.outcome == TriageOutcome.welfare_room and t.groups == {TargetGroup.elderly}
    assert [n.value for n in t.needs] == ["elderly_care", "nursing"]


def test_a_person_outside_the_deployments_shelter_is_refused():
    assert refused(person_site="S2") == ("person_not_at_site",)


@pytest.mark.parametrize("state", [DeploymentState.ended, DeploymentState.planned, DeploymentState.cancelled])
def test_only_an_active_deployment_records_triage(state):
    ended = Deployment("D1", "A", "S1", day(0), day(4), state)
    assert refused(deployment=ended) == ("deployment_not_active",)


def test_a_time_outside_the_deployments_days_is_refused_in_japan_time():
    # 2026-01-14 23:30 JST is the last day; 15:30 UTC the same evening is 00:30 JST the next day.
    assert triage(when=datetime(2026, 1, 14, 14, 30, tzinfo=timezone.utc)).deployment_id == "D1"
    assert refused(when=datetime(2026, 1, 14, 15, 30, tzinfo=timezone.utc)) == ("outside_deployment",)


def test_every_problem_is_reported_at_once():
    codes = refused(person_site="S9", outcome="帰宅", needs=["宇宙"], groups=["宇宙人"], notes="x" * 2001)
    assert set(codes) == {"person_not_at_site", "bad_outcome", "unknown_need", "unknown_group", "notes_too_long"}


def test_a_move_becomes_a_matching_demand_from_the_register():
    person = TriagePerson("P1", reasons=("care_level_3plus",), care_needs=("wheelchair",), birth_date=date(1940, 3, 3))
    demand = placement_demand(triage(), person, HERE, day(0))
    assert demand.id == "P1" and (demand.lon, demand.lat) == (HERE.lon, HERE.lat)
    assert demand.groups == {TargetGroup.elderly}
    assert demand.requires == (frozenset({Capability.wheelchair_access}),)
    assert demand.level == 2 and demand.destination is None
    assert placement_demand(triage(urgent=True), person, HERE, day(0)).level == 1


def test_matching_places_the_demand_like_any_other():
    person = TriagePerson("P1", reasons=("care_level_3plus",), care_needs=("wheelchair",))
    demand = placement_demand(triage(), person, HERE, day(0))
    stairs = MatchShelter("W1", 139.481, 35.701, 10, frozenset({TargetGroup.elderly}))
    ramp = MatchShelter("W2", 139.485, 35.702, 10, frozenset({TargetGroup.elderly}),
                        frozenset({Capability.wheelchair_access}))
    proposal = propose([demand], [stairs, ramp])
    assert proposal.by_person() == {"P1": "W2"}


def test_the_teams_judgement_gives_the_group_when_the_register_does_not():
    demand = placement_demand(triage(groups=["障害者"], destination="W9"), None, HERE, day(0))
    assert demand.groups == {TargetGroup.disabled} and demand.destination == "W9"
    with pytest.raises(DwatError) as caught:
        placement_demand(triage(), None, HERE, day(0))
    assert caught.value.codes == ("no_target_group",)


def test_only_a_move_becomes_a_demand():
    person = TriagePerson("P1", reasons=("care_level_3plus",))
    for outcome in ("stay_with_support", "welfare_room", "hospital", "other"):
        with pytest.raises(DwatError) as caught:
            placement_demand(triage(outcome), person, HERE, day(0))
        assert caught.value.codes == ("not_a_move",)
    with pytest.raises(DwatError) as caught:
        placement_demand(triage(), TriagePerson("P2", reasons=("care_level_3plus",)), site("S2"), day(0))
    assert set(caught.value.codes) == {"person_mismatch", "site_mismatch"}


def test_outcome_counts_list_every_outcome():
    items = [triage(), triage(), triage("hospital")]
    counts = outcome_counts(items)
    assert list(counts) == list(TriageOutcome)
    assert counts[TriageOutcome.move_to_welfare_shelter] == 2 and counts[TriageOutcome.hospital] == 1
    assert counts[TriageOutcome.other] == 0


def test_a_triage_move_keeps_what_the_register_knows_and_the_triage_does_not_say():
    """A person moved by a triage starts from the shelter they are at, with the triage's needs; the
    plan's alternate (第二避難先), the carer's place and the 震度 at home still come from the register."""
    from server.domain.dwat.referrals import merge_demands
    from server.domain.matching.propose import MatchPerson

    register = MatchPerson("p1", 139.40, 35.70, frozenset({TargetGroup.elderly}), (), 2, "dest", 2, 6.1, "alt")
    demand = MatchPerson("p1", 139.45, 35.71, frozenset({TargetGroup.disabled}),
                         (frozenset({Capability.oxygen}),), 0, None)
    [moved] = merge_demands([register], {"p1": demand}, {})
    assert (moved.lon, moved.lat, moved.level) == (139.45, 35.71, 0)
    assert moved.groups == {TargetGroup.elderly, TargetGroup.disabled}
    assert moved.requires == (frozenset({Capability.oxygen}),)
    assert (moved.destination, moved.alternate, moved.places, moved.intensity) == ("dest", "alt", 2, 6.1)
