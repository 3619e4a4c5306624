"""Drills in short, named steps (architecture issue, item 4): the field-response script
(simulate.py) and a drill run (runner.py) are built from steps that can be called and checked
one at a time; the whole gives exactly what it gave before the split.

GOLDEN holds digests of `script()`'s output for the two shipped scenarios on the 300-people demo
city as of 2026-11-20 (the register's ages depend on its date), computed with the code from before
the split (commit 5098346): same city, scenario and seed, same script — every action, time,
outcome and tally.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

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


@lru_cache(maxsize=1)
def golden_records() -> dict:
    """The 300-people demo city as of a fixed day, as the API's JSON records."""
    from server.demo_city import build_demo_city

    city = build_demo_city(people=300, now=date(2026, 11, 20))
    dump = lambda rows: [row.model_dump(mode="json") for row in rows]  # noqa: E731
    return {"people": dump(city.people), "plans": dump(city.plans), "shelters": dump(city.shelters),
            "districts": dump(city.districts)}


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
    drill = script(load_scenario(SCENARIOS / name), seed=seed, **golden_records())
    assert (script_digest(drill), len(drill.actions)) == GOLDEN[(name, seed)]


def test_the_digest_sees_a_change():
    drill = script(load_scenario(SCENARIOS / "tama-east-m73.toml"), **golden_records())
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


# ---- run_drill(), step by step

def _run(quake_at=None, speed=None, name="tama-east-m73.toml"):
    from server.drills.runner import CityRecords, DrillRun, drill_scale

    records = city_records()
    scenario = _scenario(name)
    drill = script(scenario, **records)
    return DrillRun(scenario=scenario, city=CityRecords(**records), drill=drill,
                    quake_at=quake_at or datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc),
                    scale=drill_scale(speed), live=bool(speed))


def test_drill_scale_and_quake_time():
    from server.drills.runner import DrillError, drill_scale, quake_time

    assert drill_scale(None) == 1.0 and drill_scale(60) == 60.0
    for bad in (0, -1, float("nan")):
        with pytest.raises(DrillError, match="speed"):
            drill_scale(bad)
    scenario = _scenario()
    given = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    now = scenario.origin_time + timedelta(days=3)
    assert quake_time(scenario, 1440, quake_at=given, now=now, live=False) == given
    assert quake_time(scenario, 1440, quake_at=None, now=now, live=False) == scenario.origin_time
    # a drill that would end after now starts earlier, on the minute
    soon = scenario.origin_time + timedelta(hours=2, seconds=30)
    assert quake_time(scenario, 1440, quake_at=None, now=soon, live=False) == (
        soon - timedelta(minutes=1441)).replace(second=0)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    live = quake_time(scenario, 1440, quake_at=None, now=now, live=True)
    assert before <= live <= datetime.now(timezone.utc)
    with pytest.raises(DrillError, match="timezone"):
        quake_time(scenario, 1440, quake_at=datetime(2026, 1, 1, 12, 0), now=now, live=False)


def test_plan_mutations_ids_and_times():
    from server.drills.runner import plan_mutations

    run = _run()
    plan_mutations(run)
    assert len(run.timeline) == len(run.drill.actions) == len(run.record_entities) == len(run.scripted_minutes)
    for send, action in zip(run.timeline, run.drill.actions):
        data = send.mutation["data"]
        assert send.device == action.device and send.at == action.minute
        assert send.mutation["entity"] == action.entity == run.record_entities[data["id"]]
        assert datetime.fromisoformat(data["observed_at"]) - run.quake_at == pytest.approx(
            timedelta(minutes=action.minute), abs=timedelta(milliseconds=1))
    again = _run()
    plan_mutations(again)
    assert [s.mutation for s in again.timeline] == [s.mutation for s in run.timeline]  # the same drill: same ids
    later = _run(quake_at=run.quake_at + timedelta(hours=1))
    plan_mutations(later)
    assert not {s.mutation["id"] for s in later.timeline} & {s.mutation["id"] for s in run.timeline}
    live = _run(speed=60)
    plan_mutations(live)
    assert live.timeline[-1].at == pytest.approx(run.timeline[-1].at / 60)
    assert not {s.mutation["id"] for s in live.timeline} & {s.mutation["id"] for s in run.timeline}


def _held(run):
    """The figures as a server holding exactly what the run sends would give them."""
    from server.drills.runner import Figures

    records = [dict(s.mutation["data"]) for s in run.timeline]
    return Figures(checks=[r for r in records if "person_id" in r and "outcome" in r],
                   reports=[r for r in records if "open_state" in r])


def test_check_figures_passes_what_matches_and_names_what_does_not():
    from server.drills.runner import check_figures, plan_mutations

    run = _run()
    plan_mutations(run)
    figures = _held(run)
    assert [passed for _, passed, _ in check_figures(run, figures)] == [True, True, True, True]
    missing = replace(figures, checks=figures.checks[1:], reports=figures.reports[1:])
    result = check_figures(run, missing)
    assert [passed for _, passed, _ in result] == [False, False, True, False]
    assert result[0][2] == f"{len(figures.checks) - 1} of {len(figures.checks)}"
    late = [dict(c) for c in figures.checks]
    late[0]["observed_at"] = (datetime.fromisoformat(late[0]["observed_at"]) - timedelta(minutes=1)).isoformat()
    assert check_figures(run, replace(figures, checks=late))[3][1:] == (False, "1 differ")
    run.rejected.append({"id": "x", "errors": []})
    assert check_figures(run, figures)[2] == ("no record refused", False, "1 refused")


@pytest.fixture
def drill_server(tmp_path):
    from server.drills.cli import local_server

    with local_server(tmp_path / "drill.sqlite3", people=300) as (url, username, password):
        yield url, username, password


def test_each_step_of_a_drill_run_against_a_server(drill_server):
    """The steps run_drill() takes, one at a time against a real server, each checked."""
    from server.drills.runner import (
        Api,
        check_figures,
        plan_mutations,
        prepare,
        read_figures,
        request_agreement_shelters,
        run_matching,
        send_records,
        switch_to_disaster,
    )

    url, username, password = drill_server
    api = Api(url)
    api.sign_in(username, password)
    now = datetime.now(timezone.utc)
    scenario = _scenario()
    run = prepare(api, scenario, quake_at=(now - timedelta(hours=25)).replace(second=0, microsecond=0), now=now)
    assert len(run.city.people) == 300 and run.city.shelters and run.city.plans and run.city.districts
    assert run.drill.people == 300 and not run.live and run.scale == 1.0
    assert api.get("/api/mode")["mode"] != "disaster"
    assert switch_to_disaster(api, scenario) is True and api.get("/api/mode")["mode"] == "disaster"
    assert switch_to_disaster(api, scenario) is False
    asked = request_agreement_shelters(api, run.city.shelters)
    assert asked == sum(s.get("kind") == "agreement_welfare" for s in run.city.shelters) > 0
    assert request_agreement_shelters(api, api.read_all("/api/shelters")) == 0  # asked once only
    plan_mutations(run)
    seen: list[tuple[int, int]] = []
    send_records(api, run, progress=lambda done, total: seen.append((done, total)))
    assert run.sent == run.statuses["applied"] == len(run.timeline) and not run.rejected
    assert seen[0] == (0, len(run.timeline)) and seen[-1] == (len(run.timeline), len(run.timeline))
    figures = read_figures(api, run)
    assert len(figures.checks) + len(figures.reports) == len(run.timeline)
    assert all(check["id"] in run.record_entities for check in figures.checks)
    assert all(passed for _, passed, _ in check_figures(run, figures))
    matching = run_matching(api, run.drill)
    assert matching["proposal_id"] and matching["people"] is not None
    api.close()
