"""DWAT on site through the API and the sync protocol: welfare triage (scope, rejections,
exactly once, a person added on the spot), a move flowing into matching and HQ's referral list
through to arrival, daily reports (counts, a deployment that ended), requests with need counts
from shelter staff, the aggregation by site and day and the chronology CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from server.domain.japan_time import today_jst
from server.models import AuditEntry, DwatActivityReport, DwatRequest, Person, SafetyCheck
from server.models.dwat_field import DwatTriage
from tests.factories import create, now_jst, person, shelter

TODAY = today_jst()


def _team(client, name="テスト班"):
    team = create(client, "dwat-teams", dict(name=name))
    member = create(client, "dwat-members", dict(team_id=team["id"], name="班長", role="leader",
                                                 professions=["social_worker"], sex="female"))
    return team, member


@pytest.fixture
def site(client, client_for):
    """A general shelter with a team on site (active, today ± 2), a welfare shelter nearby, a
    person whose plan sends them to the general shelter, one at another shelter, and the
    team's member signed in on a device."""
    general = create(client, "shelters", shelter(name="第一小学校", kind="designated", target_groups=[],
                                                 capabilities=[], capacity=300, municipality_code="132144"))
    other = create(client, "shelters", shelter(name="第二中学校", kind="designated", target_groups=[],
                                               capabilities=[], capacity=300, municipality_code="132144"))
    welfare = create(client, "shelters", shelter(name="ひかりプラザ", capacity=20))
    team, member = _team(client)
    deployment = create(client, "dwat-deployments", dict(
        team_id=team["id"], shelter_id=general["id"], state="active",
        start_date=(TODAY - timedelta(days=2)).isoformat(), end_date=(TODAY + timedelta(days=2)).isoformat()))
    here = create(client, "people", person(reasons=[], care_needs=[]))
    create(client, "plans", dict(person_id=here["id"], destination_shelter_id=general["id"]))
    elsewhere = create(client, "people", person())
    create(client, "safety-checks", dict(person_id=elsewhere["id"], outcome="evacuated", shelter_id=other["id"],
                                         observed_at=now_jst(60)))
    device = client_for("dwat_member", dwat_member_id=uuid.UUID(member["id"]))
    return dict(general=general, other=other, welfare=welfare, team=team, deployment=deployment, here=here,
                elsewhere=elsewhere, device=device)


def push(device, *mutations):
    r = device.post("/api/sync/mutations", json={"device_id": "tablet-1", "mutations": list(mutations)})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def triage_mutation(deployment_id, *, person_id=None, new_person=None, outcome="stay_with_support", minutes_ago=5,
                    **more):
    data = dict(id=str(uuid.uuid4()), deployment_id=deployment_id, outcome=outcome, observed_at=now_jst(minutes_ago),
                reporter="班長", needs=["elderly_care"], notes="夜間のトイレ介助", **more)
    if person_id:
        data["person_id"] = person_id
    if new_person:
        data["new_person"] = new_person
    return {"id": str(uuid.uuid4()), "entity": "dwat-triages", "op": "create", "data": data}


def triages(engine) -> list[DwatTriage]:
    with Session(engine) as s:
        return list(s.exec(select(DwatTriage)).all())


def test_a_triage_offline_arrives_once(site, engine):
    m = triage_mutation(site["deployment"]["id"], person_id=site["here"]["id"])
    first = push(site["device"], m)
    assert first[0]["status"] == "applied"
    assert first[0]["record"]["shelter_id"] == site["general"]["id"]  # set by the server
    again = push(site["device"], m)  # the answer was lost: the device sends the batch again
    assert again[0]["status"] == "duplicate"
    assert len(triages(engine)) == 1


def test_a_triage_for_someone_at_another_shelter_is_refused_and_nothing_changes(site, client, engine):
    result = push(site["device"], triage_mutation(site["deployment"]["id"], person_id=site["elsewhere"]["id"]))[0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["code"] == "person_not_at_site"
    r = client.post("/api/dwat-triages", json=triage_mutation(site["deployment"]["id"],
                                                              person_id=site["elsewhere"]["id"])["data"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "person_site_id"
    assert triages(engine) == []


def test_a_triage_on_a_deployment_that_ended_is_refused(site, client, engine):
    ended = create(client, "dwat-deployments", dict(
        team_id=site["team"]["id"], shelter_id=site["other"]["id"], state="ended",
        start_date=(TODAY - timedelta(days=9)).isoformat(), end_date=(TODAY - timedelta(days=4)).isoformat()))
    # the person was at that shelter while the team was there
    result = push(site["device"], triage_mutation(ended["id"], person_id=site["elsewhere"]["id"]))[0]
    assert result["status"] == "rejected"
    assert "deployment_not_active" in [e.get("code") for e in result["errors"]]
    r = client.post("/api/dwat-triages", json=triage_mutation(ended["id"], person_id=site["elsewhere"]["id"])["data"])
    assert r.status_code == 422
    assert triages(engine) == []


def test_a_triage_before_the_deployment_started_is_refused(site, engine):
    late = triage_mutation(site["deployment"]["id"], person_id=site["here"]["id"], minutes_ago=60 * 24 * 4)
    result = push(site["device"], late)[0]
    assert result["status"] == "rejected" and result["errors"][0]["code"] == "outside_deployment"
    assert triages(engine) == []


def test_a_person_not_on_the_register_is_added_on_the_spot_and_flagged(site, client, engine):
    # DWAT works in disaster mode: the team then sees everyone at its shelter, consent or not
    assert client.post("/api/mode", json={"mode": "disaster", "reason": "地震"}).status_code == 200
    newcomer = dict(name="現地 一郎", name_kana="ゲンチ イチロウ", sex="male", birth_date="1938-01-01",
                    reasons=["elderly_household"])
    result = push(site["device"], triage_mutation(site["deployment"]["id"], new_person=newcomer,
                                                  outcome="welfare_room"))[0]
    assert result["status"] == "applied", result
    assert result["record"]["registered_on_site"] is True
    with Session(engine) as s:
        added = s.get(Person, uuid.UUID(result["record"]["person_id"]))
        assert added.name == "現地 一郎" and added.register_no.startswith("DWAT-")
        assert "要確認" in added.reason_note
        check = s.exec(select(SafetyCheck).where(SafetyCheck.person_id == added.id)).one()
        assert str(check.shelter_id) == site["general"]["id"]
    # the team's device gets the new person on its next pull (in scope: at its shelter)
    feed = site["device"].get("/api/sync/changes").json()
    assert result["record"]["person_id"] in {i["id"] for i in feed["items"] if i["entity"] == "people"}


def test_the_office_lists_people_added_on_site(site, client):
    push(site["device"], triage_mutation(site["deployment"]["id"], new_person=dict(
        name="現地 花子", birth_date="1950-05-05", sex="female")))
    listed = client.get("/api/dwat-triages", params={"registered_on_site": "true"}).json()
    assert listed["total"] == 1 and listed["items"][0]["new_person"]["name"] == "現地 花子"


def test_both_or_neither_person_is_refused(site, engine):
    both = triage_mutation(site["deployment"]["id"], person_id=site["here"]["id"],
                           new_person=dict(name="x", birth_date="1950-01-01"))
    neither = triage_mutation(site["deployment"]["id"])
    results = push(site["device"], both, neither)
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert triages(engine) == []


def test_a_move_with_no_group_is_refused(site, engine):
    result = push(site["device"], triage_mutation(site["deployment"]["id"], person_id=site["here"]["id"],
                                                  outcome="move_to_welfare_shelter"))[0]
    assert result["status"] == "rejected" and result["errors"][0]["code"] == "no_target_group"


def test_a_move_is_placed_by_matching_and_followed_to_arrival(site, client, client_for, engine):
    m = triage_mutation(site["deployment"]["id"], person_id=site["here"]["id"], outcome="move_to_welfare_shelter",
                        groups=["elderly"], urgent=True)
    assert push(site["device"], m)[0]["status"] == "applied"
    referrals = client.get("/api/dwat/referrals").json()["items"]
    assert [(r["person_id"], r["stage"]) for r in referrals] == [(site["here"]["id"], "referred")]

    run = client.post("/api/matching/run", json={})
    assert run.status_code in (200, 201), run.text
    proposal = client.get("/api/matching/proposals/latest").json()
    placed = {a["person_id"]: a["shelter_id"] for a in proposal["assignments"]}
    # the person is on the register without any welfare reason: only the triage made them a demand
    assert placed[site["here"]["id"]] == site["welfare"]["id"]
    assert proposal["summary"]["triage_moves"] == 1
    assert client.get("/api/dwat/referrals").json()["items"][0]["stage"] == "proposed"

    assert client.post(f"/api/matching/proposals/{proposal['id']}/confirm").status_code == 200
    row = client.get("/api/dwat/referrals").json()["items"][0]
    assert row["stage"] == "placed" and row["destination"] == "ひかりプラザ"
    assert row["name"] == site["here"]["name"]  # the city office sees names

    create(client, "safety-checks", dict(person_id=site["here"]["id"], outcome="evacuated",
                                         shelter_id=site["welfare"]["id"], observed_at=now_jst(1)))
    row = client.get("/api/dwat/referrals").json()["items"][0]
    assert row["stage"] == "arrived" and row["arrived_at_shelter"] == "ひかりプラザ"
    # arrived: no longer a demand
    client.post("/api/matching/run", json={})
    assert "triage_moves" not in client.get("/api/matching/proposals/latest").json()["summary"]

    viewer = client_for("hq_viewer")
    seen = viewer.get("/api/dwat/referrals").json()["items"][0]
    assert seen["name"] == "" and seen["register_no"] == site["here"]["register_no"]
    with Session(engine) as s:
        audited = s.exec(select(AuditEntry).where(AuditEntry.resource == "dwat-referrals")).all()
        assert audited and site["here"]["id"] in audited[-1].record_ids
    page = viewer.get("/dwat/referrals")
    assert page.status_code == 200 and "到着" in page.text and site["here"]["name"] not in page.text


def report_mutation(deployment_id, day, counts, triage=None, **more):
    data = dict(id=str(uuid.uuid4()), deployment_id=deployment_id, report_date=day.isoformat(),
                observed_at=now_jst(), reporter="班長", counts=counts, triage_counts=triage or {}, **more)
    return {"id": str(uuid.uuid4()), "entity": "dwat-activity-reports", "op": "create", "data": data}


def test_daily_reports_arrive_once_and_are_summed_by_site_and_day(site, client, engine):
    day = TODAY - timedelta(days=1)
    m = report_mutation(site["deployment"]["id"], day, {"consultation": 5, "care_support": 3},
                        {"move_to_welfare_shelter": 2, "stay_with_support": 4}, issues="夜間の見守り不足",
                        handover="Aさんの服薬確認")
    assert push(site["device"], m)[0]["status"] == "applied"
    assert push(site["device"], m)[0]["status"] == "duplicate"
    # a second team on the handover day at the same site (filed by the office)
    team2, _ = _team(client, "第2班")
    d2 = create(client, "dwat-deployments", dict(team_id=team2["id"], shelter_id=site["general"]["id"], state="active",
                                                 start_date=day.isoformat(), end_date=(day + timedelta(days=4)).isoformat()))
    r = client.post("/api/dwat-activity-reports", json=report_mutation(d2["id"], day, {"consultation": 2})["data"])
    assert r.status_code == 201, r.text
    assert r.json()["consultations"] == 2  # the older numbers are kept in step
    items = client.get("/api/dwat/site-days", params={"from": day.isoformat(), "to": day.isoformat()}).json()["items"]
    assert len(items) == 1
    row = items[0]
    assert row["reports"] == 2 and row["site"] == "第一小学校"
    assert row["counts"]["consultation"] == 7 and row["counts"]["care_support"] == 3
    assert row["triage"]["move_to_welfare_shelter"] == 2 and row["total"] == 16
    assert row["issues"] == ["夜間の見守り不足"] and row["handover"] == ["Aさんの服薬確認"]
    page = client.get("/dwat/reports")
    assert page.status_code == 200 and "<svg" in page.text and 'data-total="16"' in page.text
    with Session(engine) as s:
        assert len(s.exec(select(DwatActivityReport)).all()) == 2


def test_a_report_for_a_deployment_that_ended_is_refused(site, client, engine):
    ended = create(client, "dwat-deployments", dict(
        team_id=site["team"]["id"], shelter_id=site["other"]["id"], state="ended",
        start_date=(TODAY - timedelta(days=9)).isoformat(), end_date=(TODAY - timedelta(days=4)).isoformat()))
    m = report_mutation(ended["id"], TODAY - timedelta(days=5), {"consultation": 1})
    result = push(site["device"], m)[0]
    assert result["status"] == "rejected" and result["errors"][0]["code"] == "deployment_ended"
    r = client.post("/api/dwat-activity-reports", json=m["data"])
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "deployment_ended"
    bad = push(site["device"], report_mutation(site["deployment"]["id"], TODAY, {"consultation": -1, "gossip": 2}))[0]
    assert bad["status"] == "rejected" and {e["code"] for e in bad["errors"]} == {"bad_count", "unknown_kind"}
    with Session(engine) as s:
        assert s.exec(select(DwatActivityReport)).all() == []


def test_shelter_staff_request_a_team_with_need_counts_offline(site, client_for, engine):
    staff = client_for("shelter_staff", shelter_ids=[site["general"]["id"]])
    ok = {"id": str(uuid.uuid4()), "entity": "dwat-requests", "op": "create",
          "data": dict(id=str(uuid.uuid4()), shelter_id=site["general"]["id"], priority="high",
                       need_counts={"elderly_care": 4, "mental_health": 1, "children": 0},
                       wanted_from=TODAY.isoformat(), note="夜間対応")}
    empty = {"id": str(uuid.uuid4()), "entity": "dwat-requests", "op": "create",
             "data": dict(shelter_id=site["general"]["id"], need_counts={"elderly_care": 0})}
    unknown = {"id": str(uuid.uuid4()), "entity": "dwat-requests", "op": "create",
               "data": dict(shelter_id=site["general"]["id"], need_counts={"dance": 2})}
    other = {"id": str(uuid.uuid4()), "entity": "dwat-requests", "op": "create",
             "data": dict(shelter_id=site["other"]["id"], need_counts={"elderly_care": 1})}
    r = staff.post("/api/sync/mutations", json={"device_id": "s-1", "mutations": [ok, empty, unknown, other]})
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["applied", "rejected", "rejected", "rejected"]
    assert results[0]["record"]["need_counts"] == {"elderly_care": 4, "mental_health": 1}
    assert "no needs" in results[1]["errors"][0]["message"]
    assert results[2]["errors"][0]["field"] == "need_counts" and "dance" in results[2]["errors"][0]["message"]
    assert results[3]["errors"][0]["field"] == "shelter_id"  # not their shelter: as if it did not exist
    again = staff.post("/api/sync/mutations", json={"device_id": "s-1", "mutations": [ok]}).json()["results"]
    assert again[0]["status"] == "duplicate"
    with Session(engine) as s:
        assert len(s.exec(select(DwatRequest)).all()) == 1


def test_chronology_csv_is_escaped_ordered_and_audited(site, client, engine):
    client.patch(f"/api/shelters/{site['general']['id']}", json={"version": site["general"]["version"],
                                                                  "name": "=HYPERLINK(\"http://x\")"})
    push(site["device"], triage_mutation(site["deployment"]["id"], person_id=site["here"]["id"]),
         report_mutation(site["deployment"]["id"], TODAY, {"consultation": 3}))
    create(client, "dwat-requests", dict(shelter_id=site["general"]["id"], need_counts={"elderly_care": 2}))
    r = client.get("/api/dwat/chronology.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in r.content
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["日付", "時刻", "種別", "拠点", "チーム", "内容", "内容（英語）", "記録者", "参照ID"]
    kinds = [row[2] for row in rows[1:]]
    assert {"要請", "派遣", "到着", "トリアージ", "日報"} <= set(kinds)
    assert rows[1:] == sorted(rows[1:], key=lambda row: row[0])  # by day (an untimed entry has no 時刻)
    assert all(row[3] != "=HYPERLINK(\"http://x\")" for row in rows[1:])
    assert any(row[3].startswith("'=HYPERLINK") for row in rows[1:])
    assert site["here"]["name"] not in r.text  # the chronology names no person
    assert any("要請受付: 高齢者介護2" in row[5] and "elderly care 2" in row[6] for row in rows[1:])
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.resource == "dwat-chronology",
                                               AuditEntry.action == "export")).first() is not None


@pytest.mark.parametrize("role,status", [("dwat_member", 403), ("shelter_staff", 403), ("district_supporter", 403),
                                         ("hq_viewer", 200), ("welfare_staff", 200)])
def test_who_sees_the_reports_and_the_chronology(client_for, role, status):
    c = client_for(role)
    assert c.get("/api/dwat/site-days").status_code == status
    assert c.get("/api/dwat/chronology.csv").status_code == status


def test_bad_days_are_a_clear_422(client):
    r = client.get("/api/dwat/site-days", params={"from": "yesterday"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"
    r = client.get("/api/dwat/site-days", params={"from": "2026-12-05", "to": "2026-12-01"})
    assert r.status_code == 422


def test_a_device_gets_only_its_teams_triages_and_hq_no_notes(site, client, client_for, engine):
    assert push(site["device"], triage_mutation(site["deployment"]["id"], person_id=site["here"]["id"]))[0]["status"] \
        == "applied"
    # a second team on site at the other shelter, with its own triage
    team2, member2 = _team(client, "第2班")
    d2 = create(client, "dwat-deployments", dict(team_id=team2["id"], shelter_id=site["other"]["id"], state="active",
                                                 start_date=TODAY.isoformat()))
    other_device = client_for("dwat_member", dwat_member_id=uuid.UUID(member2["id"]))
    assert push(other_device, triage_mutation(d2["id"], person_id=site["elsewhere"]["id"]))[0]["status"] == "applied"

    mine = [i for i in site["device"].get("/api/sync/changes").json()["items"] if i["entity"] == "dwat-triages"]
    assert [i["data"]["deployment_id"] for i in mine] == [site["deployment"]["id"]]
    # the other team's deployment is not this device's to write to: as if it did not exist
    refused = push(site["device"], triage_mutation(d2["id"], person_id=site["elsewhere"]["id"]))[0]
    assert refused["status"] == "rejected" and refused["errors"][0]["field"] == "deployment_id"
    assert len(triages(engine)) == 2

    viewer = client_for("hq_viewer")
    items = viewer.get("/api/dwat-triages").json()["items"]
    assert len(items) == 2 and all("notes" not in i and "new_person" not in i and "needs" not in i for i in items)


def test_a_refused_new_person_leaves_nothing_behind(site, client, engine):
    with Session(engine) as s:
        people_before = len(s.exec(select(Person)).all())
    bad = triage_mutation(site["deployment"]["id"], new_person=dict(name="", birth_date="2999-01-01"))
    result = push(site["device"], bad)[0]
    assert result["status"] == "rejected"
    assert {e["field"] for e in result["errors"]} >= {"new_person.name", "new_person.birth_date"}
    move = triage_mutation(site["deployment"]["id"], new_person=dict(name="現地 三郎", birth_date="1990-01-01"),
                           outcome="move_to_welfare_shelter")
    assert push(site["device"], move)[0]["errors"][0]["code"] == "no_target_group"
    # a valid person on another team's deployment: made, then the scope check refuses — rolled back
    team2, _ = _team(client, "第2班")
    d2 = create(client, "dwat-deployments", dict(team_id=team2["id"], shelter_id=site["other"]["id"], state="active",
                                                 start_date=TODAY.isoformat()))
    elsewhere = triage_mutation(d2["id"], new_person=dict(name="現地 四郎", birth_date="1940-01-01"))
    result = push(site["device"], elsewhere)[0]
    assert result["status"] == "rejected" and result["errors"][0]["field"] == "deployment_id"
    with Session(engine) as s:
        assert len(s.exec(select(Person)).all()) == people_before
        assert s.exec(select(SafetyCheck).where(SafetyCheck.note == "DWAT現地登録")).all() == []
    assert triages(engine) == []
