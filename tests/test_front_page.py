"""The front door leads people to their work: links to each part, each role lands where it works
after signing in, and in demo mode the page says which demo account plays which role — never a password."""

import pytest
from starlette.testclient import TestClient

from tests.conftest import PERSONA_PASSWORD


def test_the_front_page_links_every_part_and_no_raw_json(anon_client):
    page = anon_client.get("/")
    assert page.status_code == 200
    for href in ('href="/workbench"', 'href="/app/"', 'href="/hq"', 'href="/print"', 'href="/api/docs"'):
        assert href in page.text, href
    assert "tsunagu drill run" in page.text
    assert 'href="/api/people"' not in page.text and 'href="/api/shelters"' not in page.text
    assert 'href="/login"' in page.text
    assert "デモ用アカウント" not in page.text  # not a demo server


@pytest.mark.parametrize("role,landing", [("admin", "/workbench"), ("welfare_staff", "/workbench"),
                                          ("hq_viewer", "/hq"), ("district_supporter", "/app/"),
                                          ("shelter_staff", "/app/"), ("dwat_member", "/app/"),
                                          ("prefecture_coordinator", "/dwat")])
def test_each_role_lands_where_it_works(anon_client, make_user, role, landing):
    user = make_user(role)
    r = anon_client.post("/auth/login", data={"username": user.username, "password": PERSONA_PASSWORD},
                         follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == landing
    # asking for a page still wins
    r = anon_client.post("/auth/login", data={"username": user.username, "password": PERSONA_PASSWORD,
                                              "next": "/print"}, follow_redirects=False)
    assert r.headers["location"] == "/print"
    # signed in, the front page leads to the role's own work
    assert f'<p class="landing"><a href="{landing}">' in anon_client.get("/").text


def test_demo_mode_names_the_demo_accounts_without_passwords(engine, make_user):
    from server.app import create_app
    from server.auth.demo_users import seed_demo_users
    from server.settings import load_settings
    from sqlmodel import Session

    with Session(engine) as session:
        accounts = seed_demo_users(session, demo_mode=True)
        session.commit()
    app = create_app(settings=load_settings(environ={"TSUNAGU_DEMO": "1"}), engine=engine)
    with TestClient(app) as c:
        page = c.get("/").text
    assert "デモ用アカウント" in page
    rows = {"demo-fukushi": "/workbench", "demo-honbu": "/hq", "demo-minsei": "/app/", "demo-hinanjo": "/app/",
            "demo-dwat": "/app/", "demo-admin": "/workbench", "demo-pref": "/dwat"}
    for username, landing in rows.items():
        assert f"<code>{username}</code>" in page
        row = page.split(f"<code>{username}</code>", 1)[1].split("</tr>", 1)[0]
        assert f'href="{landing}"' in row
    assert {a.username for a in accounts} == set(rows)
    for account in accounts:
        assert account.password not in page
