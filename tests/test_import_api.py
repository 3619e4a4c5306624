"""HTTP endpoints for CSV import and export."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from server.models import Person, Shelter
from server.models.auth import AuditEntry

from .csv_helpers import add_districts, count, people_csv, person_row


@pytest.fixture
def districts(engine):
    return add_districts(engine, "C001")


def test_raw_body_dry_run_then_apply(client, engine, districts):
    data = people_csv(person_row(), person_row(登録者番号="T-0002", 生年月日="令和0年1月1日"), encoding="cp932")
    r = client.post("/api/imports/people", content=data, headers={"content-type": "text/csv"})
    assert r.status_code == 200
    body = r.json()
    assert body["applied"] is False and body["counts"]["valid"] == 1 and body["counts"]["invalid"] == 1
    assert body["errors"] == [{"line": 3, "column": "生年月日", "reason": body["errors"][0]["reason"]}]
    assert count(engine, Person) == 0

    r = client.post("/api/imports/people?apply=true", content=data, headers={"content-type": "text/csv"})
    assert r.status_code == 200 and r.json()["applied"] is True and r.json()["counts"]["created"] == 1
    assert count(engine, Person) == 1


def test_multipart_upload_and_default_municipality_code(client, engine, districts):
    header = ["登録者番号", "氏名", "生年月日", "性別", "住所"]
    data = people_csv(person_row(), header=header)
    r = client.post("/api/imports/people?apply=1&municipality_code=13214",
                    files={"file": ("meibo.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["created"] == 1


def test_gsi_shelters_upload(client, engine, fixtures_dir):
    data = (fixtures_dir / "gsi_shelters_sample.csv").read_bytes()
    r = client.post("/api/imports/shelters?apply=true", files={"file": ("gsi.csv", data, "text/csv")})
    assert r.status_code == 200
    body = r.json()
    assert body["format"] == "gsi_shelters" and body["counts"]["created"] == 6 and len(body["incomplete"]) == 6
    assert count(engine, Shelter) == 6


@pytest.mark.parametrize("data, words", [
    (people_csv(person_row(), header=["登録者番号", "氏名"]), "生年月日"),
    (people_csv(person_row()) + "T-2,132144,試験\r\n".encode("cp932"), "UTF-8"),
    (b"PK\x03\x04", ".xlsx"),
])
def test_whole_file_errors_are_422(client, engine, data, words):
    r = client.post("/api/imports/people?apply=true", content=data, headers={"content-type": "text/csv"})
    assert r.status_code == 422
    body = r.json()
    assert words in body["detail"] and body["errors"] == [{"field": "file", "message": body["detail"]}]
    assert count(engine, Person) == 0


def test_bad_parameters_and_empty_body(client):
    r = client.post("/api/imports/people?apply=maybe", content=b"x", headers={"content-type": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "apply"
    r = client.post("/api/imports/people?municipality_code=132145", content=b"x", headers={"content-type": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "municipality_code"
    r = client.post("/api/imports/shelters", content=b"", headers={"content-type": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = client.post("/api/imports/shelters", files={"other": ("x.csv", b"a", "text/csv")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


def test_exports(client, engine, districts):
    client.post("/api/imports/people?apply=true", content=people_csv(person_row()), headers={"content-type": "text/csv"})
    r = client.get("/api/exports/people.csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="people-')
    assert r.headers["cache-control"] == "no-store"
    assert r.content.startswith("\ufeff登録者番号,".encode()) and b"T-0001" in r.content
    r = client.get("/api/exports/shelters.csv")
    assert r.status_code == 200 and r.content.startswith("\ufeff共通ID,".encode())


def test_imports_and_exports_are_audited_without_personal_data(client, engine, districts):
    client.post("/api/imports/people", content=people_csv(person_row(氏名="監査　花子")),
                headers={"content-type": "text/csv"})
    client.get("/api/exports/people.csv")
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.resource == "people")).all()
    assert [e.action for e in entries] == ["import_dry_run", "export"]
    assert "rows=1" in entries[0].detail and all("監査" not in e.detail for e in entries)


@pytest.mark.parametrize("role, allowed", [("welfare_staff", True), ("district_supporter", False),
                                           ("shelter_staff", False), ("hq_viewer", False)])
def test_only_the_city_office_may_import(client_for, engine, role, allowed):
    c = client_for(role)
    r = c.post("/api/imports/shelters", content=b"a,b\n", headers={"content-type": "text/csv"})
    assert r.status_code == (422 if allowed else 403)


def test_signed_out_is_401(anon_client):
    assert anon_client.post("/api/imports/people", content=b"a", headers={"content-type": "text/csv"}).status_code == 401
    assert anon_client.get("/api/exports/shelters.csv").status_code == 401


def test_conflicting_import_is_409(client, engine, districts, monkeypatch):
    from server.importers import people_csv as module

    client.post("/api/imports/people?apply=true", content=people_csv(person_row()), headers={"content-type": "text/csv"})
    monkeypatch.setattr(module._PeopleImport, "_existing", lambda self, conn, nos: {})
    r = client.post("/api/imports/people?apply=true", content=people_csv(person_row()), headers={"content-type": "text/csv"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "file"
