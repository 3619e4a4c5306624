"""Migration 0013 (plan_review_reason) on a database holding people and plans: the rows stay,
the new table takes reasons for them, and the downgrade removes only the table."""

from __future__ import annotations

import sqlalchemy as sa

from server.migrate import upgrade

from .test_data_migrations import bare_engine, column_of, insert  # noqa: F401  (bare_engine: a fixture)


def test_0013_adds_the_reasons_table_beside_existing_plans(bare_engine):  # noqa: F811
    upgrade(bare_engine, "0009")
    with bare_engine.begin() as conn:
        person = insert(conn, "person", register_no="M-0001", municipality_code="132144", name="移行 花子",
                        address="東京都国分寺市戸倉1-1", reasons=["care_level_3plus"])
        plan = insert(conn, "evacuation_plan", person_id=person, status="done", supporters=[{"name": "近所 一"}])
        assert "plan_review_reason" not in sa.inspect(conn).get_table_names()
    upgrade(bare_engine, "0013")
    with bare_engine.begin() as conn:
        assert column_of(conn, "evacuation_plan", "status", plan) == "done"
        assert column_of(conn, "person", "name", person) == "移行 花子"
        reason = insert(conn, "plan_review_reason", plan_id=plan, code="needs_changed", subject=str(person),
                        ja="本人の配慮が必要な事項が変わりました", en="the person's care needs changed")
        assert column_of(conn, "plan_review_reason", "code", reason) == "needs_changed"
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("plan_review_reason")}
        assert "ix_plan_review_reason_plan_id" in indexes
