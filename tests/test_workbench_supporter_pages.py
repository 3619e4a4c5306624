"""The supporter register screens over HTTP: who may open them, the list's filters, the supporter
page with the load, new / edit with the 409 merge, mark as left, the duplicate candidates, and the
plan form linking its supporters to the register (chosen, matched or made on the spot)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlmodel import Session, select

from server.domain.workbench.supporters import OVERLOAD_THRESHOLD
from server.models import AuditEntry, SupporterCandidate
from tests import factories


def supporter(**over) -> dict:
    data = dict(kind="neighbour", name="近所 良子", name_kana="きんじょ よしこ", phone="042-325-0011",
                availability="daytime_only")
    data.update(over)
    return data


def link(client, entry: dict, status: str = "drafting") -> dict:
    person = factories.create(client, "people", factories.person())
    extra = {"consent": True, "consent_date": "2025-04-01"} if status == "done" else {}
    return factories.create(client, "plans", {"person_id": person["id"], "status": status, **extra, "supporters": [
        {"name": entry["name"], "phone": entry["phone"], "relation": "近隣住民", "supporter_id": entry["id"]}]})


@pytest.fixture
def register(client):
    chome = factories.create(client, "districts", {"municipality_code": "132144", "code": "C1", "name": "戸倉一丁目",
                                                   "kind": "chome"})
    yoshiko = factories.create(client, "supporters", supporter(district_id=chome["id"]))
    minsei = factories.create(client, "supporters", supporter(kind="minsei", name="民生 一郎", name_kana="みんせい いちろう",
                                                              phone="090-1111-2222", area_district_ids=[chome["id"]]))
    gone = factories.create(client, "supporters", supporter(name="転出 済子", name_kana="てんしゅつ すみこ", phone="",
                                                            active=False, left_on="2025-01-01"))
    return {"chome": chome, "yoshiko": yoshiko, "minsei": minsei, "gone": gone}


def test_other_roles_are_refused_and_anonymous_signs_in(anon_client, client_for, register):
    answer = anon_client.get("/workbench/supporters", follow_redirects=False)
    assert answer.status_code == 303 and "/login" in answer.headers["location"]
    for role in ("district_supporter", "shelter_staff", "hq_viewer"):
        other = client_for(role)
        assert other.get("/workbench/supporters").status_code == 403
        assert other.get(f"/workbench/supporters/{register['yoshiko']['id']}").status_code == 403
        assert other.get("/workbench/supporters/search?q=近所").status_code == 403


@pytest.mark.parametrize("query, expected", [
    ("", {"近所 良子", "民生 一郎"}),
    ("q=きんじょ", {"近所 良子"}),
    ("q=090-1111", {"民生 一郎"}),
    ("kind=minsei", {"民生 一郎"}),
    ("state=left", {"転出 済子"}),
    ("state=all", {"近所 良子", "民生 一郎", "転出 済子"}),
])
def test_list_filters(client, register, query, expected):
    page = client.get(f"/workbench/supporters?{query}")
    assert page.status_code == 200
    assert {n for n in ("近所 良子", "民生 一郎", "転出 済子") if f">{n}</a>" in page.text} == expected


def test_district_filter_finds_home_and_area(client, register):
    page = client.get(f"/workbench/supporters?district={register['chome']['id']}")
    assert ">近所 良子</a>" in page.text and ">民生 一郎</a>" in page.text


def test_bad_filters_are_422(client, register):
    assert client.get("/workbench/supporters?kind=samurai").status_code == 422
    assert client.get("/workbench/supporters?district=nope").status_code == 422


def test_overloaded_filter_and_the_load_on_the_page(client, engine, register):
    entry = register["yoshiko"]
    for _ in range(OVERLOAD_THRESHOLD + 1):
        link(client, entry)
    link(client, register["minsei"])
    page = client.get("/workbench/supporters?overloaded=1")
    assert ">近所 良子</a>" in page.text and ">民生 一郎</a>" not in page.text
    assert f"上限 {OVERLOAD_THRESHOLD} 件超過" in page.text
    page = client.get(f"/workbench/supporters/{entry['id']}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert f"<strong>{OVERLOAD_THRESHOLD + 1}</strong>" in page.text and "担当が多すぎます" in page.text
    with Session(engine) as s:
        reads = s.exec(select(AuditEntry).where(AuditEntry.resource == "supporters", AuditEntry.action == "read")).all()
    assert [entry["id"]] in [r.record_ids for r in reads]


def test_new_supporter_bad_phone_keeps_what_was_typed(client, register):
    answer = client.post("/workbench/supporters/new", data={
        "kind": "neighbour", "name": "新しい 人", "phone": "042-325-0011 内線12", "availability": "anytime",
        "notes": "大事なメモ", "version": ""})
    assert answer.status_code == 422
    assert "大事なメモ" in answer.text and 'id="err-phone"' in answer.text
    answer = client.post("/workbench/supporters/new", data={
        "kind": "samurai", "name": "新しい 人", "availability": "anytime", "version": ""})
    assert answer.status_code == 422 and 'id="err-kind"' in answer.text


def test_new_supporter_lands_on_their_page(client, register):
    answer = client.post("/workbench/supporters/new", data={
        "kind": "care_manager", "name": "ケア 真子", "phone": "０４２３２５９９９９", "availability": "daytime_only",
        "area_district_ids": [register["chome"]["id"]], "birth_year": "1958", "version": ""}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"])
    assert "ケア 真子" in page.text, page.text
    assert "042-325-9999" in page.text and "戸倉一丁目" in page.text


def test_edit_after_someone_else_saved_is_the_merge_and_updates_plans(client, register):
    entry = register["yoshiko"]
    plan = link(client, entry)
    assert client.get(f"/workbench/supporters/{entry['id']}/edit").status_code == 200
    assert client.patch(f"/api/supporters/{entry['id']}", json={"version": 1, "notes": "鍵あり"}).status_code == 200
    mine = {"kind": "neighbour", "name": "近所 良子", "phone": "090-5555-6666", "availability": "daytime_only",
            "notes": "", "version": "1"}
    page = client.post(f"/workbench/supporters/{entry['id']}/edit", data=mine)
    assert page.status_code == 409
    assert 'name="theirs.notes" value="鍵あり"' in page.text and 'name="mine.phone" value="090-5555-6666"' in page.text
    merged = client.post(f"/workbench/supporters/{entry['id']}/edit", data={
        "merge": "1", "version": "2", **{f"mine.{k}": v for k, v in mine.items()}, "theirs.notes": "鍵あり",
        "pick.notes": "theirs", "pick.phone": "mine"}, follow_redirects=False)
    assert merged.status_code == 303, merged.text
    stored = client.get(f"/api/supporters/{entry['id']}").json()
    assert stored["phone"] == "090-5555-6666" and stored["notes"] == "鍵あり"
    assert client.get(f"/api/plans/{plan['id']}").json()["supporters"][0]["phone"] == "090-5555-6666"


def test_mark_as_left_flags_done_plans(client, register):
    entry = register["yoshiko"]
    plan = link(client, entry, status="done")
    page = client.post(f"/workbench/supporters/{entry['id']}/left", data={"version": "1", "left_on": "2026-01-05"})
    assert page.status_code == 200 and 'id="left-saved"' in page.text
    assert client.get(f"/api/plans/{plan['id']}").json()["status"] == "needs_review"
    assert client.get(f"/api/supporters/{entry['id']}").json()["active"] is False
    future = client.post(f"/workbench/supporters/{register['minsei']['id']}/left",
                         data={"version": "1", "left_on": "2999-01-01"})
    assert future.status_code == 422 and client.get(f"/api/supporters/{register['minsei']['id']}").json()["active"]


def test_merging_a_candidate_pair_relinks_the_plans(client, engine, register):
    a, b = register["yoshiko"], factories.create(client, "supporters", supporter(phone=""))
    plan_b = link(client, b)
    both = link(client, a)
    client.patch(f"/api/plans/{both['id']}", json={"version": both["version"], "supporters": [
        *both["supporters"], {"name": b["name"], "supporter_id": b["id"]}]})
    with Session(engine) as s:
        pair = SupporterCandidate(a_id=uuid.UUID(a["id"]), b_id=uuid.UUID(b["id"]), reason="same_name_other_phone")
        apart = SupporterCandidate(a_id=uuid.UUID(a["id"]), b_id=uuid.UUID(register["minsei"]["id"]), reason="kana_match")
        s.add(pair), s.add(apart)
        s.commit()
        pair_id, apart_id = pair.id, apart.id
    page = client.get("/workbench/supporters/candidates")
    assert page.status_code == 200 and "同じ氏名で電話が違う" in page.text
    kept = client.post(f"/workbench/supporters/candidates/{apart_id}", data={"decision": "keep_apart"})
    assert kept.status_code == 200 and "別人として残しました" in kept.text
    merged = client.post(f"/workbench/supporters/candidates/{pair_id}", data={"decision": "merge", "keep": "a"})
    assert merged.status_code == 200 and "統合しました" in merged.text and 'id="no-candidates"' in merged.text
    assert client.get(f"/api/supporters/{b['id']}").status_code == 404
    moved = client.get(f"/api/plans/{plan_b['id']}").json()["supporters"][0]
    assert moved["supporter_id"] == a["id"] and moved["phone"] == a["phone"]
    assert [s["supporter_id"] for s in client.get(f"/api/plans/{both['id']}").json()["supporters"]] == [a["id"]]
    assert client.post(f"/workbench/supporters/candidates/{pair_id}", data={"decision": "merge"}).status_code == 404


def test_plan_form_links_chosen_matched_and_new_supporters(client, register):
    person = factories.create(client, "people", factories.person())
    pid = person["id"]
    found = client.get("/workbench/supporters/search?q=みんせい").json()["items"]
    assert [i["name"] for i in found] == ["民生 一郎"]
    answer = client.post(f"/workbench/people/{pid}/plan", data={
        "status": "drafting", "version": "",
        "s1_supporter_id": found[0]["id"], "s1_name": "別の名前", "s1_relation": "民生委員",
        "s2_name": "近所　良子", "s2_phone": "0423250011", "s2_relation": "近隣住民",
        "s3_name": "長男 太郎", "s3_relation": "長男", "s3_phone": "090-7777-8888"})
    assert answer.status_code == 200, answer.text
    lines = client.get(f"/api/plans?person_id={pid}").json()["items"][0]["supporters"]
    assert lines[0]["supporter_id"] == register["minsei"]["id"] and lines[0]["name"] == "民生 一郎"
    assert lines[1]["supporter_id"] == register["yoshiko"]["id"]  # the same name and number: the same entry
    made = client.get(f"/api/supporters/{lines[2]['supporter_id']}").json()
    assert made["name"] == "長男 太郎" and made["kind"] == "family"
    assert answer.text.count("台帳の支援者") == 3  # each slot shows its register link


def test_plan_form_bad_supporter_phone_creates_nothing(client, register):
    person = factories.create(client, "people", factories.person())
    before = client.get("/api/supporters?limit=500").json()["total"]
    answer = client.post(f"/workbench/people/{person['id']}/plan", data={
        "status": "drafting", "version": "", "s1_name": "新人 一人", "s1_phone": "abc", "route_note": "メモ"})
    assert answer.status_code == 422 and "メモ" in answer.text
    assert client.get("/api/supporters?limit=500").json()["total"] == before
    assert client.get(f"/api/plans?person_id={person['id']}").json()["total"] == 0


def test_removing_the_only_supporter_still_warns(client, register):
    shelter = factories.create(client, "shelters", factories.shelter())
    person = factories.create(client, "people", factories.person())
    done = {"status": "done", "version": "", "s1_supporter_id": register["yoshiko"]["id"], "s1_name": "x",
            "destination_shelter_id": shelter["id"], "consent": "on", "consent_date": date.today().isoformat()}
    assert client.post(f"/workbench/people/{person['id']}/plan", data=done).status_code == 200
    plan = client.get(f"/api/plans?person_id={person['id']}").json()["items"][0]
    page = client.post(f"/workbench/people/{person['id']}/plan", data={
        **done, "s1_supporter_id": "", "s1_name": "", "version": str(plan["version"])})
    assert page.status_code == 200 and "最後の避難支援等実施者を外しました" in page.text
    assert client.get(f"/api/plans/{plan['id']}").json()["status"] == "drafting"


def test_person_page_links_a_linked_supporter_to_the_register(client, register):
    plan = link(client, register["yoshiko"])
    page = client.get(f"/workbench/people/{plan['person_id']}")
    assert f'href="/workbench/supporters/{register["yoshiko"]["id"]}"' in page.text


def test_the_counts_follow_every_plan_write(client, register):
    """The plan counts are kept between requests: a plan write must show at once."""
    def count() -> str:
        page = client.get("/workbench/supporters?kind=minsei").text
        return page.split(">民生 一郎</a>")[1].split("<td")[4].split(">", 1)[1].split("<")[0]

    assert count() == "0"
    plan = link(client, register["minsei"])
    assert count() == "1"
    client.patch(f"/api/plans/{plan['id']}", json={"version": plan["version"], "supporters": []})
    assert count() == "0"
