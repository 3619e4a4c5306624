"""The coverage page (/workbench/coverage), the list behind each number, the CSV and the HQ
panel's figures, against a hand-built city where every person's figures are known."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from server.domain.japan_time import today_jst
from server.models import AuditEntry, HazardArea
from tests import factories

FIGURES = ("registered", "consented", "plan_not_started", "plan_drafting", "plan_done", "plan_needs_review",
           "supporters_0", "supporters_1", "supporters_2plus", "elderly_supporter", "registered_supporter",
           "review_overdue", "destination_unusable", "destination_seismic", "destination_hazard",
           "destination_not_accepting", "destination_unknown")

# Who holds which figure (besides "registered", which everyone does), by register number.
HOLDS = {
    "CV-1": {"consented", "plan_done", "supporters_2plus"},
    "CV-2": {"plan_drafting", "supporters_1", "elderly_supporter", "registered_supporter", "review_overdue",
             "destination_unusable", "destination_seismic"},
    "CV-3": {"consented", "plan_not_started", "supporters_0"},
    "CV-4": {"consented", "plan_needs_review", "supporters_2plus", "registered_supporter", "destination_unusable",
             "destination_hazard"},
    "CV-5": {"plan_not_started", "supporters_0", "destination_unusable", "destination_not_accepting"},
}


def _square(lon, lat, d=0.001) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


@pytest.fixture
def city(client, engine):
    """福祉圏域 W1 holds 町丁目 C1 and C2; C3 has no 福祉圏域; CV-5 has no 町丁目.
    CV-2's only supporter is CV-5 (same name and phone; born 1940: elderly and registered);
    one of CV-4's supporters is CV-1 (registered, not elderly)."""
    today = today_jst()
    area = factories.create(client, "districts", {"municipality_code": "132144", "code": "W1", "name": "北圏域",
                                                  "kind": "welfare_area"})
    c1 = factories.create(client, "districts", {"municipality_code": "132144", "code": "C1", "name": "戸倉一丁目",
                                                "kind": "chome", "parent_id": area["id"]})
    c2 = factories.create(client, "districts", {"municipality_code": "132144", "code": "C2", "name": "戸倉二丁目",
                                                "kind": "chome", "parent_id": area["id"]})
    c3 = factories.create(client, "districts", {"municipality_code": "132144", "code": "C3", "name": "光町三丁目",
                                                "kind": "chome"})
    ok = factories.create(client, "shelters", factories.shelter(name="ひかりプラザ", lon=139.40, lat=35.70))
    old = factories.create(client, "shelters", factories.shelter(
        name="旧体育館", kind="designated", target_groups=[], capabilities=[], building_permit_date="1975-01-01",
        lon=139.41, lat=35.70))
    flooded = factories.create(client, "shelters", factories.shelter(name="川辺センター", lon=139.42, lat=35.70))
    no_oxygen = factories.create(client, "shelters", factories.shelter(name="みどり園", capabilities=["wheelchair_access"], lon=139.43, lat=35.70))
    with Session(engine) as session:
        session.add(HazardArea(municipality_code="132144", kind="flood", name="野川", geometry=_square(139.42, 35.70)))
        session.commit()

    def person(no, **over):
        return factories.create(client, "people", factories.person(**{"register_no": no, "name": f"氏名 {no}", **over}))

    p1 = person("CV-1", district_id=c1["id"], minsei_iin="民生 一子", birth_date="1980-05-05",
                reasons=["physical_disability"], care_needs=["wheelchair"], phone="042-000-0001")
    p2 = person("CV-2", district_id=c1["id"], minsei_iin="民生 一子", consent="no", consent_date=None, care_needs=[])
    p3 = person("CV-3", district_id=c2["id"])
    p4 = person("CV-4", district_id=c3["id"], minsei_iin="民生 二郎")
    p5 = person("CV-5", district_id=None, consent="not_asked", consent_date=None, birth_date="1940-01-01",
                name="支援 五郎", phone="042-555-0005", care_needs=["oxygen"], reasons=["medical_care"])

    def plan(p, status, shelter, supporters, **over):
        return factories.create(client, "plans", {"person_id": p["id"], "status": status,
                                                  "destination_shelter_id": shelter["id"], "supporters": supporters,
                                                  "consent": True, "consent_date": "2025-04-01", **over})

    plan(p1, "done", ok, [{"name": "近所 一", "phone": "042-700-0001"}, {"name": "近所 二", "phone": "042-700-0002"}],
         review_due=(today + timedelta(days=30)).isoformat())
    plan(p2, "drafting", old, [{"name": "支援　五郎", "relation": "近隣住民", "phone": "０４２-５５５-０００５"}],
         review_due=(today - timedelta(days=3)).isoformat())
    plan(p4, "needs_review", flooded, [{"name": "氏名 CV-1", "phone": "042-000-0001"}, {"name": "近所 三"}],
         review_due=today.isoformat())  # due today is not overdue
    plan(p5, "not_started", no_oxygen, [])
    from server.api.workbench_coverage_data import clear_cache
    clear_cache()
    return {"area": area["id"], "c1": c1["id"], "c2": c2["id"], "c3": c3["id"],
            "ids": {p["register_no"]: p["id"] for p in (p1, p2, p3, p4, p5)}}


def expected_groups(city) -> dict[str, dict[str, set]]:
    """level → link key → register numbers in that area."""
    return {
        "city": {"city": set(HOLDS)},
        "welfare_area": {city["area"]: {"CV-1", "CV-2", "CV-3"}, "none": {"CV-4", "CV-5"}},
        "chome": {city["c1"]: {"CV-1", "CV-2"}, city["c2"]: {"CV-3"}, city["c3"]: {"CV-4"}, "none": {"CV-5"}},
        "minsei": {"名簿:民生 一子": {"CV-1", "CV-2"}, "名簿:民生 二郎": {"CV-4"}, "none": {"CV-3", "CV-5"}},
    }


def holders(figure: str, members: set) -> set:
    return {no for no in members if figure == "registered" or figure in HOLDS[no]}


def table_counts(page: str) -> dict[str, dict[str, int]]:
    """row key → figure → the number shown (linked or a plain 0)."""
    out = {}
    for key, body in re.findall(r'<tr(?: class="wb-total")? data-key="([^"]+)">(.*?)</tr>', page, re.S):
        cells = re.findall(r'<td class="wb-num">(.*?)</td>', body, re.S)
        assert len(cells) == len(FIGURES)
        out[html.unescape(key)] = {f: int(re.sub(r"<[^>]+>", "", c)) for f, c in zip(FIGURES, cells)}
    return out


def listed(client, level: str, key: str, figure: str) -> set[str]:
    answer = client.get("/workbench/coverage/list", params={"level": level, "key": key, "figure": figure})
    assert answer.status_code == 200, answer.text
    return set(re.findall(r"<td>(CV-\d)</td>", answer.text))


@pytest.mark.parametrize("level", ["welfare_area", "chome", "minsei"])
def test_every_figure_of_every_area_and_its_list(client, city, level):
    page = client.get(f"/workbench/coverage?level={level}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    shown = table_counts(page.text)
    groups = expected_groups(city)
    assert set(shown) == {"city", *groups[level]}
    for level_, areas in (("city", groups["city"]), (level, groups[level])):
        for key, members in areas.items():
            for figure in FIGURES:
                want = holders(figure, members)
                assert shown[key][figure] == len(want), (level_, key, figure)
                if want:  # each number is a link that lists exactly its people
                    assert f'figure={figure}' in page.text
                    assert listed(client, level_, key, figure) == want, (level_, key, figure)


def test_names_in_the_table_and_a_zero_is_not_a_link(client, city):
    page = client.get("/workbench/coverage?level=chome").text
    assert "戸倉一丁目" in page and "（未割当）" in page
    row = re.search(r'<tr data-key="' + city["c2"] + r'">(.*?)</tr>', page, re.S).group(1)
    assert "figure=plan_done" not in row  # CV-3 has no plan: 0, not a link to an empty list
    minsei = client.get("/workbench/coverage?level=minsei&lang=en").text
    assert "民生 一子" in minsei and "(unassigned)" in minsei and "Web of support" in minsei


def test_a_list_is_audited_and_bad_links_are_refused(client, city, engine):
    assert listed(client, "chome", city["c1"], "plan_drafting") == {"CV-2"}
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.resource == "people", AuditEntry.action == "list")
                             .order_by(AuditEntry.id.desc())).first()
        assert entry.record_ids == [city["ids"]["CV-2"]]
    assert client.get("/workbench/coverage/list?level=chome&key=none&figure=nope").status_code == 422
    assert client.get("/workbench/coverage/list?level=street&key=none&figure=registered").status_code == 422
    assert client.get(f"/workbench/coverage/list?level=chome&key={uuid.uuid4()}&figure=registered").status_code == 404
    assert client.get("/workbench/coverage?level=street").status_code == 422


def test_other_roles_may_not_open_the_coverage_pages(client_for, city):
    for role in ("district_supporter", "shelter_staff", "dwat_member"):
        other = client_for(role)
        assert other.get("/workbench/coverage").status_code == 403
        assert other.get("/workbench/coverage/list?level=city&key=city&figure=registered").status_code == 403
        assert other.get("/workbench/coverage.csv").status_code == 403


def test_csv_export_of_the_table(client, city, engine):
    answer = client.get("/workbench/coverage.csv?level=chome")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode()) and b"\r\n" in answer.content
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["区分", "キー", "名称"] and len(rows[0]) == 3 + len(FIGURES)
    assert rows[0][3] == "名簿:登録者" and rows[0][-1] == "使えない避難先:不明な施設"
    by_key = {r[1]: r for r in rows[1:]}
    groups = expected_groups(city)
    assert set(by_key) == {"city", *groups["chome"]}
    for key, members in {**groups["chome"], **groups["city"]}.items():
        assert [int(v) for v in by_key[key][3:]] == [len(holders(f, members)) for f in FIGURES], key
    assert by_key[city["c1"]][2] == "戸倉一丁目" and by_key["none"][2] == "（未割当）"
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.resource == "coverage")).one()
        assert entry.action == "export" and "chome" in entry.detail


def test_csv_cells_that_look_like_formulas_are_escaped(client, city):
    factories.create(client, "people", factories.person(register_no="CV-9", minsei_iin="=HYPERLINK(1)"))
    rows = list(csv.reader(io.StringIO(client.get("/workbench/coverage.csv?level=minsei").content.decode("utf-8-sig"))))
    assert "'=HYPERLINK(1)" in [r[2] for r in rows] and "=HYPERLINK(1)" not in [r[2] for r in rows]


def test_the_hq_panel_shows_the_city_figures(client, city, client_for, engine):
    answer = client.get("/api/hq/coverage")
    assert answer.status_code == 200
    figures = answer.json()["figures"]
    assert figures == {f: len(holders(f, set(HOLDS))) for f in FIGURES}
    with Session(engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.resource == "coverage",
                                                     AuditEntry.action == "list")).first() is not None
    page = client.get("/hq").text
    assert 'id="coverage-panel"' in page and 'id="cov-supporters_0"' in page
    assert client_for("district_supporter").get("/api/hq/coverage").status_code == 403
    assert client_for("hq_viewer").get("/api/hq/coverage").status_code == 403  # plans are not theirs to read


def test_a_write_shows_at_once(client, city):
    """The figures are cached until anything is written: a new plan counts at once."""
    assert client.get("/api/hq/coverage").json()["figures"]["plan_not_started"] == 2
    factories.create(client, "plans", {"person_id": city["ids"]["CV-3"], "status": "drafting"})
    figures = client.get("/api/hq/coverage").json()["figures"]
    assert (figures["plan_not_started"], figures["plan_drafting"]) == (1, 2)


def test_the_list_in_english(client, city):
    page = client.get("/workbench/coverage/list?level=city&key=city&figure=supporters_0&lang=en").text
    assert "<h1>Supporters：none</h1>" in page and "Whole city" in page


def test_a_changed_person_is_counted_again(client, city):
    """Rows unchanged since the last count are reused; a changed one is built again."""
    assert client.get("/api/hq/coverage").json()["figures"]["consented"] == 3
    person = client.get(f"/api/people/{city['ids']['CV-2']}").json()
    client.patch(f"/api/people/{person['id']}", json={"version": person["version"], "consent": "yes",
                                                       "consent_date": "2025-05-01"})
    assert client.get("/api/hq/coverage").json()["figures"]["consented"] == 4
    page = client.get("/workbench/coverage?level=chome").text
    assert table_counts(page)[city["c1"]]["consented"] == 2
