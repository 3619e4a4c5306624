"""One way to move a DWAT request (派遣要請): its step moves only through the flow's routes, and
its legacy `state` (open / assigned / closed) is derived from the step. The generic record
update, the create and the field app's sync mutations refuse a `state` that disagrees with the
step (a 422 naming the flow route), never store it as a sync conflict, and the OpenAPI document
says so."""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from server.models import SyncConflict
from tests.dwat_api_cases import CARE, accept, make_request, make_site, make_team


def flow_errors(response) -> dict:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


def test_patching_state_away_from_the_step_is_refused_naming_the_flow_route(client):
    request = make_request(client, make_site(client), {"elderly_care": 3})
    assert (request["step"], request["state"]) == ("requested", "open")
    r = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": request["version"], "state": "closed"})
    assert r.status_code == 422
    message = flow_errors(r)["state"]
    assert f"/api/dwat/requests/{request['id']}/advance" in message and "/confirm" in message
    after = client.get(f"/api/dwat-requests/{request['id']}").json()
    assert (after["version"], after["step"], after["state"]) == (request["version"], "requested", "open")
    # the state the step gives (a record echoed back) is no change: the rest of the edit is saved
    r = client.patch(f"/api/dwat-requests/{request['id']}",
                     json={"version": request["version"], "state": "open", "note": "夜間も"})
    assert r.status_code == 200 and (r.json()["state"], r.json()["note"]) == ("open", "夜間も")


def test_state_follows_the_flow_and_cannot_be_set_back(client):
    request = accept(client, make_request(client, make_site(client), {"elderly_care": 3}))
    assert (request["step"], request["state"]) == ("accepted", "open")
    team = make_team(client, CARE)
    r = client.post(f"/api/dwat/requests/{request['id']}/confirm", json={"team_id": team["id"], "version": request["version"]})
    assert r.status_code == 201, r.text
    confirmed = r.json()["request"]
    stored = client.get(f"/api/dwat-requests/{request['id']}").json()
    assert (stored["step"], stored["state"]) == ("team_assigned", "assigned")
    for state in ("open", "closed", "未対応"):
        r = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": confirmed["version"], "state": state})
        assert r.status_code == 422 and "state" in flow_errors(r), state
    r = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": confirmed["version"], "step": "closed"})
    assert r.status_code == 422 and "/advance" in flow_errors(r)["step"]
    assert client.get(f"/api/dwat-requests/{request['id']}").json()["version"] == stored["version"]


def test_the_deployment_is_the_flows_to_set(client):
    """/confirm sets the deployment, /advance moves it with the request: a create naming one or an
    update changing it is refused (the flow would otherwise make some other deployment active)."""
    site = make_site(client)
    stray = client.post("/api/dwat-deployments", json=dict(team_id=make_team(client, CARE)["id"], shelter_id=site["id"],
                                                          start_date="2026-11-27", state="planned")).json()
    r = client.post("/api/dwat-requests", json=dict(shelter_id=site["id"], need_counts={"children": 2},
                                                    deployment_id=stray["id"]))
    assert r.status_code == 422 and "deployment_id" in flow_errors(r)
    request = accept(client, make_request(client, site, {"elderly_care": 3}))
    r = client.post(f"/api/dwat/requests/{request['id']}/confirm",
                    json={"team_id": make_team(client, CARE)["id"], "version": request["version"]})
    assert r.status_code == 201, r.text
    confirmed = r.json()["request"]
    r = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": confirmed["version"],
                                                                 "deployment_id": stray["id"]})
    assert r.status_code == 422 and "/confirm" in flow_errors(r)["deployment_id"]
    # sent as stored, it is no change
    r = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": confirmed["version"], "note": "継続",
                                                                 "deployment_id": confirmed["deployment_id"]})
    assert r.status_code == 200 and r.json()["deployment_id"] == confirmed["deployment_id"]


def test_a_new_request_cannot_start_in_another_state(client):
    site = make_site(client)
    r = client.post("/api/dwat-requests", json=dict(shelter_id=site["id"], need_counts={"children": 2}, state="closed"))
    assert r.status_code == 422 and "/advance" in flow_errors(r)["state"]
    assert client.get("/api/dwat-requests", params={"shelter_id": site["id"]}).json()["total"] == 0


def test_a_sync_mutation_changing_state_is_rejected_not_kept_as_a_conflict(client, engine):
    request = make_request(client, make_site(client), {"elderly_care": 3})
    # someone edited the request since the device read it: a state change would become a conflict
    edited = client.patch(f"/api/dwat-requests/{request['id']}", json={"version": request["version"], "note": "更新"})
    assert edited.status_code == 200
    mutation = {"id": str(uuid.uuid4()), "entity": "dwat-requests", "op": "update", "record_id": request["id"],
                "base_version": request["version"], "base": {"state": "open"}, "changes": {"state": "closed"}}
    r = client.post("/api/sync/mutations", json={"device_id": "tablet-1", "mutations": [mutation]})
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["status"] == "rejected" and any(e["field"] == "state" and "/advance" in e["message"]
                                                  for e in result["errors"])
    with Session(engine) as session:
        assert session.exec(select(SyncConflict).where(SyncConflict.record_id == uuid.UUID(request["id"]))).all() == []
    assert client.get(f"/api/dwat-requests/{request['id']}").json()["state"] == "open"


def test_the_openapi_document_says_state_follows_the_step(client):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    for name in ("DwatRequestUpdate", "DwatRequestCreate"):
        text = str(schemas[name]["properties"]["state"])
        assert "/api/dwat/requests/{id}/advance" in text and "422" in text, name
    assert "/api/dwat/requests/{id}/advance" in str(schemas["DwatRequestCreate"]["properties"]["step"])
    assert "/confirm" in str(schemas["DwatRequestUpdate"]["properties"]["deployment_id"])
