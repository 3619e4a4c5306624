"""Drills in short, named steps (architecture issue, item 4): the field-response script
(simulate.py) and a drill run (runner.py) are built from steps that can be called and checked
one at a time; the whole gives exactly what it gave before the split.

GOLDEN holds digests of `script()`'s output for the two shipped scenarios on the 300-people demo
city, computed with the code from before the split (commit 5098346): same city, scenario and seed,
same script — every action, time, outcome and tally.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from server.drills import simulate
from server.drills.scenario import load_scenario
from server.drills.simulate import (
    Arrival,
    City,
    PeopleFates,
    Round,
    ShelterState,
    arrival_checks,
    draw_people,
    draw_shelters,
    script,
    shelter_reports,
    supporter_visits,
    visit_district,
)

from .test_drill_run import SCENARIOS, city_records

GOLDEN = {
    ("tama-east-m73.toml", None): ("9d0555ed122537f3d57474b1c903ca91ed621adc04a6d5ccddeb57928ad5dd87", 1096),
    ("tama-east-m73.toml", 12345): ("769007d00b4d51643269b64f653034511130d9296274366faed71b03b679b3c0", 1072),
    ("tachikawa-m74.toml", None): ("3ac643b9f6e2bb15b1712b8a8cf8f60e072138c853fffddaca6e455631f6a901", 1096),
    ("tachikawa-m74.toml", 12345): ("7583af0f2ec53e9937fbcb236b383e893e95cb5d3358b6beae328d037c34a25c", 1075),
}


def _plain(value):
    """JSON-ready, floats rounded to 6 places (a last-bit difference of a platform's libm is not a change)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def script_digest(drill) -> str:
    body = {"scenario": drill.scenario_id, "seed": drill.seed,
            "actions": [[a.minute, a.device, a.entity, a.data] for a in drill.actions],
            "outcomes": drill.outcomes, "first_check_minute": drill.first_check_minute,
            "shelters": drill.shelters, "unplaced": drill.unplaced, "duration": drill.duration_minutes,
            "intensity_median": drill.intensity_median, "person_intensity": drill.person_intensity}
    text = json.dumps(_plain(body), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("name, seed", sorted(GOLDEN, key=str))
def test_the_script_is_what_it_was_before_the_split(name, seed):
    drill = script(load_scenario(SCENARIOS / name), seed=seed, **city_records())
    assert (script_digest(drill), len(drill.actions)) == GOLDEN[(name, seed)]


def test_the_digest_sees_a_change():
    drill = script(load_scenario(SCENARIOS / "tama-east-m73.toml"), **city_records())
    before = script_digest(drill)
    drill.first_check_minute[next(iter(drill.first_check_minute))] += 0.001
    assert script_digest(drill) != before


# ---- script(), step by step

def _scenario(name="tama-east-m73.toml", **changes):
    scenario = load_scenario(SCENARIOS / name)
    return replace(scenario, **changes) if changes else scenario


def _city(scenario=None) -> City:
    return City.of(scenario or _scenario(), **city_records())


def _shelter(id_="s" * 36, *, collapsed=False, opens=40.0, capacity=0, point=(0.0, 0.0)) -> ShelterState:
    return ShelterState(id=id_, name="第一福祉避難所", intensity=6.1, shindo="6強", collapsed=collapsed,
                        damage="unusable" if collapsed else "none", opens=opens, capacity=capacity, point=point)


def _small_city(people: list[dict], points: dict, **response) -> City:
    scenario = _scenario()
    scenario = replace(scenario, response={**scenario.response, **response})
    return City(scenario=scenario, people=people, plans_by_person={}, shelters=[], districts=[], districts_by_id={},
                points=points, duration=float(scenario.response["duration_hours"]) * 60.0,
                walk=float(scenario.response["walk_m_per_min"]))


def test_city_sorts_the_records_and_places_them():
    records = city_records()
    city = City.of(_scenario(), **{**records, "people": list(reversed(records["people"]))})
    assert [p["id"] for p in city.people] == sorted(p["id"] for p in records["people"])
    assert city.duration == 24 * 60 and city.walk > 0
    assert sum(city.where(p) is not None for p in city.people) > 0.9 * len(city.people)
    assert all(city.where(s) is not None for s in city.shelters)


def test_draw_shelters_damage_and_opening():
    city = _city()
    states = draw_shelters(city, np.random.default_rng(1))
    assert list(states) == [s["id"] for s in city.shelters]
    for state in states.values():
        assert (state.damage == "unusable") == state.collapsed and state.damage in ("unusable", "minor", "none")
        assert simulate.SHELTER_OPEN_MINUTES[0] <= state.opens <= simulate.SHELTER_OPEN_MINUTES[1]
        assert state.arrivals == [] and state.point is not None
    weak = draw_shelters(_city(_scenario(magnitude_jma=4.0)), np.random.default_rng(1))
    strong = draw_shelters(_city(_scenario(magnitude_jma=8.0)), np.random.default_rng(1))
    damaged = lambda states: sum(s.damage != "none" for s in states.values())  # noqa: E731
    assert damaged(weak) == 0 and damaged(strong) > 0


def test_draw_people_outcomes_and_walks():
    city = _city()
    rng = np.random.default_rng(7)
    shelters = draw_shelters(city, rng)
    fates = draw_people(city, shelters, rng)
    assert set(fates.outcomes) == {p["id"] for p in city.people} and len(fates.intensities) == len(city.people)
    assert all(fates.outcomes[pid] == "needs_help" for pid in fates.unplaced)
    assert fates.arrivals, "the M7.3 scenario sends people to shelters"
    for arrival in fates.arrivals:
        plan = city.plans_by_person[arrival.person["id"]]
        shelter = shelters[arrival.shelter_id]
        assert fates.outcomes[arrival.person["id"]] == "evacuated" and not shelter.collapsed
        assert arrival.shelter_id == plan["destination_shelter_id"] or (
            shelters[plan["destination_shelter_id"]].collapsed and arrival.shelter_id == plan["alternate_shelter_id"])
        assert max(simulate.EVACUATION_START_MINUTES, shelter.opens) <= arrival.minute <= city.duration
    assert sorted(pid for s in shelters.values() for pid in s.arrivals) == sorted(
        a.person["id"] for a in fates.arrivals)


def test_arrival_checks_in_time_order_with_first_minutes():
    shelter = _shelter()
    late, early = {"id": "b"}, {"id": "a"}
    fates = PeopleFates(intensities=[], outcomes={"a": "evacuated", "b": "evacuated"},
                        arrivals=[Arrival(95.0, late, shelter.id), Arrival(61.5, early, shelter.id)], unplaced=[])
    actions, first = arrival_checks(fates, {shelter.id: shelter})
    assert [(a.minute, a.data["person_id"]) for a in actions] == [(61.5, "a"), (95.0, "b")]
    assert first == {"a": 61.5, "b": 95.0}
    assert actions[0].device == "drill-shelter-ssssssss" and actions[0].entity == "safety-checks"
    assert actions[0].data == {"person_id": "a", "outcome": "evacuated", "shelter_id": shelter.id,
                               "whereabouts": "第一福祉避難所", "note": "訓練: 避難所で受付"}


def test_shelter_reports_closed_or_every_interval_with_groups():
    elderly = {"id": "p1", "birth_date": "1940-04-01"}
    infant = {"id": "p2", "birth_date": "2026-01-01", "reasons": ["infant"]}
    city = _small_city([elderly, infant], {}, shelter_report_every_minutes=30, duration_hours=2)
    standing, fallen = _shelter("a" * 36, opens=40.0, capacity=2), _shelter("b" * 36, collapsed=True)
    actions = shelter_reports(city, {standing.id: standing, fallen.id: fallen},
                              [Arrival(100.0, infant, standing.id), Arrival(50.0, elderly, standing.id)])
    closed = [a for a in actions if a.data["shelter_id"] == fallen.id]
    assert [(a.minute, a.data["open_state"], a.data["damage"]) for a in closed] == [
        (simulate.COLLAPSED_REPORT_MINUTE, "closed", "unusable")]
    reports = [a for a in actions if a.data["shelter_id"] == standing.id]
    assert [(a.minute, a.data["occupancy"], a.data["open_state"]) for a in reports] == [
        (40.0, 0, "open"), (70.0, 1, "open"), (100.0, 2, "full")]
    assert reports[-1].data["occupancy_by_group"] == {"elderly": 1, "disabled": 0, "pregnant_infant": 1,
                                                      "medical_care": 0, "other": 0}


def test_visit_district_nearest_first_skipping_the_confirmed():
    people = [{"id": "far"}, {"id": "near"}, {"id": "shelter-confirmed"}, {"id": "gone"}, {"id": "no-address"}]
    points = {"near": (100.0, 0.0), "far": (300.0, 0.0), "shelter-confirmed": (200.0, 0.0), "gone": (400.0, 0.0)}
    city = _small_city(people, points, walk_m_per_min=100, visit_minutes=10, duration_hours=2)
    fates = PeopleFates(intensities=[], outcomes={"near": "safe_home", "far": "injured", "shelter-confirmed": "evacuated",
                                                  "gone": "evacuated", "no-address": "needs_help"},
                        arrivals=[], unplaced=[])
    first = {"shelter-confirmed": 5.0}
    round_ = Round(device="drill-minsei-001", clock=60.0, at=(0.0, 0.0),
                   todo=[people[0], people[1], people[2], people[3]], unknown_place=[people[4]])
    actions = visit_district(city, round_, fates, first, visit=10.0)
    # near: 60 + 1 + 10; confirmed at a shelter before: skipped without a walk; far: +2 + 10; gone: +1 + 10
    assert [(a.minute, a.data["person_id"], a.data["outcome"]) for a in actions] == [
        (71.0, "near", "safe_home"), (83.0, "far", "injured"), (94.0, "gone", "evacuated"),
        (104.0, "no-address", "needs_help")]
    assert actions[2].data["note"] == "訓練: 不在（避難所へ向かったと近所の方）"
    assert actions[3].data["note"] == "訓練: 電話で確認"
    assert first == {"shelter-confirmed": 5.0, "near": 71.0, "far": 83.0, "gone": 94.0, "no-address": 104.0}
    assert round_.clock == 104.0 and round_.todo == []


def test_visit_district_stops_when_the_drill_ends():
    people = [{"id": "p"}, {"id": "q"}]
    city = _small_city(people, {"p": (0.0, 600.0), "q": (0.0, 1200.0)}, walk_m_per_min=60, duration_hours=1)
    fates = PeopleFates(intensities=[], outcomes={"p": "safe_home", "q": "safe_home"}, arrivals=[], unplaced=[])
    round_ = Round(device="d", clock=30.0, at=(0.0, 0.0), todo=list(people), unknown_place=[])
    actions = visit_district(city, round_, fates, {}, visit=10.0)
    assert [(a.minute, a.data["person_id"]) for a in actions] == [(50.0, "p")]  # q would be at 70 > 60


def test_supporter_visits_one_tablet_per_district_nobody_twice():
    city = _city()
    rng = np.random.default_rng(3)
    shelters = draw_shelters(city, rng)
    fates = draw_people(city, shelters, rng)
    _, first = arrival_checks(fates, shelters)
    arrived = dict(first)
    actions = supporter_visits(city, fates, first, rng)
    devices = {a.device for a in actions}
    assert all(d.startswith("drill-minsei-") for d in devices)
    assert len(devices) <= len({p.get("district_id") or "none" for p in city.people})
    visited = [a.data["person_id"] for a in actions]
    assert len(visited) == len(set(visited)) and all(0 < a.minute <= city.duration for a in actions)
    for pid, minute in arrived.items():  # a visit after the person was received at a shelter never happens
        assert all(not (a.data["person_id"] == pid and a.minute >= minute) for a in actions)
