"""A small city for the Art. 49-11 tests: five people in one 町丁目 whose answers differ per
recipient category, each with a plan to the same shelter.

- P-ALL: the blanket 同意 on the person record, no answer per category
- P-FIRE: 同意 for 消防, 不同意 for 民生委員 (blanket 未確認)
- P-NONE: never asked
- P-REF: the blanket 不同意
- P-WD: 同意 for 民生委員, withdrawn (不同意) later
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlmodel import Session

from server.models import District, EvacuationPlan, ModeSwitch, Person, PersonConsent, Shelter

EVERYONE = {"P-ALL", "P-FIRE", "P-NONE", "P-REF", "P-WD"}
# (ordinance, recipient) → who an outside list may hold in normal mode
EXPECTED = {
    ("opt_in", "fire"): {"P-ALL", "P-FIRE"},
    ("opt_in", "minsei"): {"P-ALL"},
    ("opt_out", "fire"): {"P-ALL", "P-FIRE", "P-NONE", "P-WD"},
    ("opt_out", "minsei"): {"P-ALL", "P-NONE"},
}


def answer(pid, recipient, answer_, on, method="written") -> PersonConsent:
    return PersonConsent(person_id=pid, recipient=recipient, answer=answer_, method=method, answered_on=on,
                         recorded_by="test", recorded_at=datetime(2025, 7, 1, tzinfo=timezone.utc))


class SharingWorld:
    def __init__(self, engine):
        with Session(engine, expire_on_commit=False) as s:
            self.area = District(municipality_code="132144", code="A", name="東圏域", kind="welfare_area")
            s.add(self.area)
            s.flush()
            self.district = District(municipality_code="132144", code="A1", name="東町一丁目", kind="chome",
                                     parent_id=self.area.id)
            self.shelter = Shelter(name="東福祉センター", kind="designated_welfare", capacity=20)
            s.add_all([self.district, self.shelter])
            s.flush()
            self.people = {}
            for code, blanket in (("P-ALL", "yes"), ("P-FIRE", "not_asked"), ("P-NONE", "not_asked"),
                                  ("P-REF", "no"), ("P-WD", "not_asked")):
                p = Person(register_no=code, municipality_code="132144", name=f"名前{code}", birth_date=date(1940, 1, 1),
                           sex="female", address="東町一丁目1-1", district_id=self.district.id, consent=blanket,
                           consent_date=date(2025, 4, 1) if blanket == "yes" else None, reasons=["medical_care"])
                s.add(p)
                self.people[code] = p
            s.flush()
            pid = {code: p.id for code, p in self.people.items()}
            s.add_all([answer(pid["P-FIRE"], "fire", "consented", date(2025, 5, 1)),
                       answer(pid["P-FIRE"], "minsei", "refused", date(2025, 5, 1)),
                       answer(pid["P-WD"], "minsei", "consented", date(2025, 1, 10)),
                       answer(pid["P-WD"], "minsei", "refused", date(2025, 6, 1), method="oral")])
            self.plans = {}
            for code, p in self.people.items():
                plan = EvacuationPlan(person_id=p.id, destination_shelter_id=self.shelter.id)
                s.add(plan)
                self.plans[code] = plan
            s.commit()

    def names(self, text: str) -> set[str]:
        """Which of the five a text (a PDF's, a CSV's) names."""
        return {code for code in EVERYONE if f"名前{code}" in text}


def set_mode(engine, mode: str) -> None:
    with Session(engine) as s:
        s.add(ModeSwitch(mode=mode, reason="試験"))
        s.commit()


def set_ordinance(app, value: str) -> None:
    """The city's TSUNAGU_SHARING_ORDINANCE for this app (as if set in the environment)."""
    app.state.settings.values["TSUNAGU_SHARING_ORDINANCE"] = value
