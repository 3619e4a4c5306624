"""要見直し flags written where records are saved (server/records/review_flags.py): each trigger
flags the plan and records why; a draft keeps its status but shows the reason; saving the plan
作成済 again clears the reasons; the importers and the supporter register's entry point too."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
import pytest
from sqlmodel import Session, select

from server.domain.workbench.review import Trigger
from server.importers.people_csv import import_people
from server.importers.shelters_csv import import_shelters
from server.models import EvacuationPlan, PlanVersion
from server.models.review import PlanReviewReason
from server.records.review_flags import flag_plans, reasons_of
from tests import factories

from .csv_helpers import add_districts, own_csv, own_row, people_csv, person_row


def _plan(client, person, shelter, status="done", **over):
    return factories.create(client, "plans", {
        "person_id": person["id"], "status": status, "destination_shelter_id": shelter["id"],
        "supporters": [{"name": "近所 良子", "relation": "近隣住民", "phone": "042-111-2222"}],
        "consent": True, "consent_date": "2025-04-01", **over})


def _state(engine, plan_id) -> tuple[str, int, list[str]]:
    plan_id = uuid.UUID(str(plan_id))
    with Session(engine) as session:
        plan = session.get(EvacuationPlan, plan_id)
        codes = [r.code for r in session.exec(select(PlanReviewReason).where(PlanReviewReason.plan_id == plan_id)
                                              .order_by(PlanReviewReason.code)).all()]
        return str(plan.status.value if hasattr(plan.status, "value") else plan.status), plan.version, codes


@pytest.fixture
def world(client):
    shelter = factories.create(client, "shelters", factories.shelter())
    other = factories.create(client, "shelters", factories.shelter(name="第二会館"))
    hanako = factories.create(client, "people", factories.person())
    taro = factories.create(client, "people", factories.person(care_needs=[]))
    done = _plan(client, hanako, shelter)
    draft = _plan(client, taro, other, status="drafting")
    return {"shelter": shelter, "other": other, "hanako": hanako, "taro": taro, "done": done, "draft": draft}


@pytest.mark.parametrize("change, code", [
    ({"care_needs": ["wheelchair", "oxygen"]}, "needs_changed"),
    ({"address": "東京都国分寺市光町9-9-9"}, "address_changed"),
    ({"reasons": ["care_level_3plus", "intellectual_disability"]}, "reasons_changed"),
])
def test_a_person_change_flags_their_done_plan_with_the_reason(client, engine, world, change, code):
    person = world["hanako"]
    answer = client.patch(f"/api/people/{person['id']}", json={"version": person["version"], **change})
    assert answer.status_code == 200, answer.text
    status, version, codes = _state(engine, world["done"]["id"])
    assert (status, version, codes) == ("needs_review", 2, [code])
    with Session(engine) as session:  # the flag is a plan save: the previous version is kept
        kept = session.exec(select(PlanVersion).where(PlanVersion.plan_id == uuid.UUID(world["done"]["id"]))).all()
        assert [(v.version, v.data["status"]) for v in kept] == [(1, "done")]
    plan = client.get(f"/api/plans/{world['done']['id']}").json()
    assert plan["status"] == "needs_review" and plan["version"] == 2


def test_a_change_that_does_not_matter_flags_nothing(client, engine, world):
    person = world["hanako"]
    # the same address typed full-width is the same place; a new phone is not what the plan rests on
    answer = client.patch(f"/api/people/{person['id']}", json={"version": person["version"], "phone": "042-999-0000",
                                                                "address": "東京都国分寺市戸倉１－１－１"})
    assert answer.status_code == 200, answer.text
    assert _state(engine, world["done"]["id"]) == ("done", 1, [])


def test_a_draft_keeps_its_status_but_shows_the_reason(client, engine, world):
    person = world["taro"]
    client.patch(f"/api/people/{person['id']}", json={"version": person["version"], "care_needs": ["oxygen"]})
    assert _state(engine, world["draft"]["id"]) == ("drafting", 1, ["needs_changed"])


@pytest.mark.parametrize("change, code", [
    ({"building_permit_date": "1975-01-01", "seismic_diagnosis_done": False}, "shelter_seismic_changed"),
    ({"kind": "designated"}, "shelter_kind_changed"),
    ({"target_groups": ["elderly"]}, "shelter_groups_changed"),
])
def test_a_destination_change_flags_the_plans_naming_it(client, engine, world, change, code):
    shelter = world["shelter"]
    answer = client.patch(f"/api/shelters/{shelter['id']}", json={"version": shelter["version"], **change})
    assert answer.status_code == 200, answer.text
    assert _state(engine, world["done"]["id"]) == ("needs_review", 2, [code])
    assert _state(engine, world["draft"]["id"]) == ("drafting", 1, [])  # names the other shelter


def test_an_alternate_change_flags_too_and_a_capacity_change_does_not(client, engine, world):
    other = world["other"]
    answer = client.patch(f"/api/shelters/{other['id']}", json={"version": other["version"], "capacity": 99})
    assert answer.status_code == 200
    assert _state(engine, world["draft"]["id"]) == ("drafting", 1, [])
    plan = client.get(f"/api/plans/{world['done']['id']}").json()
    client.patch(f"/api/plans/{plan['id']}", json={"version": plan["version"], "alternate_shelter_id": other["id"]})
    other = client.get(f"/api/shelters/{other['id']}").json()
    client.patch(f"/api/shelters/{other['id']}", json={"version": other["version"], "kind": "designated"})
    assert _state(engine, world["done"]["id"])[::2] == ("needs_review", ["shelter_kind_changed"])


def test_saving_the_plan_done_again_clears_the_reasons_and_a_reason_is_not_repeated(client, engine, world):
    person = world["hanako"]
    client.patch(f"/api/people/{person['id']}", json={"version": 1, "address": "東京都国分寺市光町1-1"})
    person = client.get(f"/api/people/{person['id']}").json()
    client.patch(f"/api/people/{person['id']}", json={"version": person["version"], "address": "東京都国分寺市光町2-2"})
    assert _state(engine, world["done"]["id"]) == ("needs_review", 2, ["address_changed"])
    answer = client.patch(f"/api/plans/{world['done']['id']}", json={"version": 2, "status": "done"})
    assert answer.status_code == 200, answer.text
    assert _state(engine, world["done"]["id"]) == ("done", 3, [])


def test_a_plan_import_saving_the_plan_done_again_clears_the_reasons_too(client, engine, world):
    """The plan CSV import passes its (before, after) to the same after_update as an API save."""
    person = world["hanako"]
    client.patch(f"/api/people/{person['id']}", json={"version": 1, "address": "東京都国分寺市光町1-1"})
    assert _state(engine, world["done"]["id"]) == ("needs_review", 2, ["address_changed"])
    csv_text = f"登録者番号,状態\n{person['register_no']},作成済\n"
    answer = client.post("/api/imports/plans?apply=true", content=csv_text.encode(), headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200 and answer.json()["applied"] is True, answer.text
    assert _state(engine, world["done"]["id"]) == ("done", 3, [])
    # a plan the import leaves in another status keeps its reasons
    client.patch(f"/api/people/{person['id']}", json={"version": 2, "address": "東京都国分寺市光町2-2"})
    csv_text = f"登録者番号,状態\n{person['register_no']},作成中\n"
    client.post("/api/imports/plans?apply=true", content=csv_text.encode(), headers={"Content-Type": "text/csv"})
    assert _state(engine, world["done"]["id"]) == ("drafting", 5, ["address_changed"])


def test_the_supporter_register_entry_point(engine, world):
    """What the supporter register calls when a supporter leaves or is overloaded."""
    left = Trigger("supporter_left", "避難支援等実施者が辞退・転出しました", "a supporter left", "sup-1")
    with Session(engine) as session:
        written = flag_plans(session, {world["done"]["id"]: [left], world["draft"]["id"]: [left]})
        session.commit()
    assert set(map(str, written)) == {world["done"]["id"], world["draft"]["id"]}
    assert _state(engine, world["done"]["id"]) == ("needs_review", 2, ["supporter_left"])
    assert _state(engine, world["draft"]["id"]) == ("drafting", 1, ["supporter_left"])
    with Session(engine) as session:
        reasons = reasons_of(session, [world["done"]["id"]])
        assert [(r["code"], r["subject"], r["ja"]) for r in next(iter(reasons.values()))] == [
            ("supporter_left", "sup-1", "避難支援等実施者が辞退・転出しました")]


def test_a_register_import_flags_plans_of_people_whose_needs_changed(client, engine):
    add_districts(engine, "C001")
    import_people(engine, people_csv(person_row(**{"登録者番号": "T-0001"}), person_row(**{"登録者番号": "T-0002"})),
                  apply=True)
    shelter = factories.create(client, "shelters", factories.shelter())
    ids = {p["register_no"]: p for p in client.get("/api/people?limit=10").json()["items"]}
    one = _plan(client, ids["T-0001"], shelter)
    two = _plan(client, ids["T-0002"], shelter)
    report = import_people(engine, people_csv(person_row(**{"登録者番号": "T-0001", "事由": "要介護3以上;身体障害者手帳1・2級"}),
                                              person_row(**{"登録者番号": "T-0002", "電話番号": "042-325-9999"})),
                           apply=True)
    assert report.errors == [] and report.updated == 2
    assert _state(engine, one["id"]) == ("needs_review", 2, ["reasons_changed"])
    assert _state(engine, two["id"]) == ("done", 1, [])


def test_a_shelter_import_flags_plans_naming_a_shelter_whose_groups_changed(client, engine):
    assert import_shelters(engine, own_csv(own_row()), apply=True).errors == []
    shelter = client.get("/api/shelters").json()["items"][0]
    person = factories.create(client, "people", factories.person())
    plan = _plan(client, person, shelter)
    report = import_shelters(engine, own_csv(own_row(**{"受入対象者": "高齢者"})), apply=True)
    assert report.errors == []
    assert _state(engine, plan["id"]) == ("needs_review", 2, ["shelter_groups_changed"])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(PlanReviewReason.__table__)).scalar_one() == 1


def test_the_person_page_says_why_a_draft_needs_review(client, world):
    person = world["taro"]
    assert 'id="review-reasons"' not in client.get(f"/workbench/people/{person['id']}").text
    client.patch(f"/api/people/{person['id']}", json={"version": person["version"], "care_needs": ["oxygen"]})
    page = client.get(f"/workbench/people/{person['id']}").text
    assert 'id="review-reasons"' in page and "本人の配慮が必要な事項が変わりました" in page and "作成中" in page
