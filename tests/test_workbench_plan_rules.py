"""Plan rules (server/domain/workbench/plan_rules.py): status, destination eligibility,
ranked options with walking distance, and the version diff."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from server.domain.workbench.adapters import person_from_row, plan_from_dict, plan_from_row, shelter_from_row
from server.domain.workbench.common import Care, WorkbenchError
from server.domain.workbench.plan_rules import (change_label, check_destination, check_save, is_complete,
                                                missing_for_done, plan_diff, refuse_destination, shelter_options)
from server.models.plans import EvacuationPlan, Supporter
from server.models.people import Person
from server.models.shelters import Shelter
from server.models.vocab import PlanStatus, SeismicClass, ShelterKind
from tests.workbench_cases import AGREE, KIDS, OLDBLD, RIVER, SAFE, SCHOOL, SHELTERS, TODAY, done_plan, person, supporter


def codes(problems) -> set[str]:
    return {p.code for p in problems}


# ---- status ------------------------------------------------------------------------------

def test_complete_plan_saves_as_done():
    result = check_save(None, done_plan("L1", "P1"), TODAY)
    assert result.plan.status == PlanStatus.done and result.problems == ()


def test_done_needs_destination_supporter_and_consent_record():
    plan = done_plan("L1", "P1", destination_id=None, supporters=(), consent=True, consent_date=None)
    assert codes(missing_for_done(plan)) == {"missing_destination", "missing_supporter", "missing_consent"}
    with pytest.raises(WorkbenchError) as exc:
        check_save(None, plan, TODAY)
    assert exc.value.codes == ("incomplete_for_done",)
    assert "避難先" in exc.value.problems[0].ja and "consent" in exc.value.problems[0].en


def test_removing_only_supporter_warns_and_drops_from_done():
    old = done_plan("L1", "P1")
    result = check_save(old, replace(old, supporters=()), TODAY)
    assert result.plan.status == PlanStatus.drafting
    assert {"last_supporter_removed", "dropped_from_done", "missing_supporter"} <= codes(result.problems)
    assert all(p.severity == "warning" for p in result.problems)
    assert old.status == PlanStatus.done  # the caller's plan is untouched


def test_drafting_plan_lists_what_is_missing():
    result = check_save(None, done_plan("L1", "P1", status=PlanStatus.drafting, destination_id=None), TODAY)
    assert result.plan.status == PlanStatus.drafting and codes(result.problems) == {"missing_destination"}


def test_future_consent_date_refused():
    with pytest.raises(WorkbenchError) as exc:
        check_save(None, done_plan("L1", "P1", consent_date=date(2026, 12, 2)), TODAY)
    assert "future_date" in exc.value.codes


def test_other_refusals_all_reported_at_once():
    plan = done_plan("L1", "P1", alternate_id="SH-SAFE", supporters=tuple(supporter(n) for n in "ABCD"))
    with pytest.raises(WorkbenchError) as exc:
        check_save(None, plan, TODAY)
    assert set(exc.value.codes) == {"alternate_is_destination", "too_many_supporters"}


# ---- destination eligibility -------------------------------------------------------------

def test_shelter_accepting_the_person_is_allowed():
    assert check_destination(person("P1"), SAFE, TODAY).allowed


def test_shelter_not_accepting_groups_refused_saying_why():
    result = check_destination(person("P1"), KIDS, TODAY)
    assert not result.allowed and "does_not_accept_group" in codes(result.problems)
    problem = next(p for p in result.problems if p.code == "does_not_accept_group")
    assert "高齢者" in problem.ja and "elderly" in problem.en


def test_missing_capability_refused():
    oxygen = person("P1", care_needs=frozenset({"oxygen"}))
    assert "lacks_capability" in codes(check_destination(oxygen, RIVER, TODAY).problems)
    assert check_destination(oxygen, AGREE, TODAY).allowed  # has oxygen supply


def test_old_undiagnosed_and_hazard_refused():
    assert "seismic_unsafe" in codes(check_destination(person("P1"), OLDBLD, TODAY).problems)
    assert "in_hazard_area" in codes(check_destination(person("P1"), RIVER, TODAY).problems)
    some_risk = replace(SAFE, seismic_class=SeismicClass.old_some_risk)
    result = check_destination(person("P1"), some_risk, TODAY)
    assert result.allowed and "seismic_doubtful" in codes(result.problems)


def test_hazard_as_callable():
    result = check_destination(person("P1"), SAFE, TODAY, hazard=lambda s: ["土砂災害警戒区域"])
    assert not result.allowed and "土砂災害警戒区域" in result.problems[-1].ja


def test_agreement_shelter_warns_not_direct():
    result = check_destination(person("P1"), AGREE, TODAY)
    assert result.allowed and "agreement_not_direct" in codes(result.problems)


def test_general_shelter_for_welfare_person_warns():
    result = check_destination(person("P1", care_needs=frozenset()), SCHOOL, TODAY)
    assert result.allowed and codes(result.problems) == {"general_for_welfare"}
    nobody_special = person("P2", birth_date=date(1990, 1, 1), reasons=frozenset({"foreign_language"}),
                            care_needs=frozenset())
    assert check_destination(nobody_special, SCHOOL, TODAY).problems == ()


def test_refuse_destination_raises():
    with pytest.raises(WorkbenchError) as exc:
        refuse_destination(person("P1"), KIDS, TODAY)
    assert set(exc.value.codes) == {"does_not_accept_group", "lacks_capability"}  # every reason at once
    assert "車いす対応" in exc.value.problems[1].ja


def test_options_ranked_allowed_first_nearest_first_with_walking_distance():
    options = shelter_options(person("P1"), list(SHELTERS.values()), TODAY)
    assert options[0].shelter_id == "SH-SAFE"
    allowed = [o for o in options if o.eligibility.allowed]
    assert [o.shelter_id for o in allowed] == ["SH-SAFE", "SH-SCHOOL", "SH-AGREE"]
    assert all(not o.eligibility.allowed for o in options[len(allowed):])
    # 139.478,35.668 → 139.480,35.670: ~181 m east, ~222 m north → ~286 m straight, ×1.3 detour.
    assert 360 <= options[0].walking_m <= 385
    assert len(shelter_options(person("P1"), list(SHELTERS.values()), TODAY, include_refused=False)) == 3


def test_option_distance_none_without_location():
    options = shelter_options(person("P1", lon=None, lat=None), [SAFE], TODAY)
    assert options[0].walking_m is None


# ---- diff --------------------------------------------------------------------------------

def test_plan_diff_fields_care_and_supporters():
    old = done_plan("L1", "P1", supporters=(supporter("山田 花子"), supporter("鈴木 一郎", "090-5555-6666")))
    new = replace(old, destination_id="SH-SCHOOL", care=Care(walking_ability="車いす", items_to_carry="常用薬",
                                                             allergies="卵"),
                  supporters=(supporter("山田　花子", "090-9999-0000"), supporter("佐藤 次郎")))
    changes = {(c.path, c.kind): (c.before, c.after) for c in plan_diff(old, new)}
    assert changes[("destination_id", "changed")] == ("SH-SAFE", "SH-SCHOOL")
    assert changes[("care.walking_ability", "changed")] == ("杖歩行", "車いす")
    assert changes[("care.allergies", "added")] == ("", "卵")
    assert changes[("supporters[山田 花子].phone", "changed")] == ("090-1111-2222", "090-9999-0000")
    assert ("supporters[鈴木 一郎]", "removed") in changes
    assert ("supporters[佐藤 次郎]", "added") in changes
    # Paired by normalised name: the full-width space is shown as a spelling change, not a new person.
    assert changes[("supporters[山田 花子].name", "changed")] == ("山田 花子", "山田\u3000花子")
    assert len(changes) == 7


def test_plan_diff_reorder_is_no_change_and_labels_are_japanese():
    old = done_plan("L1", "P1", supporters=(supporter("A"), supporter("B")))
    assert plan_diff(old, replace(old, supporters=tuple(reversed(old.supporters)))) == []
    change = plan_diff(old, replace(old, care=replace(old.care, allergies="卵")))[0]
    assert change_label(change) == "アレルギー"
    assert change_label(plan_diff(old, replace(old, review_due=date(2028, 1, 1)))[0]) == "次回見直し日"


# ---- adapters ----------------------------------------------------------------------------

def test_adapters_from_rows_and_stored_versions():
    pid, sid = uuid.uuid4(), uuid.uuid4()
    row = EvacuationPlan(id=uuid.uuid4(), person_id=pid, status=PlanStatus.done,
                         supporters=[Supporter(name="山田 花子", relation="近隣住民", phone="090-1111-2222")],
                         destination_shelter_id=sid, consent=True, consent_date=date(2025, 5, 1),
                         care={"allergies": "卵"})
    plan = plan_from_row(row)
    assert plan.supporters[0].name == "山田 花子" and plan.care.allergies == "卵" and is_complete(plan)
    stored = {"status": "done", "supporters": [{"name": "山田 花子", "relation": "近隣住民", "address": "",
                                                "phone": "090-1111-2222"}],
              "destination_shelter_id": sid, "consent": True, "consent_date": "2025-05-01", "care": {}}
    older = plan_from_dict({**stored, "id": row.id, "person_id": pid})
    assert [c.path for c in plan_diff(older, plan)] == ["care.allergies"]
    shelter = Shelter(id=uuid.uuid4(), name="府中福祉センター", kind=ShelterKind.designated_welfare,
                      target_groups=["elderly"], capabilities=["backup_power"], building_permit_date=date(1975, 1, 1))
    facts = shelter_from_row(shelter, ["浸水想定区域"])
    assert facts.seismic_class == SeismicClass.old_undiagnosed and facts.hazard_areas == ("浸水想定区域",)
    person_row = Person(id=pid, register_no="A1", municipality_code="132063", name="x", birth_date=date(1940, 1, 1),
                        sex="female", address="府中市", reasons=["care_level_3plus"], care_needs=["wheelchair"],
                        district_id=None, consent="yes", consent_date=date(2025, 1, 1))
    p = person_from_row(person_row)
    assert p.reasons == frozenset({"care_level_3plus"}) and not check_destination(p, facts, TODAY).allowed


def test_plan_diff_two_supporters_with_the_same_name():
    old = done_plan("L1", "P1", supporters=(supporter("山田 花子"), supporter("山田 花子", "090-0000-0001")))
    new = replace(old, supporters=old.supporters[:1])
    assert [(c.path, c.kind) for c in plan_diff(old, new)] == [("supporters[山田 花子]", "removed")]
