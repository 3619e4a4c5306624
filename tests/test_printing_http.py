"""Printing over HTTP: scoped like reading plans (out of scope → 404), the role's hidden fields
stay off paper, every print is audited with ids only, batch jobs report progress and belong
to their owner, the /print page works under the strict CSP."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from server.models.auth import AuditEntry
from tests.printing_helpers import flat, load_city, pdf_text, wait_for_batch
from tests.test_access import World, set_mode


@pytest.fixture
def world(engine):
    return World(engine)


@pytest.fixture
def as_role(world, client_for):
    return lambda role: client_for(role, **world.scope_for(role))


def _audits(engine, action="print"):
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all())


def test_admin_prints_a_plan_and_it_is_audited_with_ids_only(engine, world, as_role, tmp_path):
    plan = world.plans["A-YES"]
    r = as_role("admin").get(f"/api/print/plans/{plan.id}.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and r.headers["cache-control"] == "no-store"
    text = flat(pdf_text(r.content, tmp_path))
    assert "名前A-YES" in text and "COPD" in text and "〇〇医院" in text
    [entry] = _audits(engine)
    assert (entry.resource, entry.record_ids, entry.role) == ("plans", [str(plan.id)], "admin")
    assert "名前" not in entry.detail and "COPD" not in (entry.detail or "")


def test_supporter_prints_only_in_scope_and_without_health_details(engine, world, as_role, tmp_path):
    supporter = as_role("district_supporter")
    ok = supporter.get(f"/api/print/plans/{world.plans['A-YES'].id}.pdf")
    assert ok.status_code == 200
    text = flat(pdf_text(ok.content, tmp_path))
    assert "名前A-YES" in text and "酸素を持つ" in text
    assert "COPD" not in text and "〇〇医院" not in text and "病状の詳細" not in text
    assert "一部の項目は閲覧権限により印刷していません" in text
    for other in ("B-YES", "A-NO"):  # another area; not consented in normal mode
        r = supporter.get(f"/api/print/plans/{world.plans[other].id}.pdf")
        assert r.status_code == 404 and r.json() == {"detail": "evacuation plan not found"}
    denied = _audits(engine, "denied")
    assert [e.record_ids for e in denied] == [[str(world.plans["B-YES"].id)], [str(world.plans["A-NO"].id)]]
    set_mode(engine, "disaster")
    assert supporter.get(f"/api/print/plans/{world.plans['A-NO'].id}.pdf").status_code == 200


@pytest.mark.parametrize("role,status", [("hq_viewer", 403), ("shelter_staff", 404), ("dwat_member", 404)])
def test_other_roles(world, as_role, role, status):
    # A-YES's plan goes to S2; shelter staff and the DWAT member are at S1.
    assert as_role(role).get(f"/api/print/plans/{world.plans['A-YES'].id}.pdf").status_code == status


def test_unknown_plan_and_bad_language(world, as_role):
    c = as_role("admin")
    assert c.get("/api/print/plans/00000000-0000-0000-0000-000000000000.pdf").status_code == 404
    assert c.get("/api/print/plans/not-a-uuid.pdf").status_code == 404
    r = c.get(f"/api/print/plans/{world.plans['A-YES'].id}.pdf?lang=fr")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lang"




def test_batch_job_progress_pdf_owner_and_one_audit_entry(engine, world, as_role, client_for, tmp_path):
    c = as_role("admin")
    ids = [str(world.plans[k].id) for k in ("B-YES", "A-YES", "A-NO")]
    r = c.post("/api/print/batches", json={"by": "selection", "ids": ids})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["total"] == 3 and job["state"] in ("queued", "running", "done")
    assert r.headers["location"] == job["status_url"]
    status = wait_for_batch(c, job["id"])
    assert status["state"] == "done" and status["done"] == status["total"] == 3 and status["pages"] >= 4
    pdf = c.get(status["pdf_url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = flat(pdf_text(pdf.content, tmp_path))
    assert text.index("名前B-YES") < text.index("名前A-YES")  # the index lists the selection's order
    [entry] = _audits(engine)
    assert entry.record_ids == ids and entry.detail == "batch by selection"
    stranger = client_for("admin")
    assert stranger.get(job["status_url"]).status_code == 404
    assert stranger.get(status["pdf_url"]).status_code == 404
    # the same batch for double-sided printing: every plan on new sheets, the cover says so
    duplex = wait_for_batch(c, c.post("/api/print/batches", json={"by": "selection", "ids": ids, "duplex": True}).json()["id"])
    assert duplex["state"] == "done" and duplex["pages"] % 2 == 0 and duplex["pages"] >= status["pages"]
    assert "両面印刷用" in flat(pdf_text(c.get(duplex["pdf_url"]).content, tmp_path))


def test_batch_selection_and_district_scope(world, as_role):
    supporter = as_role("district_supporter")
    r = supporter.post("/api/print/batches", json={"by": "selection", "ids": [str(world.plans["B-YES"].id)]})
    assert r.status_code == 404
    assert supporter.post("/api/print/batches", json={"by": "district", "value": str(world.area_b.id)}).status_code == 404
    r = supporter.post("/api/print/batches", json={"by": "district", "value": "A"})
    assert r.status_code == 202 and r.json()["total"] == 1  # normal mode: only the consented person
    wait_for_batch(supporter, r.json()["id"])
    assert as_role("hq_viewer").post("/api/print/batches", json={"by": "district", "value": "A"}).status_code == 403


@pytest.mark.parametrize("body,field", [({"by": "street"}, "by"), ({"by": "district"}, "value"),
                                        ({"by": "selection", "ids": "x"}, "ids"),
                                        ({"by": "selection", "ids": ["nope"]}, "ids"),
                                        ({"by": "supporter", "value": "  "}, "value"),
                                        ({"by": "district", "value": "A", "duplex": "yes"}, "duplex")])
def test_bad_batch_requests(as_role, body, field):
    r = as_role("admin").post("/api/print/batches", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def test_batch_pdf_before_it_is_done_is_409(world, as_role):
    from server.printing.jobs import PrintJob, store_for

    c = as_role("admin")
    store = store_for(c.app)
    job = PrintJob(owner=str(c.user.id), total=1, description="")
    store._jobs[job.id] = job
    r = c.get(f"/api/print/batches/{job.id}.pdf")
    assert r.status_code == 409 and r.json()["job"]["state"] == "queued"


def test_field_lists_are_scoped_and_audited(engine, world, as_role, tmp_path):
    supporter = as_role("district_supporter")
    r = supporter.get(f"/api/print/field-lists/district/{world.area_a.id}.pdf")
    assert r.status_code == 200
    text = flat(pdf_text(r.content, tmp_path))
    assert "名前A-YES" in text and "名前A-NO" not in text and "同意した方のみ" in text
    assert supporter.get(f"/api/print/field-lists/district/{world.b1.id}.pdf").status_code == 404
    entry = _audits(engine)[-1]
    assert entry.resource == "field-list" and str(world.p_a_yes.id) in entry.record_ids
    staff = as_role("shelter_staff")
    assert staff.get(f"/api/print/field-lists/shelter/{world.s2.id}.pdf").status_code == 404
    set_mode(engine, "disaster")
    r = staff.get(f"/api/print/field-lists/shelter/{world.s1.id}.pdf")
    assert r.status_code == 200 and "名前A-NO" in flat(pdf_text(r.content, tmp_path))
    assert as_role("hq_viewer").get(f"/api/print/field-lists/shelter/{world.s1.id}.pdf").status_code == 403


def test_print_page_needs_sign_in_and_runs_no_inline_script(engine, client, anon_client):
    load_city(engine)
    anon = anon_client.get("/print")
    assert anon.status_code == 401 and "サインイン" in anon.text
    page = client.get("/print")
    assert page.status_code == 200 and "個別避難計画" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # every script is a file
    links = re.findall(r'href="(/(?:api/print|print/preview)/[^"]+)"', page.text)
    assert any(".pdf" in link for link in links) and any("preview" in link for link in links)
    preview = client.get(next(link for link in links if "/print/preview/plans/" in link))
    assert preview.status_code == 200 and 'href="/print/print.css"' in preview.text and "<svg" in preview.text
    assert client.get("/print/print.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/print.js").status_code == 200
    district = next(link for link in links if "/api/print/field-lists/district/" in link)
    assert client.get(district).status_code == 200


def test_no_chromium_answers_503_with_the_reason(world, as_role, monkeypatch):
    from server.printing import engine as engine_module

    broken = engine_module.PdfEngine(executable="/nonexistent/chromium")
    monkeypatch.setattr(engine_module, "_engine", broken)
    try:
        r = as_role("admin").get(f"/api/print/plans/{world.plans['A-YES'].id}.pdf")
    finally:
        broken.close()
    assert r.status_code == 503 and "Chromium" in r.json()["detail"]


def _found(page_text: str) -> list[str]:
    """The register numbers listed in the /print search results."""
    if 'id="find-results"' not in page_text:
        return []
    block = page_text[page_text.index('id="find-results"'):]
    block = block[:block.index("</div>")]
    return re.findall(r"<tr><td>([^<]+)</td>", block)


def test_print_page_finds_one_persons_plan_within_scope_and_audits_ids_only(engine, world, as_role):
    with Session(engine) as s:
        from server.models import Person

        person = s.exec(select(Person).where(Person.register_no == "A-YES")).one()
        person.name_kana = "ナマエ エーイエス"
        s.add(person)
        s.commit()
    admin = as_role("admin")
    by_kana = admin.get("/print", params={"q": "なまえ えーいえす"})  # hiragana for a katakana reading
    assert by_kana.status_code == 200 and _found(by_kana.text) == ["A-YES"]
    assert f'/api/print/plans/{world.plans["A-YES"].id}.pdf' in by_kana.text
    assert _found(admin.get("/print", params={"q": "名前 A"}).text) == ["A-NO", "A-YES"]  # spaces ignored
    assert _found(admin.get("/print", params={"q": "B-YES"}).text) == ["B-YES"]
    assert _found(admin.get("/print", params={"q": "%"}).text) == []  # LIKE wildcards are literal
    assert "一致する計画はありません" in admin.get("/print", params={"q": "該当なし"}).text
    [entry] = [e for e in _audits(engine, "list") if e.detail == "print page search" and
               e.record_ids == [str(world.plans["B-YES"].id)]]
    assert "B-YES" not in entry.detail and entry.resource == "plans"
    # a district supporter finds only the plans they may print (area A, consented, normal mode)
    supporter = as_role("district_supporter")
    assert _found(supporter.get("/print", params={"q": "名前"}).text) == ["A-YES"]
    assert _found(supporter.get("/print", params={"q": "B-YES"}).text) == []
    too_long = admin.get("/print", params={"q": "あ" * 101})
    assert too_long.status_code == 422 and "100文字以内" in too_long.text


def test_print_page_has_no_developer_notes_and_every_select_is_labelled(engine, client):
    load_city(engine)
    page = client.get("/print").text
    assert "docs/printing.md" not in page and "コンテキスト" not in page
    for select_id in re.findall(r'<select id="([^"]+)"', page):
        # inside a <label> or named by a <label for=…>
        before = page[:page.index(f'<select id="{select_id}"')]
        assert f'<label for="{select_id}"' in page or before.rfind("<label") > before.rfind("</label>"), select_id


def test_previews_have_a_main_landmark_one_heading_and_no_empty_headers(engine, world, as_role):
    admin = as_role("admin")
    page = admin.get(f"/print/preview/plans/{world.plans['A-YES'].id}").text
    assert page.count("<main>") == 1 and page.count("<h1") == 1 and "<th></th>" not in page
    shelter_list = admin.get(f"/print/preview/field-lists/shelter/{world.s1.id}").text
    assert shelter_list.count("<main>") == 1 and shelter_list.count("<h1") == 1
