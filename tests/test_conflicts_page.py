"""The conflicts page: welfare staff only, no inline script."""

from __future__ import annotations

from tests.conftest import PERSONA_PASSWORD


def test_conflicts_page_access(anon_client, make_user):
    assert anon_client.get("/conflicts", follow_redirects=False).headers["location"] == "/login?next=/conflicts"
    make_user("district_supporter", username="minsei-c")
    anon_client.post("/auth/login", json={"username": "minsei-c", "password": PERSONA_PASSWORD})
    assert anon_client.get("/conflicts").status_code == 403
    make_user("welfare_staff", username="fukushi-c")
    anon_client.post("/auth/login", json={"username": "fukushi-c", "password": PERSONA_PASSWORD})
    page = anon_client.get("/conflicts")
    assert page.status_code == 200 and "同期の競合" in page.text
    assert '<script type="module" src="' in page.text and "<script>" not in page.text
