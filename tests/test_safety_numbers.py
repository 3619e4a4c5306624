"""Safety of the numbers (hardening item 7): which shelters matching may use after strong
shaking, the intensity per place, 協定福祉避難所 opened on request, carers counting two places,
occupancy above capacity and unknown occupancy, and the one definition of "confirmed"."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from server.domain import hq_map
from server.domain.matching import MatchParams, MatchPerson, MatchShelter, propose
from server.domain.matching.rules import SeismicRule, shelter_state
from server.models import AuditEntry, ChangeLog, Shelter
from server.models.vocab import CareNeed, TargetGroup
from tests.factories import create, now_jst, person, shelter

SIX_LOWER = 5.5
RULE = SeismicRule()
SQUARE = {"type": "Polygon", "coordinates": [[[139.45, 35.70], [139.46, 35.70], [139.46, 35.71],
                                              [139.45, 35.71], [139.45, 35.70]]]}


def run(client, **body) -> dict:
    answer = client.post("/api/matching/run", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def placed(client, proposal_id) -> dict:
    detail = client.get(f"/api/matching/proposals/{proposal_id}").json()
    return {a["person_id"]: a["shelter_id"] for a in detail["assignments"]}


def report(client, shelter_id, state="open", occupancy=0, damage="none", minutes_ago=5) -> dict:
    return create(client, "shelter-reports", dict(shelter_id=shelter_id, open_state=state, occupancy=occupancy,
                                                  damage=damage, observed_at=now_jst(minutes_ago)))


def districts(client) -> tuple[dict, dict, dict]:
    """A 福祉圏域 with one 町丁目, and another 町丁目 in a second area."""
    area = create(client, "districts", dict(municipality_code="132144", code="W1", name="第一圏域", kind="welfare_area"))
    other_area = create(client, "districts", dict(municipality_code="132144", code="W2", name="第二圏域",
                                                  kind="welfare_area"))
    east = create(client, "districts", dict(municipality_code="132144", code="001", name="東町", kind="chome",
                                            parent_id=area["id"], geometry=SQUARE))
    west = create(client, "districts", dict(municipality_code="132144", code="002", name="西町", kind="chome",
                                            parent_id=other_area["id"], geometry=SQUARE))
    return area, east, west


# ---- 1. unknown seismic class after strong shaking ----

def test_a_building_of_unknown_resistance_needs_an_undamaged_report_after_6_lower():
    welfare = "designated_welfare"
    assert shelter_state(welfare, None, None, "unknown", SIX_LOWER, RULE) == "seismic_unverified"
    assert shelter_state(welfare, "open", "none", "unknown", SIX_LOWER, RULE) is None
    assert shelter_state(welfare, "open", "minor", "unknown", SIX_LOWER, RULE) is None
    assert shelter_state(welfare, None, None, "unknown", 5.4, RULE) is None          # 5強: no rule
    assert shelter_state(welfare, None, None, "new_standard", 6.5, RULE) is None
    # an undamaged report does not make an excluded class usable
    assert shelter_state(welfare, "open", "none", "old_undiagnosed", SIX_LOWER, RULE) == "seismic"


def test_hq_sees_why_an_unknown_building_is_excluded_and_a_report_clears_it(client):
    gsi = create(client, "shelters", shelter(name="GSIから取込", building_permit_date=None))
    assert gsi["seismic_class"] == "unknown"
    someone = create(client, "people", person())
    first = run(client, intensity="6-")
    assert first["summary"]["shelters_blocked"] == {"seismic_unverified": 1}
    assert first["summary"]["blocked_shelters"] == [
        {"shelter_id": gsi["id"], "reason": "seismic_unverified", "intensity": SIX_LOWER}]
    assert placed(client, first["id"]) == {}
    hq = client.get("/api/hq/shelters").json()
    assert next(i for i in hq["items"] if i["id"] == gsi["id"])["matching_blocked"] == "seismic_unverified"
    assert "報告待ち" in next(r for r in hq["matching_blocked_reasons"] if r["code"] == "seismic_unverified")["ja"]
    # The shelter reports 軽微: the re-run (same rules) places the person there.
    report(client, gsi["id"], damage="minor", minutes_ago=1)
    latest = client.get("/api/matching/proposals/latest").json()
    assert latest["trigger"].startswith("shelter_report:")
    assert placed(client, latest["id"]) == {someone["id"]: gsi["id"]}
    hq = client.get("/api/hq/shelters").json()
    assert next(i for i in hq["items"] if i["id"] == gsi["id"])["matching_blocked"] is None


# ---- 2. 大きな被害 / 使用不可 ----

@pytest.mark.parametrize("damage", ["major", "unusable"])
def test_a_shelter_reporting_major_damage_is_not_usable_whatever_its_class(client, damage):
    assert shelter_state("designated_welfare", "open", damage, "new_standard", None, RULE) == "damaged"
    good = create(client, "shelters", shelter())
    create(client, "people", person())
    report(client, good["id"], damage=damage)
    result = run(client)
    assert result["summary"]["shelters_blocked"] == {"damaged": 1} and result["summary"]["placed"] == 0


# ---- 3. intensity per place ----

def test_the_intensity_at_a_place_prefers_the_record_then_the_district_then_the_city():
    import uuid

    from server.domain.matching.intensity import PlaceIntensity

    chome, area, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    places = PlaceIntensity(city=4.8, by_district={area: 6.1}, parent={chome: area}, by_record={"s1": 5.2})
    assert places.at(chome) == 6.1            # the 福祉圏域's value reaches its 町丁目
    assert places.at(chome, "s1") == 5.2      # a drill's value for that very record wins
    assert places.at(elsewhere) == 4.8        # the city-wide value stays the default
    assert places.at(None) == 4.8
    assert PlaceIntensity().at(chome) is None


def test_hq_sets_the_intensity_per_district_and_matching_uses_it(client, client_for, engine):
    area, east, west = districts(client)
    old_east = create(client, "shelters", shelter(name="東の旧耐震", building_permit_date="1975-01-01",
                                                  district_id=east["id"]))
    old_west = create(client, "shelters", shelter(name="西の旧耐震", building_permit_date="1975-01-01",
                                                  district_id=west["id"], lon=139.4447, lat=35.7025))
    create(client, "people", person(district_id=west["id"]))
    answer = client.put("/api/district-intensities", json={"items": [
        {"district_id": area["id"], "intensity": "6弱", "note": "推計震度分布"}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"][0]["shindo"] == "6-" and answer.json()["items"][0]["set_by"] == client.user.username
    result = run(client)  # no city-wide intensity: only the 東町 area shook hard
    assert result["summary"]["blocked_shelters"] == [
        {"shelter_id": old_east["id"], "reason": "seismic", "intensity": SIX_LOWER}]
    assert result["summary"]["district_intensities"] == 1
    assert result["summary"]["people_by_shindo"] == {"none": 1}  # the person lives in 西町
    # the city-wide value still applies everywhere else
    both = run(client, intensity="6-")
    assert {b["shelter_id"] for b in both["summary"]["blocked_shelters"]} == {old_east["id"], old_west["id"]}
    # a 町丁目's own value wins over its area's; null clears it
    client.put("/api/district-intensities", json={"items": [{"district_id": east["id"], "intensity": "5強"}]})
    assert run(client)["summary"]["blocked_shelters"] == []
    client.put("/api/district-intensities", json={"items": [{"district_id": east["id"], "intensity": None}]})
    assert [i["district_id"] for i in client.get("/api/district-intensities").json()["items"]] == [area["id"]]
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "district_intensity_set")).all()
    assert client.delete("/api/district-intensities").json() == {"cleared": 1}


def test_district_intensities_bad_input_and_roles(client, client_for):
    _, east, _ = districts(client)
    bad = client.put("/api/district-intensities", json={"items": [{"district_id": east["id"], "intensity": "9"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("items.0.intensity")
    ghost = client.put("/api/district-intensities", json={"items": [
        {"district_id": "00000000-0000-4000-8000-000000000000", "intensity": "6-"}]})
    numeric = client.put("/api/district-intensities", json={"items": [{"district_id": east["id"], "intensity": 12}]})
    assert numeric.status_code == 422
    assert client.post("/api/matching/run", json={"intensity": 12}).status_code == 422
    assert ghost.status_code == 422 and ghost.json()["errors"] == [
        {"field": "items.0.district_id", "message": "no such district"}]
    viewer = client_for("hq_viewer")
    assert viewer.get("/api/district-intensities").status_code == 200
    assert viewer.put("/api/district-intensities", json={"items": [
        {"district_id": east["id"], "intensity": "6-"}]}).status_code == 403
    assert client_for("district_supporter").get("/api/district-intensities").status_code == 403


def test_a_run_takes_intensities_per_shelter_and_person(client):
    old = create(client, "shelters", shelter(building_permit_date="1975-01-01"))
    someone = create(client, "people", person())
    result = run(client, intensity="5+", intensity_by_shelter={old["id"]: 6.2}, intensity_by_person={someone["id"]: 6.3})
    assert result["summary"]["shelters_blocked"] == {"seismic": 1}
    assert result["summary"]["people_by_shindo"] == {"6+": 1}
    assert result["params"]["places_with_own_intensity"] == 2
    bad = client.post("/api/matching/run", json={"intensity_by_shelter": {old["id"]: 12}})
    assert bad.status_code == 422


# ---- 4. 協定福祉避難所 open on the city's request ----

def test_a_plan_naming_an_agreement_shelter_as_destination_gets_a_warning(client):
    agreement = create(client, "shelters", shelter(name="協定の特養", kind="agreement_welfare"))
    designated = create(client, "shelters", shelter(name="指定の福祉避難所"))
    direct = create(client, "plans", dict(person_id=create(client, "people", person())["id"],
                                          destination_shelter_id=agreement["id"]))
    assert [w["code"] for w in direct["warnings"]] == ["agreement_shelter_as_destination"]
    assert client.get(f"/api/plans/{direct['id']}").json()["warnings"] == direct["warnings"]
    alternate = create(client, "plans", dict(person_id=create(client, "people", person())["id"],
                                             destination_shelter_id=designated["id"],
                                             alternate_shelter_id=agreement["id"]))
    assert alternate["warnings"] == []


def test_matching_uses_an_agreement_shelter_only_once_hq_has_asked_it_to_open(client, client_for, engine):
    agreement = create(client, "shelters", shelter(name="協定の特養", kind="agreement_welfare"))
    someone = create(client, "people", person())
    first = run(client)
    assert first["summary"]["shelters_blocked"] == {"not_requested": 1} and placed(client, first["id"]) == {}

    assert client_for("hq_viewer").post(f"/api/shelters/{agreement['id']}/open-request").status_code == 403
    opened = client.post(f"/api/shelters/{agreement['id']}/open-request")
    assert opened.status_code == 200, opened.text
    assert opened.json()["opened_on_request_by"] == client.user.username
    shown = client.get(f"/api/shelters/{agreement['id']}").json()
    assert shown["opened_on_request_at"] and shown["version"] == agreement["version"] + 1
    hq = {i["id"]: i for i in client.get("/api/hq/shelters").json()["items"]}
    def when(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    assert when(hq[agreement["id"]]["opened_on_request_at"]) == when(shown["opened_on_request_at"])
    with Session(engine) as s:
        logged = s.exec(select(ChangeLog).where(ChangeLog.entity == "shelters").order_by(ChangeLog.seq)).all()
    assert str(logged[-1].record_id) == agreement["id"]
    assert placed(client, run(client)["id"]) == {someone["id"]: agreement["id"]}

    client.post(f"/api/shelters/{agreement['id']}/open-request", json={"opened": False})
    assert run(client)["summary"]["shelters_blocked"] == {"not_requested": 1}
    designated = create(client, "shelters", shelter(name="指定"))
    refused = client.post(f"/api/shelters/{designated['id']}/open-request")
    assert refused.status_code == 422
    # a shelter's own staff cannot set it through an edit either
    staff = client_for("shelter_staff", shelter_ids=[agreement["id"]])
    edit = staff.patch(f"/api/shelters/{agreement['id']}", json={
        "version": client.get(f"/api/shelters/{agreement['id']}").json()["version"],
        "opened_on_request_at": now_jst(1)})
    assert edit.status_code == 422 or edit.json().get("opened_on_request_at") is None


# ---- 5. a family carer counts two places ----

def _shelter(sid, room, lon=139.45):
    return MatchShelter(sid, lon, 35.69, room, frozenset({TargetGroup.elderly}))


def _person(pid, level, places=1, lon=139.45, destination=None):
    return MatchPerson(pid, lon, 35.69, frozenset({TargetGroup.elderly}), (), level, destination, places=places)


def test_a_person_with_a_carer_takes_two_places():
    shelters = [_shelter("s", 3)]
    people = [_person("carer", 0, places=2), _person("a", 1), _person("b", 1)]
    result = propose(people, shelters)
    assert set(result.by_person()) == {"carer", "a"} or set(result.by_person()) == {"carer", "b"}
    assert result.summary["places_taken"] == 3 and result.summary["with_carer"] == 1
    # by plan too: one place left is not enough for a person with a carer
    planned = [_person("carer", 0, places=2, destination="s")]
    assert propose(planned, [_shelter("s", 1)]).by_person() == {}


def _brute_force(people, shelters, walk):
    """(placed per level, total walking) of the lexicographic optimum, by trying everything."""
    best = None
    for choice in itertools.product([None, *range(len(shelters))], repeat=len(people)):
        load = [0] * len(shelters)
        for i, j in enumerate(choice):
            if j is not None:
                load[j] += people[i].places
        if any(load[j] > shelters[j].room for j in range(len(shelters))):
            continue
        counts = tuple(-sum(1 for i, j in enumerate(choice) if j is not None and people[i].level == lv)
                       for lv in range(4))
        key = (*counts, sum(walk[i][j] for i, j in enumerate(choice) if j is not None))
        best = key if best is None or key < best else best
    return [-c for c in best[:4]], best[4]


@pytest.mark.parametrize("seed", range(6))
def test_with_carers_the_optimum_is_still_exact(seed):
    import random

    rng = random.Random(seed)
    shelters = [_shelter(f"s{j}", rng.randint(1, 4), lon=139.45 + 0.004 * j) for j in range(3)]
    people = [_person(f"p{i}", rng.randrange(4), places=rng.choice((1, 2)), lon=139.447 + rng.uniform(0, 0.012))
              for i in range(6)]
    result = propose(people, shelters, MatchParams())
    walking = {(a.person_id, a.shelter_id): a.walking_m for a in result.assignments}
    # walking metres of every pair, from single-pair proposals
    walk = [[propose([p], [_shelter(s.id, 2, lon=s.lon)]).assignments[0].walking_m for s in shelters] for p in people]
    counts, total = _brute_force(people, shelters, walk)
    got = [sum(1 for a in result.assignments if people[int(a.person_id[1:])].level == lv) for lv in range(4)]
    assert got == counts and sum(walking.values()) == total
    load = {}
    for a in result.assignments:
        load[a.shelter_id] = load.get(a.shelter_id, 0) + people[int(a.person_id[1:])].places
    assert all(load[s.id] <= s.room for s in shelters if s.id in load)


@pytest.mark.parametrize("seed", range(4))
def test_without_time_for_the_exact_solve_carers_still_never_overfill_a_shelter(seed):
    import random

    rng = random.Random(seed)
    shelters = [_shelter(f"s{j}", rng.randint(1, 5), lon=139.45 + 0.004 * j) for j in range(4)]
    people = [_person(f"p{i}", rng.randrange(4), places=rng.choice((1, 2)), lon=139.447 + rng.uniform(0, 0.012))
              for i in range(14)]
    result = propose(people, shelters, MatchParams(carer_time_limit_s=0))
    assert result.summary["optimal"] is False
    load = {}
    for a in result.assignments:
        load[a.shelter_id] = load.get(a.shelter_id, 0) + people[int(a.person_id[1:])].places
    assert all(load.get(s.id, 0) <= s.room for s in shelters)
    # nobody left out while a shelter still has room for them
    for pid, _ in result.unplaced:
        assert all(s.room - load.get(s.id, 0) < people[int(pid[1:])].places for s in shelters)
    assert propose(people, shelters).summary["optimal"] is True


def test_a_plan_records_a_carer_and_matching_counts_two(client):
    small = create(client, "shelters", shelter(capacity=2))
    first = create(client, "people", person(care_needs=["wheelchair", str(CareNeed.dementia)]))
    second = create(client, "people", person(care_needs=["wheelchair"], lon=139.4447, lat=35.7025))
    plan = create(client, "plans", dict(person_id=first["id"], carer_accompanies=True))
    assert plan["carer_accompanies"] is True
    result = run(client)
    # two places: the person with a carer and the other person do not both fit (the nearer goes)
    assert result["summary"]["with_carer"] == 1 and result["summary"]["placed"] == 1
    assert placed(client, result["id"]) == {second["id"]: small["id"]}
    assert result["summary"]["unplaced_by_reason"]["all_full"] == 1


# ---- 6. occupancy above capacity, and unknown occupancy ----

def test_a_report_above_capacity_is_accepted_and_hq_sees_the_overflow(client, client_for):
    crowded = create(client, "shelters", shelter(capacity=10))
    quiet = create(client, "shelters", shelter(name="まだ報告なし", capacity=10))
    report(client, crowded["id"], state="full", occupancy=13)
    items = {i["id"]: i for i in client_for("hq_viewer").get("/api/hq/shelters").json()["items"]}
    assert (items[crowded["id"]]["occupancy"], items[crowded["id"]]["overflow"]) == (13, 3)
    assert items[quiet["id"]]["occupancy"] is None and items[quiet["id"]]["overflow"] is None
    assert hq_map.overflow(10, 8) == 0 and hq_map.overflow(None, 8) is None


# ---- 7. one definition of "confirmed" ----

def test_not_reachable_is_not_confirmed_on_the_map_nor_in_the_drill():
    from server.domain.safety import CONFIRMED_OUTCOMES, is_confirmed
    from server.drills.runner import _kpis
    from server.drills.simulate import DrillScript

    assert hq_map.CONFIRMED is CONFIRMED_OUTCOMES
    assert not is_confirmed("unreachable") and not is_confirmed(None) and is_confirmed("needs_help")
    quake = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def at(minute):
        return (quake + timedelta(minutes=minute)).isoformat()

    checks = [
        {"id": "1", "person_id": "a", "outcome": "safe_home", "observed_at": at(10)},
        {"id": "2", "person_id": "b", "outcome": "unreachable", "observed_at": at(20)},
        {"id": "3", "person_id": "c", "outcome": "injured", "observed_at": at(30)},
        {"id": "4", "person_id": "c", "outcome": "unreachable", "observed_at": at(40)},  # lost again
        {"id": "5", "person_id": "d", "outcome": "unreachable", "observed_at": at(15)},
        {"id": "6", "person_id": "d", "outcome": "evacuated", "observed_at": at(50)},
    ]
    script = DrillScript(scenario_id="x", seed=1, actions=[], outcomes={}, first_check_minute={}, shelters=[])
    people = [{"id": p} for p in "abcde"]
    k = _kpis(script, checks, [], quake, people, None)
    assert (k["confirmed"], k["unconfirmed"]) == (2, 3)
    assert k["minutes_to_50"] is None and k["median_minutes_to_confirm"] == 30.0  # a at 10, d at 50


def test_the_hq_tallies_use_the_same_definition(client, client_for):
    from server.domain.safety import CONFIRMED_OUTCOMES

    _, east, _ = districts(client)
    reached = create(client, "people", person(district_id=east["id"]))
    lost = create(client, "people", person(district_id=east["id"]))
    create(client, "safety-checks", dict(person_id=reached["id"], outcome="needs_help", observed_at=now_jst(5)))
    create(client, "safety-checks", dict(person_id=lost["id"], outcome="unreachable", observed_at=now_jst(5)))
    data = client_for("hq_viewer").get("/api/hq/districts").json()
    props = next(f["properties"] for f in data["features"] if f["id"] == east["id"])
    assert props["confirmed"] == 1 and props["confirmed_share"] == 0.5
    assert data["confirmed_statuses"] == sorted(o.value for o in CONFIRMED_OUTCOMES)
