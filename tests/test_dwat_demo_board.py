"""The demo city's DWAT scenario fills the dispatch tables, so the board shows real content at
once: open requests with suggested teams (two already accepted), two teams on site, one
handover planned, every request's steps with who and when; and the board page renders it."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, select

from server.demo_city import build_demo_city, load_demo_city
from server.domain.japan_time import today_jst
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
