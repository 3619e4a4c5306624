"""The access test generated from the route table: every route of the app declares an action of
the access table (server/auth/policy.py), and every route × persona × mode is called and answers
exactly as the table says — allowed: not refused (neither 401 nor 403); refused: 403 for a signed-in
role, 401 (a JSON route) or a redirect to the sign-in page (an HTML page) for no account. Routes with a
record id are also called with an id in the caller's scope (found) and one outside it (404, like an id
that does not exist). A route added without an action fails `test_every_route_declares_an_action`.

Two municipalities share the installation (several municipalities, docs/access.md): the personas
are city A's (the prefecture coordinator has both), and city B's records are out of every city
persona's scope — the in/out-of-scope test and `test_the_other_city_is_absent` answer 404 / absent
for them, as for any record outside a scope.

One app, one database and the personas for the whole module: ~1,700 calls.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import anyio
from concurrent.futures import ThreadPoolExecutor
import pytest
from sqlmodel import Session, select
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from server.app import create_app
from server.auth.guard import route_action
from server.auth.policy import ACTIONS, POLICY, PUBLIC, allowed, allowed_actions, rule_for
from server.auth.principal import load_principal
from server.auth.tokens import DEVICE, issue_token
from server.models import (District, DwatActivityReport, DwatDeployment, DwatRequest, EvacuationPlan, Municipality,
                           Person, PersonConsent, SafetyCheck, Shelter, ShelterReport, SupporterRecord)
from server.models.dwat_field import DwatTriage
from server.models.auth import Mode, ModeSwitch, User
from server.records.registry import BY_PATH
from tests.conftest import PG_URL, _pg_engine, _sqlite_engine
from tests.test_access import World

PERSONAS = ["admin", "welfare_staff", "district_supporter", "shelter_staff", "dwat_member", "dwat_undeployed",
            "hq_viewer", "prefecture_coordinator", "anonymous"]
CITY_A, CITY_B = "132144", "132021"  # 国分寺市 (the World's) and 立川市, with their check digits
STREAMS = {"/api/hq/stream"}  # server-sent events: only the status of the answer is read


def _app_routes():
    app = create_app(engine=_sqlite_engine(":memory:"))  # the route table only; never called
    return app.routes


def _calls():
    """(method, path template, action, is_page) for every route and method of the app."""
    out = []
    for route in _app_routes():
        if isinstance(route, Mount):
            out.append(("GET", route.path + "/{file}", route_action(route), False))
            continue
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            out.append((method, route.path, route_action(route), getattr(route.endpoint, "page", False)))
    return out


CALLS = _calls()


def test_every_route_declares_an_action():
    missing = [f"{m} {p}" for m, p, action, _ in CALLS if action is None]
    assert not missing, f"routes without an action of the access table (server/auth/guard.py): {missing}"
    unknown = [f"{m} {p}: {a}" for m, p, a, _ in CALLS if a != PUBLIC and a not in ACTIONS]
    assert not unknown


def test_every_named_action_is_used_by_a_route():
    used = {a for _, _, a, _ in CALLS}
    generic = {f"{r}.{op}" for r in POLICY for op in ("list", "read", "create", "update", "delete")}
    assert set(ACTIONS) - generic <= used, sorted(set(ACTIONS) - generic - used)


def test_the_guard_reads_the_declared_action_not_a_role_list():
    """hardening item 8: nothing promises a `required_roles` that no test reads."""
    text = (Path(__file__).resolve().parents[1] / "server" / "auth" / "guard.py").read_text()
    assert "required_roles" not in text and "def require_role" not in text


# ---- the world: one database, personas created once ----

class Table:
    def __init__(self, engine):
        self.engine = engine
        self.world = World(engine)
        self.app = create_app(engine=engine)
        self.client = TestClient(self.app)
        self.client.__enter__()
        with Session(engine, expire_on_commit=False) as s:
            for person in self.world.people.values():  # an event per person, so scope shows on safety checks
                s.add(SafetyCheck(person_id=person.id, outcome="safe_home", observed_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
            s.commit()
        self.city_b = other_city(engine, self.world)
        self.users, self.tokens, self.principals = {}, {}, {}
        for persona in PERSONAS[:-1]:
            role = "dwat_member" if persona == "dwat_undeployed" else persona
            scope = {} if persona == "dwat_undeployed" else self.world.scope_for(role)
            codes = [CITY_A, CITY_B] if persona == "prefecture_coordinator" else [CITY_A]
            with Session(engine, expire_on_commit=False) as s:
                user = User(username=f"t-{persona}", role=role, password_hash="x", display_name=persona,
                            municipality_codes=codes, **scope)
                s.add(user)
                s.commit()
                self.users[persona] = user
                self.tokens[persona] = self.token(persona)
                self.principals[persona] = load_principal(s, user)
        self.mode = "normal"

    def token(self, persona: str) -> str:
        with Session(self.engine, expire_on_commit=False) as s:
            secret, _ = issue_token(s, s.get(User, self.users[persona].id), DEVICE, timedelta(days=1), "access table")
            s.commit()
        return secret

    def set_mode(self, mode: str) -> None:
        if mode != self.mode:
            with Session(self.engine) as s:
                s.add(ModeSwitch(mode=mode, reason="試験: access table"))
                s.commit()
            self.mode = mode

    def principal(self, persona: str):
        return replace(self.principals[persona], mode=Mode(self.mode))

    def call(self, persona: str, method: str, url: str, *, fresh_token: bool = False):
        headers = {}
        if persona != "anonymous":
            headers["Authorization"] = f"Bearer {self.token(persona) if fresh_token else self.tokens[persona]}"
        if url.split("?")[0] in STREAMS:
            return _first_status(self.app, url, headers), {}
        body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        r = self.client.request(method, url, headers=headers, follow_redirects=False, **body)
        return r.status_code, r.headers


def other_city(engine, world) -> dict[str, uuid.UUID]:
    """City B next to the World's city A: a record of every municipal kind (resource path → id)."""
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    with Session(engine, expire_on_commit=False) as s:
        s.add_all([Municipality(municipality_code=CITY_A, name="市A"), Municipality(municipality_code=CITY_B, name="市B")])
        for shelter in (world.s1, world.s2):  # the World's shelters are city A's
            row = s.get(Shelter, shelter.id)
            row.municipality_code = CITY_A
            s.add(row)
        area = District(municipality_code=CITY_B, code="BX", name="BX", kind="welfare_area")
        s.add(area)
        s.flush()
        chome = District(municipality_code=CITY_B, code="BX1", name="BX1", kind="chome", parent_id=area.id)
        shelter = Shelter(name="SB", kind="designated_welfare", capacity=10, municipality_code=CITY_B)
        s.add_all([chome, shelter])
        s.flush()
        person = Person(register_no="B-CITY", municipality_code=CITY_B, name="市B住民", birth_date=date(1940, 1, 1),
                        sex="female", address="住所", district_id=chome.id, consent="yes", consent_date=date(2025, 4, 1))
        s.add(person)
        s.flush()
        plan = EvacuationPlan(person_id=person.id, destination_shelter_id=shelter.id)
        check = SafetyCheck(person_id=person.id, outcome="safe_home", observed_at=now)
        report = ShelterReport(shelter_id=shelter.id, open_state="open", observed_at=now)
        deployment = DwatDeployment(team_id=world.deployment.team_id, shelter_id=shelter.id,
                                    start_date=date.today() + timedelta(days=3), state="planned")
        s.add_all([plan, check, report, deployment])
        s.flush()
        request = DwatRequest(shelter_id=shelter.id, needs=["介護福祉士"])
        activity = DwatActivityReport(deployment_id=deployment.id, report_date=date.today(), observed_at=now)
        supporter = SupporterRecord(name="市B支援者", kind="neighbour", district_id=chome.id, municipality_code=CITY_B)
        consent = PersonConsent(person_id=person.id, recipient="minsei", answer="consented", answered_on=date(2025, 4, 1))
        triage = DwatTriage(deployment_id=deployment.id, person_id=person.id, shelter_id=shelter.id,
                            outcome="stay_with_support", observed_at=now)
        s.add_all([request, activity, supporter, consent, triage])
        s.commit()
        return {"districts": chome.id, "shelters": shelter.id, "people": person.id, "plans": plan.id,
                "safety-checks": check.id, "shelter-reports": report.id, "dwat-deployments": deployment.id,
                "dwat-requests": request.id, "dwat-activity-reports": activity.id, "supporters": supporter.id,
                "consents": consent.id, "dwat-triages": triage.id}


def _first_status(app, url: str, headers: dict) -> int:
    """The status of a streaming answer; the client then goes away (the stream never ends by itself)."""
    status: list[int] = []

    async def main() -> None:
        started = anyio.Event()

        async def receive():
            await started.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
                started.set()

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                 "path": url, "raw_path": url.encode(), "query_string": b"", "root_path": "",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"host", b"testserver")],
                 "client": ("127.0.0.1", 1), "server": ("testserver", 80), "state": {}}
        async with anyio.create_task_group() as tg:
            tg.start_soon(app, scope, receive, send)
            await started.wait()
            tg.cancel_scope.cancel()

    # on a thread of its own: when the browser tests ran first in this pytest process, Playwright's
    # event loop is running in the main thread, where anyio.run is refused
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, main).result()
    return status[0]


@pytest.fixture(scope="module")
def table(_template_db, tmp_path_factory):
    if PG_URL:
        from sqlalchemy import text
        from sqlmodel import SQLModel

        engine = _pg_engine()
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
            for t in reversed(SQLModel.metadata.sorted_tables):
                if t.name != "audit_log":
                    conn.execute(text(f'DELETE FROM "{t.name}"'))
    else:
        path = tmp_path_factory.mktemp("access-table") / "test.sqlite3"
        shutil.copyfile(_template_db, path)
        engine = _sqlite_engine(path)
    t = Table(engine)
    yield t
    t.client.__exit__(None, None, None)
    engine.dispose()


def _url(path: str) -> str:
    """A concrete URL for a route: ids that exist nowhere (so nothing is changed or rendered), a
    real file for the static mounts and the field app."""
    if path == "/static/{file}":
        return "/static/" + sorted(p.name for p in (Path(__file__).resolve().parents[1] / "server" / "static").iterdir()
                                   if p.is_file())[0]
    if path.startswith("/vendor/"):
        return path.replace("{file}", "leaflet.js" if "leaflet" in path else "supercluster.min.js")
    path = path.replace("{path:path}", "js/app.js")
    return re.sub(r"\{[a-z_]+\}", lambda m: str(uuid.uuid4()), path)


def _assert_cell(table: Table, persona: str, method: str, path: str, action: str, is_page: bool) -> None:
    status, headers = table.call(persona, method, _url(path), fresh_token=(action == "session.sign_out"))
    cell = f"{method} {path} as {persona} in {table.mode} ({action})"
    assert status != 500, cell
    if action == PUBLIC:
        assert status not in (401, 403), cell
    elif persona == "anonymous":
        if is_page:
            assert status == 303 and headers["location"].startswith("/login?next="), (cell, status)
        else:
            assert status == 401, (cell, status)
    elif allowed(table.principal(persona), action):
        assert status not in (401, 403), (cell, status)
    else:
        assert status == 403, (cell, status)


@pytest.mark.parametrize("mode", ["normal", "disaster"])
@pytest.mark.parametrize("method,path,action,is_page", CALLS, ids=[f"{m} {p}" for m, p, _, _ in CALLS])
def test_route_answers_as_the_table_says(table, mode, method, path, action, is_page):
    table.set_mode(mode)
    for persona in PERSONAS:
        _assert_cell(table, persona, method, path, action, is_page)


SCOPED_READS = [(p, a) for m, p, a, _ in CALLS
                if m == "GET" and "{id}" in p and a and a.endswith(".read") and a.split(".")[0] in POLICY]


@pytest.mark.parametrize("mode", ["normal", "disaster"])
@pytest.mark.parametrize("path,action", SCOPED_READS, ids=[p for p, _ in SCOPED_READS])
def test_in_scope_found_out_of_scope_not_found(table, mode, path, action):
    """For every persona the table lets read the resource with a row scope: a record inside it is
    found (200), one outside answers 404 like an id that does not exist."""
    table.set_mode(mode)
    resource = BY_PATH[action.split(".")[0]]
    cases = []
    with Session(table.engine) as s:  # closed before the calls: the app writes audit entries
        every = set(s.exec(select(resource.table.id)).all())
        for persona in PERSONAS[:-1]:
            principal = table.principal(persona)
            rule = rule_for(resource.path, principal)
            if not allowed(principal, action) or not rule.clauses(principal):
                continue
            inside = set(s.exec(select(resource.table.id).where(*rule.clauses(principal))).all())
            cases += [(persona, sorted(ids)[0], expected)
                      for ids, expected in ((inside, 200), (every - inside, 404)) if ids]
    for persona, record_id, expected in cases:
        status, _ = table.call(persona, "GET", path.replace("{id}", str(record_id)))
        assert status == expected, (path, persona, mode, expected, status)
    checked = len(cases)
    if resource.path in ("people", "plans", "safety-checks"):
        assert checked, "the world has records in and out of a scoped persona's scope"


def test_me_names_the_actions_the_table_allows(table):
    table.set_mode("disaster")
    for persona in PERSONAS[:-1]:
        me = table.client.get("/api/me", headers={"Authorization": f"Bearer {table.tokens[persona]}"}).json()
        assert me["actions"] == allowed_actions(table.principal(persona)), persona
        assert me["mode"] == "disaster" and me["display_name"] == persona
    supporter = table.client.get("/api/me", headers={"Authorization": f"Bearer {table.tokens['district_supporter']}"})
    names = {d["name"] for d in supporter.json()["scope"]["districts"]}
    assert names == {"A", "A1", "A2"}
    staff = table.client.get("/api/me", headers={"Authorization": f"Bearer {table.tokens['shelter_staff']}"}).json()
    assert [s["name"] for s in staff["scope"]["shelters"]] == ["S1"]
    assert "safety-checks.create" in staff["actions"] and "plans.update" not in staff["actions"]
    assert "dwat-activity-reports.create" not in table.client.get(
        "/api/me", headers={"Authorization": f"Bearer {table.tokens['dwat_undeployed']}"}).json()["actions"]


def test_the_middleware_lets_through_exactly_the_public_api_routes():
    """AuthMiddleware answers 401 itself for /api and /auth paths it does not know as public: its list
    must agree with the routes that declare PUBLIC (else a public route would be refused, or a
    non-public one reach its handler without a principal)."""
    from server.auth.middleware import PUBLIC_PATHS, PUBLIC_PREFIXES

    for _, path, action, _ in CALLS:
        if not path.startswith(("/api/", "/auth/")):
            continue
        concrete = _url(path)
        let_through = concrete in PUBLIC_PATHS or concrete.startswith(PUBLIC_PREFIXES)
        assert let_through == (action == PUBLIC), path


def test_no_role_is_named_outside_the_access_table():
    """Roles are named in server/auth/ only: HTTP handlers, printing, records and sync ask the table
    (the issue: role tuples redefined per module, printing narrowing shelters its own way)."""
    server = Path(__file__).resolve().parents[1] / "server"
    files = [*(server / "api").glob("*.py"), *(server / "printing").glob("*.py"), *(server / "records").glob("*.py"),
             *(server / "sync").glob("*.py"), server / "app.py", server / "field_app.py"]
    naming = [f"{f.relative_to(server)}:{n}" for f in files
              for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if re.search(r"\bRole\.", line)]
    assert not naming


# ---- several municipalities: city A's personas never reach city B's records ----

CITY_PERSONAS = ["admin", "welfare_staff", "district_supporter", "shelter_staff", "dwat_member", "hq_viewer"]
MUNICIPAL_RECORDS = ["districts", "shelters", "people", "plans", "safety-checks", "shelter-reports",
                     "dwat-deployments", "dwat-requests", "dwat-activity-reports"]
REGISTER = ["people", "plans", "safety-checks"]
# records of the parts built alongside municipalities: the office's registers (支援者台帳, 同意) and
# the DWAT triages; the prefecture reads none of them
OFFICE_RECORDS = ["supporters", "consents", "dwat-triages"]


def _get(table: Table, persona: str, url: str):
    return table.client.get(url, headers={"Authorization": f"Bearer {table.tokens[persona]}"})


@pytest.mark.parametrize("mode", ["normal", "disaster"])
@pytest.mark.parametrize("resource", MUNICIPAL_RECORDS + OFFICE_RECORDS)
def test_the_other_city_is_absent(table, mode, resource):
    """Each city persona × city B's record: 404 like an id that does not exist (403 where the role
    may not read the resource at all), and absent from every list, the HQ map and the sync feed."""
    table.set_mode(mode)
    record_id = str(table.city_b[resource])
    for persona in CITY_PERSONAS:
        status = _get(table, persona, f"/api/{resource}/{record_id}").status_code
        expected = 404 if allowed(table.principal(persona), f"{resource}.read") else 403
        assert status == expected, (persona, resource, mode, status)
        listing = _get(table, persona, f"/api/{resource}?limit=500")
        if listing.status_code == 200:
            assert record_id not in {i["id"] for i in listing.json()["items"]}, (persona, resource)
        feed = _get(table, persona, "/api/sync/changes?limit=2000")
        if feed.status_code == 200:
            assert record_id not in {i["id"] for i in feed.json()["items"]}, (persona, resource, "sync")


def test_the_hq_map_of_city_a_has_no_city_b_rows(table):
    table.set_mode("disaster")
    for persona in ("admin", "welfare_staff", "hq_viewer"):
        points = _get(table, persona, "/api/hq/people-points").json()
        assert str(table.city_b["people"]) not in str(points), persona
        shelters = _get(table, persona, "/api/hq/shelters").json()["items"]
        assert {s["name"] for s in shelters} == {"S1", "S2"}, persona
        assert str(table.city_b["dwat-requests"]) not in str(_get(table, persona, "/api/hq/dwat-requests").json())


@pytest.mark.parametrize("mode", ["normal", "disaster"])
def test_the_prefecture_sees_dwat_of_both_cities_and_no_register(table, mode):
    table.set_mode(mode)
    persona = "prefecture_coordinator"
    for resource in MUNICIPAL_RECORDS:
        record_id = str(table.city_b[resource])
        answer = _get(table, persona, f"/api/{resource}/{record_id}")
        if resource in REGISTER:
            assert answer.status_code == 403, resource
            assert _get(table, persona, f"/api/{resource}").status_code == 403, resource
        else:
            assert answer.status_code == 200, resource
            listed = {i["id"] for i in _get(table, persona, f"/api/{resource}?limit=500").json()["items"]}
            assert record_id in listed, resource
    for resource in OFFICE_RECORDS:  # the office's registers and the triages are not the prefecture's
        assert _get(table, persona, f"/api/{resource}/{table.city_b[resource]}").status_code == 403, resource
    assert _get(table, persona, "/api/hq/people-points").status_code == 403
    feed = _get(table, persona, "/api/sync/changes?limit=2000").json()["items"]
    assert feed and not {i["entity"] for i in feed} & set(REGISTER)
    # dispatch: the coordinator updates a request of city B
    request = _get(table, persona, f"/api/dwat-requests/{table.city_b['dwat-requests']}").json()
    changed = table.client.patch(f"/api/dwat-requests/{request['id']}", json={"version": request["version"],
                                                                             "note": "県が調整中"},
                                 headers={"Authorization": f"Bearer {table.tokens[persona]}"})
    assert changed.status_code == 200 and changed.json()["note"] == "県が調整中"
