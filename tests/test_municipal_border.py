"""Several municipalities: the gaps closed at the border (docs/access.md "Municipalities").

A plan's destination across the border through every write path (JSON API, sync, workbench form,
plan CSV — one rule), the supporter register of an office holding several cities, the plan CSV
import of an office of all cities (the same 登録者番号 in two cities), the referral stage per
municipality and a shared shelter's capacity in matching. Two cities are built in each test
(tests/test_municipalities.py); the rest of the suite runs single-city."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlmodel import Session, select

from server.models import District, EvacuationPlan, Municipality, Person, Shelter, SupporterRecord
from tests.test_data_migrations import bare_engine  # noqa: F401  (fixture)
from tests.test_municipalities import A, B, TwoCities


@pytest.fixture
def cities(engine):
    return TwoCities(engine)


def _office(client_for, code):
    return client_for("welfare_staff", municipality_codes=[code])


def _accept(cities, code_of_shelter: str, *codes: str) -> None:
    with Session(cities.engine) as s:
        s.get(Shelter, cities.shelter[code_of_shelter].id).accepts_from = list(codes)
        s.commit()


# ---- 1. a plan's destination across the border, every write path ----

def test_the_plan_api_refuses_a_shelter_of_another_city_that_does_not_accept_the_person(cities, client_for):
    office_a = _office(client_for, A)
    person = cities.people[(A, "no")]
    shelter_b = str(cities.shelter[B].id)
    for field in ("destination_shelter_id", "alternate_shelter_id"):
        r = office_a.post("/api/plans", json={"person_id": str(person.id), field: shelter_b})
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]
    with Session(cities.engine) as s:
        assert not s.exec(select(EvacuationPlan)).all()
    made = office_a.post("/api/plans", json={"person_id": str(person.id),
                                              "destination_shelter_id": str(cities.shelter[A].id)})
    assert made.status_code == 201, made.text
    moved = office_a.patch(f"/api/plans/{made.json()['id']}", json={"version": 1, "alternate_shelter_id": shelter_b})
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "alternate_shelter_id"
    # once city B's shelter accepts city A's people (受入協定), the same plan may name it
    _accept(cities, B, A)
    ok = office_a.patch(f"/api/plans/{made.json()['id']}", json={"version": 1, "alternate_shelter_id": shelter_b})
    assert ok.status_code == 200, ok.text
    # the agreement ends: a stored destination is shown, not re-refused (the plan stays editable)
    _accept(cities, B)
    again = office_a.patch(f"/api/plans/{made.json()['id']}", json={"version": 2, "route_note": "坂道を避ける"})
    assert again.status_code == 200, again.text


def test_the_field_apps_sync_refuses_the_same_destination(cities, client_for):
    office_a = _office(client_for, A)
    person = cities.people[(A, "yes")]
    m = {"id": str(uuid.uuid4()), "entity": "plans", "op": "create",
         "data": {"id": str(uuid.uuid4()), "person_id": str(person.id),
                  "destination_shelter_id": str(cities.shelter[B].id)}}
    r = office_a.post("/api/sync/mutations", json={"device_id": "tablet-a", "mutations": [m]})
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["status"] == "rejected"
    assert [e["field"] for e in result["errors"]] == ["destination_shelter_id"]
    with Session(cities.engine) as s:
        assert not s.exec(select(EvacuationPlan)).all()


def test_the_workbench_form_refuses_it_too(cities, client_for):
    """The picker offers only accepting shelters; a form sent with another id is refused the same way."""
    office_a = _office(client_for, A)
    person = cities.people[(A, "yes")]
    r = office_a.post(f"/workbench/people/{person.id}/plan",
                      data={"status": "drafting", "destination_shelter_id": str(cities.shelter[B].id)})
    assert r.status_code == 422 and "受入協定" in r.text
    with Session(cities.engine) as s:
        assert not s.exec(select(EvacuationPlan)).all()


def test_one_city_keeps_any_shelter(engine, client_for):
    """A single municipality: a shelter's municipality code is not compared (as before)."""
    with Session(engine, expire_on_commit=False) as s:
        s.add(Municipality(municipality_code=A, name="市A"))
        chome = District(municipality_code=A, code="C1", name="一丁目", kind="chome")
        shelter = Shelter(name="古い避難所", kind="designated", capacity=5, municipality_code="",
                          lon=139.45, lat=35.69, seismic_class="new_standard", building_permit_date=date(1995, 1, 1))
        s.add_all([chome, shelter])
        s.flush()
        person = Person(register_no="1", municipality_code=A, name="試験", birth_date=date(1940, 1, 1), sex="female",
                        address="住所", district_id=chome.id, consent="yes", lon=139.45, lat=35.69)
        s.add(person)
        s.commit()
    r = client_for("welfare_staff").post("/api/plans", json={"person_id": str(person.id),
                                                              "destination_shelter_id": str(shelter.id)})
    assert r.status_code == 201, r.text


# ---- 2. the supporter register of an office holding several municipalities ----

def _chome(cities, code):
    with Session(cities.engine) as s:
        return s.exec(select(District).where(District.municipality_code == code, District.kind == "chome")).one().id


def test_the_supporter_form_of_an_office_of_two_cities_asks_which_city(cities, client_for):
    both = client_for("admin", municipality_codes=[A, B])
    form = both.get("/workbench/supporters/new")
    assert form.status_code == 200 and 'name="municipality_code"' in form.text
    assert "市A" in form.text and "市B" in form.text and "町丁目から決める" in form.text
    english = both.get("/workbench/supporters/new?lang=en").text
    assert ">Municipality</label>" in english and "from the district" in english
    assert 'name="municipality_code"' not in _office(client_for, A).get("/workbench/supporters/new").text
    base = {"kind": "neighbour", "name": "両市の支援者", "availability": "anytime"}
    # neither a city nor a 町丁目: the form comes back with the error beside the selector
    refused = both.post("/workbench/supporters/new", data=base)
    assert refused.status_code == 422 and 'id="err-municipality_code"' in refused.text
    assert "市区町村か町丁目を指定してください" in refused.text and 'value="両市の支援者"' in refused.text
    named = both.post("/workbench/supporters/new", data={**base, "municipality_code": B}, follow_redirects=False)
    assert named.status_code == 303, named.text
    by_district = both.post("/workbench/supporters/new", data={**base, "name": "町の支援者",
                                                                "district_id": str(_chome(cities, A))},
                            follow_redirects=False)
    assert by_district.status_code == 303, by_district.text
    with Session(cities.engine) as s:
        made = {r.name: r for r in s.exec(select(SupporterRecord)).all()}
    assert made["両市の支援者"].municipality_code == B and made["町の支援者"].municipality_code == A
    # editing a saved entry offers its own city's 町丁目 only, and no city selector
    edit = both.get(f"/workbench/supporters/{made['両市の支援者'].id}/edit")
    assert edit.status_code == 200 and 'name="municipality_code"' not in edit.text
    assert str(_chome(cities, B)) in edit.text and str(_chome(cities, A)) not in edit.text


def test_an_update_never_moves_a_supporter_into_another_citys_district(cities, client_for):
    both = client_for("admin", municipality_codes=[A, B])
    made = both.post("/api/supporters", json={"name": "甲", "municipality_code": A})
    assert made.status_code == 201, made.text
    sid, chome_a, chome_b = made.json()["id"], _chome(cities, A), _chome(cities, B)
    for field, value in (("district_id", str(chome_b)), ("area_district_ids", [str(chome_b)])):
        r = both.patch(f"/api/supporters/{sid}", json={"version": 1, field: value})
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]
    ok = both.patch(f"/api/supporters/{sid}", json={"version": 1, "district_id": str(chome_a),
                                                     "area_district_ids": [str(chome_a)]})
    assert ok.status_code == 200 and ok.json()["municipality_code"] == A
    # the workbench form refuses it the same way (a crafted form)
    form = both.post(f"/workbench/supporters/{sid}/edit", data={
        "version": "2", "kind": "neighbour", "name": "甲", "availability": "anytime", "district_id": str(chome_b)})
    assert form.status_code == 422 and 'id="err-district_id"' in form.text
    with Session(cities.engine) as s:
        assert s.get(SupporterRecord, uuid.UUID(sid)).district_id == chome_a


def test_a_district_of_another_city_is_refused_as_if_absent(cities, client_for):
    office_a = _office(client_for, A)
    chome_b, missing = _chome(cities, B), uuid.uuid4()
    made = office_a.post("/api/supporters", json={"name": "乙"})
    assert made.status_code == 201
    answers = {}
    for name, value in (("other", chome_b), ("missing", missing)):
        create = office_a.post("/api/supporters", json={"name": "丙", "district_id": str(value)})
        update = office_a.patch(f"/api/supporters/{made.json()['id']}", json={"version": 1, "district_id": str(value)})
        assert create.status_code == update.status_code == 422, (create.text, update.text)
        answers[name] = [e["message"].replace(str(value), "ID") for r in (create, update) for e in r.json()["errors"]]
    assert answers["other"] == answers["missing"]  # nothing says city B's 町丁目 exists


# ---- 3. the plan CSV import of an office of all cities: 登録者番号 per municipality ----

def test_a_register_number_of_two_cities_is_looked_up_per_municipality():
    """Each city numbers its own register, so two may both have a 1001: a row that does not say
    which is reported with its line (not guessed); the 市区町村コード column (code or name) decides.
    The database keeps 登録者番号 unique per municipality (migration 0018); the import's
    database tests use a real shared number (below)."""
    from server.importers.plans_csv import RegisterIndex, ShelterIndex, parse_plans_csv
    people = RegisterIndex([(A, "1001", "person-a"), (B, "1001", "person-b"), (A, "2002", "only-a")],
                           {A: "市A", B: "市B"})
    shelters = ShelterIndex([])
    report, parsed = parse_plans_csv("登録者番号,避難経路\n2002,坂\n1001,坂\n".encode(), people, shelters, date(2026, 1, 5))
    assert [p.plan.person_id for p in parsed] == ["only-a"]
    assert [(e.line, e.column) for e in report.errors] == [(3, "登録者番号")]
    assert "several municipalities" in report.errors[0].reason and "市区町村コード" in report.errors[0].reason
    text = f"登録者番号,市区町村コード,避難経路\n1001,{A[:5]},坂\n1001,市B,坂\n1001,{B},坂\n2002,,坂\n2002,{B},坂\n"
    report, parsed = parse_plans_csv(text.encode(), people, shelters, date(2026, 1, 5))
    assert [p.plan.person_id for p in parsed] == ["person-a", "person-b", "only-a"]
    reasons = {e.line: e.reason for e in report.errors}
    assert set(reasons) == {4, 6}
    assert "duplicate person, first on line 3" in reasons[4] and "not on your register" in reasons[6]


def _import(client, text: str, apply: bool = True) -> dict:
    r = client.post(f"/api/imports/plans?apply={'true' if apply else 'false'}", content=text.encode("utf-8"),
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    return r.json()


def _plans(cities) -> dict:
    with Session(cities.engine) as s:
        return {p.person_id: p.destination_shelter_id for p in s.exec(select(EvacuationPlan)).all()}


def test_an_import_by_an_office_of_all_cities_follows_the_municipality_column(cities, client_for):
    """City B's register holds a real 1 of city A's numbers too (the database allows it since
    0018): a row that does not say whose is refused with its line, not guessed; a row naming a
    city gets that city's person; nothing is written until the file is right."""
    everyone = client_for("admin", municipality_codes=[A, B])
    name_a, name_b = cities.shelter[A].name, cities.shelter[B].name
    number = f"{A}-yes"
    with Session(cities.engine) as s:
        twin = Person(register_no=number, municipality_code=B, name="試験", birth_date=date(1940, 1, 1), sex="male",
                      address="住所", district_id=cities.people[(B, "no")].district_id, consent="no")
        s.add(twin)
        s.commit()
        twin_id = twin.id
    report = _import(everyone, f"登録者番号,市区町村コード,避難先\n{A}-no,,{name_a}\n{number},,{name_a}\n")
    assert report["applied"] is False and [(e["line"], e["column"]) for e in report["errors"]] == [(3, "登録者番号")]
    assert "several municipalities" in report["errors"][0]["reason"]
    assert _plans(cities) == {}
    done = _import(everyone, f"登録者番号,市区町村コード,避難先\n{A}-no,,{name_a}\n{number},市A,{name_a}\n"
                             f"{number},{B},{name_b}\n")
    assert done["applied"] is True and done["counts"]["created"] == 3, done
    assert _plans(cities) == {cities.people[(A, "no")].id: cities.shelter[A].id,
                              cities.people[(A, "yes")].id: cities.shelter[A].id, twin_id: cities.shelter[B].id}


def test_the_municipality_column_keeps_to_the_callers_registers(cities, client_for):
    office_a = _office(client_for, A)
    name_a = cities.shelter[A].name
    report = _import(office_a, f"登録者番号,市区町村コード,避難先\n{A}-yes,{B},{name_a}\n{A}-yes,99999,{name_a}\n"
                               f"{A}-yes,{A},{name_a}\n{A}-yes,,{name_a}\n", apply=False)
    reasons = {e["line"]: (e["column"], e["reason"]) for e in report["errors"]}
    assert set(reasons) == {2, 3, 5}
    assert reasons[2][0] == "市区町村コード" and "not one of your municipalities" in reasons[2][1]
    assert reasons[3][0] == "市区町村コード"
    assert "duplicate person, first on line 4" in reasons[5][1]  # the same person, with or without the code
    assert report["counts"]["valid"] == 1


# ---- 4. the referral stage per municipality ----

def _moves_in_both(cities) -> dict:
    """In each city a DWAT team at a general shelter (指定避難所) asks to move the consented person
    to a 福祉避難所 (福祉的トリアージ): matching of that city places them at its welfare shelter."""
    from datetime import datetime, timedelta, timezone

    from server.domain.japan_time import today_jst
    from server.models import DwatDeployment, DwatTeam
    from server.models.dwat_field import DwatTriage
    now = datetime.now(timezone.utc) - timedelta(minutes=10)
    with Session(cities.engine) as s:
        for code in (A, B):
            general = Shelter(name=f"{code}小学校", kind="designated", capacity=100, municipality_code=code,
                              lon=139.45, lat=35.69, seismic_class="new_standard", building_permit_date=date(1995, 1, 1))
            team = DwatTeam(name=f"班{code}")
            s.add_all([general, team])
            s.flush()
            deployment = DwatDeployment(team_id=team.id, shelter_id=general.id,
                                        start_date=today_jst() - timedelta(days=1), state="active")
            s.add(deployment)
            s.flush()
            s.add(DwatTriage(deployment_id=deployment.id, person_id=cities.people[(code, "yes")].id,
                             shelter_id=general.id, outcome="move_to_welfare_shelter", groups=["elderly"],
                             observed_at=now, reporter="記録者"))
        s.commit()


def _run_and_confirm(client) -> str:
    run = client.post("/api/matching/run", json={})
    assert run.status_code == 201, run.text
    assert client.post(f"/api/matching/proposals/{run.json()['id']}/confirm").status_code == 200
    return run.json()["id"]


def _stages(client) -> dict:
    r = client.get("/api/dwat/referrals")
    assert r.status_code == 200, r.text
    return {i["register_no"]: (i["stage"], i["destination"]) for i in r.json()["items"]}


def test_another_citys_newer_proposal_leaves_a_citys_moves_decided(cities, client_for):
    _moves_in_both(cities)
    office_a, office_b = _office(client_for, A), _office(client_for, B)
    first = _run_and_confirm(office_a)
    decided = ("placed", cities.shelter[A].name)
    assert _stages(office_a) == {f"{A}-yes": decided}
    # city B runs: its proposal is pending; A's stays decided, B's move is proposed
    run_b = office_b.post("/api/matching/run", json={})
    assert run_b.status_code == 201
    assert _stages(office_a) == {f"{A}-yes": decided}
    assert _stages(office_b) == {f"{B}-yes": ("proposed", cities.shelter[B].name)}
    # city B confirms: A's confirmed proposal stays in force (it is not B's to supersede)
    assert office_b.post(f"/api/matching/proposals/{run_b.json()['id']}/confirm").status_code == 200
    assert _stages(office_a) == {f"{A}-yes": decided}
    assert office_a.get(f"/api/matching/proposals/{first}").json()["state"] == "confirmed"
    everyone = client_for("admin", municipality_codes=[A, B])
    assert _stages(everyone) == {f"{A}-yes": decided, f"{B}-yes": ("placed", cities.shelter[B].name)}
    # A's next run compares with A's confirmed proposal, not B's
    again = office_a.post("/api/matching/run", json={}).json()
    assert again["diff"]["moved"] == [] and again["diff"]["added"] == [] and again["diff"]["removed"] == []


# ---- 5. a shelter shared across the border: its capacity in matching ----

def test_two_cities_cannot_together_fill_a_shared_shelter_beyond_its_capacity(cities, client_for):
    """City B's welfare shelter (3 places) accepts city A's people; A's own shelter is full. B's
    confirmed proposal holds two places there, so A's run may use only the one left."""
    from server.models import SafetyCheck, ShelterReport
    from datetime import datetime, timedelta, timezone
    with Session(cities.engine) as s:
        s.get(Shelter, cities.shelter[A].id).capacity = 0
        shared = s.get(Shelter, cities.shelter[B].id)
        shared.capacity, shared.accepts_from = 3, [A]
        s.commit()
    shared_id = str(cities.shelter[B].id)
    office_a, office_b = _office(client_for, A), _office(client_for, B)

    def placed(client, proposal_id) -> dict:
        detail = client.get(f"/api/matching/proposals/{proposal_id}").json()
        return {a["person_id"]: a["shelter_id"] for a in detail["assignments"]}

    b_run = _run_and_confirm(office_b)
    assert placed(office_b, b_run) == {pid: shared_id for pid in cities.ids(B)}
    a_run = office_a.post("/api/matching/run", json={}).json()
    a_placed = placed(office_a, a_run["id"])
    assert list(a_placed.values()) == [shared_id], a_placed  # one place left for A's two people
    assert len(a_run["diff"]["added"]) == 1
    # one of B's people has arrived (安否確認 at the shelter, counted in its report): not counted twice
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    arrived = cities.people[(B, "yes")].id
    with Session(cities.engine) as s:
        s.add(SafetyCheck(person_id=arrived, outcome="evacuated", shelter_id=cities.shelter[B].id, observed_at=now))
        s.add(ShelterReport(shelter_id=cities.shelter[B].id, open_state="open", occupancy=1, observed_at=now))
        s.commit()
    again = office_a.post("/api/matching/run", json={}).json()
    assert list(placed(office_a, again["id"]).values()) == [shared_id]
    # an unconfirmed proposal of B holds nothing: B runs again without confirming
    with Session(cities.engine) as s:
        s.get(Shelter, cities.shelter[B].id).capacity = 4  # room for everyone now
        s.commit()
    office_b.post("/api/matching/run", json={})
    latest = office_a.post("/api/matching/run", json={}).json()
    assert sorted(placed(office_a, latest["id"])) == sorted(cities.ids(A))
