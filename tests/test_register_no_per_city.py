"""登録者番号 per municipality (migration 0018): each city numbers its own 避難行動要支援者名簿, so
two cities in one installation hold the same numbers. The database, the API, the people and plan
CSVs, the printing lookups and the consent slips all key a number by its municipality; a number
alone that names people of two cities is refused, never guessed. Two cities are built in each
test (tests/test_municipalities.py); a single city's behaviour is checked unchanged."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from server.importers.people_csv import import_people
from server.importers.plans_db import export_plans
from server.migrate import alembic_config, upgrade
from server.models import EvacuationPlan, Person
from tests.csv_helpers import add_districts, people_csv, person_row
from tests.factories import person as person_payload
from tests.test_data_migrations import bare_engine, insert  # noqa: F401  (fixture)
from tests.test_municipalities import A, B, TwoCities

SHARED = f"{A}-yes"  # city A's number, given to a person of city B too


@pytest.fixture
def cities(engine):
    return TwoCities(engine)


def _twin(cities, number: str = SHARED, code: str = B) -> Person:
    """A person of `code` holding `number` (another city's number too)."""
    with Session(cities.engine, expire_on_commit=False) as s:
        twin = Person(register_no=number, municipality_code=code, name="双子", birth_date=date(1941, 2, 2), sex="male",
                      address="住所", district_id=cities.people[(code, "no")].district_id, consent="no")
        s.add(twin)
        s.commit()
    return twin


def _people(engine, number: str) -> dict[str, Person]:
    with Session(engine) as s:
        return {p.municipality_code: p for p in s.exec(select(Person).where(Person.register_no == number)).all()}


# ---- 1. migration 0018 ----

def _downgrade(engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_migration_0018_makes_the_number_unique_per_municipality(bare_engine):
    upgrade(bare_engine, "0017")
    with bare_engine.begin() as conn:
        for code in (A, B):
            insert(conn, "municipality", municipality_code=code, name=code)
        kept = insert(conn, "person", municipality_code=A, register_no="1001", name="試験", sex="female", address="x")
        insert(conn, "person", municipality_code=B, register_no="2002", name="試験", sex="female", address="x")
    with pytest.raises(IntegrityError):  # before 0018: unique across the installation
        with bare_engine.begin() as conn:
            insert(conn, "person", municipality_code=B, register_no="1001", name="試験", sex="female", address="x")

    upgrade(bare_engine)
    with bare_engine.begin() as conn:
        twin = insert(conn, "person", municipality_code=B, register_no="1001", name="試験", sex="male", address="y")
        rows = conn.execute(sa.text("SELECT id, municipality_code FROM person WHERE register_no = '1001'")).all()
    assert {(str(i).replace("-", ""), c) for i, c in rows} == {(kept.hex, A), (twin.hex, B)}
    with pytest.raises(IntegrityError):  # the same number twice in one city is still refused
        with bare_engine.begin() as conn:
            insert(conn, "person", municipality_code=B, register_no="1001", name="試験", sex="female", address="z")
    indexes = {i["name"]: i for i in sa.inspect(bare_engine).get_indexes("person")}
    assert indexes["ix_person_municipality_register"]["column_names"] == ["municipality_code", "register_no"]
    assert indexes["ix_person_municipality_register"]["unique"]
    assert not indexes["ix_person_register_no"]["unique"]  # kept for lookups by number

    # back to 0017: refused plainly while a number is shared, done once it is not
    with pytest.raises(RuntimeError, match="held by several municipalities"):
        _downgrade(bare_engine, "0017")
    with bare_engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM person WHERE municipality_code = :b AND register_no = '1001'"), {"b": B})
    _downgrade(bare_engine, "0017")
    assert sa.inspect(bare_engine).get_indexes("person") and \
        {i["name"]: i["unique"] for i in sa.inspect(bare_engine).get_indexes("person")}["ix_person_register_no"]
    with bare_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM person")).scalar_one() == 2


# ---- 2. the API ----

def test_the_api_stores_another_citys_number_and_refuses_one_city_twice(cities, client_for):
    office_b = client_for("welfare_staff", municipality_codes=[B])
    made = office_b.post("/api/people", json=person_payload(register_no=SHARED, municipality_code=B))
    assert made.status_code == 201, made.text
    assert set(_people(cities.engine, SHARED)) == {A, B}

    again = office_b.post("/api/people", json=person_payload(register_no=SHARED, municipality_code=B))
    assert again.status_code == 422, again.text
    assert [e["field"] for e in again.json()["errors"]] == ["register_no"]

    # renumbering onto a number of one's own city: the same field error; onto another city's: fine
    other = cities.people[(B, "yes")]
    clash = office_b.patch(f"/api/people/{other.id}", json={"version": other.version, "register_no": SHARED})
    assert clash.status_code == 422 and [e["field"] for e in clash.json()["errors"]] == ["register_no"]
    moved = office_b.patch(f"/api/people/{other.id}", json={"version": other.version, "register_no": f"{A}-no"})
    assert moved.status_code == 200, moved.text


def test_one_city_still_refuses_a_number_twice(client):
    assert client.post("/api/people", json=person_payload(register_no="R-1")).status_code == 201
    r = client.post("/api/people", json=person_payload(register_no="R-1"))
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["register_no"]


# ---- the people CSV ----

def _rows(code: str, district: str, **over) -> dict:
    return person_row(登録者番号=SHARED, 市区町村コード=code, 町丁目コード=district, 経度="139.45", 緯度="35.69", **over)


def test_the_people_csv_keys_a_number_by_the_rows_municipality(cities):
    add_districts(cities.engine, "P1", municipality_code=B)
    before = _people(cities.engine, SHARED)[A]
    # an office of city B, the file without a 市区町村コード column: the office's only city
    header = [h for h in person_row() if h != "市区町村コード"]
    report = import_people(cities.engine, people_csv(_rows(B, "P1"), header=header), apply=True,
                           default_municipality_code=B, municipality_codes=[B])
    assert (report.created, report.updated, report.invalid) == (1, 0, 0), report.to_dict()
    found = _people(cities.engine, SHARED)
    assert set(found) == {A, B} and found[A].version == before.version and found[A].name == before.name

    # an office of all cities: each row's 市区町村コード says whose number it updates
    report = import_people(cities.engine, people_csv(_rows(B, "P1", 氏名="二番目　変更"), _rows(A, "C1", 氏名="一番目　変更")),
                           apply=True)
    assert (report.created, report.updated, report.invalid) == (0, 2, 0), report.to_dict()
    found = _people(cities.engine, SHARED)
    assert (found[A].name, found[B].name) == ("一番目　変更", "二番目　変更")

    # the same number and city twice in one file is still a duplicate row
    report = import_people(cities.engine, people_csv(_rows(B, "P1"), _rows(B, "P1")))
    assert [(e.line, e.column) for e in report.errors] == [(3, "登録者番号")]


def test_a_people_row_without_its_municipality_is_not_guessed(cities):
    _twin(cities)
    row = _rows("", "")
    report = import_people(cities.engine, people_csv(row))
    assert report.invalid == 1 and [e.column for e in report.errors] == ["市区町村コード"]
    assert "several municipalities" in report.errors[0].reason


def test_one_city_reimports_by_number_as_before(engine):
    add_districts(engine, "C001")
    assert import_people(engine, people_csv(person_row()), apply=True).created == 1
    report = import_people(engine, people_csv(person_row(氏名="試験　変更")), apply=True)
    assert (report.created, report.updated) == (0, 1)


# ---- 3. the plan CSV export ----

def _export_rows(engine, codes=None) -> list[list[str]]:
    return list(csv.reader(io.StringIO(export_plans(engine, codes).decode("utf-8-sig"))))


def test_the_plan_export_of_several_cities_says_whose_number_and_reimports(cities, client_for):
    twin = _twin(cities)
    a = cities.people[(A, "yes")]
    with Session(cities.engine) as s:
        s.add_all([EvacuationPlan(person_id=a.id, route_note="Aの道"), EvacuationPlan(person_id=twin.id, route_note="Bの道")])
        s.commit()
    rows = _export_rows(cities.engine)
    assert rows[0][:3] == ["登録者番号", "市区町村コード", "氏名"]
    route = rows[0].index("避難経路")
    shared = {r[1]: r for r in rows[1:] if r[0] == SHARED}
    assert set(shared) == {A, B} and (shared[A][route], shared[B][route]) == ("Aの道", "Bの道")
    # the all-cities export, city B's route edited, goes back in to B's person only
    shared[B][route] = "Bの新しい道"
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], shared[A], shared[B]])
    everyone = client_for("admin", municipality_codes=[A, B])
    r = everyone.post("/api/imports/plans?apply=true", content=out.getvalue().encode("utf-8"),
                      headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["errors"] == [] and r.json()["applied"] is True, r.json()
    with Session(cities.engine) as s:
        routes = dict(s.exec(select(EvacuationPlan.person_id, EvacuationPlan.route_note)).all())
    assert routes == {a.id: "Aの道", twin.id: "Bの新しい道"}
    # one city's export (an office of B) carries the column too: the installation has several
    assert _export_rows(cities.engine, {B})[0][:2] == ["登録者番号", "市区町村コード"]


def test_a_single_citys_plan_export_is_unchanged(engine):
    from server.importers.plans_csv import export_header

    add_districts(engine, "C001")
    import_people(engine, people_csv(person_row()), apply=True)
    rows = _export_rows(engine)
    assert rows[0] == export_header() and "市区町村コード" not in rows[0]
    assert rows[1][:2] == ["T-0001", "試験　一郎"]


# ---- printing and consent slips ----

def test_a_consent_slip_number_of_two_cities_is_not_guessed(cities):
    from server.printing.consent_letters import SharedNumber, find_by_code, slip_code

    twin = _twin(cities)
    with Session(cities.engine) as s:
        with pytest.raises(SharedNumber):
            find_by_code(s, SHARED)
        assert find_by_code(s, slip_code(SHARED, twin.id)).id == twin.id  # the check part says which
        a = cities.people[(A, "yes")]
        assert find_by_code(s, slip_code(SHARED, a.id)).id == a.id
        assert find_by_code(s, SHARED, [Person.municipality_code == B]).id == twin.id  # one city's register


def test_the_consent_reply_form_asks_for_the_slip_code(cities, client_for):
    _twin(cities)
    everyone = client_for("admin", municipality_codes=[A, B])
    r = everyone.post("/workbench/consents", data={"code": SHARED, "answered_on": "2026-04-01",
                                                   "method": "written", "c_fire": "consented"})
    assert r.status_code == 422, r.text
    assert "複数の市区町村" in r.text
    # an office of city B alone: its own register holds the number once
    office_b = client_for("welfare_staff", municipality_codes=[B])
    mine = office_b.post("/workbench/consents", data={"code": SHARED, "answered_on": "2026-04-01",
                                                      "method": "written", "c_fire": "consented"})
    assert mine.status_code == 200, mine.text


def test_the_print_cli_key_names_the_city_when_a_number_is_shared(cities):
    from server.errors import ApiError
    from server.printing.selection import Scope, plan_by_key
    from server.records.access import UNRESTRICTED

    twin = _twin(cities)
    with Session(cities.engine, expire_on_commit=False) as s:
        plans = {code: EvacuationPlan(person_id=pid) for code, pid in ((A, cities.people[(A, "yes")].id), (B, twin.id))}
        s.add_all(plans.values())
        s.commit()
    with Session(cities.engine) as s:
        scope = Scope(UNRESTRICTED, UNRESTRICTED)  # the CLI's
        with pytest.raises(ApiError) as refused:
            plan_by_key(s, SHARED, scope)
        assert refused.value.status == 409
        assert plan_by_key(s, f"{B}:{SHARED}", scope).id == plans[B].id
        assert plan_by_key(s, f"{A}:{SHARED}", scope).id == plans[A].id


def test_the_supporter_form_links_the_person_of_the_entrys_city(cities, client_for):
    """A supporter who is on the register too (本人も要支援者) is linked by 登録者番号: the number
    of the entry's city (chosen, or its 町丁目's), never another city's person with the same number."""
    from server.models import District, SupporterRecord

    twin = _twin(cities)
    both = client_for("admin", municipality_codes=[A, B])
    base = {"kind": "neighbour", "availability": "anytime", "person_register_no": SHARED}
    for name, extra in (("Bの人", {"municipality_code": B}), ("Aの人", {"municipality_code": A})):
        r = both.post("/workbench/supporters/new", data={**base, "name": name, **extra}, follow_redirects=False)
        assert r.status_code == 303, r.text
    with Session(cities.engine) as s:
        chome_a = s.exec(select(District.id).where(District.municipality_code == A, District.kind == "chome")).one()
    r = both.post("/workbench/supporters/new", data={**base, "name": "町のAの人", "district_id": str(chome_a)},
                  follow_redirects=False)
    assert r.status_code == 303, r.text
    with Session(cities.engine) as s:
        linked = {x.name: x.person_id for x in s.exec(select(SupporterRecord)).all()}
    a = cities.people[(A, "yes")].id
    assert linked == {"Bの人": twin.id, "Aの人": a, "町のAの人": a}


def test_a_district_code_two_cities_use_is_resolved_within_the_callers_cities(cities):
    """Each city codes its own 町丁目 (both test cities have C1): a print by district code takes the
    caller's city's, asks which when the caller holds both, and never resolves another city's."""
    import uuid as _uuid

    from server.auth.principal import Principal
    from server.errors import ApiError
    from server.models import District
    from server.models.auth import Mode, Role
    from server.printing.selection import Scope, resolve_district
    from server.records.access import Access

    def scope(codes):
        who = Principal(user_id=_uuid.uuid4(), username="x", role=Role.welfare_staff, mode=Mode.normal,
                        municipality_codes=codes)
        return Scope(Access(principal=who), Access(principal=who))

    with Session(cities.engine) as s:
        c1 = {d.municipality_code: d.id for d in s.exec(select(District).where(District.code == "C1")).all()}
        assert resolve_district(s, "C1", scope(frozenset({B}))).id == c1[B]
        assert resolve_district(s, "C1", scope(frozenset({A}))).id == c1[A]
        with pytest.raises(ApiError) as which:
            resolve_district(s, "C1", scope(frozenset({A, B})))
        assert which.value.status == 409
        assert resolve_district(s, f"{B}:C1", scope(frozenset({A, B}))).id == c1[B]
        for key in (f"{B}:C1", str(c1[B])):  # another city's district, by code or by id: unknown
            with pytest.raises(ApiError) as unknown:
                resolve_district(s, key, scope(frozenset({A})))
            assert unknown.value.status == 404
