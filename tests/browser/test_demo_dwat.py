"""The demo's DWAT account on a tablet: signing in as `demo-dwat` (a member of a team the demo
city has on site) syncs the deployment, its shelter, its people and the team's daily reports
at once — the first sync ends instead of waiting for a deployment that never comes."""

from __future__ import annotations

import sqlalchemy as sa

from server.auth.demo_users import seed_demo_users
from server.models import DwatDeployment, DwatMember, DwatTeam, Shelter
from server.models.auth import Role, User

from .pwa_helpers import new_device, sign_in


def test_demo_dwat_signs_in_to_its_deployment(live_server, browser):
    with live_server.session() as session:  # what `tsunagu demo` does after loading the city
        account = next(a for a in seed_demo_users(session, demo_mode=True) if a.role == Role.dwat_member)
        session.commit()
    context, page = new_device(browser, live_server)
    sign_in(page, account.username, account.password)  # returns once the first sync has drawn the list
    assert page.locator("li.person").count() > 0
    page.goto("/app/#/dwat-report")
    page.wait_for_selector("section[aria-labelledby=dwat-earlier] li")
    with live_server.session() as session:  # the account's team and where it is today
        team, shelter = session.execute(
            sa.select(DwatTeam.name, Shelter.name).join(DwatMember, DwatMember.team_id == DwatTeam.id)
            .join(User, User.dwat_member_id == DwatMember.id)
            .join(DwatDeployment, DwatDeployment.team_id == DwatTeam.id)
            .join(Shelter, Shelter.id == DwatDeployment.shelter_id)
            .where(User.username == account.username, DwatDeployment.state == "active")).one()
    lead = page.inner_text("p.lead")
    assert team in lead and shelter in lead
    # the two days it has been on site, reported by its leader
    assert page.locator("section[aria-labelledby=dwat-earlier] li").count() == 2
    assert not page.errors
    context.close()
