"""同意確認書: consent-request letters with a reply slip, printed as one A4 PDF (template
`consent_letter.html`), and the slip's code read back on the reply-entry screen.

One letter per person and page: the request (what the register is, who would receive it in
normal times, that a disaster widens sharing by law), a 切り取り線, then the reply slip with the
登録者番号, a short check code and a QR code (``TSUNAGU:CONSENT:<person id>``), one tick box per
recipient category (同意する / 同意しない), the date and a signature line. The slip's code is
``<登録者番号>-<4 characters of the person's id>``: typed on the reply screen, the check part
catches a mistyped number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Optional

from markupsafe import Markup
from sqlmodel import Session, select

from ..domain.share_records import OUTSIDE
from ..models import District, Person, PersonConsent
from ..models.vocab import Recipient
from .context import municipality_names
from .i18n import DateText, date_text, resolve_language
from .qr import parse_payload, payload, qr_svg
from .render import environment, html_to_pdf, stylesheet
from .selection import natural_key

MAX_LETTERS = 2000
CONSENT_KIND = "consent"


@dataclass
class ConsentLetter:
    """One letter and its reply slip."""

    person_id: str
    register_no: str
    name: str
    name_kana: str
    postal_code: str
    address: str
    district: str
    slip_code: str            # 登録者番号-XXXX (typed on the reply screen)
    qr_svg: Markup
    categories: list[Recipient]
    municipality: str
    printed: DateText


def slip_code(register_no: str, person_id: uuid.UUID) -> str:
    return f"{register_no}-{person_id.hex[:4].upper()}"


def select_people(session: Session, district_ids: Optional[list] = None, missing: Optional[Recipient] = None,
                  limit: int = MAX_LETTERS + 1, clauses: Optional[list] = None) -> list[Person]:
    """People to ask: in these districts (None: all), and without an answer recorded for the
    category `missing` (None: without any answer per category), by district code then 登録者番号;
    `clauses` keep to the caller's register (several municipalities)."""
    query = select(Person).where(*(clauses or []))
    if district_ids:
        query = query.where(Person.district_id.in_(district_ids))
    answered = select(PersonConsent.person_id)
    if missing is not None:
        answered = answered.where(PersonConsent.recipient == missing.value)
    query = query.where(Person.id.not_in(answered))
    people = list(session.exec(query.limit(limit)).all())
    codes = dict(session.exec(select(District.id, District.code)).all())
    return sorted(people, key=lambda p: (natural_key(codes.get(p.district_id, "")), natural_key(p.register_no)))


def letters_for(session: Session, people: list[Person], today: date) -> list[ConsentLetter]:
    names = dict(session.exec(select(District.id, District.name)).all())
    cities = municipality_names(session)
    printed = date_text(today, resolve_language("ja"))
    return [ConsentLetter(person_id=str(p.id), register_no=p.register_no, name=p.name, name_kana=p.name_kana,
                          postal_code=p.postal_code, address=p.address, district=names.get(p.district_id, ""),
                          slip_code=slip_code(p.register_no, p.id),
                          qr_svg=Markup(qr_svg(payload(CONSENT_KIND, p.id))), categories=list(OUTSIDE),
                          municipality=cities.get(p.municipality_code, ""), printed=printed)
            for p in people]


def render_letters_html(letters: list[ConsentLetter]) -> str:
    return environment().get_template("consent_letter.html").render(letters=letters, stylesheet=stylesheet())


def letters_pdf(letters: list[ConsentLetter]) -> bytes:
    return html_to_pdf(render_letters_html(letters)).pdf


class SharedNumber(ValueError):
    """A 登録者番号 alone names people of several municipalities in the caller's scope (each city
    numbers its own register): the slip's QR or its check part says which."""


def find_by_code(session: Session, code: str, clauses: Optional[list] = None) -> Optional[Person]:
    """The person a slip names: its QR payload, `登録者番号-XXXX` (the check must match) or the
    登録者番号 alone. None when nobody matches (or the check part does not). `clauses` keep to the
    caller's register: another municipality's person is not found (their 登録者番号 may even be
    the same as one of ours). SharedNumber when the number alone is held in several of the
    caller's municipalities: never guess whose slip it is."""
    own = list(clauses or [])
    text = " ".join((code or "").split()).strip()
    if not text:
        return None
    if text.upper().startswith("TSUNAGU:"):
        try:
            kind, person_id = parse_payload(text)
        except ValueError:
            return None
        if kind not in (CONSENT_KIND, "person"):
            return None
        return session.exec(select(Person).where(Person.id == person_id, *own)).first()
    people = session.exec(select(Person).where(Person.register_no == text, *own).limit(2)).all()
    if len(people) > 1:
        raise SharedNumber(text)
    if people:
        return people[0]
    number, _, check = text.rpartition("-")
    if number and len(check) == 4:
        for person in session.exec(select(Person).where(Person.register_no == number, *own)).all():
            if person.id.hex[:4].upper() == check.upper():
                return person
    return None
