"""Editing a register entry (名簿の編集) and adding one (新規登録) from the workbench.

Like the plan form: flat strings from the browser, the records layer's models decide what is
valid (422 with every field error, typed values kept), the version check turns a concurrent
save into the side-by-side merge. Lists (事由, 必要な配慮) travel as comma-joined codes so the
merge screen can carry both sides in hidden fields.
"""

from __future__ import annotations

from typing import Any, Optional

from sqlmodel import Session

from ..models import Person
from ..models.vocab import CareNeed, Consent, Household, Reason, Sex
from ..records.access import Access
from ..records.registry import PEOPLE
from .workbench_plan import Outcome, save_record

CONTACT_FIELDS = ("name", "relation", "phone")
CONTACT_KEYS = tuple(f"e{i}_{f}" for i in range(1, 4) for f in CONTACT_FIELDS)
LIST_KEYS = ("reasons", "care_needs")
PLAIN_KEYS = ("register_no", "municipality_code", "name", "name_kana", "birth_date", "sex", "postal_code", "address",
              "phone", "contact_other", "reason_note", "district_id", "lon", "lat", "household", "household_note",
              "preferred_language", "consent", "consent_date", "neighborhood_association", "minsei_iin", "notes")
FORM_KEYS = (*PLAIN_KEYS, *LIST_KEYS, *CONTACT_KEYS)
LABELS = {"register_no": ("登録者番号", "Register no."), "municipality_code": ("市区町村コード", "Municipality code"),
          "name": ("氏名", "Name"), "name_kana": ("ふりがな", "Kana"), "birth_date": ("生年月日", "Birth date"),
          "sex": ("性別", "Sex"), "postal_code": ("郵便番号", "Postal code"), "address": ("住所", "Address"),
          "phone": ("電話", "Phone"), "contact_other": ("その他の連絡先", "Other contact"),
          "reason_note": ("事由の補足", "Reason note"), "district_id": ("町丁目", "District"),
          "lon": ("経度", "Longitude"), "lat": ("緯度", "Latitude"), "household": ("世帯", "Household"),
          "household_note": ("世帯の補足", "Household note"), "preferred_language": ("使用言語", "Language"),
          "consent": ("名簿提供への同意", "Consent to share"), "consent_date": ("同意日", "Consent date"),
          "neighborhood_association": ("自治会", "Neighbourhood association"),
          "minsei_iin": ("担当民生委員", "Minsei-iin"), "notes": ("申し伝え事項", "Notes"),
          "reasons": ("事由", "Reasons"), "care_needs": ("必要な配慮", "Care needs"),
          "emergency_contacts": ("緊急連絡先", "Emergency contacts")}
MERGE_GROUPS = (*[(k, (k,)) for k in PLAIN_KEYS], *[(k, (k,)) for k in LIST_KEYS],
                ("emergency_contacts", CONTACT_KEYS))
CHOICES = {"sex": Sex, "household": Household, "consent": Consent}


def person_to_form(person: Optional[dict]) -> dict[str, str]:
    values = {key: "" for key in FORM_KEYS}
    values.update(sex=Sex.unknown.value, household=Household.other.value, consent=Consent.not_asked.value,
                  preferred_language="ja")
    if person is None:
        return values
    for key in PLAIN_KEYS:
        value = person.get(key)
        values[key] = "" if value is None else str(value)
    for key in LIST_KEYS:
        values[key] = ",".join(person.get(key) or [])
    for i, contact in enumerate(person.get("emergency_contacts") or [], start=1):
        for f in CONTACT_FIELDS:
            values[f"e{i}_{f}"] = contact.get(f, "") or ""
    return values


def read_form(form: Any) -> dict[str, str]:
    values = {key: (form.get(key) or "").strip() for key in (*PLAIN_KEYS, *CONTACT_KEYS)}
    for key in LIST_KEYS:
        values[key] = ",".join(v for v in form.getlist(key) if v)
    return values


def resolve_merge(form: Any) -> dict[str, str]:
    values = {}
    for group, keys in MERGE_GROUPS:
        side = "theirs" if form.get(f"pick.{group}") == "theirs" else "mine"
        for key in keys:
            values[key] = (form.get(f"{side}.{key}") or "").strip()
    return values


def form_to_data(values: dict[str, str]) -> dict[str, Any]:
    """Empty optional fields are None (the models validate the rest: dates, enums, codes)."""
    data: dict[str, Any] = {key: values[key] for key in PLAIN_KEYS}
    for key in ("district_id", "lon", "lat", "consent_date"):
        data[key] = values[key] or None
    data["reasons"] = [v for v in values["reasons"].split(",") if v]
    data["care_needs"] = [v for v in values["care_needs"].split(",") if v]
    contacts = []
    for i in range(1, 4):
        contact = {f: values[f"e{i}_{f}"] for f in CONTACT_FIELDS}
        if any(contact.values()):
            contacts.append(contact)
    data["emergency_contacts"] = contacts
    return data


def save_person(session: Session, row: Optional[Person], values: dict[str, str], version: Optional[int],
                access: Access, client: str) -> tuple[Outcome, Optional[str]]:
    """(outcome, the saved person's id)."""
    data = form_to_data(values)
    saved, refused = save_record(PEOPLE, session, row.id if row else None, version, data, access, client, values,
                                 person_to_form)
    if refused:
        return refused, None
    return Outcome(200, person_to_form(saved), version=saved["version"]), saved["id"]


def choice_label(key: str, value: str) -> tuple[str, str]:
    """A code as its Japanese and English label, for the merge screen."""
    enum = CHOICES.get(key)
    if enum is not None and value in {m.value for m in enum}:
        return enum(value).ja, enum(value).en
    if key in LIST_KEYS and value:
        enum = Reason if key == "reasons" else CareNeed
        codes = [v for v in value.split(",") if v in {m.value for m in enum}]
        return "、".join(enum(c).ja for c in codes), ", ".join(enum(c).en for c in codes)
    return value, value
