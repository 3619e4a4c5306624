"""The matching rules: groups, required capabilities, need levels, 震度 and the seismic rule."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.matching.rules import (SeismicRule, intensity_label, need_level, parse_intensity, person_groups,
                                          required_capabilities, room_left, shelter_state)
from server.models.vocab import Capability as C
from server.models.vocab import TargetGroup as G

TODAY = date(2026, 11, 27)
OLD, YOUNG = date(1940, 1, 1), date(1990, 1, 1)


@pytest.mark.parametrize("reasons, needs, birth, groups", [
    (["pregnancy"], [], YOUNG, {G.pregnant_infant}),
    (["infant"], ["infant"], date(2025, 1, 1), {G.pregnant_infant}),
    (["medical_care"], ["ventilator"], YOUNG, {G.medical_care}),
    ([], ["oxygen"], OLD, {G.medical_care, G.elderly}),
    (["physical_disability"], ["wheelchair"], YOUNG, {G.disabled}),
    (["physical_disability"], [], OLD, {G.disabled, G.elderly}),
    (["care_level_3plus"], [], YOUNG, {G.elderly}),          # 介護保険 第2号被保険者
    (["elderly_household"], ["walking_aid"], OLD, {G.elderly}),
    (["elderly_household"], [], OLD, set()),                 # a 指定避難所 will do
    (["foreign_language"], ["language"], YOUNG, set()),
    ([], ["hearing"], YOUNG, {G.disabled}),
])
def test_person_groups(reasons, needs, birth, groups):
    assert person_groups(reasons, needs, birth, TODAY) == frozenset(groups)


def test_required_capabilities_are_explicit():
    assert required_capabilities(["ventilator", "power_dependent"]) == (frozenset({C.backup_power}),)
    assert required_capabilities(["oxygen"]) == (frozenset({C.backup_power, C.oxygen}),)
    assert set(required_capabilities(["wheelchair", "bedridden", "dialysis", "dementia"])) == {
        frozenset({C.wheelchair_access}), frozenset({C.care_beds}), frozenset({C.dialysis_link})}
    assert required_capabilities(["hearing", "allergy"]) == ()


@pytest.mark.parametrize("reasons, needs, groups, outcome, level", [
    (["medical_care"], ["ventilator"], {G.medical_care}, None, 0),
    ([], ["power_dependent"], {G.medical_care}, None, 0),
    ([], ["oxygen"], {G.medical_care}, None, 1),
    ([], ["bedridden"], {G.elderly}, None, 1),
    (["care_level_3plus"], [], {G.elderly}, None, 2),
    (["pregnancy"], [], {G.pregnant_infant}, None, 2),
    ([], ["walking_aid"], {G.elderly}, None, 3),
    ([], ["walking_aid"], {G.elderly}, "needs_help", 2),
    ([], ["oxygen"], {G.medical_care}, "injured", 0),
    ([], ["oxygen"], {G.medical_care}, "safe_home", 1),
])
def test_need_levels(reasons, needs, groups, outcome, level):
    assert need_level(reasons, needs, frozenset(groups), outcome) == level


@pytest.mark.parametrize("text, value", [("6-", 5.5), ("6弱", 5.5), ("震度６強", 6.0), ("5+", 5.0), ("7", 6.5),
                                         ("5.7", 5.7), (5.2, 5.2), ("", None), (None, None)])
def test_parse_intensity(text, value):
    assert parse_intensity(text) == value


def test_bad_intensity_is_refused():
    with pytest.raises(ValueError, match="unknown seismic intensity"):
        parse_intensity("strong")
    with pytest.raises(ValueError):
        parse_intensity("12")


def test_intensity_labels():
    assert [intensity_label(v) for v in (None, 4.4, 5.5, 5.99, 6.7)] == ["none", "4", "6-", "6-", "7"]


def test_seismic_rule_excludes_old_buildings_only_after_strong_shaking():
    rule = SeismicRule()
    assert rule.excludes("old_undiagnosed", 5.5) and rule.excludes("old_some_risk", 6.0)
    assert not rule.excludes("old_undiagnosed", 5.4)
    assert not rule.excludes("old_undiagnosed", None)
    for passing in ("new_standard", "old_retrofitted", "old_low_risk", "unknown"):
        assert not rule.excludes(passing, 7.0)
    strict = SeismicRule(min_intensity=5.0, excluded=frozenset({"unknown"}))
    assert strict.excludes("unknown", 5.0)


def test_shelter_state_and_room():
    rule = SeismicRule()
    assert shelter_state("designated_welfare", None, None, "new_standard", None, rule) is None
    assert shelter_state("designated", "open", "none", "new_standard", None, rule) == "not_welfare"
    assert shelter_state("agreement_welfare", "open", "unusable", "new_standard", None, rule) == "damaged"
    assert shelter_state("designated_welfare", "closed", "none", "new_standard", None, rule) == "closed"
    assert shelter_state("designated_welfare", "not_open", "minor", "old_high_risk", 6.0, rule) == "seismic"
    assert room_left(30, "open", 12) == 18
    assert room_left(30, "full", 12) == 0
    assert room_left(None, None, 0) == 0
    assert room_left(10, "open", 15) == 0
