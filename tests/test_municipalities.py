"""Several municipalities in one installation (issue 11 item 6, docs/access.md "Municipalities"):
the mode per municipality, accounts that name their municipality, the sync feed of a device of
one city, cross-border shelters (広域避難) in matching, the migration of a single-city database and
`tsunagu demo --cities 2`. The access test (tests/test_access_table.py) covers every resource
route across the border."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from server.models import District, Municipality, Person, Shelter
from server.models.auth import User
from tests.test_data_migrations import bare_engine  # noqa: F401  (fixture)

A, B = "132144", "132021"  # two neighbouring cities (codes with their check digits)
LON, LAT = 139.45, 35.69


class TwoCities:
    """City A and city B, each with a welfare area, a 町丁目, a welfare shelter and two people
    (one consented, one not)."""

    def __init__(self, engine):
        self.engine = engine
        self.area, self.shelter, self.people = {}, {}, {}
        with Session(engine, expire_on_commit=False) as s:
            for code, name in ((A, "市A"), (B, "市B")):
                s.add(Municipality(municipality_code=code, name=name))
                area = District(municipality_code=code, code="W1", name=f"{name}圏域", kind="welfare_area")
                s.add(area)
                s.flush()
                chome = District(municipality_code=code, code="C1", name=f"{name}一丁目", kind="chome", parent_id=area.id)
                shelter = Shelter(name=f"{name}福祉避難所", kind="designated_welfare", capacity=5, municipality_code=code,
                                  target_groups=["elderly"], capabilities=["wheelchair_access"],
                                  lon=LON + (0.002 if code == A else 0.004), lat=LAT, seismic_class="new_standard",
                                  building_permit_date=date(1995, 1, 1))
                s.add_all([chome, shelter])
                s.flush()
                self.area[code], self.shelter[code] = area, shelter
                for consent in ("yes", "no"):
                    person = Person(register_no=f"{code}-{consent}", municipality_code=code, name="試験",
                                    birth_date=date(1940, 1, 1), sex="female", address="住所", district_id=chome.id,
                                    consent=consent, consent_date=date(2025, 4, 1) if consent == "yes" else None,
                                    lon=LON, lat=LAT, reasons=["care_level_3plus"],
                                    care_needs=["wheelchair"])
                    s.add(person)
                    self.people[(code, consent)] = person
            s.commit()

    def ids(self, code: str) -> set[str]:
        return {str(p.id) for (c, _), p in self.people.items() if c == code}


@pytest.fixture
def cities(engine):
    return TwoCities(engine)


def _register_nos(client) -> set[str]:
    r = client.get("/api/people?limit=500")
    assert r.status_code == 200, r.text
    return {p["register_no"] for p in r.json()["items"]}


def test_city_staff_read_their_own_register_only(cities, client_for):
    staff_b = client_for("welfare_staff", municipality_codes=[B])
    assert _register_nos(staff_b) == {f"{B}-yes", f"{B}-no"}
    a_person = cities.people[(A, "yes")]
    assert staff_b.get(f"/api/people/{a_person.id}").status_code == 404
    # creating a record of the other city is refused like any write outside the caller's scope
    from tests.factories import person as person_payload

    assert staff_b.post("/api/people", json=person_payload(municipality_code=A)).status_code == 403
    assert staff_b.post("/api/people", json=person_payload(municipality_code=B)).status_code == 201
    exported = staff_b.get("/api/exports/people.csv")
    assert exported.status_code == 200 and f"{A}-yes" not in exported.text and f"{B}-yes" in exported.text


def test_mode_is_per_municipality(cities, client_for):
    """A quake declared in city A opens A's register to A's supporters; city B stays normal and its
    supporters still see only those who consented."""
    admin_a = client_for("admin", municipality_codes=[A])
    switched = admin_a.post("/api/mode", json={"mode": "disaster", "reason": "試験: 市A直下地震"})
    assert switched.status_code == 200 and switched.json()["municipality_code"] == A
    assert admin_a.get("/api/mode").json()["mode"] == "disaster"
    assert admin_a.get(f"/api/mode?municipality_code={B}").status_code == 422  # not theirs
    admin_b = client_for("admin", municipality_codes=[B])
    assert admin_b.get("/api/mode").json()["mode"] == "normal"
    assert admin_b.get("/api/me").json()["mode"] == "normal"
    supporter_a = client_for("district_supporter", municipality_codes=[A], district_ids=[str(cities.area[A].id)])
    supporter_b = client_for("district_supporter", municipality_codes=[B], district_ids=[str(cities.area[B].id)])
    assert _register_nos(supporter_a) == {f"{A}-yes", f"{A}-no"}
    assert _register_nos(supporter_b) == {f"{B}-yes"}
    # an administrator of city B may not switch city A
    assert admin_b.post("/api/mode", json={"mode": "normal", "reason": "x", "municipality_code": A}).status_code == 422
    assert admin_a.get("/api/mode").json()["mode"] == "disaster"


def test_a_caller_of_several_municipalities_gets_each_mode(cities, client_for):
    admin_a = client_for("admin", municipality_codes=[A])
    admin_a.post("/api/mode", json={"mode": "disaster", "reason": "試験"})
    both = client_for("hq_viewer", municipality_codes=[A, B])
    modes = {m["municipality_code"]: m["mode"] for m in both.get("/api/mode").json()["municipalities"]}
    assert modes == {A: "disaster", B: "normal"}
    me = both.get("/api/me").json()
    assert me["mode"] == "disaster" and {m["code"]: m["mode"] for m in me["municipalities"]} == modes
    # a field role over both, in mixed modes: consent is waived only for the city in disaster
    supporter = client_for("district_supporter", municipality_codes=[A, B],
                           district_ids=[str(cities.area[A].id), str(cities.area[B].id)])
    assert _register_nos(supporter) == {f"{A}-yes", f"{A}-no", f"{B}-yes"}
    back = admin_a.post("/api/mode", json={"mode": "normal", "reason": "x"})
    assert back.status_code == 200 and back.json()["municipality_code"] == A  # their only one: the default
    several = client_for("admin", municipality_codes=[A, B])
    assert several.post("/api/mode", json={"mode": "normal", "reason": "x"}).status_code == 422


def test_user_create_names_the_municipality_when_there_are_several(cities, client_for):
    admin = client_for("admin", municipality_codes=[A, B])
    body = {"username": "fukushi-x", "password": "correct horse battery", "role": "welfare_staff"}
    refused = admin.post("/api/users", json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "municipality_codes"
    assert admin.post("/api/users", json={**body, "municipality_codes": [A, B]}).status_code == 422  # one only
    created = admin.post("/api/users", json={**body, "municipality_codes": ["13202"]})  # 5 digits: normalised
    assert created.status_code == 201 and created.json()["municipality_codes"] == [B]
    # a city's administrator creates and sees accounts of that city only
    admin_a = client_for("admin", municipality_codes=[A])
    assert admin_a.post("/api/users", json={**body, "username": "fukushi-y", "municipality_codes": [B]}).status_code == 422
    assert "fukushi-x" not in {u["username"] for u in admin_a.get("/api/users").json()["items"]}
    assert admin_a.patch(f"/api/users/{created.json()['id']}", json={"version": 1, "active": False}).status_code == 404


def test_one_municipality_needs_no_setting(engine, client_for):
    with Session(engine) as s:
        s.add(Municipality(municipality_code=A, name="市A"))
        s.commit()
    admin = client_for("admin")  # an account made before municipalities: no codes
    created = admin.post("/api/users", json={"username": "fukushi-z", "password": "correct horse battery",
                                             "role": "welfare_staff"})
    assert created.status_code == 201 and created.json()["municipality_codes"] == [A]
    switched = admin.post("/api/mode", json={"mode": "disaster", "reason": "試験"})
    assert switched.json()["municipality_code"] == A and admin.get("/api/mode").json()["mode"] == "disaster"


def test_the_sync_feed_of_a_city_b_device_has_no_city_a_rows(cities, client_for):
    device = client_for("welfare_staff", municipality_codes=[B])
    items, cursor = [], ""
    for _ in range(20):
        page = device.get(f"/api/sync/changes?cursor={cursor}").json()
        items += page["items"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    ids = {i["id"] for i in items}
    assert cities.ids(B) <= ids and not cities.ids(A) & ids
    assert str(cities.shelter[A].id) not in ids and str(cities.shelter[B].id) in ids
    assert {i["data"].get("municipality_code") for i in items if i["entity"] in ("people", "districts")} == {B}


def test_matching_places_people_in_a_shelter_across_the_border_when_it_accepts_them(cities, client_for):
    """City A's own shelter is full; city B's accepts A's people (受入協定): matching for A uses it,
    and B's shelter staff then see whom their shelter expects."""
    with Session(cities.engine) as s:
        s.get(Shelter, cities.shelter[A].id).capacity = 0
        s.commit()
    staff_a = client_for("welfare_staff", municipality_codes=[A])

    def run() -> dict:
        r = staff_a.post("/api/matching/run", json={})
        assert r.status_code == 201, r.text
        return staff_a.get(f"/api/matching/proposals/{r.json()['id']}").json()

    before = run()
    assert not before["assignments"]  # B's shelter does not take A's people yet
    # city B's office opens its shelter to city A (a shelter update, within B's write scope)
    staff_b = client_for("welfare_staff", municipality_codes=[B])
    shelter_b = staff_b.get(f"/api/shelters/{cities.shelter[B].id}").json()
    assert staff_a.patch(f"/api/shelters/{shelter_b['id']}", json={"version": shelter_b["version"],
                                                                  "accepts_from": [A]}).status_code == 404
    opened = staff_b.patch(f"/api/shelters/{shelter_b['id']}", json={"version": shelter_b["version"],
                                                                    "accepts_from": [A]})
    assert opened.status_code == 200 and opened.json()["accepts_from"] == [A]
    assert str(cities.shelter[B].id) in {s["id"] for s in staff_a.get("/api/shelters").json()["items"]}
    after = run()
    placed = {a["person_id"]: a["shelter_id"] for a in after["assignments"]}
    assert placed and set(placed) <= cities.ids(A) and set(placed.values()) == {str(cities.shelter[B].id)}
    # B's proposal list does not show A's run
    assert after["id"] not in {p["id"] for p in staff_b.get("/api/matching/proposals").json()["items"]}
    # the plan of an A person names B's shelter: B's shelter staff (in disaster) see the person
    person = cities.people[(A, "no")]
    plan = staff_a.post("/api/plans", json={"person_id": str(person.id),
                                            "destination_shelter_id": str(cities.shelter[B].id)})
    assert plan.status_code == 201, plan.text
    client_for("admin", municipality_codes=[B]).post("/api/mode", json={"mode": "disaster", "reason": "試験"})
    shelter_staff_b = client_for("shelter_staff", municipality_codes=[B], shelter_ids=[str(cities.shelter[B].id)])
    assert shelter_staff_b.get(f"/api/people/{person.id}").status_code == 200
    assert shelter_staff_b.get(f"/api/people/{cities.people[(A, 'yes')].id}").status_code == 404


def test_the_prefecture_coordinator_never_reads_the_register(cities, client_for):
    pref = client_for("prefecture_coordinator", municipality_codes=[A, B])
    for path in ("/api/people", "/api/plans", "/api/safety-checks", "/api/hq/people-points", "/api/exports/people.csv"):
        assert pref.get(path).status_code == 403, path
    assert pref.get("/api/dwat-requests").status_code == 200
    assert {s["id"] for s in pref.get("/api/shelters").json()["items"]} >= {str(cities.shelter[A].id),
                                                                           str(cities.shelter[B].id)}


def test_migration_0010_puts_a_single_city_database_in_its_municipality(bare_engine):
    """A populated single-city database (SQLite file or a PostgreSQL schema of its own): its
    accounts join the municipality, its mode switches become the municipality's."""
    from server.migrate import upgrade
    from tests.test_data_migrations import insert

    upgrade(bare_engine, "0009")
    with bare_engine.begin() as conn:
        insert(conn, "municipality", municipality_code=A, name="市A")
        user = insert(conn, "app_user", username="fukushi", role="welfare_staff", password_hash="x",
                      district_ids=[], shelter_ids=[])
        shelter = insert(conn, "shelter", municipality_code=A, name="避難所", kind="designated_welfare",
                         seismic_class="unknown")
        conn.execute(sa.text("INSERT INTO mode_switch (at, mode, reason) VALUES ('2026-01-01 00:00:00+00', 'disaster', 'x')"))
    upgrade(bare_engine)
    with Session(bare_engine) as s:
        assert s.get(User, user).municipality_codes == [A]
        assert s.get(Shelter, shelter).accepts_from == []
        assert s.exec(sa.text("SELECT municipality_code FROM mode_switch")).all() == [(A,)]
        from server.auth.mode import current_mode

        assert current_mode(s, A) == "disaster" and current_mode(s) == "disaster"


def test_demo_with_two_cities(engine):
    from server.auth.demo_users import seed_demo_users
    from server.auth.principal import load_principal
    from server.demo_city.city import build_demo_city
    from server.demo_city.common import MUNICIPALITY_CODE, NEIGHBOUR_CODE
    from server.demo_city.loading import load_demo_city
    from server.demo_city.neighbour import build_neighbour

    load_demo_city(engine, build_demo_city(people=120))
    counts = load_demo_city(engine, build_neighbour(20261206, 40), alongside=True)
    assert counts["people"] == 40 and counts["shelters"] > 0
    with Session(engine) as s:
        accounts = {a.username: a for a in seed_demo_users(s, demo_mode=True,
                                                           municipalities=[MUNICIPALITY_CODE, NEIGHBOUR_CODE])}
        s.commit()
        assert {"demo-fukushi", "demo-fukushi-2", "demo-minsei-2", "demo-pref"} <= set(accounts)
        second = load_principal(s, s.exec(select(User).where(User.username == "demo-fukushi-2")).one())
        assert second.municipality_codes == {NEIGHBOUR_CODE}
        pref = s.exec(select(User).where(User.username == "demo-pref")).one()
        assert sorted(pref.municipality_codes) == sorted([MUNICIPALITY_CODE, NEIGHBOUR_CODE])
        accepting = s.exec(select(Shelter).where(Shelter.municipality_code == NEIGHBOUR_CODE)).all()
        assert [x.accepts_from for x in accepting if x.accepts_from] == [[MUNICIPALITY_CODE]]
        codes = set(s.exec(select(Person.municipality_code)).all())
        assert codes == {MUNICIPALITY_CODE, NEIGHBOUR_CODE}
        # each city numbers its own register: むすび町's numbers are つなぎ市's too
        shared = s.exec(select(Person.register_no).group_by(Person.register_no)
                        .having(sa.func.count() > 1)).all()
        assert len(shared) == 40
        assert len(set(s.exec(select(Shelter.common_id).where(Shelter.common_id.is_not(None))).all())) == \
            s.exec(select(sa.func.count()).select_from(Shelter).where(Shelter.common_id.is_not(None))).one()


def test_an_office_imports_its_own_register_only(cities, client_for):
    """A CSV with both cities' people, imported by city B's office: city A's rows are refused (not
    one of the office's municipalities), B's are valid."""
    everything = client_for("admin", municipality_codes=[A, B]).get("/api/exports/people.csv")
    assert everything.status_code == 200 and f"{A}-yes" in everything.text
    staff_b = client_for("welfare_staff", municipality_codes=[B])
    report = staff_b.post("/api/imports/people", content=everything.content,
                          headers={"Content-Type": "text/csv"}).json()
    assert report["counts"]["valid"] == 2 and report["counts"]["invalid"] == 2, report
    assert staff_b.post("/api/imports/people?apply=1", content=everything.content,
                        headers={"Content-Type": "text/csv"}).json()["counts"]["updated"] == 0
    with Session(cities.engine) as s:
        assert s.get(Person, cities.people[(A, "yes")].id).version == 1


def test_a_city_administrator_manages_the_devices_of_its_own_accounts(cities, client_for):
    admin_a = client_for("admin", municipality_codes=[A])
    staff_b = client_for("welfare_staff", municipality_codes=[B])
    admin_all = client_for("admin", municipality_codes=[A, B])
    b_tokens = [t["id"] for t in admin_all.get(f"/api/tokens?user_id={staff_b.user.id}").json()["items"]]
    assert b_tokens
    assert not admin_a.get(f"/api/tokens?user_id={staff_b.user.id}").json()["items"]
    assert admin_a.post(f"/api/tokens/{b_tokens[0]}/revoke").status_code == 404
    assert staff_b.get("/api/me").status_code == 200


def test_sync_conflicts_stay_with_their_municipality(cities, client_for):
    """A conflict holds the values of its record: another city's office neither lists nor resolves it."""
    from server.models.sync import SyncConflict

    staff_a = client_for("welfare_staff", municipality_codes=[A])
    staff_b = client_for("welfare_staff", municipality_codes=[B])
    person_b = cities.people[(B, "yes")]
    with Session(cities.engine) as s:
        conflict = SyncConflict(entity="people", record_id=person_b.id, field="notes", base_value="",
                                server_value="事務所の値", client_value="端末の値", mutation_id=uuid.uuid4(),
                                user_id=staff_b.user.id)
        s.add(conflict)
        s.commit()
        conflict_id = conflict.id
    assert [c["id"] for c in staff_b.get("/api/conflicts").json()["items"]] == [str(conflict_id)]
    assert staff_a.get("/api/conflicts").json()["items"] == []
    assert staff_a.post(f"/api/conflicts/{conflict_id}/resolve", json={"choice": "server"}).status_code == 404
    assert staff_b.post(f"/api/conflicts/{conflict_id}/resolve", json={"choice": "server"}).status_code == 200


def test_a_city_administrator_reads_the_audit_of_its_own_accounts(cities, client_for):
    admin_a = client_for("admin", municipality_codes=[A])
    staff_b = client_for("welfare_staff", municipality_codes=[B])
    staff_b.get("/api/people")  # audited lists
    admin_a.get("/api/people")
    admin_all = client_for("admin", municipality_codes=[A, B])
    assert str(staff_b.user.id) in {e["user_id"] for e in admin_all.get("/api/audit?limit=1000").json()["items"]}
    own = admin_a.get("/api/audit?limit=1000").json()["items"]
    assert own and str(staff_b.user.id) not in {e["user_id"] for e in own}
    assert str(staff_b.user.id) not in admin_a.get("/api/audit.csv").text
