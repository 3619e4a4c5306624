"""Migration 0015 (DWAT dispatch) on a database holding rows from before: team status from the
active deployments, need counts read from the free-text needs, request steps from the state,
and the first steps written; the change log names every row it changed."""

from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlmodel import SQLModel

from server.migrate import upgrade

from .test_data_migrations import bare_engine, change_log, column_of, insert  # noqa: F401 (fixture)


def test_0015_carries_teams_and_requests_over(bare_engine):
    upgrade(bare_engine, "0009")
    made = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)  # 3/2 01:30 in Japan
    with bare_engine.begin() as conn:
        shelter = insert(conn, "shelter", municipality_code="132144", name="本町福祉センター",
                         kind="designated_welfare", seismic_class="unknown")
        busy = insert(conn, "dwat_team", name="A班")
        idle = insert(conn, "dwat_team", name="B班")
        insert(conn, "dwat_member", team_id=busy, name="山田", sex="female", role="leader", professions=["nurse"])
        active = insert(conn, "dwat_deployment", team_id=busy, shelter_id=shelter, start_date=date(2026, 3, 2),
                        state="active")
        open_one = insert(conn, "dwat_request", shelter_id=shelter, needs=["高齢者介護 3名", "夜間対応", "children=2"],
                          state="open", priority="high", created_at=made, updated_at=made)
        assigned = insert(conn, "dwat_request", shelter_id=shelter, needs=["精神保健：1名"], state="assigned",
                          deployment_id=active, created_at=made, updated_at=datetime(2026, 3, 2, tzinfo=timezone.utc))

    upgrade(bare_engine, "0015")

    with bare_engine.connect() as conn:
        assert column_of(conn, "dwat_team", "status", busy) == "on_site"
        assert column_of(conn, "dwat_team", "status", idle) == "standby"
        assert column_of(conn, "dwat_team", "home_lon", idle) is None
        assert column_of(conn, "dwat_request", "need_counts", open_one) == {"elderly_care": 3, "children": 2}
        assert column_of(conn, "dwat_request", "step", open_one) == "requested"
        assert column_of(conn, "dwat_request", "wanted_from", open_one) == date(2026, 3, 2)
        assert column_of(conn, "dwat_request", "origin", open_one) == "shelter"
        assert column_of(conn, "dwat_request", "step", assigned) == "team_assigned"
        assert column_of(conn, "dwat_request", "team_id", assigned) == busy
        assert column_of(conn, "dwat_request", "need_counts", assigned) == {"mental_health": 1}
        steps = SQLModel.metadata.tables["dwat_request_step"]
        rows = conn.execute(sa.select(steps.c.request_id, steps.c.from_step, steps.c.to_step, steps.c.team_id)
                            .order_by(steps.c.at)).all()
        assert sorted((r.request_id == assigned, r.from_step or "", r.to_step) for r in rows) == [
            (False, "", "requested"), (True, "", "requested"), (True, "requested", "team_assigned")]
        assert {r.team_id for r in rows if r.to_step == "team_assigned"} == {busy}
        members = SQLModel.metadata.tables["dwat_member"]
        assert conn.execute(sa.select(members.c.availability)).scalar_one() == []
        assert {("dwat-requests", open_one), ("dwat-requests", assigned), ("dwat-teams", busy)} <= change_log(conn)
