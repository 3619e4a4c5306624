"""The HQ map's data: people points, district tallies, shelter states, deployments,
live-update messages, the /hq page and its settings. (The page in a real browser and the
event stream over HTTP: tests/browser/test_hq_map.py and test_hq_stream.py.)"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from server.domain import hq_live, hq_map
from server.models import AuditEntry
from tests.factories import create, now_jst, person, shelter

HQ_ROLES = ["admin", "welfare_staff", "hq_viewer"]
FIELD_ROLES = ["district_supporter", "shelter_staff", "dwat_member"]
SQUARE = {"type": "Polygon", "coordinates": [[[139.45, 35.70], [139.46, 35.70], [139.46, 35.71],
                                              [139.45, 35.71], [139.45, 35.70]]]}


def district(client, code="001", name="光町一丁目", **over) -> dict:
    area = create(client, "districts", dict(municipality_code="132144", code=f"A{code}", name="第一圏域",
                                            kind="welfare_area"))
    data = dict(municipality_code="132144", code=code, name=name, kind="chome", parent_id=area["id"],
                geometry=SQUARE, centroid_lon=139.455, centroid_lat=35.705)
    data.update(over)
    return create(client, "districts", data)


def check(client, person_id, outcome, minutes_ago=5, **over) -> dict:
    return create(client, "safety-checks", dict(person_id=person_id, outcome=outcome,
                                                observed_at=now_jst(minutes_ago), **over))


def report(client, shelter_id, state, occupancy=0, minutes_ago=5, **over) -> dict:
    return create(client, "shelter-reports", dict(shelter_id=shelter_id, open_state=state, occupancy=occupancy,
                                                  observed_at=now_jst(minutes_ago), **over))


# ---- people points ----

@pytest.mark.parametrize("role", HQ_ROLES)
def test_people_points_show_location_and_status_but_no_names(client, client_for, role):
    p = create(client, "people", person(name="地図 花子", lon=139.455123, lat=35.705123))
    check(client, p["id"], "needs_help")
    body = client_for(role).get("/api/hq/people-points")
    assert body.status_code == 200
    data = body.json()
    assert [s["code"] for s in data["statuses"]] == ["unchecked", "safe_home", "evacuated", "needs_help", "injured",
                                                      "unreachable"]
    assert data["count"] == 1 and data["unlocated"] == 0
    [point] = data["points"]
    assert point == [p["id"], 139.455123, 35.705123, data["statuses"].index(
        next(s for s in data["statuses"] if s["code"] == "needs_help")), -1]
    assert "地図" not in body.text and p["register_no"] not in body.text
    assert isinstance(data["seq"], int)


@pytest.mark.parametrize("role", FIELD_ROLES)
def test_field_roles_get_no_hq_data(client_for, role):
    c = client_for(role)
    for path in ("people-points", "districts", "shelters", "deployments", "dwat-requests", "stream"):
        assert c.get(f"/api/hq/{path}").status_code == 403, path


def test_hq_data_needs_sign_in(anon_client):
    for path in ("people-points", "districts", "shelters", "deployments", "dwat-requests", "stream"):
        assert anon_client.get(f"/api/hq/{path}").status_code == 401


def test_people_without_location_are_counted_not_drawn(client, client_for):
    create(client, "people", person(lon=None, lat=None))
    data = client_for("hq_viewer").get("/api/hq/people-points").json()
    assert data["count"] == 1 and data["unlocated"] == 1
    assert data["points"][0][1:3] == [None, None]


def test_status_is_the_latest_check_by_observed_time_as_in_the_people_api(client, client_for):
    p = create(client, "people", person())
    check(client, p["id"], "unreachable", minutes_ago=10)
    check(client, p["id"], "safe_home", minutes_ago=60)  # recorded later, observed earlier: not current
    hq = client_for("hq_viewer")
    data = hq.get("/api/hq/people-points").json()
    assert data["statuses"][data["points"][0][3]]["code"] == "unreachable"
    assert hq.get(f"/api/people/{p['id']}").json()["latest_safety"]["outcome"] == "unreachable"


def test_people_points_read_is_audited_with_a_count_not_ids(engine, client, client_for):
    for _ in range(3):
        create(client, "people", person())
    hq = client_for("hq_viewer")
    assert hq.get("/api/hq/people-points").status_code == 200
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.user_id == hq.user.id)).all()
    assert [(e.action, e.resource, e.record_ids) for e in entries] == [("list", "people", [])]
    assert "3 people" in entries[0].detail


def test_points_name_their_district_by_index(client, client_for):
    d = district(client)
    p = create(client, "people", person(district_id=d["id"]))
    data = client_for("hq_viewer").get("/api/hq/people-points").json()
    assert data["districts"][data["points"][0][4]] == d["id"] == p["district_id"]


# ---- districts ----

def test_district_tallies_count_people_by_latest_status(client, client_for):
    d = district(client)
    a, b, c = (create(client, "people", person(district_id=d["id"])) for _ in range(3))
    check(client, a["id"], "safe_home")
    check(client, b["id"], "unreachable")
    data = client_for("hq_viewer").get("/api/hq/districts").json()
    assert data["type"] == "FeatureCollection"
    chome = [f for f in data["features"] if f["id"] == d["id"]]
    assert len(chome) == 1 and len(data["features"]) == 1  # 福祉圏域 are not shaded
    props = chome[0]["properties"]
    assert props["counts"] == {"unchecked": 1, "safe_home": 1, "evacuated": 0, "needs_help": 0, "injured": 0,
                               "unreachable": 1}
    assert (props["total"], props["confirmed"], props["confirmed_share"]) == (3, 1, 0.3333)
    assert props["welfare_area"] == "第一圏域"
    assert chome[0]["geometry"] == SQUARE


def test_a_district_without_people_has_no_share(client, client_for):
    district(client)
    props = client_for("admin").get("/api/hq/districts").json()["features"][0]["properties"]
    assert props["total"] == 0 and props["confirmed_share"] is None


# ---- shelters ----

def test_shelters_carry_current_state_capacity_and_seismic_class(client, client_for):
    s = create(client, "shelters", shelter(capacity=40, building_permit_date="1975-04-01", is_value=0.25,
                                           seismic_diagnosis_done=True))
    quiet = create(client, "shelters", shelter(name="まだ報告のない避難所"))
    report(client, s["id"], "open", occupancy=12, minutes_ago=30, needs=["毛布"])
    report(client, s["id"], "full", occupancy=40, minutes_ago=10)
    report(client, s["id"], "preparing", minutes_ago=90)  # arrives last, observed first: not current
    data = client_for("hq_viewer").get("/api/hq/shelters").json()
    items = {i["id"]: i for i in data["items"]}
    assert (items[s["id"]]["open_state"], items[s["id"]]["occupancy"], items[s["id"]]["capacity"]) == ("full", 40, 40)
    assert items[s["id"]]["seismic_class"] == "old_high_risk"
    assert items[quiet["id"]]["open_state"] is None and items[quiet["id"]]["occupancy"] is None
    assert {"open", "full"} <= {v["code"] for v in data["open_states"]}
    assert next(v for v in data["seismic_classes"] if v["code"] == "old_high_risk")["ja"] == "旧耐震・Is値0.3未満"


# ---- DWAT ----

def test_deployments_list_current_teams_and_their_shelters(client, client_for):
    s = create(client, "shelters", shelter())
    team = create(client, "dwat-teams", dict(name="東京都DWAT第1班"))
    today = date.today()
    active = create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=s["id"], state="active",
                                                     start_date=str(today)))
    create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=s["id"], state="ended",
                                            start_date=str(today - timedelta(days=9)),
                                            end_date=str(today - timedelta(days=4))))
    data = client_for("hq_viewer").get("/api/hq/deployments").json()
    assert [(d["id"], d["team_name"], d["shelter_id"], d["state"]) for d in data["items"]] == [
        (active["id"], "東京都DWAT第1班", s["id"], "active")]


@pytest.mark.parametrize("role", HQ_ROLES)
def test_open_dwat_requests_are_listed_for_the_decision_strip(client, client_for, role):
    s = create(client, "shelters", shelter())
    waiting = create(client, "dwat-requests", dict(shelter_id=s["id"], needs=["介護福祉士2名"], priority="high"))
    taken = create(client, "dwat-requests", dict(shelter_id=s["id"], needs=["夜間対応"]))
    cancelled = client.post(f"/api/dwat/requests/{taken['id']}/advance", json={"to": "cancelled", "version": 1})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "closed"
    data = client_for(role).get("/api/hq/dwat-requests").json()
    assert [(r["id"], r["shelter_id"], r["priority"], r["needs"]) for r in data["items"]] == [
        (waiting["id"], s["id"], "high", ["介護福祉士2名"])]
    assert data["count"] == 1 and isinstance(data["seq"], int)


# ---- live-update messages ----

def test_live_messages_carry_current_state_of_what_changed(engine, client):
    s = create(client, "shelters", shelter())
    p = create(client, "people", person())
    with Session(engine) as session:
        start = hq_live.latest_seq(session)
    report(client, s["id"], "open", occupancy=5, minutes_ago=10)
    report(client, s["id"], "preparing", minutes_ago=60)  # late arrival: the shelter stays open
    check(client, p["id"], "injured")
    with Session(engine) as session:
        message = hq_live.updates_after(session, start, [])
        assert hq_live.updates_after(session, message["seq"], []) is None
    assert [(x["id"], x["open_state"], x["occupancy"]) for x in message["shelters"]] == [(s["id"], "open", 5)]
    assert [(x["id"], x["status"]) for x in message["people"]] == [(p["id"], hq_map.STATUSES.index("injured"))]
    assert message["more"] is False and message["removed_people"] == []


def test_live_messages_carry_dwat_requests_only_with_their_scope(engine, client):
    s = create(client, "shelters", shelter())
    with Session(engine) as session:
        start = hq_live.latest_seq(session)
    waiting = create(client, "dwat-requests", dict(shelter_id=s["id"], needs=["夜間対応"]))
    with Session(engine) as session:
        message = hq_live.updates_after(session, start, [], request_scope=[])
        without = hq_live.updates_after(session, start, [])
    assert [(r["id"], r["state"]) for r in message["requests"]] == [(waiting["id"], "open")]
    assert without["requests"] == [] and without["removed_requests"] == []


def test_live_messages_drop_people_out_of_scope_and_follow_deployments(engine, client):
    from server.models import Person

    p = create(client, "people", person())
    s = create(client, "shelters", shelter())
    team = create(client, "dwat-teams", dict(name="第2班"))
    with Session(engine) as session:
        start = hq_live.latest_seq(session)
    d = create(client, "dwat-deployments", dict(team_id=team["id"], shelter_id=s["id"], state="active",
                                                start_date=str(date.today())))
    client.patch(f"/api/dwat-deployments/{d['id']}", json={"version": 1, "state": "ended",
                                                           "end_date": str(date.today())})
    client.patch(f"/api/people/{p['id']}", json={"version": 1, "notes": "転居予定"})
    with Session(engine) as session:
        message = hq_live.updates_after(session, start, [Person.id != uuid.UUID(p["id"])])
    assert message["removed_people"] == [p["id"]]
    assert [(x["id"], x["state"]) for x in message["deployments"]] == [(d["id"], "ended")]


def test_live_messages_come_in_batches(engine, client):
    s = create(client, "shelters", shelter())
    with Session(engine) as session:
        start = hq_live.latest_seq(session)
    for minutes in (30, 20, 10):
        report(client, s["id"], "open", occupancy=minutes, minutes_ago=minutes)
    with Session(engine) as session:
        first = hq_live.updates_after(session, start, [], limit=2)
        second = hq_live.updates_after(session, first["seq"], [], limit=2)
    assert first["more"] is True and second["more"] is False
    assert second["shelters"][0]["occupancy"] == 10


def test_a_stream_ends_when_its_sign_in_does(engine, make_user):
    from datetime import timedelta as td

    from server.api.hq_stream import still_allowed
    from server.auth.principal import load_principal
    from server.auth.tokens import DEVICE, issue_token, revoke
    from server.models.auth import User

    user = make_user("hq_viewer")
    with Session(engine, expire_on_commit=False) as s:
        _, token = issue_token(s, user, DEVICE, td(days=1))
        s.commit()
        principal = load_principal(s, user, token)
    assert still_allowed(engine, principal)
    with Session(engine) as s:
        s.get(User, user.id).role = "district_supporter"
        s.commit()
    assert not still_allowed(engine, principal)
    with Session(engine) as s:
        s.get(User, user.id).role = "hq_viewer"
        revoke(s, token.id)
        s.commit()
    assert not still_allowed(engine, principal)


# ---- the page ----

def test_the_page_sends_anonymous_visitors_to_sign_in(anon_client):
    answer = anon_client.get("/hq", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/hq"


@pytest.mark.parametrize("role", FIELD_ROLES)
def test_the_page_is_for_hq_and_city_office_only(client_for, role):
    assert client_for(role).get("/hq").status_code == 403


def test_the_page_passes_settings_as_data_attributes_without_inline_code(client_for):
    answer = client_for("hq_viewer").get("/hq")
    assert answer.status_code == 200
    html = answer.text
    assert 'data-tile-url="https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"' in html
    assert "地理院タイル" in html and "maps.gsi.go.jp/development/ichiran.html" in html
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style"
    assert "/vendor/leaflet/leaflet.css" in html and "/static/hq/main.js" in html


def test_the_tile_url_is_a_setting(engine, make_user):
    from datetime import timedelta as td

    from starlette.testclient import TestClient

    from server.app import create_app
    from server.auth.tokens import DEVICE, issue_token
    from server.settings import load_settings

    settings = load_settings({"TSUNAGU_TILE_URL": "/tiles/{z}/{x}/{y}.png", "TSUNAGU_TILE_ATTRIBUTION": "自前タイル"})
    user = make_user("hq_viewer")
    with Session(engine) as s:
        secret, _ = issue_token(s, user, DEVICE, td(days=1))
        s.commit()
    with TestClient(create_app(settings=settings, engine=engine)) as c:
        html = c.get("/hq", headers={"Authorization": f"Bearer {secret}"}).text
    assert 'data-tile-url="/tiles/{z}/{x}/{y}.png"' in html and 'data-tile-attribution="自前タイル"' in html


@pytest.mark.parametrize("url", ["http://tiles.example/{z}/{x}/{y}.png", "https://tiles.example/tile.png"])
def test_a_tile_url_the_page_could_not_load_stops_start_up(url):
    from server.settings import load_settings

    with pytest.raises(SystemExit, match="TSUNAGU_TILE_URL"):
        load_settings({"TSUNAGU_TILE_URL": url})


def test_an_empty_tile_url_means_no_basemap():
    from server.settings import load_settings

    assert load_settings({"TSUNAGU_TILE_URL": ""}).TSUNAGU_TILE_URL == ""


def test_the_landing_page_links_the_hq_map(anon_client):
    assert 'href="/hq"' in anon_client.get("/").text


def test_the_browser_files_exist_and_are_served(anon_client):
    for path in ("/static/hq/main.js", "/static/hq/hq.css", "/static/hq/palette.js", "/static/hq/decisions.js", "/vendor/leaflet/leaflet-src.esm.js",
                 "/vendor/supercluster/supercluster.min.js"):
        assert anon_client.get(path).status_code == 200, path
