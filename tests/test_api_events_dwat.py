"""Events are append-only; DWAT teams, members, deployments, requests and activity reports."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import create, now_jst, person, shelter


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_an_event_cannot_be_edited(client, method):
    p = create(client, "people", person())
    check = create(client, "safety-checks", dict(person_id=p["id"], outcome="safe_home", observed_at=now_jst()))
    kwargs = {} if method == "delete" else {"json": {"outcome": "injured"}}
    r = getattr(client, method)(f"/api/safety-checks/{check['id']}", **kwargs)
    assert r.status_code == 405
    assert "append-only" in r.json()["detail"]
    assert client.get(f"/api/safety-checks/{check['id']}").json()["outcome"] == "safe_home"


def test_a_correction_is_a_new_event(client):
    p = create(client, "people", person())
    create(client, "safety-checks", dict(person_id=p["id"], outcome="injured", observed_at=now_jst(20)))
    create(client, "safety-checks", dict(person_id=p["id"], outcome="safe_home", observed_at=now_jst(10),
                                         note="訂正: 負傷ではなく無事"))
    checks = client.get("/api/safety-checks", params={"person_id": p["id"]}).json()
    assert checks["total"] == 2
    assert [c["outcome"] for c in checks["items"]] == ["safe_home", "injured"]  # newest first


def test_resending_an_event_with_its_id_stores_it_once(client):
    p = create(client, "people", person())
    payload = dict(id=str(uuid.uuid4()), person_id=p["id"], outcome="needs_help", observed_at=now_jst())
    first = client.post("/api/safety-checks", json=payload)
    second = client.post("/api/safety-checks", json=payload)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert client.get("/api/safety-checks").json()["total"] == 1


def test_event_times_from_the_future_or_without_timezone_are_refused(client):
    p = create(client, "people", person())
    future = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    r = client.post("/api/safety-checks", json=dict(person_id=p["id"], outcome="safe_home", observed_at=future))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "observed_at"
    r = client.post("/api/safety-checks", json=dict(person_id=p["id"], outcome="safe_home",
                                                    observed_at="2026-01-01T09:00:00"))
    assert r.status_code == 422 and "timezone" in r.json()["errors"][0]["message"]


def test_events_filter_since(client):
    p = create(client, "people", person())
    create(client, "safety-checks", dict(person_id=p["id"], outcome="injured", observed_at=now_jst(120)))
    create(client, "safety-checks", dict(person_id=p["id"], outcome="safe_home", observed_at=now_jst(10)))
    since = (datetime.now(timezone.utc) - timedelta(minutes=60)).isoformat()
    r = client.get("/api/safety-checks", params={"since": since})
    assert r.json()["total"] == 1
    assert client.get("/api/safety-checks", params={"since": "yesterday"}).status_code == 422


def test_dwat_team_members_deployment_request_and_daily_report(client):
    team = create(client, "dwat-teams", dict(name="東京都DWAT 第1班", organisation="東京都社会福祉協議会"))
    for i, (role, prof) in enumerate([("leader", "social_worker"), ("sub_leader", "care_worker"),
                                      ("member", "psychiatric_social_worker"), ("member", "care_manager")]):
        create(client, "dwat-members", dict(team_id=team["id"], name=f"隊員{i}", role=role, professions=[prof],
                                            registration_no=f"DW-{i:04d}", sex="female" if i % 2 else "male"))
    assert client.get("/api/dwat-members", params={"team_id": team["id"]}).json()["total"] == 4
    s = create(client, "shelters", shelter())
    request = create(client, "dwat-requests", dict(shelter_id=s["id"], needs=["介護福祉士2名"], priority="high"))
    deployment = create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=s["id"], start_date="2026-11-27",
                                                          state="active"))
    # the state follows the request's step (moved by /api/dwat/requests/{id}/advance, /confirm), never set here
    r = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": 1, "state": "assigned",
                                                                 "deployment_id": deployment["id"]})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"state", "deployment_id"}
    assert client.get(f"/api/dwat-requests/{request['id']}").json()["state"] == "open"
    report = create(client, "dwat-activity-reports", dict(deployment_id=deployment["id"], report_date="2026-11-27",
                                                          observed_at=now_jst(), people_assessed=31, consultations=12,
                                                          referrals=2, activities="避難者のスクリーニング"))
    assert report["people_assessed"] == 31
    r = client.patch(f"/api/dwat-deployments/{deployment['id']}", json={"version": 1, "end_date": "2026-11-01"})
    assert r.status_code == 422  # ends before it starts
    r = client.post("/api/dwat-members", json=dict(team_id=str(uuid.uuid4()), name="迷子"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "team_id"
