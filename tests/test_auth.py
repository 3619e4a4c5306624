"""Sign-in, tokens, CSRF, throttling, mode switching and the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from server.auth.tokens import DEVICE, issue_token
from server.models.auth import AuditEntry, AuthToken, ModeSwitch
from tests.conftest import PERSONA_PASSWORD
from tests.factories import create, person


def audit(engine, action: str | None = None) -> list[AuditEntry]:
    with Session(engine) as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(s.exec(query).all())


def test_device_token_sign_in_and_use(anon_client, make_user, engine):
    make_user("welfare_staff", username="fukushi01")
    r = anon_client.post("/auth/token", json={"username": "fukushi01", "password": PERSONA_PASSWORD,
                                              "label": "本庁タブレット1"})
    assert r.status_code == 201
    token = r.json()["token"]
    assert "password_hash" not in r.text
    me = anon_client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "welfare_staff" and me.json()["mode"] == "normal"
    with Session(engine) as s:
        row = s.exec(select(AuthToken)).one()
    assert row.secret_hash != token and token not in row.secret_hash  # only a hash is stored
    assert [e.action for e in audit(engine, "sign_in")] == ["sign_in"]


def test_browser_session_cookie_and_csrf(anon_client, make_user, engine):
    make_user("admin", username="kanri")
    r = anon_client.post("/auth/login", json={"username": "kanri", "password": PERSONA_PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "Secure" not in cookie  # plain HTTP in tests; behind HTTPS it is set
    csrf = r.json()["csrf_token"]
    assert anon_client.get("/api/people").status_code == 200  # the cookie signs reads in
    refused = anon_client.post("/api/people", json=person())
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = anon_client.post("/api/people", json=person(), headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    ok = anon_client.post("/api/people", json=person(), headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert len(audit(engine, "csrf_refused")) == 2
    with Session(engine) as s:
        assert len(s.exec(select(AuditEntry).where(AuditEntry.action == "create")).all()) == 1


def test_secure_cookie_behind_https(anon_client, make_user):
    make_user("admin", username="kanri2")
    r = anon_client.post("/auth/login", json={"username": "kanri2", "password": PERSONA_PASSWORD},
                         headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in r.headers["set-cookie"]


def test_form_sign_in_redirects_and_login_page_has_no_inline_script(anon_client, make_user):
    make_user("admin", username="kanri3")
    page = anon_client.get("/login")
    assert page.status_code == 200 and "<script" not in page.text
    r = anon_client.post("/auth/login", data={"username": "kanri3", "password": PERSONA_PASSWORD}, follow_redirects=False)
    assert r.status_code == 303 and "tsunagu_session" in r.headers["set-cookie"] and r.headers["location"] == "/workbench"
    assert 'value="/hq"' in anon_client.get("/login?next=/hq").text
    # no page asked for (or an unsafe one): the page where an administrator works
    for target, expected in (("/hq", "/hq"), ("//evil.example", "/workbench"), ("https://evil.example/", "/workbench")):
        r = anon_client.post("/auth/login", data={"username": "kanri3", "password": PERSONA_PASSWORD, "next": target},
                             follow_redirects=False)
        assert r.headers["location"] == expected


def test_sign_out_revokes(anon_client, make_user):
    make_user("district_supporter", username="minsei01")
    token = anon_client.post("/auth/token", json={"username": "minsei01", "password": PERSONA_PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anon_client.post("/auth/logout", headers=headers).status_code == 200
    r = anon_client.get("/api/me", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


@pytest.mark.parametrize("body", [
    {"username": "nobody", "password": "whatever-password"},
    {"username": "minsei02", "password": "wrong-password-x"},
])
def test_wrong_credentials_get_one_generic_answer(anon_client, make_user, engine, body):
    make_user("district_supporter", username="minsei02")
    r = anon_client.post("/auth/token", json=body)
    assert r.status_code == 401
    assert r.json()["detail"].endswith("Wrong username or password")
    assert [e.username for e in audit(engine, "sign_in_failed")] == [body["username"]]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", json.dumps({"username": "x"}).encode(), json.dumps({"username": 5, "password": []}).encode()])
def test_malformed_credentials_are_422_and_audited(anon_client, engine, raw):
    r = anon_client.post("/auth/token", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert len(audit(engine, "sign_in_failed")) == 1


def test_failed_sign_ins_are_throttled(anon_client, make_user, engine):
    make_user("district_supporter", username="minsei03")
    for _ in range(5):
        assert anon_client.post("/auth/token", json={"username": "minsei03", "password": "bad-password-1"}).status_code == 401
    r = anon_client.post("/auth/token", json={"username": "minsei03", "password": PERSONA_PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r.headers  # even the right password waits
    assert len(audit(engine, "sign_in_throttled")) == 1


def test_expired_and_revoked_tokens(anon_client, make_user, engine, client):
    user = make_user("welfare_staff")
    with Session(engine, expire_on_commit=False) as s:
        old, _ = issue_token(s, user, DEVICE, timedelta(seconds=-1), "old tablet")
        lost, lost_row = issue_token(s, user, DEVICE, timedelta(days=1), "lost tablet")
        s.commit()
    r = anon_client.get("/api/people", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert anon_client.get("/api/people", headers={"Authorization": f"Bearer {lost}"}).status_code == 200
    tokens = client.get("/api/tokens", params={"user_id": str(user.id)}).json()["items"]
    assert {t["label"] for t in tokens} == {"old tablet", "lost tablet"}
    assert all("secret" not in json.dumps(t) for t in tokens)
    assert client.post(f"/api/tokens/{lost_row.id}/revoke").status_code == 200
    r = anon_client.get("/api/people", headers={"Authorization": f"Bearer {lost}"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert anon_client.get("/api/people", headers={"Authorization": "Bearer garbage"}).status_code == 401
    assert len(audit(engine, "token_revoke")) == 1
    assert {e.detail for e in audit(engine, "token_refused")} == {"expired", "revoked", "unknown"}


def test_mode_switch_needs_a_reason_and_is_recorded(client, engine):
    assert client.get("/api/mode").json()["mode"] == "normal"
    for body in ({"mode": "disaster"}, {"mode": "disaster", "reason": "   "}, {"mode": "chaos", "reason": "x"}):
        r = client.post("/api/mode", json=body)
        assert r.status_code == 422
    assert client.get("/api/mode").json()["mode"] == "normal"
    assert len(audit(engine, "denied")) == 3
    r = client.post("/api/mode", json={"mode": "disaster", "reason": "多摩東部直下地震 (M7.3)"})
    assert r.status_code == 200 and r.json()["mode"] == "disaster"
    assert client.get("/api/me").json()["mode"] == "disaster"
    client.post("/api/mode", json={"mode": "normal", "reason": "応急対応終了"})
    with Session(engine) as s:
        assert [m.mode for m in s.exec(select(ModeSwitch).order_by(ModeSwitch.id)).all()] == ["disaster", "normal"]
    assert [e.detail for e in audit(engine, "mode_switch")] == ["disaster", "normal"]


def test_every_personal_read_is_audited_with_ids_only(client, engine):
    p = create(client, "people", person(name="監査 太郎", address="秘密の住所1-2-3"))
    client.get("/api/people")
    client.get(f"/api/people/{p['id']}")
    plan = create(client, "plans", dict(person_id=p["id"]))
    client.get(f"/api/plans/{plan['id']}")
    client.get(f"/api/plans/{plan['id']}/history")
    entries = audit(engine)
    reads = [(e.action, e.resource) for e in entries if e.action in ("list", "read")]
    assert reads == [("list", "people"), ("read", "people"), ("read", "plans"), ("read", "plans/history")]
    assert all(e.mode == "normal" and e.username.startswith("admin") for e in entries if e.action in ("list", "read"))
    assert entries[-1].record_ids == [plan["id"]]
    dumped = json.dumps([e.model_dump(mode="json") for e in entries], ensure_ascii=False)
    assert "監査" not in dumped and "秘密" not in dumped


def test_audit_log_cannot_be_changed(engine, client):
    client.get("/api/people")
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError):
            with engine.begin() as conn:
                conn.execute(text(statement))


def test_audit_query_and_export(client, engine):
    p = create(client, "people", person())
    client.get(f"/api/people/{p['id']}")
    found = client.get("/api/audit", params={"record_id": p["id"], "action": "read"}).json()
    assert found["total"] == 1 and found["items"][0]["resource"] == "people"
    csv_text = client.get("/api/audit.csv").content.decode("utf-8-sig")
    assert "操作" in csv_text.splitlines()[0] and p["id"] in csv_text
    assert client.get("/api/audit", params={"since": "not a date"}).status_code == 422


def test_no_response_contains_a_password_hash_or_token_secret(client, make_user, engine):
    user = make_user("welfare_staff", username="fukushi09")
    with Session(engine) as s:
        hashes = [u for u in s.exec(select(AuthToken.secret_hash)).all()]
    bodies = [client.get(path).text for path in ("/api/users", "/api/tokens", "/api/audit", "/api/me", "/api/audit.csv")]
    created = client.post("/api/users", json={"username": "newuser1", "password": "a-long-enough-pass", "role": "hq_viewer"})
    assert created.status_code == 201
    bodies.append(created.text)
    bodies.append(client.patch(f"/api/users/{user.id}", json={"version": 1, "display_name": "福祉 花子"}).text)
    for body in bodies:
        assert "$argon2" not in body and "password_hash" not in body
        assert not any(h in body for h in hashes)
        assert client.headers["Authorization"].split()[1] not in body


def test_user_admin_rules(client):
    weak = client.post("/api/users", json={"username": "weakling", "password": "weakling12345", "role": "hq_viewer"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    short = client.post("/api/users", json={"username": "shorty", "password": "short", "role": "hq_viewer"})
    assert short.status_code == 422
    bad_role = client.post("/api/users", json={"username": "x-user", "password": "a-long-enough-pass", "role": "king"})
    assert bad_role.status_code == 422 and bad_role.json()["errors"][0]["field"] == "role"
    ok = client.post("/api/users", json={"username": "Minsei-10", "password": "a-long-enough-pass",
                                         "role": "district_supporter"})
    assert ok.status_code == 201 and ok.json()["username"] == "minsei-10"
    dup = client.post("/api/users", json={"username": "minsei-10", "password": "a-long-enough-pass", "role": "hq_viewer"})
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "username"


def test_disabling_a_user_signs_their_devices_out(client, client_for):
    tablet = client_for("district_supporter")
    assert tablet.get("/api/me").status_code == 200
    r = client.patch(f"/api/users/{tablet.user.id}", json={"version": 1, "active": False})
    assert r.status_code == 200
    assert tablet.get("/api/me").status_code == 401


def test_security_headers(anon_client):
    r = anon_client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert anon_client.get("/api/people").headers["content-security-policy"] == csp
