"""Review cycle (server/domain/workbench/review.py): overdue list and 要見直し triggers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from server.domain.workbench.review import State, flag_for_review, overdue_reviews, review_triggers
from server.domain.workbench.supporters import SupporterEntry
from server.models.vocab import PlanStatus, SeismicClass, ShelterKind
from tests.workbench_cases import SAFE, SCHOOL, TODAY, done_plan, person, supporter


def test_overdue_most_overdue_first_undated_done_last():
    plans = [done_plan("A", "P1", review_due=date(2026, 11, 30)), done_plan("B", "P2", review_due=date(2026, 1, 1)),
             done_plan("C", "P3", review_due=TODAY), done_plan("D", "P4", review_due=None),
             done_plan("E", "P5", review_due=None, status=PlanStatus.drafting)]
    result = overdue_reviews(plans, TODAY)
    assert [(o.plan_id, o.days_overdue) for o in result] == [("B", 334), ("A", 1), ("D", None)]
    assert [o.plan_id for o in overdue_reviews(plans, TODAY, include_undated=False)] == ["B", "A"]


def _state(**over) -> State:
    plans = {"L1": done_plan("L1", "P1", supporters=(supporter("A", sid="S1"),), alternate_id="SH-SCHOOL"),
             "L2": done_plan("L2", "P2", status=PlanStatus.drafting, destination_id="SH-SCHOOL",
                             supporters=(supporter("B", sid="S2"),))}
    values = dict(plans=plans, people={"P1": person("P1"), "P2": person("P2")},
                  supporters={"S1": SupporterEntry("S1", "A"), "S2": SupporterEntry("S2", "B")},
                  shelters={"SH-SAFE": SAFE, "SH-SCHOOL": SCHOOL},
                  links={"L1": ("S1",), "L2": ("S2",)})
    values.update(over)
    return State(**values)


def _codes(triggers) -> dict:
    return {pid: [t.code for t in ts] for pid, ts in triggers.items()}


def test_no_change_no_trigger():
    assert review_triggers(_state(), _state()) == {}


def test_person_needs_address_reasons():
    before = _state()
    after = _state(people={"P1": replace(person("P1"), care_needs=frozenset({"oxygen"}), address="府中市別町2-2",
                                         reasons=frozenset({"medical_care"})),
                           "P2": replace(person("P2"), address="府中市宮西町１－１")})  # width only: same place
    assert _codes(review_triggers(before, after)) == {"L1": ["needs_changed", "address_changed", "reasons_changed"]}


def test_shelter_class_kind_groups_for_destination_and_alternate():
    after = _state(shelters={"SH-SAFE": replace(SAFE, seismic_class=SeismicClass.old_undiagnosed),
                             "SH-SCHOOL": replace(SCHOOL, kind=ShelterKind.designated_welfare,
                                                  target_groups=frozenset({"elderly"}))})
    assert _codes(review_triggers(_state(), after)) == {
        "L1": ["shelter_seismic_changed", "shelter_kind_changed", "shelter_groups_changed"],
        "L2": ["shelter_kind_changed", "shelter_groups_changed"]}
    removed = _state(shelters={"SH-SAFE": SAFE})
    assert _codes(review_triggers(_state(), removed)) == {"L1": ["shelter_removed"], "L2": ["shelter_removed"]}


def test_supporter_left():
    after = _state(supporters={"S1": replace(SupporterEntry("S1", "A"), active=False), "S2": SupporterEntry("S2", "B")})
    triggers = review_triggers(_state(), after)
    assert _codes(triggers) == {"L1": ["supporter_left"]} and triggers["L1"][0].subject == "S1"
    gone = _state(supporters={"S2": SupporterEntry("S2", "B")})
    assert _codes(review_triggers(_state(), gone)) == {"L1": ["supporter_left"]}


def test_supporter_becoming_overloaded_flags_all_their_plans():
    plans = {f"X{i}": done_plan(f"X{i}", f"Q{i}") for i in range(11)}
    plans.update(_state().plans)
    before = _state(plans=plans, links={"L1": ("S1",), "L2": ("S2",), **{f"X{i}": ("S1",) for i in range(9)}})
    after = _state(plans=plans, links={"L1": ("S1",), "L2": ("S2",), **{f"X{i}": ("S1",) for i in range(10)}})
    triggers = review_triggers(before, after)
    assert set(triggers) == {"L1", *(f"X{i}" for i in range(10))}
    assert all([t.code for t in ts] == ["supporter_overloaded"] for ts in triggers.values())
    assert review_triggers(after, after) == {}  # already overloaded: no new trigger


def test_flag_only_done_plans():
    after = _state(shelters={"SH-SAFE": SAFE, "SH-SCHOOL": replace(SCHOOL, seismic_class=SeismicClass.old_high_risk)})
    state = _state()
    triggers = review_triggers(state, after)
    assert set(triggers) == {"L1", "L2"}
    flagged = flag_for_review(after.plans, triggers)
    assert set(flagged) == {"L1"} and flagged["L1"].status == PlanStatus.needs_review
    assert after.plans["L2"].status == PlanStatus.drafting
