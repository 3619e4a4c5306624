"""The demo city: deterministic, realistic in its proportions, geometrically sound, valid
against the Create models, loadable (once) into SQLite and PostgreSQL, and its committed
map layers match the generator."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, shape
from shapely.ops import unary_union
from sqlalchemy import func, select
from sqlmodel import Session

from server.demo_city import (DEFAULT_SEED, MUNICIPALITY_CODE, build_demo_city, geodata_layers,
                              load_demo_city)
from server.demo_city.common import JST, new_row, stream
from server.demo_city.dwat_scenario import check_deployments as check_demo_deployments
from server.demo_city.geography import build_map, geojson_polygon
from server.demo_city.plans import target_group
from server.domain.dwat.adapters import deployment_from_row, needs_from_text, team_from_rows
from server.domain.dwat.common import DwatError
from server.domain.dwat.daily_report import new_report
from server.domain.dwat.roster import check_deployment_dates, check_team
from server.models import (DwatActivityReport, DwatDeployment, DwatRequest, EvacuationPlan, Person, SafetyCheck,
                           Shelter)
from server.models.dwat import DwatDeploymentCreate, DwatMemberCreate, DwatRequestCreate, DwatTeamCreate
from server.models.events import DwatActivityCreate
from server.models.geo import DistrictCreate, MunicipalityCreate, municipality_check_digit
from server.models.people import PersonCreate
from server.models.plans import PlanCreate
from server.models.shelters import COMMON_ID_RE, ShelterCreate
from server.models.vocab import (CareNeed, Consent, DeploymentState, Household, MemberRole, PlanStatus, Reason,
                                 RequestPriority, RequestState, SeismicClass, Sex, ShelterKind, TargetGroup)

ROOT = Path(__file__).resolve().parent.parent
NOW = date(2026, 11, 27)
BOOKKEEPING = {"version", "created_at", "updated_at"}


@pytest.fixture(scope="module")
def city():
    """Full size: proportions are only meaningful with thousands of people."""
    return build_demo_city(people=5000, now=NOW)


@pytest.fixture(scope="module")
def small_city():
    return build_demo_city(people=500, now=NOW)


def _dump(city) -> list:
    rows = [city.municipality, *city.districts, *city.shelters, *city.people, *city.plans,
            *city.dwat_teams, *city.dwat_members, *city.dwat_deployments, *city.dwat_requests, *city.dwat_reports]
    return [(type(r).__name__, r.model_dump(mode="json")) for r in rows]


# -- determinism ---------------------------------------------------------------------------

def test_same_seed_gives_the_same_city(small_city):
    assert _dump(build_demo_city(people=500, now=NOW)) == _dump(small_city)


DIGEST_SCRIPT = """
import datetime, hashlib, json
from server.demo_city import build_demo_city
city = build_demo_city(people=200, now=datetime.date(2026, 11, 27))
rows = [r.model_dump(mode="json") for r in [*city.people, *city.plans, *city.shelters, *city.dwat_members,
                                           *city.dwat_deployments, *city.dwat_requests, *city.dwat_reports]]
print(hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest())
"""


def test_same_seed_gives_the_same_city_in_another_process(capsys):
    # String hashing is randomised per process (PYTHONHASHSEED); the city must not depend on it.
    child = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}, check=True).stdout
    exec(DIGEST_SCRIPT, {})
    assert capsys.readouterr().out == child


def test_another_seed_gives_another_city(small_city):
    other = build_demo_city(seed=DEFAULT_SEED + 1, people=500, now=NOW)
    assert other.people[0].id != small_city.people[0].id
    assert [p.name for p in other.people] != [p.name for p in small_city.people]
    assert other.districts[10].geometry != small_city.districts[10].geometry


def test_map_and_shelters_do_not_depend_on_people_or_day(small_city):
    other = build_demo_city(people=7, now=date(2025, 4, 1))
    assert geodata_layers(other) == geodata_layers(small_city)


# -- counts and proportions ----------------------------------------------------------------

def test_timestamps_are_ordered_and_in_the_past(city):
    rows = [city.municipality, *city.districts, *city.shelters, *city.people, *city.plans,
            *city.dwat_teams, *city.dwat_members, *city.dwat_deployments, *city.dwat_requests]
    # before the demo day begins in Japan: the city is "as of" that morning
    start_of_day = datetime(2026, 11, 27, tzinfo=JST)
    assert all(r.created_at <= r.updated_at < start_of_day for r in rows)
    assert all(r.observed_at <= r.recorded_at < start_of_day for r in city.dwat_reports)
    people = {p.id: p for p in city.people}
    assert all(people[plan.person_id].created_at.date() <= plan.created_at.date() for plan in city.plans)


def test_counts(city):
    assert len(city.welfare_areas) == 6
    assert 28 <= len(city.chome) <= 32
    assert len(city.people) == 5000
    kinds = Counter(s.kind for s in city.shelters)
    assert kinds[ShelterKind.designated_welfare] + kinds[ShelterKind.agreement_welfare] == 20
    assert kinds[ShelterKind.designated_welfare] > 0 and kinds[ShelterKind.agreement_welfare] > 0
    assert kinds[ShelterKind.designated] == 15
    assert 0.80 <= len(city.plans) / len(city.people) <= 0.90
    assert len({p.person_id for p in city.plans}) == len(city.plans)


def test_people_mix(city):
    people = city.people
    consent = Counter(p.consent for p in people)
    assert 0.35 <= consent[Consent.yes] / len(people) <= 0.45
    assert consent[Consent.no] and consent[Consent.not_asked]
    ages = [NOW.year - p.birth_date.year for p in people]
    assert sum(a >= 65 for a in ages) / len(people) >= 0.75
    assert max(ages) <= 101 and any(a < 6 for a in ages) and any(18 <= a < 65 for a in ages)
    languages = Counter(p.preferred_language for p in people)
    assert languages["ja"] / len(people) > 0.9
    assert all(languages[lang] for lang in ("en", "zh", "vi", "pt", "ja-easy"))
    reasons = Counter(r for p in people for r in p.reasons)
    for reason in (Reason.care_level_3plus, Reason.pregnancy, Reason.infant, Reason.medical_care,
                   Reason.intellectual_disability, Reason.foreign_language, Reason.elderly_household):
        assert reasons[reason], reason
    assert len({p.register_no for p in people}) == len(people)
    # Some older couples are registered together, at one address.
    assert any(p.household_note.startswith("夫婦のみ世帯（") for p in people)


def test_people_are_internally_consistent(city):
    for p in city.people:
        needs, reasons = set(p.care_needs), set(p.reasons)
        if CareNeed.ventilator in needs:
            assert CareNeed.power_dependent in needs and Reason.medical_care in reasons
        if CareNeed.oxygen in needs:
            assert CareNeed.power_dependent in needs
        if Reason.infant in reasons:
            assert CareNeed.infant in needs and (NOW - p.birth_date).days < 6 * 366
        if Reason.pregnancy in reasons:
            assert p.sex == Sex.female and CareNeed.pregnancy in needs
        if Reason.elderly_household in reasons:
            assert p.household in (Household.alone, Household.elderly_only)
        if Reason.foreign_language in reasons:
            assert CareNeed.language in needs and p.preferred_language != "ja"
        assert (p.consent == Consent.yes) == (p.consent_date is not None)
        assert p.address.startswith("東京都つなぎ市")
        assert re.fullmatch(r"(?:042-1\d{2}|03-1\d{3})-\d{4}", p.phone)  # invented numbers


def test_plans_are_sensible(city):
    shelters = {s.id: s for s in city.shelters}
    people = {p.id: p for p in city.people}
    statuses = Counter(plan.status for plan in city.plans)
    assert all(statuses[s] for s in PlanStatus)
    for plan in city.plans:
        person = people[plan.person_id]
        if plan.status in (PlanStatus.done, PlanStatus.needs_review):
            assert 1 <= len(plan.supporters) <= 3 and plan.consent and plan.destination_shelter_id
        if plan.status == PlanStatus.needs_review:
            assert plan.review_due < NOW
        if plan.status == PlanStatus.done:
            assert plan.review_due > NOW
        if plan.destination_shelter_id is None:
            continue
        destination = shelters[plan.destination_shelter_id]
        assert plan.alternate_shelter_id not in (None, plan.destination_shelter_id)
        group = target_group(person, NOW)
        if destination.kind == ShelterKind.designated_welfare:
            assert group in destination.target_groups or TargetGroup.medical_care == group
        else:
            assert destination.kind == ShelterKind.designated
    # Welfare places are planned within capacity.
    planned = Counter(p.destination_shelter_id for p in city.plans if p.destination_shelter_id)
    for shelter in city.shelters:
        if shelter.kind != ShelterKind.designated:
            assert planned[shelter.id] <= shelter.capacity
    assert any(shelters[sid].kind == ShelterKind.designated_welfare for sid in planned)


def test_shelters(city):
    classes = Counter(s.seismic_class for s in city.shelters)
    for seismic in (SeismicClass.new_standard, SeismicClass.old_retrofitted, SeismicClass.old_low_risk,
                    SeismicClass.old_some_risk, SeismicClass.old_high_risk, SeismicClass.old_undiagnosed):
        assert classes[seismic] >= 2, seismic
    common_ids = [s.common_id for s in city.shelters if s.common_id]
    assert len(set(common_ids)) == len(common_ids) == 27  # 協定福祉避難所 are not in the GSI list
    for s in city.shelters:
        assert s.seismic_class == s.derived_seismic_class()
        assert s.target_groups and len(set(s.name for s in city.shelters)) == len(city.shelters)
        if s.common_id:
            assert COMMON_ID_RE.match(s.common_id) and s.common_id.startswith("E" + MUNICIPALITY_CODE[:5])
            assert s.common_id[12] == ("1" if s.kind == ShelterKind.designated else "2")
        else:
            assert s.kind == ShelterKind.agreement_welfare
        assert (s.target_groups == [TargetGroup.general]) == (s.kind == ShelterKind.designated)


def test_dwat_teams(city):
    assert len(city.dwat_teams) == 8
    for team in city.dwat_teams:
        members = [m for m in city.dwat_members if m.team_id == team.id]
        assert 4 <= len(members) <= 6
        roles = Counter(m.role for m in members)
        assert roles[MemberRole.leader] == 1 and roles[MemberRole.sub_leader] == 1
        assert any(m.sex == Sex.female for m in members)
        assert all(m.professions and m.registration_no for m in members)


def test_dwat_disaster_in_progress(city):
    """Two teams on site at two welfare shelters (one in its third day, one arrived today),
    the next team planned to take over with a day's overlap, the first team gone home."""
    days = lambda d: (d - NOW).days  # noqa: E731
    by_state = {}
    for d in city.dwat_deployments:
        by_state.setdefault(d.state, []).append(d)
        assert days(d.end_date) - days(d.start_date) == 4  # five days on site
    (first,), (planned,) = by_state[DeploymentState.ended], by_state[DeploymentState.planned]
    third_day, arrived = sorted(by_state[DeploymentState.active], key=lambda d: d.start_date)
    assert (days(third_day.start_date), days(arrived.start_date)) == (-2, 0)
    assert third_day.shelter_id != arrived.shelter_id
    shelters = {s.id: s for s in city.shelters}
    assert {shelters[d.shelter_id].kind for d in (third_day, arrived)} <= {ShelterKind.designated_welfare,
                                                                          ShelterKind.agreement_welfare}
    # handovers: each next team arrives on the last day of the one it relieves, at the same shelter
    assert first.shelter_id == third_day.shelter_id == planned.shelter_id
    assert first.end_date == third_day.start_date and third_day.end_date == planned.start_date
    assert len({d.team_id for d in city.dwat_deployments}) == 4

    # one report for each past day of each deployment that has been on site, filed that evening
    filed = Counter((r.deployment_id, r.report_date) for r in city.dwat_reports)
    expected = {(d.id, d.start_date + timedelta(days=n)) for d in (first, third_day, arrived)
                for n in range((min(d.end_date, NOW - timedelta(days=1)) - d.start_date).days + 1)}
    assert set(filed) == expected and set(filed.values()) == {1} and len(expected) == 7
    for r in city.dwat_reports:
        assert r.observed_at.astimezone(JST).date() == r.report_date and r.reporter and r.activities
        assert 0 <= r.people_assessed <= 60 and 0 <= r.consultations <= 40 and 0 <= r.referrals <= 10

    # requests: the two teams on site each answer one; the first team's is closed; four wait
    states = Counter(r.state for r in city.dwat_requests)
    assert states == {RequestState.open: 4, RequestState.assigned: 2, RequestState.closed: 1}
    for r in city.dwat_requests:
        assert needs_from_text(r.needs)  # the product reads every need as kind and count
        deployment = next((d for d in city.dwat_deployments if d.id == r.deployment_id), None)
        if r.state == RequestState.open:
            assert deployment is None and r.shelter_id not in {d.shelter_id for d in city.dwat_deployments}
        else:
            assert deployment.shelter_id == r.shelter_id
    assert {r.deployment_id for r in city.dwat_requests if r.state == RequestState.assigned} == {third_day.id,
                                                                                                arrived.id}
    assert {r.priority for r in city.dwat_requests if r.state == RequestState.open} == set(RequestPriority)


def test_dwat_demo_is_valid_by_the_products_own_rules(city):
    teams = {t.id: t for t in city.dwat_teams}
    members_of = lambda team_id: [m.id for m in city.dwat_members if m.team_id == team_id]  # noqa: E731
    for d in city.dwat_deployments:
        assert check_team(team_from_rows(teams[d.team_id], city.dwat_members)).ok
    rows = [deployment_from_row(d, members_of(d.team_id)) for d in city.dwat_deployments]
    assert check_deployment_dates(rows) == []
    for r in city.dwat_reports:
        deployment = next(d for d in rows if d.id == r.deployment_id)
        as_filed = dataclasses.replace(deployment, state=DeploymentState.active)
        new_report(r.id, as_filed, report_date=r.report_date, submitted_at=r.observed_at, reporter=r.reporter,
                   counts={"assessment": r.people_assessed, "consultation": r.consultations,
                           "transfer": r.referrals})


def test_dwat_scenario_refuses_what_the_rules_refuse(small_city):
    # a second live deployment of a team over the same days: the builder's own check refuses it
    twice = small_city.dwat_deployments[1].model_copy(update={"id": uuid.uuid4()})
    with pytest.raises(DwatError) as caught:
        check_demo_deployments([*small_city.dwat_deployments, twice], small_city.dwat_teams,
                               small_city.dwat_members)
    assert "member_overlap" in caught.value.codes


def test_dwat_scenario_follows_the_demo_day():
    other = build_demo_city(people=50, now=date(2025, 4, 1))
    active = sorted(d.start_date for d in other.dwat_deployments if d.state == DeploymentState.active)
    assert active == [date(2025, 3, 30), date(2025, 4, 1)]
    assert max(r.report_date for r in other.dwat_reports) == date(2025, 3, 31)


def test_municipality_code_is_fictional_and_valid(city):
    code = city.municipality.municipality_code
    assert code == MUNICIPALITY_CODE and code[5] == municipality_check_digit(code[:5])
    # Tokyo's city codes end at 13229 (西東京市); 132xx above it is unassigned.
    assert code.startswith("132") and int(code[:5]) > 13229


# -- geometry ------------------------------------------------------------------------------

def test_districts_tile_the_city(city):
    boundary = shape(geojson_polygon(city.map.boundary))
    chome = [shape(d.geometry) for d in city.chome]
    areas = {d.id: shape(d.geometry) for d in city.welfare_areas}
    assert boundary.is_valid
    assert all(g.is_valid and g.geom_type == "Polygon" for g in chome + list(areas.values()))
    for i, a in enumerate(chome):
        for b in chome[i + 1:]:
            assert a.intersection(b).area < 1e-12
    assert unary_union(chome).symmetric_difference(boundary).area < 1e-12
    assert unary_union(list(areas.values())).symmetric_difference(boundary).area < 1e-12
    for d, g in zip(city.chome, chome):
        assert areas[d.parent_id].buffer(1e-9).contains(g)
        assert g.contains(Point(d.centroid_lon, d.centroid_lat))
    west, south, east, north = boundary.bounds
    assert 139.38 < west < east < 139.52 and 35.64 < south < north < 35.74


@pytest.mark.parametrize("seed", range(40))
def test_any_seed_draws_a_valid_map(seed):
    city_map = build_map(stream(seed, "map"))
    rings = [c.ring for c in city_map.chome] + [a.ring for a in city_map.areas] + [city_map.boundary]
    assert all(shape(geojson_polygon(r)).is_valid for r in rings)


def test_people_and_shelters_are_inside_their_districts(city):
    polygons = {d.id: shape(d.geometry) for d in city.chome}
    by_district: dict = {}
    for p in city.people:
        by_district.setdefault(p.district_id, []).append((p.lon, p.lat))
    for district_id, points in by_district.items():
        xs, ys = zip(*points)
        assert shapely.contains_xy(polygons[district_id], xs, ys).all()
    for s in city.shelters:
        assert polygons[s.district_id].contains(Point(s.lon, s.lat))
    names = {d.id: d.name for d in city.chome}
    assert all(p.address.startswith("東京都つなぎ市" + names[p.district_id]) for p in city.people)


# -- model validation ----------------------------------------------------------------------

def test_every_record_validates_against_its_create_model(small_city):
    def check(model, rows, exclude=BOOKKEEPING):
        for row in rows:
            model.model_validate(row.model_dump(exclude=exclude))

    check(MunicipalityCreate, [small_city.municipality])
    check(DistrictCreate, small_city.districts)
    # set by the server (seismic class) or by HQ's open request, never through a create
    check(ShelterCreate, small_city.shelters,
          BOOKKEEPING | {"seismic_class", "opened_on_request_at", "opened_on_request_by"})
    check(PersonCreate, small_city.people, BOOKKEEPING | {"kana_key"})  # kana_key: derived by the server
    check(PlanCreate, small_city.plans)
    check(DwatTeamCreate, small_city.dwat_teams)
    check(DwatMemberCreate, small_city.dwat_members)
    check(DwatDeploymentCreate, small_city.dwat_deployments)
    check(DwatRequestCreate, small_city.dwat_requests)
    # an event's bookkeeping is its id and recorded_at; observed_at is refused when "in the
    # future", which NOW (a fixed day) is not
    check(DwatActivityCreate, small_city.dwat_reports, {"recorded_at"})


def test_fast_rows_equal_constructed_rows_and_persist(engine, small_city):
    person = small_city.people[0]
    values = {name: getattr(person, name) for name in Person.model_fields}
    assert Person(**values).model_dump() == new_row(Person, **values).model_dump()
    load_demo_city(engine, small_city)
    with Session(engine) as session:
        stored = session.get(Person, person.id)
        # Read back, JSON columns are plain dicts and enums plain strings: compare as JSON.
        assert stored.model_dump(mode="json", warnings=False) == person.model_dump(mode="json")
        stored.notes = "changed through the ORM"
        session.add(stored)
        session.commit()
    with Session(engine) as session:
        assert session.get(Person, person.id).notes == "changed through the ORM"


# -- loading -------------------------------------------------------------------------------

def test_load_counts_and_refuses_a_second_time(engine, small_city):
    counts = load_demo_city(engine, small_city)
    assert counts == {"municipalities": 1, "districts": len(small_city.districts),
                      "shelters": 35, "people": 500, "plans": len(small_city.plans), "dwat_teams": 8,
                      "dwat_members": len(small_city.dwat_members), "dwat_deployments": 4, "dwat_requests": 7,
                      "dwat_request_steps": len(small_city.dwat_request_steps),
                      "dwat_activity_reports": 7, "dwat_triages": 8, "safety_checks": 2, "hazard_areas": 10}
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Person)).one()[0] == 500
        assert session.exec(select(func.count()).select_from(EvacuationPlan)).one()[0] == len(small_city.plans)
        shelter = session.get(Shelter, small_city.shelters[0].id)
        assert shelter.seismic_class == small_city.shelters[0].seismic_class
    with pytest.raises(ValueError, match="already holds 500 people"):
        load_demo_city(engine, small_city)


def test_replace_deletes_the_demo_city_and_what_refers_to_it(engine, small_city):
    load_demo_city(engine, small_city)
    with Session(engine) as session:
        session.add(SafetyCheck(person_id=small_city.people[0].id, outcome="safe_home",
                                observed_at=datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc),
                                shelter_id=small_city.shelters[0].id))
        session.commit()
    other = build_demo_city(seed=7, people=300, now=NOW)
    counts = load_demo_city(engine, other, replace=True)
    assert counts["people"] == 300
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Person)).one()[0] == 300
        # the old city's checks are gone; the new one's own (its triage moves that arrived) are there
        checks = session.exec(select(SafetyCheck.id)).all()
        assert {row[0] for row in checks} == {c.id for c in other.safety_checks}
        # the new city's disaster only: the old one's deployments, requests and reports are gone
        deployments = session.exec(select(DwatDeployment.id)).all()
        assert {row[0] for row in deployments} == {d.id for d in other.dwat_deployments}
        assert session.exec(select(func.count()).select_from(DwatRequest)).one()[0] == len(other.dwat_requests)
        assert session.exec(select(func.count()).select_from(DwatActivityReport)).one()[0] == len(other.dwat_reports)


# -- geodata -------------------------------------------------------------------------------

def test_committed_geodata_matches_the_generator():
    layers = geodata_layers(build_demo_city(seed=DEFAULT_SEED, people=0))
    for name, text in layers.items():
        committed = (ROOT / "geodata" / name).read_text(encoding="utf-8")
        assert committed == text, f"geodata/{name} is stale: run `python -m server.demo_city`"
    assert sorted(p.name for p in (ROOT / "geodata").glob("*.geojson")) == sorted(layers)


def test_geodata_has_no_people(small_city):
    text = "".join(geodata_layers(small_city).values())
    assert not any(p.name in text or p.address in text for p in small_city.people[:200])


# -- command -------------------------------------------------------------------------------

def test_demo_command_loads_once(tmp_path, capsys):
    from server.cli import build_parser
    from server.settings import load_settings

    settings = load_settings(environ={"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"},
                             dotenv=tmp_path / "no.env")
    args = build_parser().parse_args(["demo", "--people", "50", "--seed", "3", "--no-serve"])
    assert args.func(args, settings) == 0
    out = capsys.readouterr().out
    assert "50 people" in out and "4 deployments, 7 requests, 7 daily reports" in out
    assert args.func(args, settings) == 0
    assert "already holds 50 people" in capsys.readouterr().out
