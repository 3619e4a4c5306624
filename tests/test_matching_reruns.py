"""Re-runs of matching after a shelter report, per municipality: every municipality whose
people may use the shelter (its own, those in its accepts_from: 広域避難) or are placed there is
re-run, each in its own run; the others are left alone (docs/matching.md)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from server.models import MatchProposal, Municipality, Person, Shelter
from tests.factories import now_jst
from tests.test_municipalities import A, B, LAT, LON, TwoCities

C = "132985"  # a third city, with its own shelter, that shares nothing


@pytest.fixture
def cities(engine):
    cities = TwoCities(engine)
    with Session(engine, expire_on_commit=False) as s:
        s.add(Municipality(municipality_code=C, name="市C"))
        cities.shelter[C] = Shelter(name="市C福祉避難所", kind="designated_welfare", capacity=5, municipality_code=C,
                                    target_groups=["elderly"], capabilities=["wheelchair_access"], lon=LON + 0.003,
                                    lat=LAT, seismic_class="new_standard", building_permit_date=date(1995, 1, 1))
        cities.people[(C, "yes")] = Person(register_no=f"{C}-yes", municipality_code=C, name="試験",
                                           birth_date=date(1940, 1, 1), sex="female", address="住所", lon=LON,
                                           lat=LAT, reasons=["care_level_3plus"], care_needs=["wheelchair"])
        s.add_all([cities.shelter[C], cities.people[(C, "yes")]])
        # A's own shelter has no room: A's people go to B's, which accepts them (広域避難).
        s.get(Shelter, cities.shelter[A].id).capacity = 0
        s.get(Shelter, cities.shelter[B].id).accepts_from = [A]
        s.commit()
    return cities


def _run_and_confirm(client) -> dict:
    run = client.post("/api/matching/run", json={})
    assert run.status_code == 201, run.text
    assert client.post(f"/api/matching/proposals/{run.json()['id']}/confirm").status_code == 200
    return run.json()


def _report(client_for, shelter, **fields) -> str:
    staff = client_for("shelter_staff", shelter_ids=[str(shelter.id)], municipality_codes=[shelter.municipality_code])
    response = staff.post("/api/shelter-reports", json={"shelter_id": str(shelter.id), "open_state": "open",
                                                         "observed_at": now_jst(0), **fields})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _rerun_for(engine, report_id: str) -> dict:
    """Municipality code → the proposals the report's re-runs made for it."""
    with Session(engine) as s:
        rows = s.exec(select(MatchProposal).where(MatchProposal.trigger == f"shelter_report:{report_id}")).all()
    found: dict = {}
    for p in rows:
        found.setdefault(p.params.get("municipality_code"), []).append(p)
    return found


def test_a_report_re_runs_every_municipality_the_shelter_concerns_and_no_other(cities, client_for, engine):
    office = {code: client_for("welfare_staff", municipality_codes=[code]) for code in (A, B, C)}
    shared = str(cities.shelter[B].id)
    _run_and_confirm(office[B])
    a_run = _run_and_confirm(office[A])
    assert a_run["summary"]["placed"] == 2
    _run_and_confirm(office[C])  # the newest proposal is C's, which has nothing to do with B's shelter

    # B's shelter reports occupancy: B (its own) and A (in accepts_from) re-run, one run each; C not.
    report = _report(client_for, cities.shelter[B], occupancy=2)
    reruns = _rerun_for(engine, report)
    assert sorted(reruns) == sorted([A, B]) and all(len(runs) == 1 for runs in reruns.values())
    assert all(p.created_by == "system" and p.state == "proposed" for runs in reruns.values() for p in runs)
    # each run keeps to its municipality: B's re-run places B's people only, A's A's
    assert {a[0] for a in reruns[B][0].assignments} <= cities.ids(B)
    assert {a[0] for a in reruns[A][0].assignments} <= cities.ids(A)
    assert {a[1] for a in reruns[A][0].assignments} == {shared}
    # 2 reported there + B's 2 confirmed: one place left for A, and A's diff says who lost theirs
    assert len(reruns[A][0].assignments) == 1 and len(reruns[A][0].diff["removed"]) == 1
    c_latest = office[C].get("/api/matching/proposals/latest").json()
    assert c_latest["trigger"] == "manual" and c_latest["state"] == "confirmed"

    # B's shelter stops taking A's people; A's proposals still place one there: A is re-run too.
    with Session(engine) as s:
        s.get(Shelter, cities.shelter[B].id).accepts_from = []
        s.commit()
    report = _report(client_for, cities.shelter[B], damage="unusable")
    reruns = _rerun_for(engine, report)
    assert sorted(reruns) == sorted([A, B])
    assert reruns[A][0].assignments == []  # nowhere left for A's people
    assert {r["person_id"] for r in reruns[A][0].diff["removed"]} == cities.ids(A)

    # A report on C's shelter concerns C alone.
    report = _report(client_for, cities.shelter[C], occupancy=1)
    assert sorted(_rerun_for(engine, report)) == [C]


def test_a_municipality_that_has_not_run_matching_is_not_started(cities, client_for, engine):
    _run_and_confirm(client_for("welfare_staff", municipality_codes=[B]))
    report = _report(client_for, cities.shelter[B], occupancy=1)  # A may use the shelter but never ran matching
    assert sorted(_rerun_for(engine, report)) == [B]


def test_a_run_for_the_whole_installation_is_re_run_as_one(cities, client_for, engine):
    """A run for everyone (no municipality, e.g. `tsunagu match`) that is the newest: re-run as before."""
    from server.domain.matching.store import confirm, run_matching

    with Session(engine) as s:
        confirm(s, run_matching(s, created_by="cli").id, "cli")
        s.commit()
    report = _report(client_for, cities.shelter[B], occupancy=1)
    assert list(_rerun_for(engine, report)) == [None]
