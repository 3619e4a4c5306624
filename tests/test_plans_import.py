"""Plans in bulk (issue 12 item 6): the plan CSV over the API, the CLI and the workbench screen —
dry run, every bad row named, all or nothing on apply, the records layer's bookkeeping (version,
kept version, change log, audit), CP932 and 和暦, and export → import unchanged."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from server.cli import main
from server.importers.plans_db import import_plans
from server.models import ChangeLog, EvacuationPlan, PlanVersion
from server.models.auth import AuditEntry
from tests import factories

HEADER = ("登録者番号,氏名,支援者1氏名,支援者1続柄,支援者1電話,支援者1住所,支援者2氏名,支援者2電話,"
          "避難先,第二避難先,同意,同意日,次回見直し日,状態")


@pytest.fixture
def city(client):
    """Three people (elderly, wheelchair), three shelters, one stored plan (A-001)."""
    welfare = factories.create(client, "shelters", factories.shelter(name="ひかりプラザ", common_id="E1321400003121"))
    school = factories.create(client, "shelters", factories.shelter(
        name="第一小学校", kind="designated", target_groups=["general"], common_id="E1321400004121"))
    kids = factories.create(client, "shelters", factories.shelter(
        name="こども園", target_groups=["pregnant_infant"], capabilities=["wheelchair_access"]))
    people = {no: factories.create(client, "people", factories.person(register_no=no)) for no in ("A-001", "A-002", "A-003", "A-004")}
    plan = factories.create(client, "plans", {"person_id": people["A-001"]["id"], "status": "drafting",
                                              "destination_shelter_id": school["id"], "carer_accompanies": True,
                                              "supporters": [{"name": "近所 一郎", "phone": "090-1111-0000"}]})
    return {"people": people, "welfare": welfare, "school": school, "kids": kids, "plan": plan}


def post(client, text: str, *, apply: bool = False, encoding: str = "utf-8"):
    return client.post(f"/api/imports/plans?apply={'true' if apply else 'false'}", content=text.encode(encoding),
                       headers={"Content-Type": "text/csv"})


def plans(engine) -> dict[str, EvacuationPlan]:
    from server.models import Person

    with Session(engine) as s:
        rows = s.exec(select(Person.register_no, EvacuationPlan).join(EvacuationPlan,
                                                                     EvacuationPlan.person_id == Person.id)).all()
    return {no: plan for no, plan in rows}


GOOD = "\n".join([
    HEADER,
    "A-001,,近所 一郎,近隣住民,090-1111-0000,,民生 花子,042-300-0000,E1321400003121,第一小学校,有,令和7年5月1日,R9.5.1,作成済",
    "A-002,,家族 次郎,長男,080-2222-0000,府中市1-1,,,ひかりプラザ,,無,,,",
]) + "\n"


def test_dry_run_writes_nothing_then_apply_goes_through_the_records_layer(engine, client, city):
    r = post(client, GOOD)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["applied"] is False and report["errors"] == []
    assert report["counts"] == {"rows": 2, "valid": 2, "invalid": 0, "created": 1, "updated": 1, "unchanged": 0}
    assert set(plans(engine)) == {"A-001"} and plans(engine)["A-001"].version == 1

    r = post(client, GOOD, apply=True)
    assert r.json()["applied"] is True and r.json()["counts"]["created"] == 1
    stored = plans(engine)
    a1, a2 = stored["A-001"], stored["A-002"]
    assert a1.version == 2 and a1.status == "done" and a1.consent_date == date(2025, 5, 1)
    assert a1.review_due == date(2027, 5, 1) and a1.destination_shelter_id == uuid.UUID(city["welfare"]["id"])
    assert a1.alternate_shelter_id == uuid.UUID(city["school"]["id"])
    assert a1.carer_accompanies is True  # not a column of the layout: kept
    assert [s["name"] for s in a1.supporters] == ["近所 一郎", "民生 花子"]
    assert a2.version == 1 and a2.status == "drafting" and a2.supporters[0]["relation"] == "長男"
    with Session(engine) as s:
        kept = s.exec(select(PlanVersion).where(PlanVersion.plan_id == a1.id)).all()
        assert [(v.version, v.data["status"]) for v in kept] == [(1, "drafting")]
        logged = s.exec(select(ChangeLog).where(ChangeLog.entity == "plans")).all()
        assert {c.record_id for c in logged} >= {a1.id, a2.id}
        assert next(c for c in logged if c.record_id == a1.id and c.before)  # the update carries its before
        audit = s.exec(select(AuditEntry).where(AuditEntry.resource == "plans",
                                                AuditEntry.action.in_(["import", "import_dry_run"]))).all()
        assert sorted(a.action for a in audit) == ["import", "import_dry_run"]
        assert all("近所" not in (a.detail or "") for a in audit)
    # the devices' changes feed carries the imported plans
    feed = client.get("/api/sync/changes", params={"limit": 500}).json()
    assert str(a2.id) in {i["id"] for i in feed["items"] if i["entity"] == "plans"}


BAD = "\n".join([
    HEADER,
    "A-001,,,,,,,,どこか園,,,,,",                                   # 2: unknown shelter
    "A-002,,近所 一郎,近隣住民,,,,,,,,,,",                          # 3: supporter without phone
    "Z-999,,,,,,,,,,,,,",                                           # 4: not on the register
    "A-002,,,,,,,,,,,,,",                                           # 5: duplicate person (first on 3)
    "A-003,,,,,,,,こども園,,,,,",                                   # 6: does not accept the person's needs
    "A-003,,,,,,,,,,有,2099-01-01,,",                               # 7: future consent date (and duplicate)
    "A-003,,,,,,,,,,,,令和99年13月1日,",                            # 8: bad 和暦 (and duplicate)
    "A-004,,近所 一郎,近隣住民,090-1111-0000,,,,第一小学校,,,,,",   # 9: a valid row
]) + "\n"


def test_every_bad_row_is_named_and_apply_is_all_or_nothing(engine, client, city):
    r = post(client, BAD, apply=True)
    assert r.status_code == 200
    report = r.json()
    assert report["applied"] is False and report["counts"]["invalid"] == 7 and report["counts"]["valid"] == 1
    found = {(e["line"], e["column"]) for e in report["errors"]}
    assert {(2, "避難先"), (3, "支援者1電話"), (4, "登録者番号"), (5, "登録者番号"), (6, "避難先"),
            (7, "同意日"), (8, "次回見直し日")} <= found
    reasons = {e["line"]: e["reason"] for e in report["errors"] if e["column"] != "登録者番号" or e["line"] in (4, 5)}
    assert "登録されていない施設" in reasons[2] and "電話番号" in reasons[3] and "名簿にありません" in reasons[4]
    assert "重複" in reasons[5] and "3行目" in reasons[5] and "受け入れていません" in reasons[6]
    assert "未来" in reasons[7]
    assert not any("近所" in e["reason"] for e in report["errors"])
    # all or nothing: the valid line 9 was not written either
    stored = plans(engine)
    assert set(stored) == {"A-001"} and stored["A-001"].version == 1 and stored["A-001"].supporters[0]["name"] == "近所 一郎"
    assert post(client, HEADER + "\n" + BAD.splitlines()[-1] + "\n", apply=True).json()["applied"] is True
    assert set(plans(engine)) == {"A-001", "A-004"}  # the same row alone is written


def test_a_stored_destination_is_not_refused_again(engine, client, city):
    """Like the workbench form: a destination already on the plan is kept, a new one is checked."""
    with Session(engine) as s:
        plan = s.get(EvacuationPlan, uuid.UUID(city["plan"]["id"]))
        plan.destination_shelter_id = uuid.UUID(city["kids"]["id"])  # stored before the rules existed
        s.add(plan)
        s.commit()
    r = post(client, HEADER + "\nA-001,,近所 一郎,,090-1111-0000,,,,こども園,,,,,\nA-002,,,,,,,,こども園,,,,,\n")
    assert [(e["line"], e["column"]) for e in r.json()["errors"]] == [(3, "避難先")]


def test_cp932_and_wareki(engine, client, city):
    text = (HEADER + "\r\nＡ－００２,,家族 次郎,長男,０８０（２２２２）００００,,,,Ｅ１３２１４００００３１２１,,有,平成31年4月30日,令和9年1月5日,\r\n")
    r = post(client, text, apply=True, encoding="cp932")
    report = r.json()
    assert report["encoding"] == "Shift_JIS (CP932)" and report["applied"] is True, report["errors"]
    a2 = plans(engine)["A-002"]
    assert a2.consent is True and a2.consent_date == date(2019, 4, 30) and a2.review_due == date(2027, 1, 5)
    assert a2.destination_shelter_id == uuid.UUID(city["welfare"]["id"]) and a2.supporters[0]["phone"].startswith("080")


def test_absent_columns_keep_stored_values(engine, client, city):
    r = post(client, "登録者番号,避難先\nA-001,ひかりプラザ\n", apply=True)
    assert r.json()["counts"]["updated"] == 1
    a1 = plans(engine)["A-001"]
    assert a1.destination_shelter_id == uuid.UUID(city["welfare"]["id"])
    assert a1.supporters[0]["name"] == "近所 一郎" and a1.status == "drafting" and a1.carer_accompanies


def test_done_is_judged_on_the_plan_merged_with_the_stored_one(engine, client, city):
    """A file without the supporter and destination columns keeps them, so 作成済 may be set
    with consent alone; what the merged plan still lacks is named as before."""
    r = post(client, "登録者番号,状態\nA-001,作成済\n", apply=True)
    assert [(e["line"], e["column"]) for e in r.json()["errors"]] == [(2, "状態")] and not r.json()["applied"]
    reason = r.json()["errors"][0]["reason"]
    assert "同意" in reason and "避難先が未設定" not in reason and "支援等実施者" not in reason
    r = post(client, "登録者番号,同意,同意日,状態\nA-001,有,令和7年5月1日,作成済\n", apply=True)
    assert r.json()["errors"] == [] and r.json()["applied"] is True, r.json()
    assert plans(engine)["A-001"].status == "done" and plans(engine)["A-001"].supporters[0]["name"] == "近所 一郎"


def test_carer_column_sets_and_clears_and_its_absence_keeps(engine, client, city):
    """介助者の同行: the column sets and clears the stored value; a file without it keeps it."""
    r = post(client, "登録者番号,介助者の同行\nA-001,なし\nA-002,○\n", apply=True)
    assert r.json()["applied"] is True and r.json()["counts"]["updated"] == 1 and r.json()["counts"]["created"] == 1
    assert plans(engine)["A-001"].carer_accompanies is False and plans(engine)["A-002"].carer_accompanies is True
    assert post(client, "登録者番号,避難経路\nA-002,北の道\n", apply=True).json()["counts"]["updated"] == 1
    assert plans(engine)["A-002"].carer_accompanies is True and plans(engine)["A-002"].route_note == "北の道"
    r = post(client, "登録者番号,介助者の同行\nA-001,たぶん\n", apply=True)
    assert [(e["line"], e["column"]) for e in r.json()["errors"]] == [(2, "介助者の同行")] and not r.json()["applied"]


def test_carer_survives_export_and_reimport(engine, client, city):
    """The export writes 介助者の同行; importing that file puts back a value changed since."""
    body = client.get("/api/exports/plans.csv").content
    assert "介助者の同行".encode() in body
    a1 = plans(engine)["A-001"]
    assert a1.carer_accompanies is True
    r = client.patch(f"/api/plans/{a1.id}", json={"version": a1.version, "carer_accompanies": False})
    assert r.status_code == 200, r.text
    r = client.post("/api/imports/plans?apply=true", content=body, headers={"Content-Type": "text/csv"})
    assert r.json()["applied"] is True and r.json()["counts"]["updated"] == 1, r.json()
    assert plans(engine)["A-001"].carer_accompanies is True
    assert client.get("/api/exports/plans.csv").content == body


def test_same_named_shelters_round_trip_through_the_database(engine, client, city):
    """Two shelters named みどり園 without a 共通ID: the export's システムID keeps each plan's own."""
    first = factories.create(client, "shelters", factories.shelter(name="みどり園"))
    second = factories.create(client, "shelters", factories.shelter(name="みどり園"))
    factories.create(client, "plans", {"person_id": city["people"]["A-002"]["id"], "status": "drafting",
                                       "destination_shelter_id": second["id"], "alternate_shelter_id": first["id"]})
    before = {no: (p.version, p.destination_shelter_id, p.alternate_shelter_id) for no, p in plans(engine).items()}
    body = client.get("/api/exports/plans.csv").content
    r = client.post("/api/imports/plans?apply=true", content=body, headers={"Content-Type": "text/csv"})
    assert r.json()["errors"] == [] and r.json()["applied"] is True
    assert r.json()["counts"]["unchanged"] == 4
    assert {no: (p.version, p.destination_shelter_id, p.alternate_shelter_id)
            for no, p in plans(engine).items()} == before
    # a hand-made file naming the shared name alone is still refused as ambiguous
    r = post(client, "登録者番号,避難先\nA-003,みどり園\n")
    assert [(e["line"], e["column"]) for e in r.json()["errors"]] == [(2, "避難先")]


def test_model_limits_are_row_errors_not_500(client, city):
    long_route = "道" * 1001
    r = post(client, f"登録者番号,避難経路\nA-001,{long_route}\n", apply=True)
    assert r.status_code == 200
    assert [(e["line"], e["column"]) for e in r.json()["errors"]] == [(2, "避難経路")]
    assert r.json()["applied"] is False


def test_export_then_import_is_unchanged_and_formula_safe(engine, client, city):
    factories.create(client, "plans", {
        "person_id": city["people"]["A-002"]["id"], "status": "done", "consent": True, "consent_date": "2025-04-01",
        "destination_shelter_id": city["welfare"]["id"], "alternate_shelter_id": city["school"]["id"],
        "route_note": "北側の道,\n坂を避ける", "care": {"allergies": "卵", "doctor": "=HYPERLINK(\"x\")"},
        "supporters": [{"name": "@近所 二郎", "relation": "近隣住民", "phone": "090-2222-0000", "address": "府中市1"},
                       {"name": "家族", "phone": "+81-90-3333-4444"}]})
    exported = client.get("/api/exports/plans.csv")
    assert exported.status_code == 200 and exported.headers["cache-control"] == "no-store"
    body = exported.content
    assert body.startswith(b"\xef\xbb\xbf") and "'=HYPERLINK".encode() in body and "'@近所".encode() in body
    assert body.decode("utf-8-sig").count("\r\n") == 5  # header + four people (a note's own line break is \n)
    before = {no: (p.version, p.model_dump(warnings=False)) for no, p in plans(engine).items()}
    r = client.post("/api/imports/plans?apply=true", content=body, headers={"Content-Type": "text/csv"})
    report = r.json()
    assert report["applied"] is True and report["errors"] == []
    assert report["counts"] == {"rows": 4, "valid": 4, "invalid": 0, "created": 0, "updated": 0, "unchanged": 4}
    assert {no: (p.version, p.model_dump(warnings=False)) for no, p in plans(engine).items()} == before  # still no plan
    assert client.get("/api/exports/plans.csv").content == body
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.resource == "plans")).all()


def test_other_roles_may_not_import_or_export(client_for, city):
    viewer = client_for("hq_viewer")
    assert post(viewer, GOOD).status_code == 403
    assert viewer.get("/api/exports/plans.csv").status_code == 403


def test_whole_file_refused_with_422(client, city):
    r = post(client, "氏名,避難先\nx,y\n")
    assert r.status_code == 422 and "登録者番号" in r.json()["detail"]


# ---- CLI -------------------------------------------------------------------------------------

@pytest.fixture
def cli_env(engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return engine


def test_cli_dry_run_apply_and_export(cli_env, city, tmp_path, capsys):
    path = tmp_path / "plans.csv"
    path.write_bytes(BAD.encode("cp932"))
    assert main(["import", "plans", str(path), "--apply"]) == 1
    out = capsys.readouterr().out
    assert "all or nothing" in out and "line 2, 避難先:" in out and "line 6, 避難先:" in out and "近所" not in out
    assert plans(cli_env)["A-001"].version == 1
    path.write_bytes(GOOD.encode("utf-8"))
    assert main(["import", "plans", str(path)]) == 0
    assert "dry run, nothing written" in capsys.readouterr().out and plans(cli_env)["A-001"].version == 1
    assert main(["import", "plans", str(path), "--apply", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["updated"] == 1
    out_path = tmp_path / "export.csv"
    assert main(["export", "plans", "-o", str(out_path)]) == 0
    assert main(["import", "plans", str(out_path), "--apply"]) == 0
    assert "unchanged 4" in capsys.readouterr().out


# ---- the workbench screen ----------------------------------------------------------------------

def test_workbench_upload_dry_run_then_apply(engine, client, city):
    page = client.get("/workbench/plans/import")
    assert page.status_code == 200 and 'type="file"' in page.text and page.headers["cache-control"] == "no-store"
    files = {"file": ("plans.csv", BAD.encode("utf-8"), "text/csv")}
    checked = client.post("/workbench/plans/import", files=files)
    assert checked.status_code == 200 and 'id="import-errors"' in checked.text and "apply-form" not in checked.text
    assert "どこか園" not in checked.text  # reasons name the problem, not the cell
    data = GOOD.encode("utf-8")
    checked = client.post("/workbench/plans/import", files={"file": ("plans.csv", data, "text/csv")})
    digest = hashlib.sha256(data).hexdigest()
    assert checked.status_code == 200 and f'value="{digest}"' in checked.text and plans(engine)["A-001"].version == 1
    other = client.post("/workbench/plans/import", data={"apply": "true", "digest": digest},
                        files={"file": ("plans.csv", data + b"A-003,,,,,,,,,,,,,\n", "text/csv")})
    assert other.status_code == 409 and plans(engine)["A-001"].version == 1
    applied = client.post("/workbench/plans/import", data={"apply": "true", "digest": digest},
                          files={"file": ("plans.csv", data, "text/csv")})
    assert applied.status_code == 200 and 'data-applied="true"' in applied.text
    assert plans(engine)["A-001"].version == 2 and "A-002" in plans(engine)
    assert client.post("/workbench/plans/import", data={}).status_code == 422


def test_import_function_conflict_free_dry_run_reads_only(engine, city):
    """A dry run on its own connection leaves every table as it was (nothing flushed, nothing logged)."""
    with engine.connect() as conn:
        counts = [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                  for t in (EvacuationPlan.__table__, PlanVersion.__table__, ChangeLog.__table__)]
    report = import_plans(engine, GOOD.encode())
    assert report.ok and not report.applied
    with engine.connect() as conn:
        assert [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (EvacuationPlan.__table__, PlanVersion.__table__, ChangeLog.__table__)] == counts
