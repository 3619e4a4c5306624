"""The plan CSV import does what a plan save through the API does: supporter-register links
(支援者台帳) checked as `check_links` checks them, a supporter newly over their threshold flags
their done plans (as `after_plan_write`), and the audit entry names the plans written."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from server.auth.audit import record_in_parts
from server.domain.workbench.supporters import OVERLOAD_THRESHOLD
from server.models import AuditEntry, EvacuationPlan, Person
from server.models.review import PlanReviewReason
from tests import factories

HEADER = "登録者番号,支援者1氏名,支援者1続柄,支援者1電話,支援者1台帳ID,状態"


def entry(client, **over) -> dict:
    data = dict(kind="neighbour", name="近所 良子", name_kana="きんじょ よしこ", phone="042-325-0011",
                address="東京都国分寺市戸倉1-2-3", availability="anytime", birth_year=1960)
    data.update(over)
    return factories.create(client, "supporters", data)


def linked_plan(client, supporter: dict, register_no: str, status: str = "done") -> dict:
    person = factories.create(client, "people", factories.person(register_no=register_no))
    line = {"name": supporter["name"], "relation": "近隣住民", "phone": supporter["phone"],
            "supporter_id": supporter["id"]}
    return factories.create(client, "plans", {"person_id": person["id"], "status": status, "consent": True,
                                              "consent_date": "2025-04-01", "supporters": [line]})


def post(client, text: str, apply: bool = True):
    answer = client.post(f"/api/imports/plans?apply={'true' if apply else 'false'}", content=text.encode("utf-8"),
                         headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def plan_of(engine, register_no: str) -> EvacuationPlan:
    with Session(engine) as s:
        return s.exec(select(EvacuationPlan).join(Person, Person.id == EvacuationPlan.person_id)
                      .where(Person.register_no == register_no)).one()


# ---- 1. supporter links -------------------------------------------------------------------

def test_an_export_reimports_with_its_supporter_links_unchanged(client, engine):
    supporter = entry(client)
    plan = linked_plan(client, supporter, "L-001", status="drafting")
    body = client.get("/api/exports/plans.csv").content
    assert "支援者1台帳ID".encode() in body and supporter["id"].encode() in body
    report = client.post("/api/imports/plans?apply=true", content=body, headers={"Content-Type": "text/csv"}).json()
    assert report["errors"] == [] and report["counts"]["updated"] == 0 and report["counts"]["unchanged"] == 1
    stored = plan_of(engine, "L-001")
    assert stored.version == plan["version"] and stored.supporters[0]["supporter_id"] == supporter["id"]


def test_a_file_without_the_register_id_column_keeps_the_link_of_the_same_supporter(client, engine):
    supporter = entry(client)
    linked_plan(client, supporter, "L-001", status="drafting")
    text = "登録者番号,支援者1氏名,支援者1続柄,支援者1電話,避難のタイミング\n" \
           f"L-001,{supporter['name']},近隣住民,{supporter['phone']},高齢者等避難で\n"
    report = post(client, text)
    assert report["errors"] == [] and report["counts"]["updated"] == 1
    stored = plan_of(engine, "L-001")
    assert stored.timing_note == "高齢者等避難で" and stored.supporters[0]["supporter_id"] == supporter["id"]
    # another supporter in the same place is free text: the old link does not follow the line
    report = post(client, "登録者番号,支援者1氏名,支援者1電話\nL-001,別人 太郎,090-1234-5678\n")
    assert report["errors"] == [] and plan_of(engine, "L-001").supporters[0].get("supporter_id") is None


def test_an_unknown_or_unreadable_register_id_is_a_row_error_and_nothing_is_written(client, engine):
    factories.create(client, "people", factories.person(register_no="L-001"))
    factories.create(client, "people", factories.person(register_no="L-002"))
    text = (HEADER + "\n"
            + f"L-001,近所 良子,近隣住民,042-325-0011,{uuid.uuid4()},作成中\n"
            + "L-002,近所 良子,近隣住民,042-325-0011,12345,作成中\n")
    report = post(client, text)
    assert report["applied"] is False and report["counts"]["invalid"] == 2
    found = {(e["line"], e["column"]): e["reason"] for e in report["errors"]}
    assert set(found) == {(2, "支援者1台帳ID"), (3, "支援者1台帳ID")}
    assert "支援者台帳" in found[(2, "支援者1台帳ID")] and "近所" not in " ".join(found.values())
    with Session(engine) as s:
        assert s.exec(select(EvacuationPlan)).all() == []


def test_a_register_id_in_the_file_links_the_entry(client, engine):
    supporter = entry(client)
    factories.create(client, "people", factories.person(register_no="L-001"))
    report = post(client, HEADER + f"\nL-001,近所 良子,近隣住民,042-325-0011,{supporter['id'].upper()},作成中\n")
    assert report["errors"] == [] and report["counts"]["created"] == 1
    assert plan_of(engine, "L-001").supporters[0]["supporter_id"] == supporter["id"]


# ---- 2. supporter load --------------------------------------------------------------------

def test_an_import_putting_a_supporter_over_the_threshold_flags_their_done_plans(client, engine):
    supporter = entry(client)
    done = [linked_plan(client, supporter, f"D-{n:03d}") for n in range(OVERLOAD_THRESHOLD)]
    factories.create(client, "people", factories.person(register_no="N-001"))
    factories.create(client, "people", factories.person(register_no="N-002"))
    row = f"近所 良子,近隣住民,042-325-0011,{supporter['id']},作成中"
    report = post(client, f"{HEADER}\nN-001,{row}\n")  # one more than the threshold
    assert report["errors"] == [] and report["counts"]["created"] == 1
    assert {client.get(f"/api/plans/{p['id']}").json()["status"] for p in done} == {"needs_review"}
    new = plan_of(engine, "N-001")
    assert new.status == "drafting"  # a draft keeps its status; its reason is listed
    with Session(engine) as s:
        reasons = s.exec(select(PlanReviewReason).where(PlanReviewReason.code == "supporter_overloaded")).all()
        assert {str(r.plan_id) for r in reasons} == {p["id"] for p in done} | {str(new.id)}
        flagged = s.exec(select(AuditEntry).where(AuditEntry.action == "review_flag")).all()
        assert {i for a in flagged for i in a.record_ids} == {p["id"] for p in done}
    # already over the threshold: another plan does not cross it again, nothing more is flagged
    # (as on the API: the review list still shows the load, supporter_review_reasons)
    before = {p["id"]: client.get(f"/api/plans/{p['id']}").json()["version"] for p in done}
    post(client, f"{HEADER}\nN-002,{row}\n")
    assert {p["id"]: client.get(f"/api/plans/{p['id']}").json()["version"] for p in done} == before


def test_a_file_that_adds_and_removes_links_counts_the_load_after_the_whole_file(client, engine):
    supporter = entry(client)
    done = [linked_plan(client, supporter, f"D-{n:03d}") for n in range(OVERLOAD_THRESHOLD)]
    factories.create(client, "people", factories.person(register_no="N-001"))
    # D-000 leaves the supporter, N-001 takes them on: still at the threshold, nobody is flagged
    text = (f"{HEADER}\nD-000,別人 太郎,知人,090-1234-5678,,作成中\n"
            f"N-001,近所 良子,近隣住民,042-325-0011,{supporter['id']},作成中\n")
    report = post(client, text)
    assert report["errors"] == [] and report["counts"]["updated"] == 1 and report["counts"]["created"] == 1
    assert {client.get(f"/api/plans/{p['id']}").json()["status"] for p in done[1:]} == {"done"}


# ---- 3. audit -----------------------------------------------------------------------------

def test_the_import_audit_names_the_plans_written_and_only_their_ids(client, engine):
    factories.create(client, "people", factories.person(register_no="A-001"))
    factories.create(client, "people", factories.person(register_no="A-002"))
    factories.create(client, "people", factories.person(register_no="A-003"))
    post(client, "登録者番号,支援者1氏名,支援者1電話\nA-001,近所 一郎,090-1111-0000\n")
    text = "登録者番号,支援者1氏名,支援者1電話\nA-001,近所 二郎,090-1111-0000\nA-002,近所 三郎,090-2222-0000\nA-003,,\n"
    post(client, text, apply=False)
    post(client, text)
    written = {str(plan_of(engine, no).id) for no in ("A-001", "A-002")}
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.resource == "plans").order_by(AuditEntry.id)).all()
    imports = [a for a in entries if a.action == "import"]
    assert set(imports[-1].record_ids) == written  # A-003 had nothing to write
    assert "created=1 updated=1" in imports[-1].detail
    assert all(a.record_ids == [] for a in entries if a.action == "import_dry_run")
    assert not any("近所" in (a.detail or "") for a in entries)


def test_many_ids_are_audited_in_parts_that_each_carry_the_counts(engine):
    ids = [uuid.uuid4() for _ in range(7)]
    with Session(engine) as s:
        record_in_parts(s, "import", resource="plans", record_ids=ids, detail="plans_csv rows=7", part_size=3)
        s.commit()
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id)).all()
    assert [len(a.record_ids) for a in entries] == [3, 3, 1]
    assert [a.detail for a in entries] == [f"plans_csv rows=7 (ids part {n}/3)" for n in (1, 2, 3)]
    assert [i for a in entries for i in a.record_ids] == [str(i) for i in ids]
    with Session(engine) as s:  # no ids: one entry, as before
        record_in_parts(s, "import", resource="plans", record_ids=[], detail="nothing", part_size=3)
        s.commit()
        assert s.exec(select(AuditEntry).where(AuditEntry.detail == "nothing")).one().record_ids == []


def test_the_workbench_screen_and_the_cli_audit_the_plans_they_write(client, engine, tmp_path, monkeypatch):
    import hashlib

    from server.cli import main

    factories.create(client, "people", factories.person(register_no="A-001"))
    factories.create(client, "people", factories.person(register_no="A-002"))
    data = "登録者番号,支援者1氏名,支援者1電話\nA-001,近所 一郎,090-1111-0000\n".encode()
    applied = client.post("/workbench/plans/import", data={"apply": "true", "digest": hashlib.sha256(data).hexdigest()},
                          files={"file": ("plans.csv", data, "text/csv")})
    assert applied.status_code == 200 and 'data-applied="true"' in applied.text
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    path = tmp_path / "plans.csv"
    path.write_bytes("登録者番号,支援者1氏名,支援者1電話\nA-002,近所 二郎,090-2222-0000\n".encode())
    assert main(["import", "plans", str(path), "--apply"]) == 0
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "import", AuditEntry.resource == "plans")
                         .order_by(AuditEntry.id)).all()
    assert [(a.detail.startswith("workbench"), a.client == "cli") for a in entries] == [(True, False), (False, True)]
    assert [a.record_ids for a in entries] == [[str(plan_of(engine, "A-001").id)], [str(plan_of(engine, "A-002").id)]]


def test_a_file_that_alone_overloads_a_supporter_flags_its_own_done_plans(client, engine):
    supporter = entry(client)
    for n in range(OVERLOAD_THRESHOLD + 1):
        factories.create(client, "people", factories.person(register_no=f"N-{n:03d}"))
    header = "登録者番号,支援者1氏名,支援者1電話,支援者1台帳ID,同意,同意日,避難のタイミング,状態"
    rows = [f"N-{n:03d},近所 良子,042-325-0011,{supporter['id']},有,2025-04-01,早めに,作成済"
            for n in range(OVERLOAD_THRESHOLD + 1)]
    # 作成済 needs a destination: a shelter that accepts everyone
    shelter = factories.create(client, "shelters", factories.shelter(name="第一小学校", kind="designated",
                                                                      target_groups=["general"]))
    text = header.replace(",状態", ",避難先,状態") + "\n" + "\n".join(r.replace(",作成済", f",{shelter['name']},作成済")
                                                                  for r in rows) + "\n"
    report = post(client, text)
    assert report["errors"] == [] and report["counts"]["created"] == OVERLOAD_THRESHOLD + 1
    statuses = {plan_of(engine, f"N-{n:03d}").status for n in range(OVERLOAD_THRESHOLD + 1)}
    assert statuses == {"needs_review"}


def test_an_office_may_link_only_its_own_citys_supporters(engine, client_for):
    from tests.test_municipalities import A, B, TwoCities

    cities = TwoCities(engine)
    everyone = client_for("admin", municipality_codes=[A, B])
    own, other = (everyone.post("/api/supporters", json={"kind": "neighbour", "name": "近所 良子", "phone": "042-325-0011",
                                                         "availability": "anytime", "municipality_code": code}).json()
                  for code in (A, B))
    office_a = client_for("welfare_staff", municipality_codes=[A])
    text = f"{HEADER}\n{A}-yes,近所 良子,近隣住民,042-325-0011,{other['id']},作成中\n"
    report = post(office_a, text)
    assert report["applied"] is False and [(e["line"], e["column"]) for e in report["errors"]] == [(2, "支援者1台帳ID")]
    report = post(office_a, text.replace(other["id"], own["id"]))
    assert report["applied"] is True and report["counts"]["created"] == 1
    with Session(cities.engine) as s:
        assert s.exec(select(EvacuationPlan)).one().supporters[0]["supporter_id"] == own["id"]


def test_the_plan_api_links_only_a_supporter_of_the_persons_city(engine, client_for):
    """The JSON API keeps the same rule as the import and the workbench form: a plan of city A's
    person may not newly link city B's 支援者台帳 entry (422 on the line, as an unknown id)."""
    from tests.test_municipalities import A, B, TwoCities

    cities = TwoCities(engine)
    everyone = client_for("admin", municipality_codes=[A, B])
    entry = {code: everyone.post("/api/supporters", json={"kind": "neighbour", "name": "近所 良子", "phone": "042-325-0011",
                                                           "availability": "anytime", "municipality_code": code}).json()
             for code in (A, B)}
    person = cities.people[(A, "yes")]
    line = {"name": "近所 良子", "phone": "042-325-0011"}
    refused = everyone.post("/api/plans", json={"person_id": str(person.id),
                                                "supporters": [{**line, "supporter_id": entry[B]["id"]}]})
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["supporters.0.supporter_id"]
    made = everyone.post("/api/plans", json={"person_id": str(person.id),
                                             "supporters": [{**line, "supporter_id": entry[A]["id"]}]})
    assert made.status_code == 201, made.text
