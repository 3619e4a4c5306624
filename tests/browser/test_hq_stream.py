"""GET /api/hq/stream over real HTTP (Server-Sent Events from a running server): a report
arrives as an update, a reconnect resumes after Last-Event-ID, only HQ roles may listen."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from datetime import date
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select

from server.models import Shelter
from tests.browser.conftest import PASSWORD
from tests.factories import now_jst


def token(live_server, role: str) -> str:
    user = live_server.add_user(role)
    answer = httpx.post(live_server.url + "/auth/token", json={"username": user.username, "password": PASSWORD,
                                                              "label": "stream test"})
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


class Events:
    """Reads an event stream in a thread; `next(name)` waits for the next event of that name.
    Plain http.client, so `close()` can shut the socket and the server sees the client leave."""

    def __init__(self, url: str, bearer: str, headers: dict | None = None):
        self.items: list[tuple[str, str, dict]] = []
        self.cond = threading.Condition()
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.connection.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path,
                                headers={"Authorization": f"Bearer {bearer}", **(headers or {})})
        self.response = self.connection.getresponse()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        event, ident, data = "message", "", ""
        try:
            for raw in self.response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("id:"):
                    ident = line[3:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif line == "" and data:
                    with self.cond:
                        self.items.append((event, ident, json.loads(data)))
                        self.cond.notify_all()
                    event, ident, data = "message", "", ""
        except Exception:  # noqa: BLE001 - the test closed the connection under http.client's feet
            pass

    def next(self, name: str, timeout: float = 10) -> tuple[str, dict]:
        with self.cond:
            ok = self.cond.wait_for(lambda: any(e == name for e, _, _ in self.items), timeout)
            assert ok, f"no {name!r} event within {timeout}s; got {[e for e, _, _ in self.items]}"
            index = next(i for i, (e, _, _) in enumerate(self.items) if e == name)
            _, ident, data = self.items.pop(index)
            return ident, data

    def close(self):
        if self.connection.sock is not None:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        self.thread.join(5)


@pytest.fixture
def streams():
    opened: list[Events] = []

    def open_stream(url, bearer, headers=None):
        events = Events(url, bearer, headers)
        opened.append(events)
        return events

    yield open_stream
    for events in opened:
        events.close()


def post(live_server, bearer: str, path: str, payload: dict) -> dict:
    answer = httpx.post(f"{live_server.url}/api/{path}", json=payload, headers={"Authorization": f"Bearer {bearer}"})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def a_shelter(live_server) -> Shelter:
    with live_server.session() as s:
        return s.exec(select(Shelter).order_by(Shelter.name)).first()


def test_a_report_arrives_as_an_update(live_server, streams):
    viewer, staff = token(live_server, "hq_viewer"), token(live_server, "welfare_staff")
    events = streams(live_server.url + "/api/hq/stream", viewer)
    assert events.response.status == 200
    assert events.response.getheader("content-type").startswith("text/event-stream")
    assert events.response.getheader("cache-control") == "no-store"
    _, hello = events.next("hello")
    shelter = a_shelter(live_server)
    post(live_server, staff, "shelter-reports", {"shelter_id": str(shelter.id), "open_state": "open",
                                                 "occupancy": 17, "observed_at": now_jst(1)})
    ident, update = events.next("update")
    assert int(ident) == update["seq"] > hello["seq"]
    assert [(s["id"], s["open_state"], s["occupancy"]) for s in update["shelters"]] == [(str(shelter.id), "open", 17)]

    team = post(live_server, staff, "dwat-teams", {"name": "ストリーム班"})
    post(live_server, staff, "dwat-deployments", {"team_id": team["id"], "shelter_id": str(shelter.id),
                                                  "state": "active", "start_date": str(date.today())})
    _, update = events.next("update")
    assert [(d["team_name"], d["shelter_id"]) for d in update["deployments"]] == [("ストリーム班", str(shelter.id))]


def test_a_reconnect_resumes_after_the_last_event(live_server, streams):
    viewer, staff = token(live_server, "hq_viewer"), token(live_server, "welfare_staff")
    first = streams(live_server.url + "/api/hq/stream", viewer)
    _, hello = first.next("hello")
    first.close()
    shelter = a_shelter(live_server)
    post(live_server, staff, "shelter-reports", {"shelter_id": str(shelter.id), "open_state": "full",
                                                 "occupancy": 30, "observed_at": now_jst(1)})
    # EventSource sends the last id it saw; the change made while disconnected comes first.
    again = streams(live_server.url + "/api/hq/stream?after=0", viewer, {"Last-Event-ID": str(hello["seq"])})
    assert again.next("hello")[1]["seq"] == hello["seq"]
    _, update = again.next("update")
    assert update["shelters"][0]["open_state"] == "full"


def test_the_page_position_is_where_the_stream_starts(live_server, streams):
    viewer, staff = token(live_server, "hq_viewer"), token(live_server, "welfare_staff")
    seq = httpx.get(live_server.url + "/api/hq/shelters", headers={"Authorization": f"Bearer {viewer}"}).json()["seq"]
    shelter = a_shelter(live_server)
    post(live_server, staff, "shelter-reports", {"shelter_id": str(shelter.id), "open_state": "preparing",
                                                 "observed_at": now_jst(1)})
    events = streams(f"{live_server.url}/api/hq/stream?after={seq}", viewer)
    _, update = events.next("update")
    assert update["shelters"][0]["open_state"] == "preparing"


@pytest.mark.parametrize("role", ["district_supporter", "shelter_staff"])
def test_field_roles_may_not_listen(live_server, role):
    answer = httpx.get(live_server.url + "/api/hq/stream", headers={"Authorization": f"Bearer {token(live_server, role)}"})
    assert answer.status_code == 403


def test_a_bad_position_is_refused(live_server):
    answer = httpx.get(live_server.url + "/api/hq/stream?after=soon",
                       headers={"Authorization": f"Bearer {token(live_server, 'hq_viewer')}"})
    assert answer.status_code == 422
