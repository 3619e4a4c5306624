"""Data migrations on a database of their own: 0006 (municipality code check digits) and 0007
(phone numbers in one form). Each test migrates to the revision before, stores what older
versions stored, upgrades, and checks the rows, the change log and the printed report.

On PostgreSQL (TSUNAGU_TEST_DATABASE_URL) the database is a schema of its own, dropped after."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers every table)
from server.db import make_engine
from server.migrate import upgrade

from .conftest import PG_URL


@pytest.fixture
def bare_engine(tmp_path):
    """An empty database (SQLite file, or a fresh PostgreSQL schema) for migrating step by step."""
    if not PG_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
        yield engine
        engine.dispose()
        return
    schema = f"migration_test_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _filler(column: sa.Column):
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type
    kind = getattr(kind, "impl", kind)  # UTCDateTime → DateTime
    if isinstance(kind, sa.JSON):
        return []
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 1, tzinfo=timezone.utc)
    if isinstance(kind, sa.Date):
        return date(1940, 3, 3)
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    if isinstance(kind, sa.Float):
        return 0.0
    return ""


def _table(conn, name: str) -> tuple[sa.TableClause, set[str]]:
    """The table as it is at the current revision (a later one may add columns), with the model's
    column types (reflection would lose UUID and UTC types on SQLite), and its required columns."""
    reflected = sa.Table(name, sa.MetaData(), autoload_with=conn)
    model = SQLModel.metadata.tables[name]
    table = sa.table(name, *(sa.column(c.name, model.c[c.name].type) for c in reflected.columns))
    return table, {c.name for c in reflected.columns if not c.nullable}


def insert(conn, table_name: str, **values) -> uuid.UUID:
    """Insert a row as the table is at the current revision, filling required columns not given."""
    table, required = _table(conn, table_name)
    row = {"id": uuid.uuid4()}
    for name in required - set(values) - set(row):
        row[name] = _filler(table.c[name])
    row.update(values)
    conn.execute(sa.insert(table), [row])
    return row["id"]


def column_of(conn, name: str, column: str, record_id: uuid.UUID):
    table = SQLModel.metadata.tables[name]
    return conn.execute(sa.select(table.c[column]).where(table.c.id == record_id)).scalar_one()


def change_log(conn) -> set[tuple[str, uuid.UUID]]:
    table = SQLModel.metadata.tables["change_log"]
    return {(row.entity, row.record_id) for row in conn.execute(sa.select(table.c.entity, table.c.record_id))}


def test_0006_corrects_check_digits_in_every_table(bare_engine, capsys):
    upgrade(bare_engine, "0005")
    with bare_engine.begin() as conn:
        # What the old rule stored (remainder 0 → 0): 新宿区 as 131040, 立川市 as 132020.
        shinjuku = insert(conn, "municipality", municipality_code="131040", name="新宿区")
        right = insert(conn, "municipality", municipality_code="132021", name="立川市")
        twice = insert(conn, "municipality", municipality_code="132020", name="立川市（旧コード）")
        kokubunji = insert(conn, "municipality", municipality_code="132144", name="国分寺市")
        district = insert(conn, "district", municipality_code="131040", code="C001", kind="chome", name="西新宿二丁目")
        person = insert(conn, "person", municipality_code="132020", register_no="T-1", name="試験", sex="female",
                        address="東京都立川市泉町")
        shelter = insert(conn, "shelter", municipality_code="131040", name="新宿区役所", kind="designated_welfare",
                         seismic_class="unknown")
        hazard = insert(conn, "hazard_area", municipality_code="131040", kind="flood", name="浸水想定区域",
                        geometry={"type": "Polygon", "coordinates": []})
    capsys.readouterr()

    upgrade(bare_engine, "0006")

    with bare_engine.connect() as conn:
        assert column_of(conn, "municipality", "municipality_code", shinjuku) == "131041"
        assert column_of(conn, "municipality", "municipality_code", right) == "132021"
        assert column_of(conn, "municipality", "municipality_code", twice) == "132020"  # would collide: left
        assert column_of(conn, "municipality", "municipality_code", kokubunji) == "132144"
        assert column_of(conn, "district", "municipality_code", district) == "131041"
        assert column_of(conn, "person", "municipality_code", person) == "132021"
        assert column_of(conn, "shelter", "municipality_code", shelter) == "131041"
        assert column_of(conn, "hazard_area", "municipality_code", hazard) == "131041"
        assert column_of(conn, "shelter", "target_groups_text", shelter) == ""
        assert column_of(conn, "shelter", "accepts_carers", shelter) is None
        assert change_log(conn) == {("municipalities", shinjuku), ("districts", district), ("people", person),
                                    ("shelters", shelter)}
    report = capsys.readouterr().err
    assert "person: 1 municipality codes given the correct check digit" in report
    assert "municipality: 1 municipality codes" in report and "1 left unchanged" in report


def test_0007_reformats_phone_numbers_and_reports_what_it_cannot_read(bare_engine, capsys):
    upgrade(bare_engine, "0006")
    extension = "042-325-0011 内線12"
    with bare_engine.begin() as conn:
        person = insert(conn, "person", municipality_code="132144", register_no="T-1", name="試験", sex="female",
                        address="東京都国分寺市戸倉", phone="0423250011", emergency_contacts=[
                            {"name": "長男", "relation": "", "phone": "０９０１２３４５６７８"},
                            {"name": "長女", "relation": "", "phone": extension},
                            {"name": "次男", "relation": "", "phone": ""}])
        untouched = insert(conn, "person", municipality_code="132144", register_no="T-2", name="試験", sex="male",
                           address="東京都国分寺市戸倉", phone="042-325-0011")
        plan = insert(conn, "evacuation_plan", person_id=person, status="drafting", care={},
                      supporters=[{"name": "近所", "relation": "", "address": "", "phone": "+81 42 325 3333"}])
        shelter = insert(conn, "shelter", municipality_code="132144", name="福祉センター", kind="designated_welfare",
                         seismic_class="unknown", phone="12345")
        team = insert(conn, "dwat_team", name="東京都DWAT", phone="0312345678")
        member = insert(conn, "dwat_member", team_id=team, name="隊員", sex="unknown", role="member",
                        phone="+1 202 555 0123")
    capsys.readouterr()

    upgrade(bare_engine, "0007")

    with bare_engine.connect() as conn:
        assert column_of(conn, "person", "phone", person) == "042-325-0011"
        assert [c["phone"] for c in column_of(conn, "person", "emergency_contacts", person)] == [
            "090-1234-5678", extension, ""]
        assert column_of(conn, "person", "phone", untouched) == "042-325-0011"
        assert column_of(conn, "evacuation_plan", "supporters", plan)[0]["phone"] == "042-325-3333"
        assert column_of(conn, "shelter", "phone", shelter) == "12345"  # impossible: left for staff
        assert column_of(conn, "dwat_team", "phone", team) == "03-1234-5678"
        assert column_of(conn, "dwat_member", "phone", member) == "+12025550123"
        assert change_log(conn) == {("people", person), ("plans", plan), ("dwat-teams", team),
                                    ("dwat-members", member)}
    report = capsys.readouterr().err
    assert "person.phone: 1 phone numbers reformatted" in report
    assert "person.emergency_contacts[].phone: 1 values are not a phone number" in report
    assert "shelter.phone: 1 values are not a phone number" in report
    for number in ("12345", "0423250011", "042-325", "090", "内線"):  # counts only, never a number
        assert number not in report
