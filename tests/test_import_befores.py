"""The CSV importers log an update with the record's values before it, as the API's versioned
update does (`sync.changelog.log_changes(befores=…)` → `scope_keys`): a device that held a
person whom an import moves out of its scope is told to drop them (docs/sync.md)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from server.models import ChangeLog
from tests.test_access import World
from tests.test_sync import ids, pull_all

PEOPLE_HEADER = "登録者番号,市区町村コード,氏名,生年月日,性別,住所,町丁目コード\n"


@pytest.fixture
def world(engine):
    return World(engine)


def import_people(client, text: str) -> dict:
    r = client.post("/api/imports/people?apply=true", content=text.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["errors"] == [] and r.json()["applied"] is True
    return r.json()


def test_people_import_moving_a_person_out_of_a_district_drops_them_from_its_devices(world, client_for, client, engine):
    supporter = client_for("district_supporter", **world.scope_for("district_supporter"))
    items, cursor, key = pull_all(supporter)
    assert str(world.p_a_yes.id) in ids(items, "people")
    report = import_people(client, PEOPLE_HEADER + "A-YES,132144,名前A-YES,1940-01-01,女,住所,B1\n")
    assert report["counts"]["updated"] == 1
    later, _, _ = pull_all(supporter, cursor, key)
    assert ids(later, "people", "drop") == {str(world.p_a_yes.id)}
    assert str(world.p_a_yes.id) not in ids(later, "people")
    with Session(engine) as s:
        logged = s.exec(select(ChangeLog).where(ChangeLog.entity == "people",
                                                ChangeLog.record_id == world.p_a_yes.id)).all()
    # the scope keys before the write, exactly as update_row logs them: ids and codes, no names
    assert [row.before for row in logged] == [{"district_id": str(world.a1.id), "consent": "yes",
                                               "municipality_code": "132144"}]


def test_people_import_of_a_new_person_logs_no_before(world, client, engine):
    import_people(client, PEOPLE_HEADER + "A-NEW,132144,新しい人,1941-02-03,男,住所,A1\n")
    with Session(engine) as s:
        logged = s.exec(select(ChangeLog).where(ChangeLog.entity == "people")).all()
    assert [row.before for row in logged] == [None]
