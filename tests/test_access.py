"""The access matrix: role × endpoint × mode × in/out of scope, status and fields in every cell.

Personas (Healthchecks-style): an administrator, welfare staff (city office), a district supporter
(民生委員) for welfare area A, shelter staff of shelter S1, a DWAT member deployed to S1, an HQ viewer,
and an outsider with no account.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from server.auth.policy import PERSON_HQ_FIELDS, POLICY, SAFETY_HQ_FIELDS
from server.models import (District, DwatDeployment, DwatMember, DwatTeam, EvacuationPlan, Person, SafetyCheck,
                           Shelter)
from server.models.auth import AuditEntry, ModeSwitch, Role
from tests.factories import now_jst

ROLES = ["admin", "welfare_staff", "district_supporter", "shelter_staff", "dwat_member", "hq_viewer", "outsider"]


class World:
    """Two welfare areas, three people, two shelters, one DWAT team deployed to S1."""

    def __init__(self, engine):
        with Session(engine, expire_on_commit=False) as s:
            mk = lambda **kw: District(municipality_code="132144", name=kw["code"], **kw)  # noqa: E731
            self.area_a, self.area_b = mk(code="A", kind="welfare_area"), mk(code="B", kind="welfare_area")
            s.add_all([self.area_a, self.area_b])
            s.flush()
            self.a1 = mk(code="A1", kind="chome", parent_id=self.area_a.id)
            self.a2 = mk(code="A2", kind="chome", parent_id=self.area_a.id)
            self.b1 = mk(code="B1", kind="chome", parent_id=self.area_b.id)
            s.add_all([self.a1, self.a2, self.b1])
            self.s1 = Shelter(name="S1", kind="designated_welfare", capacity=10)
            self.s2 = Shelter(name="S2", kind="designated_welfare", capacity=10)
            s.add_all([self.s1, self.s2])
            s.flush()

            def person(code, district, consent):
                return Person(register_no=code, municipality_code="132144", name=f"名前{code}", birth_date=date(1940, 1, 1),
                              sex="female", address="住所", district_id=district.id, consent=consent,
                              consent_date=date(2025, 4, 1) if consent == "yes" else None,
                              reason_note="病状の詳細", care_needs=["oxygen"], reasons=["medical_care"])

            self.p_a_yes = person("A-YES", self.a1, "yes")    # area A, consented, plan → S2
            self.p_a_no = person("A-NO", self.a2, "no")       # area A, refused, plan → S1
            self.p_b_yes = person("B-YES", self.b1, "yes")    # area B, consented, plan → S2
            s.add_all([self.p_a_yes, self.p_a_no, self.p_b_yes])
            s.flush()
            self.plans = {}
            for p, shelter in ((self.p_a_yes, self.s2), (self.p_a_no, self.s1), (self.p_b_yes, self.s2)):
                plan = EvacuationPlan(person_id=p.id, destination_shelter_id=shelter.id,
                                      care={"conditions": "COPD", "doctor": "〇〇医院", "how_to_help": "酸素を持つ"})
                s.add(plan)
                self.plans[p.register_no] = plan
            team = DwatTeam(name="第1班")
            s.add(team)
            s.flush()
            self.member = DwatMember(team_id=team.id, name="隊員")
            self.deployment = DwatDeployment(team_id=team.id, shelter_id=self.s1.id, start_date=date.today() - timedelta(days=1),
                                             state="active")
            s.add_all([self.member, self.deployment])
            s.commit()
        self.people = {"A-YES": self.p_a_yes, "A-NO": self.p_a_no, "B-YES": self.p_b_yes}

    def scope_for(self, role: str) -> dict:
        return {"district_supporter": {"district_ids": [str(self.area_a.id)]},
                "shelter_staff": {"shelter_ids": [str(self.s1.id)]},
                "dwat_member": {"dwat_member_id": self.member.id}}.get(role, {})


@pytest.fixture
def world(engine):
    return World(engine)


@pytest.fixture
def as_role(world, client_for, anon_client):
    def make(role: str):
        if role == "outsider":
            return anon_client
        return client_for(role, **world.scope_for(role))
    return make


def set_mode(engine, mode: str) -> None:
    with Session(engine) as s:
        s.add(ModeSwitch(mode=mode, reason="試験: 多摩東部直下地震"))
        s.commit()


# Who sees whom: (role, mode) → register numbers visible.
VISIBLE = {
    ("admin", "normal"): {"A-YES", "A-NO", "B-YES"}, ("admin", "disaster"): {"A-YES", "A-NO", "B-YES"},
    ("welfare_staff", "normal"): {"A-YES", "A-NO", "B-YES"}, ("welfare_staff", "disaster"): {"A-YES", "A-NO", "B-YES"},
    ("district_supporter", "normal"): {"A-YES"}, ("district_supporter", "disaster"): {"A-YES", "A-NO"},
    ("shelter_staff", "normal"): set(), ("shelter_staff", "disaster"): {"A-NO"},
    ("dwat_member", "normal"): set(), ("dwat_member", "disaster"): {"A-NO"},
    ("hq_viewer", "normal"): {"A-YES", "A-NO", "B-YES"}, ("hq_viewer", "disaster"): {"A-YES", "A-NO", "B-YES"},
}


def expected_person_fields(role: str, all_fields: set) -> set:
    if role == "hq_viewer":
        return set(PERSON_HQ_FIELDS)
    if role == "district_supporter":
        return all_fields - {"reason_note"}
    return all_fields


@pytest.mark.parametrize("mode", ["normal", "disaster"])
@pytest.mark.parametrize("role", ROLES)
def test_people_list_detail_and_fields(engine, world, as_role, role, mode):
    set_mode(engine, mode)
    c = as_role(role)
    r = c.get("/api/people")
    if role == "outsider":
        assert r.status_code == 401
        assert c.get(f"/api/people/{world.p_a_yes.id}").status_code == 401
        return
    assert r.status_code == 200
    visible = VISIBLE[(role, mode)]
    assert {p["register_no"] for p in r.json()["items"] if "register_no" in p} == visible
    assert r.json()["total"] == len(visible)
    all_fields = (set(Person.model_fields) - {"kana_key"}) | {"latest_safety"}  # kana_key: a derived search key
    for code, person in world.people.items():
        d = c.get(f"/api/people/{person.id}")
        if code in visible:
            assert d.status_code == 200
            assert set(d.json()) == expected_person_fields(role, all_fields), (role, code)
        else:
            assert d.status_code == 404 and d.json() == {"detail": "person not found"}


@pytest.mark.parametrize("mode", ["normal", "disaster"])
@pytest.mark.parametrize("role", ROLES)
def test_plans_follow_the_person_and_hide_health_details(engine, world, as_role, role, mode):
    set_mode(engine, mode)
    c = as_role(role)
    r = c.get("/api/plans")
    if role == "outsider":
        assert r.status_code == 401
        return
    if role == "hq_viewer":
        assert r.status_code == 403
        assert c.get(f"/api/plans/{world.plans['A-YES'].id}").status_code == 403
        return
    visible = VISIBLE[(role, mode)]
    assert r.status_code == 200 and r.json()["total"] == len(visible)
    for code, plan in world.plans.items():
        d = c.get(f"/api/plans/{plan.id}")
        h = c.get(f"/api/plans/{plan.id}/history")
        if code not in visible:
            assert d.status_code == 404 and h.status_code == 404
            continue
        assert d.status_code == 200 and h.status_code == 200
        care = d.json()["care"]
        if role == "district_supporter":
            assert "conditions" not in care and "doctor" not in care and care["how_to_help"] == "酸素を持つ"
        else:
            assert care["conditions"] == "COPD"


@pytest.mark.parametrize("mode", ["normal", "disaster"])
@pytest.mark.parametrize("role", ROLES)
def test_safety_check_create_in_and_out_of_scope(engine, world, as_role, role, mode):
    set_mode(engine, mode)
    c = as_role(role)
    for code, person in world.people.items():
        r = c.post("/api/safety-checks", json=dict(person_id=str(person.id), outcome="safe_home", observed_at=now_jst()))
        if role == "outsider":
            assert r.status_code == 401
        elif role == "hq_viewer":
            assert r.status_code == 403
        elif code in VISIBLE[(role, mode)]:
            assert r.status_code == 201, (role, code, r.text)
        else:  # exactly like a person who does not exist
            assert r.status_code == 422
            assert r.json()["errors"] == [{"field": "person_id", "message": f"no person with id {person.id}"}]
    with Session(engine) as s:
        stored = {str(x.person_id) for x in s.exec(select(SafetyCheck)).all()}
    allowed = set() if role in ("outsider", "hq_viewer") else VISIBLE[(role, mode)]
    assert stored == {str(world.people[c].id) for c in allowed}


@pytest.mark.parametrize("role", ROLES)
def test_hq_sees_safety_checks_without_notes(engine, world, as_role, client, role):
    client.post("/api/safety-checks", json=dict(person_id=str(world.p_a_yes.id), outcome="injured",
                                                 observed_at=now_jst(), note="右足を骨折"))
    c = as_role(role)
    r = c.get("/api/safety-checks")
    if role == "outsider":
        assert r.status_code == 401
        return
    assert r.status_code == 200
    items = r.json()["items"]
    if role == "hq_viewer":
        assert set(items[0]) == set(SAFETY_HQ_FIELDS)
    elif items:
        assert items[0]["note"] == "右足を骨折"


@pytest.mark.parametrize("role", ROLES)
def test_shelter_updates_and_reports(world, as_role, role):
    c = as_role(role)
    own = c.patch(f"/api/shelters/{world.s1.id}", json={"version": 1, "capacity": 12})
    other = c.patch(f"/api/shelters/{world.s2.id}", json={"version": 1, "capacity": 12})
    report = c.post("/api/shelter-reports", json=dict(shelter_id=str(world.s1.id), observed_at=now_jst(), open_state="open"))
    report_other = c.post("/api/shelter-reports", json=dict(shelter_id=str(world.s2.id), observed_at=now_jst(),
                                                            open_state="open"))
    if role == "outsider":
        assert {own.status_code, other.status_code, report.status_code} == {401}
        return
    expected = {
        "admin": (200, 200, 201, 201), "welfare_staff": (200, 200, 201, 201),
        "shelter_staff": (200, 404, 201, 422), "dwat_member": (403, 403, 201, 422),
        "district_supporter": (403, 403, 403, 403), "hq_viewer": (403, 403, 403, 403),
    }[role]
    assert (own.status_code, other.status_code, report.status_code, report_other.status_code) == expected


@pytest.mark.parametrize("role", ROLES)
def test_admin_endpoints(as_role, role):
    c = as_role(role)
    expected = 401 if role == "outsider" else 200 if role == "admin" else 403
    for path in ("/api/users", "/api/audit", "/api/audit.csv", "/api/tokens"):
        assert c.get(path).status_code == expected, path
    mode = c.post("/api/mode", json={"mode": "disaster", "reason": "訓練"})
    assert mode.status_code == (401 if role == "outsider" else 200 if role == "admin" else 403)
    export = c.get("/api/exports/people.csv")
    assert export.status_code == (401 if role == "outsider" else 200 if role in ("admin", "welfare_staff") else 403)


def test_every_resource_and_role_is_decided_in_the_policy():
    from server.records.registry import RESOURCES

    assert {r.path for r in RESOURCES} == set(POLICY)
    for rules in POLICY.values():
        assert set(rules) <= set(Role)


def test_supporter_asking_for_a_district_not_theirs_gets_404_and_it_is_audited(engine, world, as_role):
    c = as_role("district_supporter")
    assert c.get("/api/people", params={"district_id": str(world.a1.id)}).status_code == 200
    r = c.get("/api/people", params={"district_id": str(world.b1.id)})
    assert r.status_code == 404
    with Session(engine) as s:
        denied = s.exec(select(AuditEntry).where(AuditEntry.action == "denied")).all()
    assert len(denied) == 1 and denied[0].status == 404 and denied[0].resource == "people"


def test_guessing_ids_is_404(world, as_role):
    c = as_role("district_supporter")
    for guess in [uuid.uuid4(), world.p_b_yes.id]:
        assert c.get(f"/api/people/{guess}").json() == {"detail": "person not found"}


def test_dwat_access_ends_with_the_deployment(engine, world, as_role):
    set_mode(engine, "disaster")
    c = as_role("dwat_member")
    assert c.get(f"/api/people/{world.p_a_no.id}").status_code == 200
    with Session(engine) as s:
        d = s.get(DwatDeployment, world.deployment.id)
        d.state, d.end_date = "ended", date.today()
        s.add(d)
        s.commit()
    r = c.get(f"/api/people/{world.p_a_no.id}")
    assert r.status_code == 403 and "deployment" in r.json()["detail"]
    assert c.get("/api/people").status_code == 403
