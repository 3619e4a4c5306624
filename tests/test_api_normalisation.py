"""Phone numbers and postal codes sent to the API are normalised like the CSV importer's
(server/domain/textnorm.py), on every write path: create, PATCH, sync mutations, nested
emergency contacts and plan supporters. Stored values are shown as stored."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select

from server.domain.textnorm import normalize_phone, normalize_postal_code
from server.models import Person
from server.models.sync import SyncConflict
from tests.factories import create, person, shelter

TYPED_PHONE = "０４２（３２５）００１１"
PHONE = "042-325-0011"
TYPED_POSTAL = "〒１８５ー０００１"
POSTAL = "185-0001"
EXTENSION = "042-325-0011 内線12"
PHONE_MESSAGE = "電話番号には数字とハイフンだけを使えます"


def push(c, *mutations, device="tablet-1"):
    r = c.post("/api/sync/mutations", json={"device_id": device, "mutations": list(mutations)})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def person_update(record: dict, base_version: int, changes: dict, base: dict | None = None) -> dict:
    return {"id": str(uuid.uuid4()), "entity": "people", "op": "update", "record_id": record["id"],
            "base_version": base_version, "base": base or {}, "changes": changes}


def field_errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def store_as_typed(engine, person_id: str, **values) -> None:
    """What a record written before the API normalised looks like: the value exactly as typed."""
    with Session(engine) as s:
        row = s.get(Person, uuid.UUID(person_id))
        for name, value in values.items():
            setattr(row, name, value)
        s.add(row)
        s.commit()


# ---- people: create and PATCH ----

def test_create_normalises_phone_postal_code_and_emergency_contact(client):
    created = create(client, "people", person(
        phone=TYPED_PHONE, postal_code=TYPED_POSTAL,
        emergency_contacts=[{"name": "試験 太郎", "relation": "長男", "phone": "０９０ー１１１１ー２２２２"},
                            {"name": "試験 次郎", "relation": "次男", "phone": "(090) 3333 4444"}]))
    assert created["phone"] == PHONE and created["postal_code"] == POSTAL
    assert [c["phone"] for c in created["emergency_contacts"]] == ["090-1111-2222", "090-3333-4444"]
    stored = client.get(f"/api/people/{created['id']}").json()
    assert stored["phone"] == PHONE and stored["postal_code"] == POSTAL
    assert stored["emergency_contacts"][0] == {"name": "試験 太郎", "relation": "長男", "phone": "090-1111-2222"}


def test_empty_phone_and_postal_code_stay_allowed(client):
    created = create(client, "people", person(phone="", postal_code="", emergency_contacts=[{"name": "試験 太郎"}]))
    assert created["phone"] == "" and created["postal_code"] == ""
    assert created["emergency_contacts"][0]["phone"] == ""
    blank = create(client, "people", person(phone="\u3000", postal_code=" "))
    assert blank["phone"] == "" and blank["postal_code"] == ""


def test_patch_normalises(client):
    p = create(client, "people", person())
    r = client.patch(f"/api/people/{p['id']}", json={
        "version": 1, "phone": "０３−１２３４−５６７８", "postal_code": "１８５０００１",
        "emergency_contacts": [{"name": "試験 太郎", "phone": "＋８１ ９０ １１１１ ２２２２"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 2
    assert (body["phone"], body["postal_code"]) == ("03-1234-5678", POSTAL)
    assert body["emergency_contacts"][0]["phone"] == "090-1111-2222"  # one national format for +81 too
    assert client.get(f"/api/people/{p['id']}").json()["phone"] == "03-1234-5678"


def test_invalid_phone_is_a_field_error_with_the_importer_message(client):
    r = client.post("/api/people", json=person(phone=EXTENSION))
    errors = field_errors(r)
    assert list(errors) == ["phone"]
    assert errors["phone"].startswith(PHONE_MESSAGE) and "digits and hyphens only" in errors["phone"]
    with pytest.raises(ValueError) as importer:
        normalize_phone(EXTENSION)
    assert errors["phone"] == str(importer.value)  # the very message the importer reports
    assert client.get("/api/people").json()["total"] == 0


def test_invalid_nested_phone_and_postal_code_name_their_field(client):
    r = client.post("/api/people", json=person(
        postal_code="185-001",
        emergency_contacts=[{"name": "試験 太郎", "phone": "090-1111-2222"}, {"name": "試験 次郎", "phone": "12"}]))
    errors = field_errors(r)
    assert set(errors) == {"postal_code", "emergency_contacts.1.phone"}
    assert "7 digits" in errors["postal_code"] and "郵便番号" in errors["postal_code"]
    assert "not a possible phone number" in errors["emergency_contacts.1.phone"]


def test_invalid_patch_is_refused_and_nothing_changes(client):
    p = create(client, "people", person())
    errors = field_errors(client.patch(f"/api/people/{p['id']}", json={"version": 1, "phone": EXTENSION}))
    assert list(errors) == ["phone"] and errors["phone"].startswith(PHONE_MESSAGE)
    errors = field_errors(client.patch(f"/api/people/{p['id']}", json={
        "version": 1, "emergency_contacts": [{"name": "試験 太郎", "phone": "090-1111-2222 (夜間)"}]}))
    assert list(errors) == ["emergency_contacts.0.phone"]
    after = client.get(f"/api/people/{p['id']}").json()
    assert after["version"] == 1 and after["phone"] == "042-100-0000"


# ---- values stored before the API normalised ----

def test_stored_values_are_shown_as_stored_and_normalised_by_a_later_update(client, engine):
    p = create(client, "people", person())
    store_as_typed(engine, p["id"], phone=TYPED_PHONE, postal_code="1850001")
    shown = client.get(f"/api/people/{p['id']}").json()
    assert (shown["phone"], shown["postal_code"]) == (TYPED_PHONE, "1850001")  # not rewritten on read
    r = client.patch(f"/api/people/{p['id']}", json={"version": 1, "notes": "2階に寝室"})
    assert r.status_code == 200, r.text
    assert (r.json()["phone"], r.json()["postal_code"]) == (PHONE, POSTAL)


def test_a_stored_invalid_value_does_not_block_editing_other_fields(client, engine):
    p = create(client, "people", person())
    contacts = [{"name": "試験 太郎", "relation": "長男", "phone": "090-1111-2222 (夜間のみ)"}]
    store_as_typed(engine, p["id"], phone=EXTENSION, emergency_contacts=contacts)
    r = client.patch(f"/api/people/{p['id']}", json={"version": 1, "notes": "2階に寝室"})
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == EXTENSION and r.json()["emergency_contacts"] == contacts
    # a form that sends the contacts back unchanged, with one more added, is not refused either
    r = client.patch(f"/api/people/{p['id']}", json={
        "version": 2, "emergency_contacts": [*contacts, {"name": "試験 次郎", "phone": "０９０３３３３４４４４"}]})
    assert r.status_code == 200, r.text
    assert [c["phone"] for c in r.json()["emergency_contacts"]] == ["090-1111-2222 (夜間のみ)", "090-3333-4444"]
    # but a changed value must be valid
    errors = field_errors(client.patch(f"/api/people/{p['id']}", json={"version": 3, "phone": EXTENSION + "3"}))
    assert list(errors) == ["phone"]
    r = client.patch(f"/api/people/{p['id']}", json={"version": 3, "phone": PHONE, "contact_other": "内線12"})
    assert r.status_code == 200 and r.json()["phone"] == PHONE


# ---- shelters, plans, DWAT ----

def test_shelter_phone_is_normalised_on_create_and_update(client):
    s = create(client, "shelters", shelter(phone="０４２ー３２５ー１１１１"))
    assert s["phone"] == "042-325-1111"
    r = client.patch(f"/api/shelters/{s['id']}", json={"version": 1, "phone": "（042）325.2222"})
    assert r.status_code == 200 and r.json()["phone"] == "042-325-2222"
    assert list(field_errors(client.post("/api/shelters", json=shelter(phone="代表 042-325-1111")))) == ["phone"]


def test_plan_supporter_phone_is_normalised_and_the_doctor_note_is_free_text(client):
    p = create(client, "people", person())
    doctor = "国分寺クリニック ０４２（３２５）９９９９ 内線3"
    plan = create(client, "plans", dict(person_id=p["id"], care={"doctor": doctor}, supporters=[
        {"name": "近所 一郎", "relation": "近隣住民", "phone": "０４２ー３２５ー３３３３"}]))
    assert plan["supporters"][0]["phone"] == "042-325-3333"
    assert plan["care"]["doctor"] == doctor
    r = client.patch(f"/api/plans/{plan['id']}", json={"version": 1, "supporters": [
        {"name": "近所 一郎", "phone": "042 325 3333"}, {"name": "民生委員 二郎", "phone": "０８０１２３４５６７８"}]})
    assert r.status_code == 200, r.text
    assert [s["phone"] for s in r.json()["supporters"]] == ["042-325-3333", "080-1234-5678"]
    errors = field_errors(client.patch(f"/api/plans/{plan['id']}", json={
        "version": 2, "supporters": [{"name": "近所 一郎", "phone": EXTENSION}]}))
    assert list(errors) == ["supporters.0.phone"]


def test_dwat_team_and_member_phones_are_normalised(client):
    team = create(client, "dwat-teams", dict(name="東京都DWAT 第1班", phone="０３（５３２０）１１１１"))
    assert team["phone"] == "03-5320-1111"
    member = create(client, "dwat-members", dict(team_id=team["id"], name="隊員", phone="０９０－１２３４－５６７８"))
    assert member["phone"] == "090-1234-5678"
    r = client.patch(f"/api/dwat-members/{member['id']}", json={"version": 1, "phone": "090 8765 4321"})
    assert r.status_code == 200 and r.json()["phone"] == "090-8765-4321"


# ---- sync mutations from field devices ----

def test_sync_create_and_update_are_normalised(client_for):
    tablet = client_for("welfare_staff")
    data = person(id=str(uuid.uuid4()), phone=TYPED_PHONE, postal_code=TYPED_POSTAL,
                  emergency_contacts=[{"name": "試験 太郎", "phone": "０９０ー１１１１ー２２２２"}])
    created = push(tablet, {"id": str(uuid.uuid4()), "entity": "people", "op": "create", "data": data})[0]
    assert created["status"] == "applied", created
    record = created["record"]
    assert (record["phone"], record["postal_code"]) == (PHONE, POSTAL)
    assert record["emergency_contacts"][0]["phone"] == "090-1111-2222"
    updated = push(tablet, person_update(record, 1, {"phone": "０３ー１２３４ー５６７８"}))[0]
    assert updated["status"] == "applied" and updated["record"]["phone"] == "03-1234-5678"
    assert tablet.get(f"/api/people/{record['id']}").json()["phone"] == "03-1234-5678"


def test_sync_invalid_value_is_refused_with_the_field_error(client_for, client):
    tablet = client_for("welfare_staff")
    p = create(client, "people", person())
    result = push(tablet, person_update(p, 1, {"phone": EXTENSION, "notes": "夜間は長男宅"}))[0]
    assert result["status"] == "rejected" and result["http_status"] == 422
    assert [e["field"] for e in result["errors"]] == ["phone"]
    assert result["errors"][0]["message"].startswith(PHONE_MESSAGE)
    assert client.get(f"/api/people/{p['id']}").json()["version"] == 1  # nothing of it applied
    nested = push(tablet, person_update(p, 1, {"emergency_contacts": [{"name": "試験 太郎", "phone": "x"}]}))[0]
    assert nested["status"] == "rejected" and [e["field"] for e in nested["errors"]] == ["emergency_contacts.0.phone"]


def test_impossible_numbers_are_field_errors_on_create_patch_and_sync(client_for, client):
    errors = field_errors(client.post("/api/people", json=person(phone="12345")))
    assert list(errors) == ["phone"] and "not a possible phone number" in errors["phone"]
    p = create(client, "people", person())
    errors = field_errors(client.patch(f"/api/people/{p['id']}", json={"version": 1, "phone": "042325001199999"}))
    assert list(errors) == ["phone"]
    errors = field_errors(client.post("/api/dwat-teams", json={"name": "試験チーム", "phone": "12345"}))
    assert list(errors) == ["phone"]
    result = push(client_for("welfare_staff"), person_update(p, 1, {"phone": "12345"}))[0]
    assert result["status"] == "rejected" and result["http_status"] == 422
    assert [e["field"] for e in result["errors"]] == ["phone"] and "phone number" in result["errors"][0]["message"]
    assert client.get(f"/api/people/{p['id']}").json()["version"] == 1


def test_the_same_number_typed_without_hyphens_is_stored_in_one_form(client):
    a = create(client, "people", person(register_no="T-1", phone="0423250011"))
    b = create(client, "people", person(register_no="T-2", phone="042-325-0011"))
    assert a["phone"] == b["phone"] == PHONE


def test_sync_same_number_typed_differently_offline_is_not_a_conflict(client_for, client, engine):
    tablet = client_for("welfare_staff")
    p = create(client, "people", person())
    r = client.patch(f"/api/people/{p['id']}", json={"version": 1, "phone": PHONE})
    assert r.status_code == 200
    # the tablet, still at version 1, typed the same number with full-width digits: the same edit
    result = push(tablet, person_update(p, 1, {"phone": TYPED_PHONE}))[0]
    assert result["status"] == "applied" and "conflicts" not in result and result["record"]["phone"] == PHONE
    # while another number is a conflict, as before
    result = push(tablet, person_update(p, 1, {"phone": "０４２（３２５）９９９９"}))[0]
    assert result["status"] == "merged" and result["conflict_fields"] == ["phone"]
    with Session(engine) as s:
        conflicts = s.exec(select(SyncConflict)).all()
    assert [(c.server_value, c.client_value) for c in conflicts] == [(PHONE, "０４２（３２５）９９９９")]


def test_sync_edit_of_a_person_with_a_stored_invalid_phone_applies(client_for, client, engine):
    tablet = client_for("welfare_staff")
    p = create(client, "people", person())
    store_as_typed(engine, p["id"], phone=EXTENSION)
    result = push(tablet, person_update(p, 1, {"notes": "2階に寝室"}))[0]
    assert result["status"] == "applied", result
    assert result["record"]["phone"] == EXTENSION and result["record"]["notes"] == "2階に寝室"


# ---- the importer, which validates with the same models ----

def test_reimport_normalises_once_and_keeps_a_stored_invalid_value_it_does_not_touch(engine):
    from server.importers.people_csv import import_people
    from tests.csv_helpers import PEOPLE_HEADER, add_districts, people, people_csv, person_row

    add_districts(engine, "C001")
    report = import_people(engine, people_csv(person_row(電話番号=TYPED_PHONE, 郵便番号=TYPED_POSTAL)), apply=True)
    assert report.errors == [] and report.created == 1
    stored = people(engine)["T-0001"]
    assert (stored["phone"], stored["postal_code"]) == (PHONE, POSTAL)  # normalised by the column and the model
    store_as_typed(engine, str(stored["id"]), phone=EXTENSION)
    without_phone = [h for h in PEOPLE_HEADER if h != "電話番号"]
    report = import_people(engine, people_csv(person_row(氏名="試験　一朗"), header=without_phone), apply=True)
    assert report.errors == [] and report.updated == 1
    assert people(engine)["T-0001"]["phone"] == EXTENSION and people(engine)["T-0001"]["name"] == "試験　一朗"
    report = import_people(engine, people_csv(person_row(電話番号=EXTENSION)))
    assert [e.column for e in report.errors] == ["電話番号"]  # a value in the file is checked as before
    assert PHONE_MESSAGE in report.errors[0].reason


# ---- the importer's functions, applied twice ----

@pytest.mark.parametrize("typed", [TYPED_PHONE, "+81 (42) 325-0011", "042.325.0011", " 03‐1234‐5678 ",
                                   "(03)1234-5678", "09011112222", "＋８１−９０−１１１１−２２２２", "042ｰ325ｰ0011", ""])
def test_phone_normalisation_is_idempotent(typed):
    once = normalize_phone(typed)
    assert normalize_phone(once) == once


@pytest.mark.parametrize("typed", [TYPED_POSTAL, "1850001", "185 0001", "〒185-0001", "１８５－０００１", ""])
def test_postal_code_normalisation_is_idempotent(typed):
    once = normalize_postal_code(typed)
    assert normalize_postal_code(once) == once
