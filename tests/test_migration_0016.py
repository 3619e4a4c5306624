"""Migration 0016 on a database holding rows: daily reports and requests stored before it keep
their values and get empty counts; the triage table takes rows afterwards."""

from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa

from server.migrate import upgrade

from .test_data_migrations import bare_engine, column_of, insert  # noqa: F401 (fixture)


def test_0016_keeps_reports_and_requests_and_adds_the_triage_table(bare_engine):  # noqa: F811
    upgrade(bare_engine, "0009")
    with bare_engine.begin() as conn:
        shelter = insert(conn, "shelter", municipality_code="132144", name="第一小学校", kind="designated",
                         seismic_class="unknown")
        team = insert(conn, "dwat_team", name="第1班")
        deployment = insert(conn, "dwat_deployment", team_id=team, shelter_id=shelter, start_date=date(2026, 12, 1),
                            state="active")
        report = insert(conn, "dwat_activity_report", deployment_id=deployment, report_date=date(2026, 12, 2),
                        consultations=7, people_assessed=12, referrals=1, issues="夜間の見守り",
                        observed_at=datetime(2026, 12, 2, 11, tzinfo=timezone.utc))
        request = insert(conn, "dwat_request", shelter_id=shelter, needs=["介護福祉士2名"], state="open",
                         priority="high")

    upgrade(bare_engine, "0016")

    with bare_engine.begin() as conn:
        assert column_of(conn, "dwat_activity_report", "consultations", report) == 7
        assert column_of(conn, "dwat_activity_report", "counts", report) == {}
        assert column_of(conn, "dwat_activity_report", "triage_counts", report) == {}
        assert column_of(conn, "dwat_activity_report", "handover", report) == ""
        assert column_of(conn, "dwat_request", "needs", request) == ["介護福祉士2名"]
        assert column_of(conn, "dwat_request", "need_counts", request) == {}
        # 0015 (dispatch) dates the request's wanted-from day from when it was made
        assert column_of(conn, "dwat_request", "wanted_from", request) is not None
        triage = insert(conn, "dwat_triage", deployment_id=deployment, shelter_id=shelter, outcome="welfare_room",
                        observed_at=datetime(2026, 12, 2, 12, tzinfo=timezone.utc), needs=["elderly_care"])
        assert column_of(conn, "dwat_triage", "outcome", triage) == "welfare_room"
        assert column_of(conn, "dwat_triage", "person_id", triage) is None
        tables = sa.inspect(conn).get_table_names()
        assert "dwat_triage" in tables
