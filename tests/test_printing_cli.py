"""`tsunagu print plan|batch|field-list`: files written, progress on stderr, prints audited
as cli:<user>, unknown records reported without a traceback."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from server.cli import main
from server.models.auth import AuditEntry
from tests.printing_helpers import flat, load_city, page_count, page_texts, pdf_text


@pytest.fixture
def city(engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return load_city(engine)


def test_print_plan_by_register_number_and_id(city, engine, tmp_path, capsys):
    plan = city.plans[0]
    person = next(p for p in city.people if p.id == plan.person_id)
    out = tmp_path / "plan.pdf"
    assert main(["print", "plan", person.register_no, "-o", str(out), "--lang", "en"]) == 0
    assert "IndividualEvacuationPlan" in flat(pdf_text(out.read_bytes(), tmp_path))
    assert main(["print", "plan", str(plan.id), "-o", str(out)]) == 0
    assert person.name.replace(" ", "") in flat(pdf_text(out.read_bytes(), tmp_path))
    assert all("庁内限り" in flat(page) for page in page_texts(out.read_bytes(), tmp_path))  # Art. 49-11
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.action == "print")).all()
    assert [e.record_ids for e in entries] == [[str(plan.id)]] * 2
    assert all(e.username.startswith("cli:") and e.resource == "plans" for e in entries)
    assert main(["print", "plan", "NO-SUCH", "-o", str(out)]) == 1
    assert "not found" in capsys.readouterr().err


def test_print_batch_with_progress_bar_and_field_lists(city, engine, tmp_path, capsys):
    shelter = max(city.shelters, key=lambda s: sum(p.destination_shelter_id == s.id for p in city.plans))
    count = sum(1 for p in city.plans if shelter.id in (p.destination_shelter_id, p.alternate_shelter_id))
    out = tmp_path / "batch.pdf"
    ids = [str(p.id) for p in city.plans[:3]]
    assert main(["print", "batch", "--ids", *ids, "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "[##############################] 3/3 plans" in captured.err
    assert "3 plans" in captured.out and "pages/s" in captured.out
    assert page_count(out.read_bytes()) >= 4
    assert main(["print", "batch", "--ids", *ids, "-o", str(out), "--duplex", "--quiet"]) == 0
    assert page_count(out.read_bytes()) % 2 == 0 and "両面印刷用" in flat(pdf_text(out.read_bytes(), tmp_path))
    capsys.readouterr()
    listing = tmp_path / "list.pdf"
    chome = next(d for d in city.chome if any(p.district_id == d.id for p in city.people))
    assert main(["print", "field-list", "--district", chome.code, "-o", str(listing)]) == 0
    assert "安否確認リスト" in flat(pdf_text(listing.read_bytes(), tmp_path))
    assert all("庁内限り" in flat(page) for page in page_texts(listing.read_bytes(), tmp_path))
    assert main(["print", "field-list", "--shelter", str(shelter.id), "-o", str(listing)]) == 0
    assert f"{count} people" in capsys.readouterr().out
    assert main(["print", "field-list", "--district", "NOPE", "-o", str(listing)]) == 1
