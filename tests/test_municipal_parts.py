"""Several municipalities and the parts built alongside them (docs/access.md "Municipalities"):
the supporter register (支援者台帳) and its duplicate candidates, Art. 49-11 sharing (holdings,
handovers, consent letters, reply slips), the plan CSV import, and DWAT on site (reports,
site-days, chronology, referrals). City A's office never sees city B's rows; one municipality
changes nothing (the rest of the suite runs single-city)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from server.domain.japan_time import today_jst
from server.models import (DwatActivityReport, DwatDeployment, DwatTeam, PersonConsent, Shelter, SupporterCandidate,
                           SupporterRecord)
from server.models.dwat_field import DwatTriage
from server.models.sharing import ShareHandover
from server.printing.consent_letters import slip_code
from tests.test_data_migrations import bare_engine, insert  # noqa: F401  (fixture)
from tests.test_municipalities import A, B, TwoCities

NOW = datetime.now(timezone.utc) - timedelta(minutes=10)


@pytest.fixture
def cities(engine):
    return TwoCities(engine)


def _office(client_for, code):
    return client_for("welfare_staff", municipality_codes=[code])


# ---- the supporter register ----

def _supporters(cities) -> dict[str, uuid.UUID]:
    """A supporter per city and a duplicate-candidate pair per city (names carry the city)."""
    out = {}
    with Session(cities.engine) as s:
        for code in (A, B):
            chome = cities.area[code].id  # the welfare area stands for the 町丁目 here
            first = SupporterRecord(name=f"支援者{code}甲", kind="neighbour", district_id=chome, municipality_code=code,
                                    phone="042-000-0001")
            second = SupporterRecord(name=f"支援者{code}甲", kind="neighbour", municipality_code=code, phone="042-000-0002")
            s.add_all([first, second])
            s.flush()
            pair = SupporterCandidate(a_id=first.id, b_id=second.id, reason="same_name_other_phone")
            s.add(pair)
            s.flush()
            out[code], out[f"pair-{code}"] = first.id, pair.id
        s.commit()
    return out


def test_a_city_office_reads_its_own_supporters_only(cities, client_for):
    ids = _supporters(cities)
    office_a = _office(client_for, A)
    assert office_a.get(f"/api/supporters/{ids[B]}").status_code == 404
    assert office_a.get(f"/api/supporters/{ids[A]}").status_code == 200
    listed = {i["id"] for i in office_a.get("/api/supporters?limit=500").json()["items"]}
    assert str(ids[A]) in listed and str(ids[B]) not in listed
    assert office_a.patch(f"/api/supporters/{ids[B]}", json={"version": 1, "notes": "x"}).status_code == 404
    # the workbench: list, page, search, candidates
    page = office_a.get("/workbench/supporters")
    assert page.status_code == 200 and f"支援者{A}甲" in page.text and f"支援者{B}甲" not in page.text
    assert office_a.get(f"/workbench/supporters/{ids[B]}").status_code == 404
    assert office_a.get(f"/workbench/supporters/{ids[B]}/edit").status_code == 404
    found = office_a.get("/workbench/supporters/search", params={"q": "支援者"}).json()["items"]
    assert found and all(f"支援者{A}" in i["name"] for i in found)
    pairs = office_a.get("/workbench/supporters/candidates")
    assert pairs.status_code == 200 and f"支援者{A}甲" in pairs.text and f"支援者{B}甲" not in pairs.text
    # another city's pair can be neither merged nor kept apart
    for decision in ("merge", "keep_apart"):
        r = office_a.post(f"/workbench/supporters/candidates/{ids[f'pair-{B}']}", data={"decision": decision})
        assert r.status_code == 404, decision
    with Session(cities.engine) as s:
        assert s.get(SupporterCandidate, ids[f"pair-{B}"]).state == "open"
        assert s.get(SupporterRecord, ids[B]) is not None


def test_a_new_supporter_takes_the_callers_or_the_districts_municipality(cities, client_for):
    office_b = _office(client_for, B)
    made = office_b.post("/api/supporters", json={"name": "新しい支援者", "kind": "neighbour"})
    assert made.status_code == 201, made.text
    assert made.json()["municipality_code"] == B
    assert _office(client_for, A).get(f"/api/supporters/{made.json()['id']}").status_code == 404
    # an office of both cities: the 町丁目 says which; without it the entry's city must be named
    both = client_for("admin", municipality_codes=[A, B])
    by_district = both.post("/api/supporters", json={"name": "町の支援者", "district_id": str(cities.area[A].id)})
    assert by_district.status_code == 201 and by_district.json()["municipality_code"] == A
    ambiguous = both.post("/api/supporters", json={"name": "どこかの支援者"})
    assert ambiguous.status_code == 422
    assert ambiguous.json()["errors"][0]["field"] == "municipality_code"
    named = both.post("/api/supporters", json={"name": "どこかの支援者", "municipality_code": "13202"})
    assert named.status_code == 201 and named.json()["municipality_code"] == B
    mismatch = both.post("/api/supporters", json={"name": "x", "municipality_code": B,
                                                  "district_id": str(cities.area[A].id)})
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["field"] == "district_id"
    # city A's office may not make an entry for city B
    assert _office(client_for, A).post("/api/supporters", json={"name": "x", "municipality_code": B}).status_code == 403


def test_the_supporters_register_number_link_keeps_to_the_callers_register(cities, client_for):
    office_a = _office(client_for, A)
    form = {"kind": "neighbour", "name": "本人が支援者", "availability": "anytime", "person_register_no": f"{B}-yes"}
    r = office_a.post("/workbench/supporters/new", data=form)
    assert r.status_code == 422 and "名簿にいません" in r.text
    ok = office_a.post("/workbench/supporters/new", data={**form, "person_register_no": f"{A}-yes"},
                       follow_redirects=False)
    assert ok.status_code == 303


# ---- Art. 49-11 sharing ----

def _handovers(cities) -> None:
    """The same fire station got each city's consented person from that city's office."""
    with Session(cities.engine) as s:
        for code in (A, B):
            person = cities.people[(code, "yes")]
            s.add(ShareHandover(recipient="fire", recipient_name="東消防署", handed_on=date(2026, 1, 5),
                                person_ids=[str(person.id)], mode="normal", medium="print",
                                what=f"名簿{code}", handed_by=f"office-{code}"))
            s.add(PersonConsent(person_id=person.id, recipient="fire", answer="consented", answered_on=date(2025, 4, 1)))
        s.commit()


def test_the_sharing_report_and_csv_hold_the_callers_people_only(cities, client_for):
    _handovers(cities)
    office_a = _office(client_for, A)
    page = office_a.get("/workbench/sharing")
    assert page.status_code == 200 and f"名簿{A}" in page.text and f"名簿{B}" not in page.text
    held = office_a.get("/workbench/sharing", params={"recipient_name": "東消防署"})
    assert f"{A}-yes" in held.text and f"{B}-yes" not in held.text
    assert '<td data-held>1</td>' in held.text
    csv = office_a.get("/workbench/sharing.csv").content.decode("utf-8-sig")
    assert f"{A}-yes" in csv and f"{B}-yes" not in csv
    both = client_for("admin", municipality_codes=[A, B]).get("/workbench/sharing.csv").content.decode("utf-8-sig")
    assert f"{A}-yes" in both and f"{B}-yes" in both


def test_consent_letters_and_replies_keep_to_the_callers_register(cities, client_for):
    office_a = _office(client_for, A)
    letters = office_a.get("/workbench/consents/letters.pdf", params={"district": str(cities.area[B].id)})
    assert letters.status_code == 422 and "地区が見つかりません" in letters.text
    consents = office_a.get("/workbench/consents")
    assert "市A圏域" in consents.text and "市B圏域" not in consents.text  # the district choices
    person_b = cities.people[(B, "no")]
    for code in (f"{B}-no", slip_code(f"{B}-no", person_b.id), f"TSUNAGU:consent:{person_b.id}"):
        r = office_a.post("/workbench/consents", data={"code": code, "answered_on": "2026-01-05", "method": "written",
                                                      "c_fire": "consented"})
        assert r.status_code == 422 and "見つかりません" in r.text, code
    assert client_for("admin", municipality_codes=[A, B]).get(f"/api/consents?person_id={person_b.id}").json()["items"] == []
    mine = office_a.post("/workbench/consents", data={"code": f"{A}-no", "answered_on": "2026-01-05",
                                                     "method": "written", "c_fire": "consented"})
    assert mine.status_code == 200


# ---- the plan CSV import ----

def _import(client, text: str):
    r = client.post("/api/imports/plans", content=text.encode("utf-8"), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_plan_import_refuses_another_citys_people_and_shelters_that_do_not_accept_them(cities, client_for):
    office_a = _office(client_for, A)
    shelter_b = cities.shelter[B].name
    report = _import(office_a, f"登録者番号,避難先\n{B}-yes,\n{A}-yes,{shelter_b}\n{A}-no,\n")
    reasons = {e["line"]: e["reason"] for e in report["errors"]}
    assert "not on your register" in reasons[2]
    assert "受入" in reasons[3] and "another municipality" in reasons[3]
    assert report["counts"]["invalid"] == 2
    # B's office opens its shelter to A (受入協定): the destination is accepted
    with Session(cities.engine) as s:
        s.get(Shelter, cities.shelter[B].id).accepts_from = [A]
        s.commit()
    again = _import(office_a, f"登録者番号,避難先\n{A}-yes,{shelter_b}\n")
    assert again["errors"] == [] and again["counts"]["valid"] == 1
    # the web screen imports the same way
    page = office_a.post("/workbench/plans/import", files={"file": ("plans.csv", f"登録者番号,避難先\n{B}-yes,\n".encode(),
                                                                  "text/csv")})
    assert "not on your register" in page.text


# ---- DWAT on site ----

def _dwat(cities) -> dict:
    """A team deployed in each city, a daily report each, and a triage moving city B's person."""
    today = today_jst()
    out = {}
    with Session(cities.engine) as s:
        for code in (A, B):
            team = DwatTeam(name=f"班{code}")
            s.add(team)
            s.flush()
            deployment = DwatDeployment(team_id=team.id, shelter_id=cities.shelter[code].id,
                                        start_date=today - timedelta(days=1), state="active")
            s.add(deployment)
            s.flush()
            s.add(DwatActivityReport(deployment_id=deployment.id, report_date=today, observed_at=NOW,
                                     counts={"consultation": 3}, reporter=f"記録者{code}"))
            triage = DwatTriage(deployment_id=deployment.id, person_id=cities.people[(code, "yes")].id,
                                shelter_id=cities.shelter[code].id, outcome="move_to_welfare_shelter",
                                groups=["elderly"], observed_at=NOW, reporter=f"記録者{code}")
            s.add(triage)
            out[code] = triage.id
        s.commit()
    return out


def test_dwat_pages_keep_to_the_callers_municipalities(cities, client_for):
    _dwat(cities)
    shelter_a, shelter_b = cities.shelter[A].name, cities.shelter[B].name
    office_a = _office(client_for, A)
    sites = {i["site"] for i in office_a.get("/api/dwat/site-days").json()["items"]}
    assert sites == {shelter_a}
    page = office_a.get("/dwat/reports")
    assert page.status_code == 200 and shelter_a in page.text and shelter_b not in page.text and f"班{B}" not in page.text
    chronology = office_a.get("/api/dwat/chronology.csv").content.decode("utf-8-sig")
    assert shelter_a in chronology and shelter_b not in chronology and f"記録者{B}" not in chronology
    referrals = office_a.get("/api/dwat/referrals").json()["items"]
    assert [r["register_no"] for r in referrals] == [f"{A}-yes"]
    page = office_a.get("/dwat/referrals")
    assert page.status_code == 200 and f"{A}-yes" in page.text and f"{B}-yes" not in page.text
    hq_b = client_for("hq_viewer", municipality_codes=[B])
    assert {i["site"] for i in hq_b.get("/api/dwat/site-days").json()["items"]} == {shelter_b}
    # the prefecture coordinator of both cities follows both, without names
    pref = client_for("prefecture_coordinator", municipality_codes=[A, B])
    items = pref.get("/api/dwat/site-days").json()["items"]
    assert {i["site"] for i in items} == {cities.shelter[A].name, cities.shelter[B].name}
    chronology = pref.get("/api/dwat/chronology.csv")
    assert chronology.status_code == 200
    text = chronology.content.decode("utf-8-sig") + str(items) + pref.get("/dwat/reports").text
    assert cities.shelter[B].name in text and "トリアージ" in text
    for person in cities.people.values():  # triages by outcome only: no register number, no name
        assert person.register_no not in text and str(person.id) not in text
    assert "試験" not in text
    assert pref.get("/api/dwat/referrals").status_code == 403


# ---- migration 0017 ----

def test_migration_0017_gives_each_supporter_a_municipality(bare_engine):
    from server.migrate import upgrade

    upgrade(bare_engine, "0016")
    with bare_engine.begin() as conn:
        for code in (A, B):
            insert(conn, "municipality", municipality_code=code, name=code)
        district_b = insert(conn, "district", municipality_code=B, code="C1", name="B一丁目", kind="chome")
        by_district = insert(conn, "supporter", name="町の人", district_id=district_b)
        linked = insert(conn, "supporter", name="計画の人")
        loose = insert(conn, "supporter", name="どこの人")
        person = insert(conn, "person", municipality_code=A, register_no="A-1", name="試験", sex="female", address="x")
        insert(conn, "evacuation_plan", person_id=person,
               supporters=[{"name": "計画の人", "phone": "", "supporter_id": str(linked)}])
    upgrade(bare_engine)
    table = sa.table("supporter", sa.column("id", sa.Uuid()), sa.column("municipality_code", sa.String()))
    with bare_engine.connect() as conn:
        codes = dict(conn.execute(sa.select(table.c.id, table.c.municipality_code)).all())
    assert codes == {by_district: B, linked: A, loose: None}  # several cities: an unlinked entry is left for staff


def test_migration_0017_puts_a_single_citys_supporters_in_it(bare_engine):
    from server.migrate import upgrade

    upgrade(bare_engine, "0016")
    with bare_engine.begin() as conn:
        insert(conn, "municipality", municipality_code=A, name=A)
        loose = insert(conn, "supporter", name="どこの人")
    upgrade(bare_engine)
    with Session(bare_engine) as s:
        assert s.get(SupporterRecord, loose).municipality_code == A


def test_one_municipality_changes_nothing_for_a_new_supporter(engine, client_for):
    from server.models import Municipality

    with Session(engine) as s:
        s.add(Municipality(municipality_code=A, name="市A"))
        s.commit()
    made = client_for("welfare_staff").post("/api/supporters", json={"name": "一人目"})
    assert made.status_code == 201 and made.json()["municipality_code"] == A
    assert client_for("admin").get(f"/api/supporters/{made.json()['id']}").status_code == 200
