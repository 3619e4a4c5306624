"""The supporter register (支援者台帳) over the API: who may read it, bad input, the plans' copies
kept in step with an entry, and the review flags (left, overloaded)."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from server.domain.workbench.supporters import (MINSEI_OVERLOAD_THRESHOLD, OVERLOAD_THRESHOLD, Availability,
                                                SupporterKind)

from server.models import AuditEntry, ChangeLog, PlanVersion
from server.models.supporters import AVAILABILITIES, KINDS
from server.records.supporter_links import supporter_review_reasons
from tests import factories


def supporter(**over) -> dict:
    data = dict(kind="neighbour", name="近所 良子", name_kana="きんじょ よしこ", phone="０４２（３２５）００１１",
                address="東京都国分寺市戸倉1-2-3", availability="daytime_only", birth_year=1950)
    data.update(over)
    return data


def done_plan(client, entry: dict, **over) -> dict:
    person = factories.create(client, "people", factories.person())
    line = {"name": entry["name"], "relation": "近隣住民", "phone": entry["phone"], "supporter_id": entry["id"]}
    data = {"person_id": person["id"], "status": "done", "consent": True, "consent_date": "2025-04-01",
            "supporters": [line]}
    data.update(over)
    return factories.create(client, "plans", data)


def test_the_models_name_the_domains_codes():
    assert KINDS == tuple(k.value for k in SupporterKind)
    assert AVAILABILITIES == tuple(a.value for a in Availability)


def test_office_creates_an_entry_with_the_phone_normalised(client):
    entry = factories.create(client, "supporters", supporter())
    assert entry["phone"] == "042-325-0011" and entry["active"] is True and entry["version"] == 1
    listed = client.get("/api/supporters", params={"kind": "neighbour"}).json()
    assert [i["id"] for i in listed["items"]] == [entry["id"]]


def test_bad_phone_and_unknown_kind_are_422_naming_the_field(client):
    answer = client.post("/api/supporters", json=supporter(phone="042-325-0011 内線12"))
    assert answer.status_code == 422 and "phone" in answer.text
    answer = client.post("/api/supporters", json=supporter(phone_alt="abc"))
    assert answer.status_code == 422 and "phone_alt" in answer.text
    answer = client.post("/api/supporters", json=supporter(kind="samurai"))
    assert answer.status_code == 422 and "kind" in answer.text
    answer = client.post("/api/supporters", json=supporter(availability="sometimes"))
    assert answer.status_code == 422 and "availability" in answer.text
    answer = client.post("/api/supporters", json=supporter(birth_year=1800))
    assert answer.status_code == 422 and "birth_year" in answer.text
    assert client.get("/api/supporters").json()["total"] == 0


def test_only_the_city_office_may_read_the_register_and_reads_are_audited(client_for, engine):
    welfare = client_for("welfare_staff")
    entry = factories.create(welfare, "supporters", supporter())
    for role in ("district_supporter", "shelter_staff", "hq_viewer"):
        other = client_for(role)
        assert other.get("/api/supporters").status_code == 403
        assert other.get(f"/api/supporters/{entry['id']}").status_code == 403
        assert other.post("/api/supporters", json=supporter()).status_code == 403
    assert welfare.get(f"/api/supporters/{entry['id']}").status_code == 200
    with Session(engine) as s:
        reads = s.exec(select(AuditEntry).where(AuditEntry.resource == "supporters",
                                                AuditEntry.action == "read")).all()
    assert [r.record_ids for r in reads] == [[entry["id"]]]


def test_a_plan_line_may_link_only_an_existing_entry(client):
    person = factories.create(client, "people", factories.person())
    answer = client.post("/api/plans", json={"person_id": person["id"], "supporters": [
        {"name": "誰か", "supporter_id": "00000000-0000-4000-8000-000000000000"}]})
    assert answer.status_code == 422 and "supporters.0.supporter_id" in answer.text


def test_a_changed_phone_is_copied_to_every_linked_plan_with_a_version_bump(client, engine):
    entry = factories.create(client, "supporters", supporter())
    plans = [done_plan(client, entry) for _ in range(2)]
    unlinked = factories.create(client, "plans", {"person_id": factories.create(client, "people", factories.person())["id"],
                                                  "supporters": [{"name": "近所 良子", "phone": "042-325-0011"}]})
    answer = client.patch(f"/api/supporters/{entry['id']}", json={"version": 1, "phone": "090-1234-5678"})
    assert answer.status_code == 200, answer.text
    for plan in plans:
        now = client.get(f"/api/plans/{plan['id']}").json()
        assert now["version"] == plan["version"] + 1
        assert now["supporters"][0]["phone"] == "090-1234-5678"
        assert now["supporters"][0]["relation"] == "近隣住民"  # the plan's own
        assert now["status"] == "done"
    assert client.get(f"/api/plans/{unlinked['id']}").json()["supporters"][0]["phone"] == "042-325-0011"
    with Session(engine) as s:
        logged = {str(c.record_id) for c in s.exec(select(ChangeLog).where(ChangeLog.entity == "plans")).all()}
        kept = s.exec(select(PlanVersion).where(PlanVersion.plan_id == uuid.UUID(plans[0]["id"]))).all()
    assert {p["id"] for p in plans} <= logged
    with Session(engine) as s:
        copied = s.exec(select(AuditEntry).where(AuditEntry.resource == "plans", AuditEntry.action == "update",
                                                 AuditEntry.detail.contains("copied"))).all()
    assert [sorted(c.record_ids) for c in copied] == [sorted(p["id"] for p in plans)]
    assert [v.data["supporters"][0]["phone"] for v in kept] == ["042-325-0011"]


def test_an_edit_of_notes_only_leaves_the_plans_alone(client):
    entry = factories.create(client, "supporters", supporter())
    plan = done_plan(client, entry)
    client.patch(f"/api/supporters/{entry['id']}", json={"version": 1, "notes": "鍵を預かっている"})
    assert client.get(f"/api/plans/{plan['id']}").json()["version"] == plan["version"]


def test_marking_left_flags_linked_done_plans_for_review(client, engine):
    entry = factories.create(client, "supporters", supporter())
    done = done_plan(client, entry)
    person = factories.create(client, "people", factories.person())
    drafting = factories.create(client, "plans", {"person_id": person["id"], "status": "drafting", "supporters": [
        {"name": entry["name"], "supporter_id": entry["id"]}]})
    answer = client.patch(f"/api/supporters/{entry['id']}",
                          json={"version": 1, "active": False, "left_on": "2026-01-10"})
    assert answer.status_code == 200, answer.text
    assert client.get(f"/api/plans/{done['id']}").json()["status"] == "needs_review"
    assert client.get(f"/api/plans/{drafting['id']}").json()["status"] == "drafting"
    with Session(engine) as s:
        reasons = supporter_review_reasons(s)
        flags = s.exec(select(AuditEntry).where(AuditEntry.action == "review_flag")).all()
    assert {t.code for t in reasons[uuid.UUID(done["id"])]} == {"supporter_left"}
    assert [f.record_ids for f in flags] == [[done["id"]]] and "supporter_left" in flags[0].detail


def test_a_leaving_date_while_still_active_is_422(client):
    answer = client.post("/api/supporters", json=supporter(left_on="2026-01-10"))
    assert answer.status_code == 422


def test_crossing_the_threshold_flags_the_done_plans(client):
    entry = factories.create(client, "supporters", supporter())
    plans = [done_plan(client, entry) for _ in range(OVERLOAD_THRESHOLD)]
    assert {client.get(f"/api/plans/{p['id']}").json()["status"] for p in plans} == {"done"}
    extra = done_plan(client, entry, status="drafting")  # one more: over the threshold
    statuses = {client.get(f"/api/plans/{p['id']}").json()["status"] for p in plans}
    assert statuses == {"needs_review"}
    assert client.get(f"/api/plans/{extra['id']}").json()["status"] == "drafting"


def test_a_minsei_has_the_higher_threshold(client):
    entry = factories.create(client, "supporters", supporter(kind="minsei", name="民生 一郎"))
    plans = [done_plan(client, entry) for _ in range(OVERLOAD_THRESHOLD + 1)]
    assert OVERLOAD_THRESHOLD + 1 <= MINSEI_OVERLOAD_THRESHOLD
    assert {client.get(f"/api/plans/{p['id']}").json()["status"] for p in plans} == {"done"}
