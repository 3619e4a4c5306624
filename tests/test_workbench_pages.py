"""The workbench pages over HTTP: who may open them, the register search's filters, the person
page, plan authoring with the status and destination rules, the 409 merge, and the audit."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from server.models import AuditEntry
from tests import factories
from tests.conftest import PERSONA_PASSWORD


@pytest.fixture
def city(client):
    """Two 町丁目 in one 福祉圏域, three people, a welfare shelter and a general one."""
    area = factories.create(client, "districts", {"municipality_code": "132144", "code": "W1", "name": "北圏域",
                                                  "kind": "welfare_area"})
    chome_a = factories.create(client, "districts", {"municipality_code": "132144", "code": "C1", "name": "戸倉一丁目",
                                                     "kind": "chome", "parent_id": area["id"]})
    chome_b = factories.create(client, "districts", {"municipality_code": "132144", "code": "C2", "name": "光町二丁目",
                                                     "kind": "chome"})
    hanako = factories.create(client, "people", factories.person(
        register_no="KB-0001", name="山田 花子", name_kana="やまだ はなこ", district_id=chome_a["id"],
        address="東京都国分寺市戸倉3-5-1", reasons=["care_level_3plus"], care_needs=["wheelchair"]))
    taro = factories.create(client, "people", factories.person(
        register_no="KB-0002", name="佐藤 太郎", name_kana="サトウ タロウ", district_id=chome_b["id"],
        address="東京都国分寺市光町2-1", reasons=["physical_disability"], care_needs=["oxygen"],
        consent="no", consent_date=None))
    other = factories.create(client, "people", factories.person(
        register_no="ZZ-0003", name="鈴木 一郎", name_kana="すずき いちろう", district_id=chome_b["id"],
        reasons=["elderly_household"], care_needs=[], consent="not_asked", consent_date=None))
    welfare = factories.create(client, "shelters", factories.shelter(name="ひかりプラザ"))
    general = factories.create(client, "shelters", factories.shelter(
        name="第二小学校", kind="designated", target_groups=[], capabilities=[], building_permit_date="1975-01-01"))
    plan = factories.create(client, "plans", {"person_id": taro["id"], "status": "drafting",
                                              "supporters": [{"name": "近所 良子", "relation": "近隣住民"}]})
    return {"area": area, "chome_a": chome_a, "chome_b": chome_b, "hanako": hanako, "taro": taro, "other": other,
            "welfare": welfare, "general": general, "taro_plan": plan}


def _numbers(page) -> set[str]:
    return set(re.findall(r"<td>((?:KB|ZZ)-\d{4})</td>", page.text))


def test_anonymous_goes_to_login_and_other_roles_get_403(anon_client, client_for, city):
    answer = anon_client.get("/workbench", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=/workbench")
    for role in ("district_supporter", "shelter_staff", "hq_viewer", "dwat_member"):
        other = client_for(role)
        assert other.get("/workbench").status_code == 403
        assert other.get(f"/workbench/people/{city['hanako']['id']}").status_code == 403
        assert other.post(f"/workbench/people/{city['hanako']['id']}/plan", data={"status": "drafting"}).status_code == 403


def test_welfare_staff_signed_in_by_cookie_sees_the_page(anon_client, make_user, city):
    make_user("welfare_staff", username="fukushi-wb")
    anon_client.post("/auth/login", json={"username": "fukushi-wb", "password": PERSONA_PASSWORD})
    page = anon_client.get("/workbench?kana=ヤマダ")
    assert page.status_code == 200 and "山田 花子" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and 'type="module"' in page.text


@pytest.mark.parametrize("query, expected", [
    ("", {"KB-0001", "KB-0002", "ZZ-0003"}),
    ("kana=ヤマダ", {"KB-0001"}),           # katakana finds a hiragana ふりがな
    ("kana=さとう", {"KB-0002"}),           # and hiragana a katakana one
    ("kana=やまだはなこ", {"KB-0001"}),      # spaces ignored
    ("name=佐藤", {"KB-0002"}),
    ("register_no=KB", {"KB-0001", "KB-0002"}),
    ("register_no=B-0", set()),            # a prefix, not "contains"
    ("address=戸倉3", {"KB-0001"}),
    ("reason=physical_disability", {"KB-0002"}),
    ("need=oxygen", {"KB-0002"}),
    ("consent=not_asked", {"ZZ-0003"}),
    ("plan_status=drafting", {"KB-0002"}),
    ("plan_status=not_started", {"KB-0001", "ZZ-0003"}),  # no plan counts as not started
    ("supporter=近所", {"KB-0002"}),
    ("supporter=近所良子", {"KB-0002"}),    # a supporter's name without its space
    ("supporter=近隣住民", set()),          # a supporter's relation is not their name
    ("supporter=%", set()),                # LIKE wildcards are taken literally
])
def test_register_filters(client, city, query, expected):
    page = client.get(f"/workbench?{query}")
    assert page.status_code == 200
    assert _numbers(page) == expected
    assert f"<strong>{len(expected)}</strong>" in page.text


def test_district_filter_takes_a_chome_or_its_welfare_area(client, city):
    assert _numbers(client.get(f"/workbench?district={city['chome_a']['id']}")) == {"KB-0001"}
    assert _numbers(client.get(f"/workbench?district={city['area']['id']}")) == {"KB-0001"}
    assert _numbers(client.get(f"/workbench?district={city['chome_b']['id']}")) == {"KB-0002", "ZZ-0003"}


@pytest.mark.parametrize("query, field", [("consent=maybe", "consent"), ("district=nope", "district"),
                                          ("page=0", "page"), ("kana=" + "あ" * 101, "kana")])
def test_bad_search_input_is_422_with_the_field(client, city, query, field):
    page = client.get(f"/workbench?{query}")
    assert page.status_code == 422
    assert f'<li data-field="{field}">' in page.text
    assert field == "page" or f'id="err-{field}"' in page.text  # marked beside the field too


def test_search_is_paginated_with_the_total(client, city):
    for n in range(60):
        factories.create(client, "people", factories.person(register_no=f"PG-{n:04d}", name_kana="ページ"))
    first = client.get("/workbench?kana=ぺーじ")
    assert "<strong>60</strong>" in first.text and len(_numbers_pg(first)) == 50
    second = client.get("/workbench?kana=ぺーじ&page=2")
    assert len(_numbers_pg(second)) == 10 and not (_numbers_pg(first) & _numbers_pg(second))


def _numbers_pg(page) -> set[str]:
    return set(re.findall(r"<td>(PG-\d{4})</td>", page.text))


def _audits(engine, action: str, resource: str) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == action, AuditEntry.resource == resource)))


def test_search_and_person_page_are_audited(client, engine, city):
    client.get("/workbench?register_no=KB")
    listed = _audits(engine, "list", "people")
    assert sorted(listed[-1].record_ids) == sorted([city["hanako"]["id"], city["taro"]["id"]])
    page = client.get(f"/workbench/people/{city['taro']['id']}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert city["taro"]["id"] in _audits(engine, "read", "people")[-1].record_ids
    assert city["taro_plan"]["id"] in _audits(engine, "read", "plans")[-1].record_ids
    assert "佐藤 太郎" not in str([e.detail for e in _audits(engine, "list", "people")])


def test_history_names_the_fields_and_shelters(client, city):
    client.patch(f"/api/plans/{city['taro_plan']['id']}",
                 json={"version": 1, "destination_shelter_id": city["welfare"]["id"], "route_note": "表通り"})
    page = client.get(f"/workbench/people/{city['taro']['id']}").text
    history = page[page.index('id="h-history"'):]
    assert "避難先" in history and "ひかりプラザ" in history and city["welfare"]["id"] not in history
    assert "避難経路" in history and "表通り" in history


def test_person_page_shows_every_part(client, city):
    factories.create(client, "safety-checks", {"person_id": city["taro"]["id"], "outcome": "safe_home",
                                               "observed_at": factories.now_jst()})
    bare = factories.create(client, "shelters", factories.shelter(name="みどり荘", capabilities=["wheelchair_access"]))
    client.patch(f"/api/plans/{city['taro_plan']['id']}",
                 json={"version": 1, "destination_shelter_id": bare["id"],
                       "supporters": [{"name": "近所 良子", "relation": "近隣住民", "phone": "042-300-0000"}]})
    factories.create(client, "shelter-reports", {"shelter_id": bare["id"], "open_state": "full",
                                                 "observed_at": factories.now_jst()})
    page = client.get(f"/workbench/people/{city['taro']['id']}").text
    for text in ("KB-0002", "東京都国分寺市光町2-1", "在宅酸素", "近所 良子", "みどり荘", "在宅・無事", "女", "現在: 満員",
                 f"/api/print/plans/{city['taro_plan']['id']}.pdf", "版 1 → 2", "supporters[近所 良子].phone",
                 "必要な設備がありません"):  # the stored destination lacks oxygen: its state says so
        assert text in page, text


def test_unknown_person_is_404_page_and_audited(client, engine, city):
    missing = "00000000-0000-0000-0000-000000000000"
    for path in (f"/workbench/people/{missing}", f"/workbench/people/{missing}/plan",
                 f"/workbench/people/{missing}/edit"):
        answer = client.get(path)
        assert answer.status_code == 404 and "見つかりません" in answer.text
    assert missing in _audits(engine, "denied", "people")[-1].record_ids
    assert client.get("/workbench/people/not-a-uuid").status_code == 404


def _plan_form(**over) -> dict:
    data = {"status": "drafting", "version": ""}
    data.update(over)
    return data


def test_author_a_plan_from_nothing_to_done(client, city):
    pid = city["hanako"]["id"]
    form = client.get(f"/workbench/people/{pid}/plan")
    assert form.status_code == 200 and "ひかりプラザ" in form.text
    # the general shelter (old, undiagnosed building) is listed as refused, with why
    assert re.search(r"disabled>第二小学校.*受入不可", form.text)
    verdicts = form.text[form.text.index('id="shelter-verdicts"'):]
    assert "旧耐震で安全が確認されていません" in verdicts and "指定できます" in verdicts
    today = date.today().isoformat()
    saved = client.post(f"/workbench/people/{pid}/plan", data=_plan_form(
        status="done", s1_name="山田 一郎", s1_relation="長男", destination_shelter_id=city["welfare"]["id"],
        consent="on", consent_date=today, author="福祉課 田中", timing_note="高齢者等避難で避難開始"))
    assert saved.status_code == 200, saved.text
    assert 'id="saved"' in saved.text
    plan = client.get(f"/api/plans?person_id={pid}").json()["items"][0]
    assert plan["status"] == "done" and plan["supporters"][0]["name"] == "山田 一郎"
    assert plan["timing_note"] == "高齢者等避難で避難開始"


def test_done_without_what_it_needs_is_refused_and_typed_values_stay(client, city):
    pid = city["hanako"]["id"]
    page = client.post(f"/workbench/people/{pid}/plan", data=_plan_form(status="done", s1_name="山田 一郎",
                                                                         route_note="裏の坂道"))
    assert page.status_code == 422
    assert "作成済にするには次が必要です" in page.text and "裏の坂道" in page.text and "山田 一郎" in page.text
    assert client.get(f"/api/plans?person_id={pid}").json()["total"] == 0


def test_a_future_consent_date_is_422(client, city):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    page = client.post(f"/workbench/people/{city['hanako']['id']}/plan",
                       data=_plan_form(consent="on", consent_date=tomorrow))
    assert page.status_code == 422 and "未来の日付" in page.text


def test_a_destination_that_does_not_accept_the_person_is_refused_saying_why(client, city):
    # 佐藤 needs home oxygen: a shelter with neither oxygen nor backup power may not be chosen
    bare = factories.create(client, "shelters", factories.shelter(name="みどり荘", capabilities=["wheelchair_access"]))
    page = client.post(f"/workbench/people/{city['taro']['id']}/plan",
                       data=_plan_form(version="1", destination_shelter_id=bare["id"]))
    assert page.status_code == 422 and "必要な設備がありません" in page.text
    assert client.get(f"/api/plans/{city['taro_plan']['id']}").json()["destination_shelter_id"] is None


def test_removing_the_only_supporter_warns_and_drops_from_done(client, city):
    pid = city["hanako"]["id"]
    done = dict(status="done", s1_name="山田 一郎", destination_shelter_id=city["welfare"]["id"], consent="on",
                consent_date=date.today().isoformat())
    assert client.post(f"/workbench/people/{pid}/plan", data=_plan_form(**done)).status_code == 200
    plan = client.get(f"/api/plans?person_id={pid}").json()["items"][0]
    page = client.post(f"/workbench/people/{pid}/plan", data=_plan_form(**{**done, "s1_name": "",
                                                                           "version": str(plan["version"])}))
    assert page.status_code == 200
    assert "最後の避難支援等実施者を外しました" in page.text and "作成中に戻しました" in page.text
    assert client.get(f"/api/plans/{plan['id']}").json()["status"] == "drafting"


def test_a_stale_save_gets_the_merge_screen_with_both_values(client, engine, city):
    plan = city["taro_plan"]
    pid = city["taro"]["id"]
    assert client.patch(f"/api/plans/{plan['id']}", json={"version": 1, "route_note": "表通り"}).status_code == 200
    page = client.post(f"/workbench/people/{pid}/plan", data=_plan_form(version="1", route_note="裏の坂道",
                                                                         s1_name="近所 良子"))
    assert page.status_code == 409
    assert "表通り" in page.text and "裏の坂道" in page.text
    assert 'name="mine.route_note" value="裏の坂道"' in page.text
    assert "作成中" in page.text  # values are shown as labels (status), not codes
    assert _audits(engine, "denied", "plans")[-1].status == 409
    # choose ours for the route: saved over version 2
    merged = client.post(f"/workbench/people/{pid}/plan", data={
        "merge": "1", "version": "2", "pick.route_note": "mine", "mine.route_note": "裏の坂道",
        "theirs.route_note": "表通り", "pick.supporters": "theirs", "theirs.s1_name": "近所 良子",
        "theirs.status": "drafting", "pick.status": "theirs"})
    assert merged.status_code == 200, merged.text
    stored = client.get(f"/api/plans/{plan['id']}").json()
    assert stored["route_note"] == "裏の坂道" and stored["version"] == 3
    assert stored["supporters"][0]["name"] == "近所 良子"


def test_english_toggle(client, city):
    page = client.get("/workbench?lang=en")
    assert '<html lang="en">' in page.text and "Search the register" in page.text
    assert '<html lang="ja">' in client.get("/workbench").text


def _person_form(**over) -> dict:
    data = {"register_no": "NW-0001", "municipality_code": "132144", "name": "新規 幸子", "name_kana": "しんき さちこ",
            "birth_date": "1938-05-05", "sex": "female", "address": "東京都国分寺市戸倉1-2-3", "household": "alone",
            "preferred_language": "ja", "consent": "yes", "consent_date": "2025-06-01", "version": ""}
    data.update(over)
    return data


def test_new_person_is_created_and_lands_on_their_page(client, engine, city):
    assert client.get("/workbench/people/new").status_code == 200
    form = _person_form(reasons=["care_level_3plus", "medical_care"], care_needs="oxygen",
                        district_id=city["chome_a"]["id"], e1_name="新規 次郎", e1_relation="次男", e1_phone="03-1234-5678")
    answer = client.post("/workbench/people/new", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    stored = client.get("/api/people?register_no=NW-0001").json()["items"][0]
    assert answer.headers["location"] == f"/workbench/people/{stored['id']}"
    assert stored["reasons"] == ["care_level_3plus", "medical_care"] and stored["care_needs"] == ["oxygen"]
    assert stored["emergency_contacts"][0]["name"] == "新規 次郎"
    assert stored["id"] in _audits(engine, "create", "people")[-1].record_ids


def test_bad_person_input_is_422_with_fields_and_nothing_lost(client, city):
    answer = client.post("/workbench/people/new", data=_person_form(
        birth_date="2999-01-01", register_no="KB-0001", notes="大事なメモ"))
    assert answer.status_code == 422
    assert 'id="err-birth_date"' in answer.text and "大事なメモ" in answer.text
    assert client.get("/api/people?register_no=KB-0001").json()["total"] == 1


def test_editing_a_person_someone_else_saved_gets_the_merge(client, city):
    pid = city["other"]["id"]
    form = client.get(f"/workbench/people/{pid}/edit")
    assert form.status_code == 200 and "鈴木 一郎" in form.text
    assert client.patch(f"/api/people/{pid}", json={"version": 1, "phone": "042-999-0000"}).status_code == 200
    mine = _person_form(register_no="ZZ-0003", name="鈴木 一郎", notes="玄関に段差", consent="not_asked",
                        consent_date="", phone="042-100-0000", version="1")
    page = client.post(f"/workbench/people/{pid}/edit", data=mine)
    assert page.status_code == 409
    assert 'name="theirs.phone" value="04-2999-0000"' in page.text  # their save, as stored (normalised)
    assert 'name="mine.notes" value="玄関に段差"' in page.text      # what we typed, kept
    assert "未確認" in page.text  # consent shown by its label
    merged = client.post(f"/workbench/people/{pid}/edit", data={
        "merge": "1", "version": "2", **{f"theirs.{k}": v for k, v in mine.items()},
        **{f"mine.{k}": v for k, v in mine.items()}, "theirs.phone": "042-999-0000", "pick.phone": "theirs",
        "pick.notes": "mine"}, follow_redirects=False)
    assert merged.status_code == 303
    stored = client.get(f"/api/people/{pid}").json()
    assert stored["phone"] == "04-2999-0000" and stored["notes"] == "玄関に段差" and stored["version"] == 3


def test_two_first_plans_at_once_become_a_merge(client, city):
    pid = city["hanako"]["id"]
    factories.create(client, "plans", {"person_id": pid, "route_note": "先に保存した経路"})
    page = client.post(f"/workbench/people/{pid}/plan", data=_plan_form(route_note="あとから書いた経路"))
    assert page.status_code == 409
    assert "先に保存した経路" in page.text and 'name="mine.route_note" value="あとから書いた経路"' in page.text


def test_person_page_lists_when_the_entry_was_written(client, city):
    pid = city["other"]["id"]
    assert client.patch(f"/api/people/{pid}", json={"version": 1, "notes": "追記"}).status_code == 200
    page = client.get(f"/workbench/people/{pid}").text
    changes = page[page.index('id="entry-changes"'):page.index("</ul>", page.index('id="entry-changes"'))]
    assert changes.count("<li>") == 2  # created, then updated


def test_print_links_on_the_person_page_lead_to_the_print_routes(client, city):
    page = client.get(f"/workbench/people/{city['taro']['id']}").text
    preview = re.search(r'href="(/print/preview/plans/[0-9a-f-]+)"', page).group(1)
    assert client.get(preview).status_code == 200
    district_pdf = re.search(r'href="(/api/print/field-lists/district/[0-9a-f-]+\.pdf)"', page).group(1)
    assert district_pdf.endswith(f"{city['chome_b']['id']}.pdf")
