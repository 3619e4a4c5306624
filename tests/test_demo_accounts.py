"""Demo accounts exist only in demo mode, one per role, and can sign in."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from server.auth.demo_users import seed_demo_users
from server.demo_city import build_demo_city, load_demo_city
from server.models.auth import Role


def test_demo_accounts_only_in_demo_mode(engine):
    with Session(engine) as s:
        with pytest.raises(PermissionError):
            seed_demo_users(s, demo_mode=False)


def test_one_account_per_role_that_signs_in_with_its_scope(engine, anon_client):
    load_demo_city(engine, build_demo_city(people=300))
    with Session(engine) as s:
        accounts = seed_demo_users(s, demo_mode=True)
        s.commit()
    assert {a.role for a in accounts} == set(Role)
    minsei = next(a for a in accounts if a.role == Role.district_supporter)
    r = anon_client.post("/auth/token", json={"username": minsei.username, "password": minsei.password})
    assert r.status_code == 201
    me = anon_client.get("/api/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()
    assert me["role"] == "district_supporter" and len(me["scope"]["district_ids"]) > 1  # area + its 町丁目
    # a second demo start gives new passwords and signs old devices out
    with Session(engine) as s:
        again = seed_demo_users(s, demo_mode=True)
        s.commit()
    assert next(a for a in again if a.role == Role.district_supporter).password != minsei.password
    assert anon_client.get("/api/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).status_code == 401
