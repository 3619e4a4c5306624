"""Matching over HTTP and in the database: run, read, confirm, roles, audit, and the re-run
when a shelter report changes a shelter's state."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
from sqlmodel import Session, select

from server.domain.matching.store import load_inputs, run_matching
from server.models import EvacuationPlan, MatchProposal, Person, SafetyCheck, Shelter
from server.models.auth import AuditEntry
from tests.factories import now_jst

LON, LAT = 139.45, 35.69


class City:
    """Two welfare shelters close together, one far old building, five people."""

    def __init__(self, engine):
        with Session(engine, expire_on_commit=False) as s:
            self.power = Shelter(name="電源あり", kind="designated_welfare", capacity=2, target_groups=["elderly"],
                                 capabilities=["backup_power", "wheelchair_access"], lon=LON + 0.002, lat=LAT,
                                 building_permit_date=date(1995, 1, 1), seismic_class="new_standard")
            # A 協定福祉避難所 is used only once HQ has asked it to open: this one has been asked.
            self.plain = Shelter(name="一般的", kind="agreement_welfare", capacity=5, target_groups=["elderly"],
                                 capabilities=["wheelchair_access"], lon=LON + 0.004, lat=LAT,
                                 building_permit_date=date(1995, 1, 1), seismic_class="new_standard",
                                 opened_on_request_at=datetime.fromisoformat(now_jst(30)), opened_on_request_by="hq")
            self.old = Shelter(name="旧耐震", kind="designated_welfare", capacity=5, target_groups=["elderly"],
                               capabilities=["wheelchair_access"], lon=LON - 0.001, lat=LAT,
                               building_permit_date=date(1975, 1, 1), seismic_class="old_undiagnosed")
            self.school = Shelter(name="小学校", kind="designated", capacity=300, target_groups=["general"],
                                  lon=LON, lat=LAT)
            s.add_all([self.power, self.plain, self.old, self.school])
            s.flush()

            def person(no, needs, reasons=("care_level_3plus",), **kw):
                p = Person(register_no=no, municipality_code="132144", name="試験", birth_date=date(1940, 1, 1),
                           sex="female", address="住所", lon=LON, lat=LAT, reasons=list(reasons),
                           care_needs=list(needs), **kw)
                s.add(p)
                return p

            self.vent = person("VENT", ["ventilator"], ("medical_care",))
            self.wheel = person("WHEEL", ["wheelchair"])
            self.planned = person("PLAN", ["wheelchair"])
            self.home = person("HOME", ["wheelchair"])
            self.general = person("GEN", [], ("elderly_household",))
            s.flush()
            s.add(EvacuationPlan(person_id=self.planned.id, destination_shelter_id=self.plain.id))
            s.add(SafetyCheck(person_id=self.home.id, outcome="safe_home",
                              observed_at=datetime.fromisoformat(now_jst())))
            s.commit()


@pytest.fixture
def city(engine):
    return City(engine)


def run(client, **body):
    response = client.post("/api/matching/run", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def placed(client, proposal_id) -> dict:
    detail = client.get(f"/api/matching/proposals/{proposal_id}").json()
    return {a["person_id"]: a["shelter_id"] for a in detail["assignments"]}


def test_who_is_considered(engine, city):
    with Session(engine) as s:
        people, shelters, left_out = load_inputs(s)
    assert {p.id for p in people} == {city.vent.id, city.wheel.id, city.planned.id}  # not GEN, not HOME
    assert left_out == {"staying_home": 1, "already_at_shelter": 0}
    assert {sh.id for sh in shelters} == {city.power.id, city.plain.id, city.old.id}  # no 指定避難所


def test_run_read_and_confirm(client, city):
    result = run(client)
    assert result["state"] == "proposed" and result["compared_with_id"] is None
    assert result["summary"]["placed"] == 3 and result["summary"]["placed_by_plan"] == 1
    assignments = placed(client, result["id"])
    assert assignments[str(city.vent.id)] == str(city.power.id)      # only one with backup power
    assert assignments[str(city.planned.id)] == str(city.plain.id)   # the plan's destination, though farther
    assert assignments[str(city.wheel.id)] == str(city.old.id)       # nearest; no earthquake yet

    confirmed = client.post(f"/api/matching/proposals/{result['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    assert client.post(f"/api/matching/proposals/{result['id']}/confirm").status_code == 409
    latest = client.get("/api/matching/proposals/latest", params={"state": "confirmed"}).json()
    assert latest["id"] == result["id"]


def test_after_strong_shaking_old_buildings_are_not_used_and_the_diff_shows_it(client, city):
    first = run(client)
    client.post(f"/api/matching/proposals/{first['id']}/confirm")
    second = run(client, intensity="6弱")
    assert second["compared_with_id"] == first["id"]
    assert second["summary"]["shelters_blocked"] == {"seismic": 1}
    assert second["diff"]["moved"] == [{"person_id": str(city.wheel.id), "from": str(city.old.id),
                                        "to": str(city.power.id)}]
    assert second["params"]["intensity"] == 5.5


def test_a_shelter_report_that_changes_a_shelter_re_runs_the_matching(client, client_for, engine, city):
    first = run(client)
    client.post(f"/api/matching/proposals/{first['id']}/confirm")
    staff = client_for("shelter_staff", shelter_ids=[str(city.power.id)])
    report = staff.post("/api/shelter-reports", json={"shelter_id": str(city.power.id), "open_state": "open",
                                                       "damage": "unusable", "observed_at": now_jst(1)})
    assert report.status_code == 201, report.text
    latest = client.get("/api/matching/proposals/latest").json()
    assert latest["trigger"] == f"shelter_report:{report.json()['id']}" and latest["created_by"] == "system"
    assert latest["diff"]["removed"] == [{"person_id": str(city.vent.id), "from": str(city.power.id),
                                          "reason": "no_compatible_shelter"}]
    # A report that changes nothing (same state again) does not re-run.
    again = staff.post("/api/shelter-reports", json={"shelter_id": str(city.power.id), "open_state": "open",
                                                      "damage": "unusable", "observed_at": now_jst(0)})
    assert again.status_code == 201
    assert client.get("/api/matching/proposals/latest").json()["id"] == latest["id"]
    # Occupancy filling the room changes the state too.
    full = client.post("/api/shelter-reports", json={"shelter_id": str(city.plain.id), "open_state": "open",
                                                     "occupancy": 5, "observed_at": now_jst(0)})
    assert full.status_code == 201
    newest = client.get("/api/matching/proposals/latest").json()
    assert newest["trigger"] == f"shelter_report:{full.json()['id']}"
    assert str(city.planned.id) in {r["person_id"] for r in newest["diff"]["removed"]} | \
        {m["person_id"] for m in newest["diff"]["moved"]}


def test_reports_before_any_run_do_not_start_matching(client, engine, city):
    response = client.post("/api/shelter-reports", json={"shelter_id": str(city.power.id), "open_state": "open",
                                                         "damage": "unusable", "observed_at": now_jst(1)})
    assert response.status_code == 201
    with Session(engine) as s:
        assert s.exec(select(MatchProposal)).all() == []


@pytest.mark.parametrize("role, run_status, read_status", [
    ("admin", 201, 200), ("welfare_staff", 201, 200), ("hq_viewer", 403, 200),
    ("district_supporter", 403, 403), ("shelter_staff", 403, 403),
])
def test_roles(client, client_for, city, role, run_status, read_status):
    proposal = run(client)
    as_role = client_for(role)
    assert as_role.post("/api/matching/run", json={}).status_code == run_status
    assert as_role.get(f"/api/matching/proposals/{proposal['id']}").status_code == read_status
    assert as_role.get("/api/matching/proposals").status_code == read_status
    confirm_status = 200 if run_status == 201 else 403
    assert as_role.post(f"/api/matching/proposals/{proposal['id']}/confirm").status_code in (confirm_status, 409)


def test_runs_confirmations_and_reads_are_audited_with_ids_only(client, engine, city):
    proposal = run(client)
    client.post(f"/api/matching/proposals/{proposal['id']}/confirm")
    client.get(f"/api/matching/proposals/{proposal['id']}")
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.resource == "matching")).all()
    assert {e.action for e in entries} >= {"match_run", "match_confirm", "read"}
    assert all(e.record_ids == [proposal["id"]] for e in entries)


def test_bad_requests(client, city):
    assert client.post("/api/matching/run", json={"intensity": "strong"}).status_code == 422
    assert client.post("/api/matching/run", json={"max_walk_m": 5}).status_code == 422
    assert client.post("/api/matching/run", json={"colour": "red"}).status_code == 422
    assert client.get(f"/api/matching/proposals/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/matching/proposals/not-a-uuid").status_code == 404
    assert client.get("/api/matching/proposals/latest").status_code == 404
    assert client.post(f"/api/matching/proposals/{uuid.uuid4()}/confirm").status_code == 404
    assert client.get("/api/matching/proposals/latest", params={"state": "odd"}).status_code == 422


def test_a_new_run_supersedes_the_unconfirmed_one(engine, city):
    with Session(engine) as s:
        first = run_matching(s)
        second = run_matching(s)
        s.commit()
        s.refresh(first)
        assert (first.state, second.state) == ("superseded", "proposed")


def test_cli_match_prints_summary_and_diff(engine, city, monkeypatch, capsys):
    from server import cli

    monkeypatch.setenv("DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    assert cli.main(["match", "--apply-confirm"]) == 0
    assert cli.main(["match", "--intensity", "6+"]) == 0
    out = capsys.readouterr().out
    assert "placed 3 (plan destination 1, optimised 2)" in out
    assert "WHEEL: 旧耐震 → 電源あり" in out and "shelters not usable: seismic 1" in out


def _plan(engine, person, destination, alternate):
    with Session(engine) as s:
        plan = s.exec(select(EvacuationPlan).where(EvacuationPlan.person_id == person.id)).first() or \
            EvacuationPlan(person_id=person.id)
        plan.destination_shelter_id = destination.id if destination else None
        plan.alternate_shelter_id = alternate.id if alternate else None
        s.add(plan)
        s.commit()


def test_the_plans_alternate_takes_over_when_the_destination_is_unusable_and_says_why(client, engine, city,
                                                                                      monkeypatch, capsys):
    # 第一避難先: the old building; 第二避難先: the 協定 shelter HQ has asked to open.
    _plan(engine, city.planned, city.old, city.plain)
    _plan(engine, city.wheel, city.school, city.plain)  # a 指定避難所 first: matching may not use it
    with Session(engine) as s:
        people, _, _ = load_inputs(s)
    by_id = {p.id: p for p in people}
    assert (by_id[city.planned.id].destination, by_id[city.planned.id].alternate) == (city.old.id, city.plain.id)
    assert (by_id[city.wheel.id].destination, by_id[city.wheel.id].alternate) == (None, city.plain.id)

    first = run(client)
    client.post(f"/api/matching/proposals/{first['id']}/confirm")
    detail = client.get(f"/api/matching/proposals/{first['id']}").json()
    sources = {a["person_id"]: (a["shelter_id"], a["source"], a.get("because")) for a in detail["assignments"]}
    assert sources[str(city.planned.id)] == (str(city.old.id), "plan", None)  # no earthquake: the destination
    assert sources[str(city.wheel.id)] == (str(city.plain.id), "plan_alternate", "no_destination")

    second = run(client, intensity="6弱")  # the old building is now excluded by the seismic rule
    detail = client.get(f"/api/matching/proposals/{second['id']}").json()
    planned = next(a for a in detail["assignments"] if a["person_id"] == str(city.planned.id))
    assert (planned["shelter_id"], planned["source"], planned["because"]) == \
        (str(city.plain.id), "plan_alternate", "seismic")
    assert planned["because_label"] == {"ja": "耐震基準により使用しない", "en": "excluded by the seismic rule"}
    assert second["summary"]["placed_by_alternate"] == 2
    assert second["summary"]["alternate_because"] == {"seismic": 1, "no_destination": 1}
    assert {"person_id": str(city.planned.id), "from": str(city.old.id), "to": str(city.plain.id)} in \
        second["diff"]["moved"]
    from server import cli

    monkeypatch.setenv("DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    assert cli.main(["match", "--intensity", "6-"]) == 0
    assert "placed 3 (plan destination 0, plan alternate 2, optimised 1)" in capsys.readouterr().out
