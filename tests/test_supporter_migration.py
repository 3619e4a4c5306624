"""Migration 0011 on a database holding plans: free-text supporters become register entries —
exact matches (same name and phone, any spelling) one entry, near matches separate entries with
a candidate pair for staff — and each changed plan gets its links, a version bump and a
change-log row."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import SQLModel

from server.migrate import upgrade

from .test_data_migrations import bare_engine, change_log, column_of, insert  # noqa: F401  (fixture)


def _plan(conn, supporters: list[dict]) -> uuid.UUID:
    person = insert(conn, "person", municipality_code="132144", register_no=f"T-{uuid.uuid4().hex[:6]}", name="試験",
                    sex="female", address="東京都国分寺市戸倉")
    return insert(conn, "evacuation_plan", person_id=person, status="done", supporters=supporters, version=3)


def test_0011_merges_exact_matches_and_records_near_ones(bare_engine, capsys):
    upgrade(bare_engine, "0009")
    with bare_engine.begin() as conn:
        a = _plan(conn, [{"name": "山田 太郎", "relation": "近隣住民", "address": "", "phone": "042-325-0011"},
                         {"name": "長男 一郎", "relation": "長男", "address": "", "phone": "090-1111-2222"}])
        b = _plan(conn, [{"name": "山田　太郎", "relation": "近所", "address": "", "phone": "0423250011"}])
        c = _plan(conn, [{"name": "山田太郎", "relation": "近隣住民", "address": "", "phone": "042-999-0000"}])
        d = _plan(conn, [{"name": "ヤマダタロウ", "relation": "", "address": "", "phone": ""}])
        empty = _plan(conn, [])
    capsys.readouterr()

    upgrade(bare_engine, "0011")

    supporter = SQLModel.metadata.tables["supporter"]
    candidate = SQLModel.metadata.tables["supporter_candidate"]
    with bare_engine.connect() as conn:
        lines = {p: column_of(conn, "evacuation_plan", "supporters", p) for p in (a, b, c, d)}
        ids = {p: [s["supporter_id"] for s in lines[p]] for p in lines}
        assert ids[a][0] == ids[b][0]                      # one neighbour, two spellings of one number
        assert ids[c][0] != ids[a][0] and ids[d][0] not in (ids[a][0], ids[c][0])
        assert lines[a][1]["relation"] == "長男" and lines[b][0]["relation"] == "近所"  # the plan's own text stays
        assert column_of(conn, "evacuation_plan", "version", a) == 4
        assert column_of(conn, "evacuation_plan", "version", empty) == 3
        rows = {str(r.id): r for r in conn.execute(sa.select(*(c for c in supporter.c if c.name != "municipality_code")))}  # as at 0011
        assert len(rows) == 4
        assert rows[ids[a][0]].kind == "neighbour" and rows[ids[a][1]].kind == "family"
        assert rows[ids[d][0]].name_kana == "ヤマダタロウ"
        pairs = {(frozenset({str(r.a_id), str(r.b_id)}), r.reason, r.state) for r in conn.execute(sa.select(candidate))}
        assert (frozenset({ids[a][0], ids[c][0]}), "same_name_other_phone", "open") in pairs
        assert all(state == "open" for _, _, state in pairs)
        assert not any(frozenset({ids[a][0], ids[a][1]}) == p for p, _, _ in pairs)
        logged = change_log(conn)
        assert {("plans", p) for p in (a, b, c, d)} <= logged and ("plans", empty) not in logged
        assert {("supporters", uuid.UUID(i)) for i in rows} <= logged
    report = capsys.readouterr().err
    assert "4 supporter entries made from free text on 4 plans" in report
    assert "山田" not in report
