"""Art. 49-11 on every path that hands register data out: each list, export and print made for an
outside recipient holds only whom the rule allows for that recipient category — by mode and by
the city's ordinance setting — and writes a 提供記録; the office's own prints say so on every page.

The paths: the 民生委員's district list, the shelter roster, a batch of plans, one plan, the
people CSV (all made by the office naming a recipient), and a field user's own scope (the
records layer that feeds the sync feed and their prints) with the category their affiliation names.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import Session, select

from server.models import ShareHandover
from tests.printing_helpers import flat, page_texts, pdf_text, wait_for_batch
from tests.test_sync import ids, pull_all
from tests.sharing_world import EVERYONE, EXPECTED, SharingWorld, set_mode, set_ordinance


@pytest.fixture
def world(engine):
    return SharingWorld(engine)




def _target(recipient, name="受け取り先"):
    return {} if recipient is None else {"recipient": recipient, "recipient_name": name}


# Each path: (office client, world, recipient or None, tmp) → (register numbers in it, its text or None)
def district_list(c, w, recipient, tmp):
    r = c.get("/api/print/field-lists/district/A1.pdf", params=_target(recipient))
    assert r.status_code == 200, r.text
    text = pdf_text(r.content, tmp)
    return w.names(flat(text)), text


def shelter_roster(c, w, recipient, tmp):
    r = c.get(f"/api/print/field-lists/shelter/{w.shelter.id}.pdf", params=_target(recipient))
    assert r.status_code == 200, r.text
    text = pdf_text(r.content, tmp)
    return w.names(flat(text)), text


def plan_batch(c, w, recipient, tmp):
    body = {"by": "district", "value": "A1", **_target(recipient)}
    r = c.post("/api/print/batches", json=body)
    if r.status_code == 422:  # selects no plan this recipient may get
        return set(), None
    assert r.status_code == 202, r.text
    status = wait_for_batch(c, r.json()["id"])
    assert status["state"] == "done", status
    pdf = c.get(status["pdf_url"]).content
    return w.names(flat(pdf_text(pdf, tmp))), pdf_text(pdf, tmp)


def one_plan(c, w, recipient, tmp):
    """Every person's plan printed one at a time (the HTML the PDF is made from, then one PDF)."""
    got = set()
    for code, plan in w.plans.items():
        r = c.get(f"/print/preview/plans/{plan.id}", params=_target(recipient))
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            got.add(code)
    if got:
        code = sorted(got)[0]
        pdf = c.get(f"/api/print/plans/{w.plans[code].id}.pdf", params=_target(recipient))
        assert pdf.status_code == 200
        return got, pdf_text(pdf.content, tmp)
    return got, None


def people_csv(c, w, recipient, tmp):
    r = c.get("/api/exports/people.csv", params=_target(recipient))
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    names = {row[rows[0].index("氏名")] for row in rows[1:]}
    return {code for code in EVERYONE if f"名前{code}" in names}, None


PATHS = [district_list, shelter_roster, plan_batch, one_plan, people_csv]
CASES = [("normal", "opt_in", "fire"), ("normal", "opt_in", "minsei"), ("normal", "opt_out", "fire"),
         ("normal", "opt_out", "minsei"), ("disaster", "opt_in", "minsei"), ("disaster", "opt_out", "fire")]


@pytest.mark.parametrize("mode,ordinance,recipient", CASES)
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
def test_office_list_for_an_outside_recipient_holds_only_whom_the_rule_allows(
        app, engine, world, client_for, tmp_path, path, mode, ordinance, recipient):
    set_ordinance(app, ordinance)
    if mode == "disaster":
        set_mode(engine, "disaster")
    office = client_for("welfare_staff")
    got, text = path(office, world, recipient, tmp_path)
    expected = EVERYONE if mode == "disaster" else EXPECTED[(ordinance, recipient)]
    assert got == expected
    if text is not None:  # the print says for whom, and under which rule
        assert "提供先" in flat(text) and "受け取り先" in flat(text)
    with Session(engine) as s:
        [handover] = s.exec(select(ShareHandover)).all()
    assert handover.recipient == recipient and handover.recipient_name == "受け取り先"
    assert handover.mode == mode and handover.handed_by == office.user.username
    held = {code for code, p in world.people.items() if str(p.id) in handover.person_ids}
    assert held == (got if path is not one_plan else {sorted(got)[0]})


@pytest.mark.parametrize("path", [district_list, shelter_roster, plan_batch, one_plan],
                         ids=lambda p: p.__name__)
def test_office_own_print_lists_everyone_and_says_so_on_every_page(app, engine, world, client_for, tmp_path, path):
    office = client_for("admin")
    got, text = path(office, world, None, tmp_path)
    assert got == EVERYONE
    with Session(engine) as s:
        assert s.exec(select(ShareHandover)).all() == []  # the office's own use is no handover
    if path is not one_plan:
        r = office.get("/api/print/field-lists/district/A1.pdf")
        pages = page_texts(r.content, tmp_path)
    else:
        pages = page_texts(office.get(f"/api/print/plans/{world.plans['P-ALL'].id}.pdf").content, tmp_path)
    assert pages and all("庁内限り" in flat(p) for p in pages)


def test_office_people_csv_without_a_recipient_is_marked_office_only(world, client_for):
    r = client_for("welfare_staff").get("/api/exports/people.csv")
    assert r.status_code == 200
    assert "people-office-only-" in r.headers["content-disposition"]
    assert r.headers["x-tsunagu-sharing"].startswith("%E5%BA%81%E5%86%85")  # 庁内… (URL-encoded)


@pytest.mark.parametrize("mode,ordinance,affiliation,category", [
    ("normal", "opt_in", "民生委員・児童委員", "minsei"), ("normal", "opt_in", "東消防署", "fire"),
    ("normal", "opt_out", "", "minsei"), ("normal", "opt_out", "東消防署", "fire"),
    ("disaster", "opt_in", "民生委員", "minsei")])
def test_a_field_users_own_scope_follows_their_category(app, engine, world, client_for, mode, ordinance,
                                                        affiliation, category):
    """The records layer's scope (the sync feed, /api/people, their own prints) for a district
    supporter whose affiliation names the category (民生委員 when it names none)."""
    set_ordinance(app, ordinance)
    if mode == "disaster":
        set_mode(engine, "disaster")
    supporter = client_for("district_supporter", district_ids=[str(world.area.id)], affiliation=affiliation)
    seen = {item["register_no"] for item in supporter.get("/api/people", params={"limit": 100}).json()["items"]}
    expected = EVERYONE if mode == "disaster" else EXPECTED[(ordinance, category)]
    assert seen == expected
    items, _, _ = pull_all(supporter)
    by_id = {str(p.id): code for code, p in world.people.items()}
    assert {by_id[i] for i in ids(items, "people")} == expected


def test_a_field_users_print_is_a_handover_to_their_category(app, engine, world, client_for, tmp_path):
    supporter = client_for("district_supporter", district_ids=[str(world.area.id)], affiliation="東消防署")
    r = supporter.get("/api/print/field-lists/district/A1.pdf")
    assert r.status_code == 200
    assert world.names(flat(pdf_text(r.content, tmp_path))) == EXPECTED[("opt_in", "fire")]
    with Session(engine) as s:
        [handover] = s.exec(select(ShareHandover)).all()
    assert (handover.recipient, handover.recipient_name) == ("fire", supporter.user.username)


def test_a_bad_recipient_is_a_field_error(world, client_for):
    office = client_for("admin")
    r = office.get("/api/print/field-lists/district/A1.pdf", params={"recipient": "mafia", "recipient_name": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "recipient"
    r = office.get("/api/exports/people.csv", params={"recipient": "fire"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "recipient_name"
    r = office.post("/api/print/batches", json={"by": "district", "value": "A1", "recipient": "fire"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "recipient_name"
