"""The demo city's DWAT scenario fills the dispatch tables, so the board shows real content at
once: open requests with suggested teams (two already accepted), two teams on site, one
handover planned, every request's steps with who and when; and the board page renders it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import Session, select

from server.demo_city import build_demo_city, load_demo_city
from server.domain.japan_time import JST, today_jst
from server.models import DwatRequest, DwatRequestStep, DwatTeam


def test_the_demo_fills_the_dispatch_tables_and_the_board_shows_them(engine, client_for):
    city = build_demo_city(people=200, now=today_jst())
    load_demo_city(engine, city)
    with Session(engine) as s:
        statuses = Counter(t.status for t in s.exec(select(DwatTeam)).all())
        assert statuses["on_site"] == 2 and statuses["resting"] == 1 and statuses["standby"] == 5
        assert all(t.home_lon and t.home_lat for t in s.exec(select(DwatTeam)).all())
        requests = s.exec(select(DwatRequest)).all()
        assert Counter(r.step for r in requests) == {"requested": 2, "accepted": 2, "on_site": 2, "closed": 1}
        assert all(r.need_counts and r.wanted_from for r in requests)
        steps = s.exec(select(DwatRequestStep)).all()
        assert {st.request_id for st in steps} == {r.id for r in requests}
        assert all(st.by and st.at for st in steps)
    staff = client_for("welfare_staff")
    items = staff.get("/api/dwat/suggestions").json()["items"]
    assert len(items) == 4 and all(item["suggestions"] for item in items)
    assert {i["step"] for i in items} == {"requested", "accepted"}
    rotation = staff.get("/api/dwat/rotation").json()
    decided = [d for site in rotation["sites"] for d in site["deployments"] if d["decided"]]
    assert Counter(d["state"] for d in decided) == {"active": 2, "planned": 1}
    handover = [day for site in rotation["sites"] for day in site["days"] if day["handover"]]
    assert handover  # the third team arrives on the second one's last day
    page = staff.get("/dwat")
    assert page.status_code == 200
    assert page.text.count('class="dwat-confirm"') >= 2 and 'id="dwat-gantt"' in page.text
    assert "活動中" in page.text and "派遣予定" in page.text


def test_the_demo_has_triages_and_its_referral_page_lists_the_moves(engine, client_for):
    """The teams at the busiest welfare shelter triaged people there: some stay, one went to
    hospital, four must move to another welfare shelter — two arrived, two wait for matching.
    HQ's referral page lists the four moves at their stages, deterministic from the seed."""
    city = build_demo_city(people=200, now=today_jst())
    again = build_demo_city(people=200, now=today_jst())
    assert [(t.id, t.person_id, t.outcome, t.observed_at) for t in city.dwat_triages] == \
        [(t.id, t.person_id, t.outcome, t.observed_at) for t in again.dwat_triages]
    load_demo_city(engine, city)
    deployed = {d.id: d for d in city.dwat_deployments}
    assert {deployed[t.deployment_id].shelter_id for t in city.dwat_triages} == {t.shelter_id for t in city.dwat_triages}
    assert all(deployed[t.deployment_id].start_date <= t.observed_at.date() <= deployed[t.deployment_id].end_date
               for t in city.dwat_triages)
    outcomes = Counter(t.outcome for t in city.dwat_triages)
    assert outcomes["move_to_welfare_shelter"] == 4 and outcomes["hospital"] == 1
    # each team's daily report counts its triages of the day (活動日報's triage section)
    counted = Counter()
    for report in city.dwat_reports:
        counted.update(report.triage_counts or {})
    assert counted == outcomes
    moves = {str(t.person_id) for t in city.dwat_triages if t.outcome == "move_to_welfare_shelter"}
    staff = client_for("welfare_staff")
    listed = staff.get("/api/dwat/referrals").json()["items"]
    assert {r["person_id"] for r in listed} == moves
    assert Counter(r["stage"] for r in listed) == {"arrived": 2, "referred": 2}
    assert all(r["team"] and r["from_shelter"] for r in listed)
    assert all(r["arrived_at_shelter"] and r["arrived_at_shelter"] != r["from_shelter"]
               for r in listed if r["stage"] == "arrived")
    page = staff.get("/dwat/referrals")
    assert page.status_code == 200
    assert page.text.count('data-stage="arrived"') == 2 + 1 and page.text.count('data-stage="referred"') == 2 + 1
    assert "移送の紹介はありません" not in page.text
    # times in Japan time, as the rest of the pages (the demo's triages are made in the morning, JST)
    for r in listed:
        for stored in filter(None, (r["referred_at"], r["arrived_at"])):
            assert datetime.fromisoformat(stored).astimezone(JST).strftime("%Y-%m-%d %H:%M") in page.text
    assert all(f"{t.observed_at:%Y-%m-%d %H:%M}" not in page.text for t in city.dwat_triages
               if t.outcome == "move_to_welfare_shelter")  # never the UTC clock
