"""Register search speed-ups (issue 12): the stored ふりがな key (person.kana_key, migration 0014)
kept in step on every write path, the kana prefix search answered from its index, and the page
with its count in one statement (a plan-status filter evaluated once, not twice)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from server.demo_city import build_demo_city, load_demo_city
from server.domain.textnorm import kana_key, prefix_upper_bound
from server.importers.people_csv import import_people
from server.migrate import upgrade
from server.models import Person
from server.models.vocab import PlanStatus
from server.records.registry import PEOPLE
from server.records.rows import list_rows
from tests import factories
from tests.csv_helpers import PEOPLE_HEADER, csv_bytes, person_row
from tests.test_data_migrations import bare_engine, column_of, insert  # noqa: F401  (fixture)


def stored_key(engine, register_no: str) -> str:
    with Session(engine) as s:
        return s.exec(select(Person.kana_key).where(Person.register_no == register_no)).one()


def test_kana_key_folds_kana_width_and_spaces():
    assert kana_key("ヤマダ　ハナコ") == kana_key("やまだ はなこ") == kana_key("ﾔﾏﾀﾞ ﾊﾅｺ") == "やまだはなこ"
    assert kana_key("ヴィラ ヽ") == "ゔぃらゝ" and kana_key("") == ""
    assert prefix_upper_bound("やま") == "やみ"


def test_migration_0014_fills_the_key_of_stored_people(bare_engine):  # noqa: F811
    upgrade(bare_engine, "0009")
    with bare_engine.begin() as conn:
        katakana = insert(conn, "person", municipality_code="132144", register_no="K-1", name="試験",
                          name_kana="ヤマダ　ハナコ", sex="female", address="東京都国分寺市")
        empty = insert(conn, "person", municipality_code="132144", register_no="K-2", name="試験",
                       name_kana="", sex="male", address="東京都国分寺市")
    upgrade(bare_engine, "0014")
    with bare_engine.connect() as conn:
        assert column_of(conn, "person", "kana_key", katakana) == "やまだはなこ"
        assert column_of(conn, "person", "kana_key", empty) == ""
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("person")}
        assert "ix_person_kana_key" in indexes
        plan_indexes = {i["name"] for i in sa.inspect(conn).get_indexes("evacuation_plan")}
        assert "ix_evacuation_plan_status_person" in plan_indexes


def test_records_layer_sets_the_key_on_create_and_update(engine, client):
    made = factories.create(client, "people", factories.person(register_no="KK-1", name_kana="サトウ タロウ"))
    assert stored_key(engine, "KK-1") == "さとうたろう"
    assert "kana_key" not in made  # derived: never sent
    r = client.patch(f"/api/people/{made['id']}", json={"version": made["version"], "name_kana": "スズキ ジロウ"})
    assert r.status_code == 200, r.text
    assert stored_key(engine, "KK-1") == "すずきじろう"


def test_sync_mutations_set_the_key(engine, client):
    data = factories.person(register_no="KK-2", name_kana="タナカ ハナ")
    data["id"] = str(uuid.uuid4())
    r = client.post("/api/sync/mutations", json={"device_id": "t", "mutations": [
        {"id": str(uuid.uuid4()), "entity": "people", "op": "create", "data": data}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
    assert stored_key(engine, "KK-2") == "たなかはな"
    r = client.post("/api/sync/mutations", json={"device_id": "t", "mutations": [
        {"id": str(uuid.uuid4()), "entity": "people", "op": "update", "record_id": data["id"], "base_version": 1,
         "changes": {"name_kana": "タナカ ハナコ"}}]})
    assert r.json()["results"][0]["status"] == "applied", r.text
    assert stored_key(engine, "KK-2") == "たなかはなこ"


def test_people_import_sets_the_key_on_insert_and_update(engine):
    header = PEOPLE_HEADER[:-5] + ["同意"]  # no district, coordinates or consent date needed
    first = csv_bytes(header, [person_row(**{"登録者番号": "KK-3", "ふりがな": "ﾔﾏﾀﾞ ｲﾁﾛｳ", "同意": "未確認"})])
    assert import_people(engine, first, apply=True).created == 1
    assert stored_key(engine, "KK-3") == "やまだいちろう"
    again = csv_bytes(header, [person_row(**{"登録者番号": "KK-3", "ふりがな": "やまだ いちろ", "同意": "未確認"})])
    assert import_people(engine, again, apply=True).updated == 1
    assert stored_key(engine, "KK-3") == "やまだいちろ"


def test_demo_city_loads_with_keys(engine):
    load_demo_city(engine, build_demo_city(people=30))
    with Session(engine) as s:
        rows = s.exec(select(Person.name_kana, Person.kana_key)).all()
    assert rows and all(key == kana_key(kana) for kana, key in rows)
    assert any(key for _, key in rows)


@pytest.fixture
def register(client):
    for n, kana in enumerate(["やまだ はなこ", "ヤマモト タロウ", "ｻﾄｳ ｼﾞﾛｳ", "たやま ゆき", "やま"]):
        factories.create(client, "people", factories.person(register_no=f"RS-{n}", name_kana=kana))
    return client


@pytest.mark.parametrize("query, expected", [
    ("やま", {"RS-0", "RS-1", "RS-4"}),     # a prefix, either kana; 「たやま」 does not start with it
    ("ヤマダ", {"RS-0"}),
    ("やまだ　はな", {"RS-0"}),             # spaces ignored
    ("さとうじ", {"RS-2"}),                 # half-width katakana stored
    ("ﾔﾏﾓﾄ", {"RS-1"}),                     # half-width typed
])
def test_kana_search_is_a_prefix_of_the_key(register, query, expected):
    page = register.get("/workbench", params={"kana": query})
    assert page.status_code == 200
    found = {no for no in ("RS-0", "RS-1", "RS-2", "RS-3", "RS-4") if no in page.text}
    assert found == expected


def test_kana_search_reads_the_index(engine, register):
    from server.api.workbench_data import Search, search_clauses

    search = Search(values={k: "" for k in ("kana", "name", "register_no", "address", "supporter", "district",
                                             "reason", "need", "consent", "plan_status")})
    search.values["kana"] = "やま"
    with Session(engine) as s:
        query = select(Person.id).where(*search_clauses(s, search))
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        if engine.dialect.name == "sqlite":
            plan = s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        else:  # a five-row table is cheaper to scan: ask whether the index can answer at all
            s.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = s.connection().exec_driver_sql(f"EXPLAIN {sql}").all()
    assert "ix_person_kana_key" in " ".join(str(row) for row in plan)


def test_a_filtered_page_and_its_count_are_one_statement(engine, client):
    """The plan-status subquery ran twice (count, then page); now once, with the count beside it."""
    for n in range(4):
        p = factories.create(client, "people", factories.person(register_no=f"OQ-{n}"))
        factories.create(client, "plans", {"person_id": p["id"], "status": "drafting"})
    from server.models import EvacuationPlan

    clause = Person.id.in_(select(EvacuationPlan.person_id).where(EvacuationPlan.status == PlanStatus.drafting))

    def run(offset: int) -> tuple[dict, list[str]]:
        statements: list[str] = []

        def seen(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", seen)
        try:
            with Session(engine) as s:
                return list_rows(PEOPLE, s, [clause], 3, offset), [st for st in statements if "evacuation_plan" in st]
        finally:
            sa.event.remove(engine, "before_cursor_execute", seen)

    page, statements = run(0)
    assert page["total"] == 4 and len(page["items"]) == 3
    assert len(statements) == 1 and "over" in statements[0].lower(), statements
    past_end, statements = run(9)  # no row for the window to carry the count: counted on its own
    assert past_end["total"] == 4 and past_end["items"] == [] and len(statements) == 2


def test_unfiltered_list_keeps_the_cheap_count(engine, client):
    for n in range(3):
        factories.create(client, "people", factories.person(register_no=f"UC-{n}"))
    with Session(engine) as s:
        page = list_rows(PEOPLE, s, [], 2, 0)
        last = list_rows(PEOPLE, s, [], 2, 2)
    assert page["total"] == last["total"] == 3
    assert [i["register_no"] for i in page["items"] + last["items"]] == ["UC-0", "UC-1", "UC-2"]
