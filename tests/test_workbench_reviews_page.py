"""The review list (/workbench/reviews): overdue plans, done plans without a date, plans flagged
for a change with the reason shown; the district filter; the review-request letters as a real
PDF read back with poppler."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from server.domain.japan_time import today_jst
from server.models import AuditEntry
from tests import factories
from tests.printing_helpers import flat, page_count, page_texts


@pytest.fixture
def city(client):
    today = today_jst()
    area = factories.create(client, "districts", {"municipality_code": "132144", "code": "W1", "name": "北圏域",
                                                  "kind": "welfare_area"})
    c1 = factories.create(client, "districts", {"municipality_code": "132144", "code": "C1", "name": "戸倉一丁目",
                                                "kind": "chome", "parent_id": area["id"]})
    c2 = factories.create(client, "districts", {"municipality_code": "132144", "code": "C2", "name": "光町二丁目",
                                                "kind": "chome"})
    shelter = factories.create(client, "shelters", factories.shelter())

    def person_with_plan(no, district, status="done", review_due=None, supporters=None, **person):
        p = factories.create(client, "people", factories.person(**{"register_no": no, "name": f"見直 {no}",
                                                                   "district_id": district, **person}))
        plan = factories.create(client, "plans", {
            "person_id": p["id"], "status": status, "destination_shelter_id": shelter["id"],
            "supporters": supporters if supporters is not None else [{"name": f"支援 {no}", "relation": "長男",
                                                                       "phone": "042-111-0000"}],
            "consent": True, "consent_date": "2025-04-01",
            "review_due": review_due.isoformat() if review_due else None})
        return p, plan

    long_ago = person_with_plan("RV-1", c1["id"], review_due=today - timedelta(days=40))
    recent = person_with_plan("RV-2", c2["id"], status="drafting", review_due=today - timedelta(days=2))
    undated = person_with_plan("RV-3", c1["id"])
    due_today = person_with_plan("RV-4", c1["id"], review_due=today)
    future_draft = person_with_plan("RV-5", c2["id"], status="drafting", review_due=today + timedelta(days=9))
    return {"area": area["id"], "c1": c1["id"], "c2": c2["id"], "shelter": shelter,
            "people": {p["register_no"]: (p, plan) for p, plan in (long_ago, recent, undated, due_today, future_draft)}}


def _rows(page: str) -> list[str]:
    return re.findall(r"<td>(RV-\d)</td>", page)


def test_the_list_most_overdue_first_then_undated_done_plans(client, city):
    page = client.get("/workbench/reviews")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert _rows(page.text) == ["RV-1", "RV-2", "RV-3"]  # due today is not overdue; a future draft is not listed
    assert "次回見直し日を過ぎています" in page.text and "見直し日が未設定です" in page.text
    assert re.search(r"RV-1</td>.*?<td class=\"wb-num\">40</td>", page.text, re.S)


def test_flagged_plans_are_listed_with_why_and_a_draft_keeps_its_status(client, city):
    p5, plan5 = city["people"]["RV-5"]
    p4, plan4 = city["people"]["RV-4"]
    client.patch(f"/api/people/{p5['id']}", json={"version": p5["version"], "care_needs": ["oxygen"]})
    client.patch(f"/api/people/{p4['id']}", json={"version": p4["version"], "address": "東京都国分寺市光町9-9"})
    page = client.get("/workbench/reviews").text
    assert _rows(page) == ["RV-1", "RV-2", "RV-3", "RV-4", "RV-5"]
    row5 = re.search(r'<tr data-plan="' + plan5["id"] + r'">(.*?)</tr>', page, re.S).group(1)
    assert "作成中" in row5 and 'data-code="needs_changed"' in row5 and "本人の配慮が必要な事項が変わりました" in row5
    row4 = re.search(r'<tr data-plan="' + plan4["id"] + r'">(.*?)</tr>', page, re.S).group(1)
    assert "要見直し" in row4 and 'data-code="address_changed"' in row4
    english = client.get("/workbench/reviews?lang=en").text
    assert "the person&#39;s address changed" in english or "the person's address changed" in english


def test_the_district_filter_takes_a_welfare_area_for_its_chome(client, city):
    assert _rows(client.get(f"/workbench/reviews?district={city['c2']}").text) == ["RV-2"]
    assert _rows(client.get(f"/workbench/reviews?district={city['area']}").text) == ["RV-1", "RV-3"]
    assert client.get("/workbench/reviews?district=nonsense").status_code == 422
    assert client.get("/workbench/reviews?page=x").status_code == 422


def test_the_list_is_audited_and_other_roles_are_refused(client, city, engine, client_for):
    client.get("/workbench/reviews")
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.resource == "people", AuditEntry.action == "list")
                             .order_by(AuditEntry.id.desc())).first()
        assert set(entry.record_ids) == {city["people"][n][0]["id"] for n in ("RV-1", "RV-2", "RV-3")}
    other = client_for("district_supporter")
    assert other.get("/workbench/reviews").status_code == 403
    assert other.get("/workbench/reviews/letters.pdf").status_code == 403


def test_review_letters_pdf_for_each_person_and_their_supporters(client, city, engine, tmp_path):
    p5, _ = city["people"]["RV-5"]
    client.patch(f"/api/people/{p5['id']}", json={"version": p5["version"], "care_needs": ["oxygen"]})
    answer = client.get(f"/workbench/reviews/letters.pdf?district={city['area']}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf" and answer.content.startswith(b"%PDF")
    pages = [flat(t) for t in page_texts(answer.content, tmp_path)]
    assert page_count(answer.content) == 4  # RV-1 and RV-3 (in 戸倉一丁目), each with one supporter's copy
    assert "見直RV-1様" in pages[0] and "個別避難計画の見直しのお願い" in pages[0] and "を過ぎています" in pages[0]
    assert "支援RV-1様（長男）" in pages[1] and "避難支援等実施者の方へ" in pages[1] and "見直RV-1様の" in pages[1]
    assert "見直RV-3様" in pages[2] and "見直し日が決まっていません" in pages[2]
    everything = client.get("/workbench/reviews/letters.pdf")
    texts = [flat(t) for t in page_texts(everything.content, tmp_path)]
    letter5 = next(t for t in texts if "見直RV-5様" in t and "避難支援等実施者の方へ" not in t)
    assert "本人の配慮が必要な事項が変わりました" in letter5
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.resource == "plans/review-letters")
                             .order_by(AuditEntry.id)).first()
        assert entry.action == "print" and len(entry.record_ids) == 2


def test_no_letters_when_nothing_is_due(client, city):
    assert client.get(f"/workbench/reviews/letters.pdf?district={city['c2']}&x=1").status_code == 200
    client_empty = client.get("/workbench/reviews/letters.pdf?district=" + city["shelter"]["id"])
    assert client_empty.status_code == 404
