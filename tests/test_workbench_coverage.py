"""Coverage figures (server/domain/workbench/coverage.py) against a small city where every
answer is known by hand (tests/workbench_cases.small_city)."""

from __future__ import annotations

from server.domain.workbench.coverage import FIGURES, coverage, minsei_of_people
from tests.workbench_cases import SHELTERS, TODAY, small_city, synthetic_city


def _cov():
    people, plans, links, entries = small_city()
    return coverage(people, plans, links, entries, SHELTERS, TODAY)


def _ids(area) -> dict:
    return {name: set(f.ids) for name, f in area.figures.items() if f.count}


def test_city_figures_known_by_hand():
    city = _cov().city
    assert city.counts() == {
        "registered": 10, "consented": 6 + 1, "plan_not_started": 2, "plan_drafting": 3, "plan_done": 4,
        "plan_needs_review": 1, "supporters_0": 3, "supporters_1": 5, "supporters_2plus": 2,
        "elderly_supporter": 1, "registered_supporter": 1, "review_overdue": 1, "destination_unusable": 4,
        "destination_seismic": 1, "destination_hazard": 1, "destination_not_accepting": 1, "destination_unknown": 1}


def test_each_number_opens_its_list():
    city = _ids(_cov().city)
    assert city["plan_not_started"] == {"P3", "P8"}              # no plan, and a plan not started
    assert city["supporters_0"] == {"P3", "P8", "P10"}
    assert city["supporters_2plus"] == {"P1", "P9"}               # P7's second supporter left: 1
    assert city["supporters_1"] == {"P2", "P4", "P5", "P6", "P7"}
    assert city["elderly_supporter"] == {"P2"}
    assert city["registered_supporter"] == {"P4"}
    assert city["review_overdue"] == {"P7"}                       # due yesterday; due today is not overdue
    assert city["destination_seismic"] == {"P4"}                  # 旧耐震・未診断
    assert city["destination_hazard"] == {"P5"}                   # inside 浸水想定区域
    assert city["destination_not_accepting"] == {"P6"}            # elderly person, shelter for infants
    assert city["destination_unknown"] == {"P10"}
    assert city["destination_unusable"] == {"P4", "P5", "P6", "P10"}


def test_per_chome_and_welfare_area():
    cov = _cov()
    assert _ids(cov.chome["C1"]) == {
        "registered": {"P1", "P2", "P3"}, "consented": {"P1"}, "plan_not_started": {"P3"}, "plan_drafting": {"P2"},
        "plan_done": {"P1"}, "supporters_0": {"P3"}, "supporters_1": {"P2"}, "supporters_2plus": {"P1"},
        "elderly_supporter": {"P2"}}
    assert cov.chome["C3"].counts()["review_overdue"] == 1
    assert set(cov.welfare_area) == {"W1", "W2", None}
    assert cov.welfare_area["W1"].counts()["registered"] == 6
    assert cov.welfare_area["W2"].figures["registered"].ids == ("P6", "P7", "P8")
    assert cov.welfare_area[None].figures["registered"].ids == ("P9",)    # unassigned people still counted
    # Areas add up to the city for every figure.
    for name in FIGURES:
        assert sum(a.figures[name].count for a in cov.chome.values()) == cov.city.figures[name].count


def test_per_minsei_by_area_then_register_text():
    people, plans, links, entries = small_city()
    assert minsei_of_people(people, entries.values())[0] == ("M1",)
    cov = _cov()
    assert set(cov.minsei) == {"M1", "M2", "名簿:民生 三郎"}
    assert cov.minsei["M1"].figures["registered"].ids == ("P1", "P2", "P3", "P4", "P5", "P10")
    assert cov.minsei["M2"].counts()["destination_not_accepting"] == 1


def test_person_under_two_minsei_counts_for_each():
    people, plans, links, entries = small_city()
    cov = coverage(people, plans, links, entries, SHELTERS, TODAY, minsei=[("M1", "M2")] + [()] * 9)
    assert "P1" in cov.minsei["M1"].figures["registered"].ids
    assert "P1" in cov.minsei["M2"].figures["registered"].ids
    assert cov.minsei[None].counts()["registered"] == 9


def test_hazard_callable_overrides_precomputed_flags():
    people, plans, links, entries = small_city()
    cov = coverage(people, plans, links, entries, SHELTERS, TODAY, hazard=lambda s: ["土砂"] if s.id == "SH-SAFE" else [])
    assert set(cov.city.figures["destination_hazard"].ids) == {"P1", "P2", "P7"}


def test_synthetic_city_is_consistent():
    people, plans, links, entries, shelters = synthetic_city(3000)
    cov = coverage(people, plans, links, entries, shelters, TODAY)
    c = cov.city.counts()
    assert c["registered"] == 3000
    assert c["supporters_0"] + c["supporters_1"] + c["supporters_2plus"] == 3000
    assert sum(c[f"plan_{s}"] for s in ("not_started", "drafting", "done", "needs_review")) == 3000
    assert sum(a.counts()["registered"] for a in cov.welfare_area.values()) == 3000


def test_elderly_cutoff_agrees_with_matching_age_rule():
    from datetime import date, timedelta

    from server.domain.matching.rules import ELDERLY_AGE, age_on
    from server.domain.workbench.coverage import _elderly_cutoff

    for today in (date(2026, 12, 1), date(2024, 2, 29), date(2025, 3, 1), date(2025, 2, 28)):
        cutoff = _elderly_cutoff(today)
        for born in (cutoff - timedelta(days=1), cutoff, cutoff + timedelta(days=1)):
            assert (born <= cutoff) == (age_on(born, today) >= ELDERLY_AGE), (today, born)
