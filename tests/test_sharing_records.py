"""Consent per recipient category through the records layer (/api/consents), the handover report
per recipient (/workbench/sharing, CSV), the consent-request letters (a real PDF read back) and
the reply-entry screen's saves; migration 0012 on a populated database."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from server.domain.japan_time import today_jst
from server.migrate import upgrade
from server.models import AuditEntry, PersonConsent, ShareHandover
from server.printing.consent_letters import slip_code
from tests.printing_helpers import flat, page_count, page_texts, pdf_text
from tests.sharing_world import EXPECTED, SharingWorld
from tests.test_data_migrations import bare_engine, insert  # noqa: F401  (the fixture)


@pytest.fixture
def world(engine):
    return SharingWorld(engine)


# ---- /api/consents ----

def test_consent_is_recorded_per_category_with_who_recorded_it(world, client_for, engine):
    office = client_for("welfare_staff")
    pid = str(world.people["P-NONE"].id)
    r = office.post("/api/consents", json={"person_id": pid, "recipient": "police", "answer": "consented",
                                           "method": "oral", "answered_on": "2026-01-05", "recorded_by": "someone else"})
    assert r.status_code == 201, r.text
    assert r.json()["recorded_by"] == office.user.username and r.json()["method"] == "oral"
    listed = office.get("/api/consents", params={"person_id": pid}).json()["items"]
    assert [(c["recipient"], c["answer"]) for c in listed] == [("police", "consented")]
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.resource == "consents",
                                               AuditEntry.action == "list")).first() is not None


def test_a_consent_dated_in_the_future_or_for_the_office_is_refused(world, client_for, engine):
    office = client_for("admin")
    pid = str(world.people["P-NONE"].id)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    r = office.post("/api/consents", json={"person_id": pid, "recipient": "fire", "answer": "consented",
                                           "answered_on": tomorrow})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "answered_on"
    r = office.post("/api/consents", json={"person_id": pid, "recipient": "office", "answer": "consented",
                                           "answered_on": "2026-01-05"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "recipient"
    with Session(engine) as s:
        assert s.exec(select(PersonConsent).where(PersonConsent.person_id == world.people["P-NONE"].id)).all() == []


@pytest.mark.parametrize("role", ["district_supporter", "hq_viewer", "shelter_staff"])
def test_only_the_office_keeps_consents(world, client_for, role):
    assert client_for(role).get("/api/consents").status_code == 403


def test_a_new_answer_changes_whom_a_recipient_may_get(world, client_for):
    office = client_for("welfare_staff")
    before = office.get("/api/exports/people.csv", params={"recipient": "police", "recipient_name": "東警察署"})
    assert "名前P-NONE" not in before.content.decode("utf-8-sig")
    office.post("/api/consents", json={"person_id": str(world.people["P-NONE"].id), "recipient": "police",
                                       "answer": "consented", "answered_on": "2026-01-05"})
    after = office.get("/api/exports/people.csv", params={"recipient": "police", "recipient_name": "東警察署"})
    assert "名前P-NONE" in after.content.decode("utf-8-sig")


# ---- what each recipient holds ----

def test_handovers_and_the_report_per_recipient(world, client_for, engine):
    office = client_for("welfare_staff")
    office.get("/api/exports/people.csv", params={"recipient": "fire", "recipient_name": "東消防署"})
    office.get("/api/exports/people.csv", params={"recipient": "minsei", "recipient_name": "民生委員 山田花子"})
    with Session(engine) as s:
        rows = s.exec(select(ShareHandover).order_by(ShareHandover.recorded_at)).all()
    assert [(h.recipient, h.recipient_name, h.medium, h.handed_on) for h in rows] == [
        ("fire", "東消防署", "export", today_jst()), ("minsei", "民生委員 山田花子", "export", today_jst())]
    # P-FIRE withdraws consent for 消防 afterwards: the fire service must give it back
    office.post("/api/consents", json={"person_id": str(world.people["P-FIRE"].id), "recipient": "fire",
                                       "answer": "refused", "method": "oral", "answered_on": today_jst().isoformat()})
    page = office.get("/workbench/sharing")
    assert page.status_code == 200 and "東消防署" in page.text and "民生委員 山田花子" in page.text
    one = office.get("/workbench/sharing", params={"recipient_name": "東消防署"})
    assert "名前P-ALL" in one.text and "名前P-FIRE" in one.text and "回収対象" in one.text
    r = office.get("/workbench/sharing.csv")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0] == ["提供先", "提供先区分", "登録者番号", "氏名", "提供日", "状態"]
    held = {(row[0], row[2], row[5]) for row in table[1:]}
    assert held == {("東消防署", "P-ALL", "保有"), ("東消防署", "P-FIRE", "回収対象（同意撤回）"),
                    ("民生委員 山田花子", "P-ALL", "保有")}
    assert all(row[4] == today_jst().isoformat() for row in table[1:])
    mine = office.get("/workbench/sharing.csv", params={"recipient_name": "民生委員 山田花子"})
    assert [row[2] for row in csv.reader(io.StringIO(mine.content.decode("utf-8-sig")))][1:] == ["P-ALL"]


def test_the_report_is_the_offices(world, client_for):
    assert client_for("district_supporter").get("/workbench/sharing").status_code == 403


def test_every_workbench_page_carries_the_office_only_banner(world, client_for):
    office = client_for("welfare_staff")
    for path in ("/workbench", f"/workbench/people/{world.people['P-ALL'].id}", "/workbench/sharing",
                 "/workbench/consents"):
        page = office.get(path)
        assert page.status_code == 200 and 'id="office-banner"' in page.text and "庁内限り" in page.text


# ---- consent letters (同意確認書) ----

def test_consent_letters_pdf_one_page_each_with_a_reply_slip(world, client_for, tmp_path, engine):
    office = client_for("welfare_staff")
    r = office.get("/workbench/consents/letters.pdf", params={"district": str(world.area.id), "missing": "fire"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    # P-FIRE answered for 消防; everyone else has no answer for it
    asked = ["P-ALL", "P-NONE", "P-REF", "P-WD"]
    assert page_count(r.content) == len(asked)
    pages = [flat(p) for p in page_texts(r.content, tmp_path)]
    for code, text in zip(asked, pages):
        person = world.people[code]
        assert f"名前{code}" in text and slip_code(code, person.id) in text
        assert "きりとり線" in text and "返信票" in text and "署名" in text and "記入日" in text
        for label in ("民生委員", "自主防災組織", "自治会", "消防", "警察", "社会福祉協議会", "地域包括支援センター"):
            assert label in text
        assert "第49条の11" in text
    with Session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "print", AuditEntry.resource == "people")).one()
    assert sorted(entry.record_ids) == sorted(str(world.people[c].id) for c in asked)


def test_consent_letters_for_nobody_or_a_bad_category_are_refused_on_the_page(world, client_for):
    office = client_for("welfare_staff")
    r = office.get("/workbench/consents/letters.pdf", params={"missing": "mafia"})
    assert r.status_code == 422 and 'data-field="missing"' in r.text
    office.post("/api/consents", json={"person_id": str(world.people["P-ALL"].id), "recipient": "houkatsu",
                                       "answer": "consented", "answered_on": "2026-01-05"})
    for code in ("P-FIRE", "P-NONE", "P-REF", "P-WD"):
        office.post("/api/consents", json={"person_id": str(world.people[code].id), "recipient": "houkatsu",
                                           "answer": "refused", "answered_on": "2026-01-05"})
    r = office.get("/workbench/consents/letters.pdf", params={"missing": "houkatsu"})
    assert r.status_code == 422 and "該当する方はいません" in r.text


# ---- replies from the slips ----

def _reply(client, code, answers: dict, day: str, method="written"):
    form = {"code": code, "answered_on": day, "method": method}
    form.update({f"c_{k}": v for k, v in answers.items()})
    return client.post("/workbench/consents", data=form)


def test_a_reply_slip_is_saved_per_category(world, client_for, engine):
    office = client_for("welfare_staff")
    person = world.people["P-NONE"]
    r = _reply(office, slip_code("P-NONE", person.id), {"fire": "consented", "minsei": "consented", "police": "refused"},
               "2026-02-01")
    assert r.status_code == 200 and 'id="reply-saved"' in r.text and "名前P-NONE" in r.text
    with Session(engine) as s:
        rows = s.exec(select(PersonConsent).where(PersonConsent.person_id == person.id)).all()
    assert sorted((c.recipient, c.answer, c.method, c.answered_on, c.recorded_by) for c in rows) == [
        ("fire", "consented", "written", date(2026, 2, 1), office.user.username),
        ("minsei", "consented", "written", date(2026, 2, 1), office.user.username),
        ("police", "refused", "written", date(2026, 2, 1), office.user.username)]
    # the QR code's payload finds the person too
    r = _reply(office, f"TSUNAGU:CONSENT:{str(person.id).upper()}", {"jichikai": "consented"}, "2026-02-01")
    assert r.status_code == 200 and "名前P-NONE" in r.text


@pytest.mark.parametrize("code,answers,day,field", [
    ("P-NONE", {"fire": "consented"}, "2999-01-01", "answered_on"),
    ("P-NONE", {"fire": "consented"}, "tomorrow", "answered_on"),
    ("P-NOBODY", {"fire": "consented"}, "2026-02-01", "code"),
    ("P-NONE-ZZZZ", {"fire": "consented"}, "2026-02-01", "code"),   # a check code that does not match
    ("P-NONE", {}, "2026-02-01", "categories"),
])
def test_a_bad_reply_is_refused_and_nothing_is_saved(world, client_for, engine, code, answers, day, field):
    office = client_for("welfare_staff")
    if day == "tomorrow":
        day = (today_jst() + timedelta(days=1)).isoformat()
    r = _reply(office, code, answers, day)
    assert r.status_code == 422 and f'data-field="{field}"' in r.text
    assert 'value="P-' in r.text or code == ""  # what was typed stays in the form
    with Session(engine) as s:
        assert s.exec(select(PersonConsent).where(PersonConsent.person_id == world.people["P-NONE"].id)).all() == []


# ---- migration 0012 ----

def test_0012_carries_the_single_consent_over_per_category(bare_engine, capsys):  # noqa: F811
    upgrade(bare_engine, "0009")
    with bare_engine.begin() as conn:
        yes = insert(conn, "person", municipality_code="132144", register_no="M-1", name="同意", sex="female",
                     address="x", consent="yes", consent_date=date(2024, 5, 1))
        no = insert(conn, "person", municipality_code="132144", register_no="M-2", name="不同意", sex="female",
                    address="x", consent="no", consent_date=None)
        unasked = insert(conn, "person", municipality_code="132144", register_no="M-3", name="未確認", sex="female",
                         address="x", consent="not_asked")
    capsys.readouterr()
    upgrade(bare_engine, "0012")
    table = SQLModel.metadata.tables["person_consent"]
    with bare_engine.connect() as conn:
        rows = conn.execute(sa.select(table)).mappings().all()
    categories = {"minsei", "jishubo", "jichikai", "fire", "police", "shakyo", "houkatsu"}
    mine = lambda pid: {(r["recipient"], r["answer"], r["method"]) for r in rows if r["person_id"] == pid}  # noqa: E731
    assert mine(yes) == {(c, "consented", "migrated") for c in categories}
    assert {r["answered_on"] for r in rows if r["person_id"] == yes} == {date(2024, 5, 1)}
    assert mine(no) == {(c, "refused", "migrated") for c in categories}
    assert mine(unasked) == set()
    assert {r["recorded_by"] for r in rows} == {"migration 0012"}
    assert "1 consented, 1 refused" in capsys.readouterr().err
    with bare_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(SQLModel.metadata.tables["share_handover"])
                            ).scalar_one() == 0


def test_after_0012_the_rule_gives_the_same_answer_as_before(world, engine):
    """The carry-over changes nobody's sharing: answers per category equal to the blanket one."""
    from server.domain.share_records import decide
    from server.models.auth import Mode
    from server.models.vocab import Recipient

    with Session(engine) as s:
        ids = [p.id for p in world.people.values()]
        before = decide(s, ids, Recipient.fire, Mode.normal, "opt_in").included
        for code in ("P-ALL",):  # what 0012 writes for a blanket 同意
            for category in ("minsei", "jishubo", "jichikai", "fire", "police", "shakyo", "houkatsu"):
                s.add(PersonConsent(person_id=world.people[code].id, recipient=category, answer="consented",
                                    method="migrated", answered_on=date(2025, 4, 1), recorded_by="migration 0012"))
        s.commit()
        after = decide(s, ids, Recipient.fire, Mode.normal, "opt_in").included
    assert set(before) == set(after) and {c for c, p in world.people.items() if p.id in after} == EXPECTED[("opt_in", "fire")]


def test_the_person_page_shows_the_answer_in_force_per_category(world, client_for, engine):
    office = client_for("welfare_staff")
    page = office.get(f"/workbench/people/{world.people['P-WD'].id}")
    assert page.status_code == 200
    row = page.text.split('data-recipient="minsei"')[1].split("</tr>")[0]
    assert "不同意" in row and "2025-06-01" in row and "<td>2</td>" in row  # the withdrawal is in force
    assert "回答なし" in page.text.split('data-recipient="fire"')[1].split("</tr>")[0]
    assert "/workbench/consents?code=P-WD" in page.text
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.resource == "consents",
                                               AuditEntry.action == "read")).first() is not None
