"""Art. 49-11 sharing over the database: the consent answers in force, who a list for a recipient
may hold (as Python for a list in hand, as SQL for the records layer's scopes), the handover
record (提供記録) and the per-recipient holdings. The rules themselves are
`server/domain/workbench/sharing.py`; this module feeds them the stored rows.

The answer in force for a person and a recipient category is their latest `person_consent` row
for it (by answered_on, then recorded_at). A person with no row for the category falls back on
the single `person.consent` (the blanket answer the register has always kept, which the people
CSV import still sets): 同意 counts as consent, 不同意 as refusal, 未確認 as no answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from ..models.auth import Mode, Role
from ..models.people import Person
from ..models.sharing import PersonConsent, ShareHandover
from ..models.vocab import Consent, ConsentAnswer, ConsentMethod, Ordinance, Recipient, ShareMedium
from .workbench.sharing import ConsentRecord, Handover, Holdings, ShareDecision, holdings, who_may_be_shared

OUTSIDE = tuple(r for r in Recipient if r != Recipient.office)
CHUNK = 900  # ids per IN (…) — SQLite's parameter limit

# Words in a user's affiliation (User.affiliation) that name a recipient category, besides the labels.
_AFFILIATION_WORDS = {"社協": Recipient.shakyo, "消防団": Recipient.fire, "包括": Recipient.houkatsu,
                      "自主防": Recipient.jishubo, "町内会": Recipient.jichikai, "児童委員": Recipient.minsei}


def category_of(role: Role | str, affiliation: str = "") -> Optional[Recipient]:
    """The recipient category of a signed-in field user: named by their affiliation (a category's
    code or Japanese label, or 社協, 消防団, 包括, 町内会 …), else 民生委員 for a district supporter.
    The city office is the office; shelter staff and DWAT without a named affiliation have no
    category: the blanket answer (person.consent) decides for them, as before."""
    role = Role(role)
    if role in (Role.admin, Role.welfare_staff):
        return Recipient.office
    text = (affiliation or "").strip()
    for r in OUTSIDE:
        if text == r.value or (r.ja and r.ja in text):
            return r
    for word, r in _AFFILIATION_WORDS.items():
        if word in text:
            return r
    return Recipient.minsei if role == Role.district_supporter else None


def parse_recipient(value: str) -> Recipient:
    """An outside recipient category from a code or label; ValueError otherwise."""
    r = Recipient.parse(value)
    if r == Recipient.office:
        raise ValueError("an outside recipient category (民生委員, 消防 …), not the office")
    return r


# ---- the answers in force ----

def consent_records(session: Session, person_ids: Iterable) -> list[ConsentRecord]:
    """Every answer of these people, oldest first, the blanket person.consent first of all (dated
    date.min, so any answer for a category wins over it)."""
    ids = list(person_ids)
    out: list[ConsentRecord] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for pid, blanket in session.exec(select(Person.id, Person.consent).where(Person.id.in_(chunk))).all():
            answer = {Consent.yes: ConsentAnswer.consented, Consent.no: ConsentAnswer.refused}.get(Consent(blanket))
            if answer is not None:
                out.extend(ConsentRecord(pid, r, answer, ConsentMethod.migrated, date.min) for r in OUTSIDE)
    rows = []
    for start in range(0, len(ids), CHUNK):
        rows.extend(session.exec(select(PersonConsent).where(PersonConsent.person_id.in_(ids[start:start + CHUNK]))).all())
    rows.sort(key=lambda r: (r.answered_on, r.recorded_at, str(r.id)))
    out.extend(ConsentRecord(r.person_id, Recipient(r.recipient), ConsentAnswer(r.answer), ConsentMethod(r.method),
                             r.answered_on) for r in rows)
    return out


def decide(session: Session, person_ids: list, recipient: Recipient, mode: Mode | str,
           ordinance: Ordinance | str) -> ShareDecision:
    """Which of `person_ids` (in order) a list for `recipient` may hold now."""
    return who_may_be_shared(person_ids, consent_records(session, person_ids), recipient, Mode(mode),
                             Ordinance(ordinance))


def _in_force(recipient: Recipient, answer: ConsentAnswer):
    """Ids of people whose latest answer for `recipient` is `answer`."""
    mine, later = aliased(PersonConsent), aliased(PersonConsent)
    newer = sa.or_(later.answered_on > mine.answered_on,
                   sa.and_(later.answered_on == mine.answered_on, later.recorded_at > mine.recorded_at),
                   sa.and_(later.answered_on == mine.answered_on, later.recorded_at == mine.recorded_at,
                           later.id > mine.id))
    superseded = select(later.id).where(later.person_id == mine.person_id, later.recipient == recipient.value, newer)
    return select(mine.person_id).where(mine.recipient == recipient.value, mine.answer == answer.value,
                                        ~sa.exists(superseded))


def shareable_clause(recipient: Optional[Recipient], ordinance: Ordinance | str):
    """The SQL form of the normal-mode rule for people (a WHERE clause on Person). Without a
    category, the blanket answer alone decides."""
    ordinance = Ordinance(ordinance)
    if recipient is None:
        return Person.consent == Consent.yes if ordinance == Ordinance.opt_in else Person.consent != Consent.no
    answered = select(PersonConsent.person_id).where(PersonConsent.recipient == recipient.value)
    if ordinance == Ordinance.opt_in:
        return sa.or_(Person.id.in_(_in_force(recipient, ConsentAnswer.consented)),
                      sa.and_(Person.id.not_in(answered), Person.consent == Consent.yes))
    return sa.and_(Person.id.not_in(_in_force(recipient, ConsentAnswer.refused)),
                   sa.or_(Person.id.in_(answered), Person.consent != Consent.no))


def held_by_consent(session: Session, p, ids: set, blanket_before: dict) -> set:
    """Of `ids`, those the normal-mode rule let this caller hold before a write of the person
    rows: answers per category are not in the person row (judged from the table, unchanged by the
    write); the blanket answer is judged as it was before the write (`blanket_before`: id → consent)."""
    if p.share_category is None:
        answered = set()
    else:
        answered = set(session.exec(select(PersonConsent.person_id).where(
            PersonConsent.person_id.in_(list(ids)), PersonConsent.recipient == p.share_category.value)).all())
    held = set()
    if answered:
        held = set(session.exec(select(Person.id).where(Person.id.in_(list(answered)),
                                                        shareable_clause(p.share_category, p.ordinance))).all())
    opt_in = Ordinance(p.ordinance) == Ordinance.opt_in
    for rid in ids - answered:
        blanket = blanket_before.get(rid)
        if (blanket == Consent.yes.value) if opt_in else (blanket != Consent.no.value):
            held.add(rid)
    return held


# ---- the handover record (提供記録) ----

def record_handover(session: Session, principal, recipient: Recipient, recipient_name: str, person_ids: Iterable,
                    medium: ShareMedium, what: str, today: date) -> ShareHandover:
    """Add a 提供記録 to the session (it commits with the caller's transaction)."""
    row = ShareHandover(recipient=recipient, recipient_name=(recipient_name or recipient.ja)[:200], handed_on=today,
                        person_ids=[str(i) for i in person_ids], mode=str(principal.mode), medium=medium,
                        what=what[:300], handed_by=principal.username, handed_by_id=principal.user_id)
    session.add(row)
    return row


def visible_people(session: Session, person_ids: Iterable, people_clauses: list) -> set:
    """Of these people, those the clauses let the caller see (all without clauses)."""
    ids = list({uuid.UUID(str(i)) for i in person_ids})
    if not people_clauses:
        return set(ids)
    out: set = set()
    for start in range(0, len(ids), 500):
        out |= set(session.exec(select(Person.id).where(Person.id.in_(ids[start:start + 500]), *people_clauses)).all())
    return out


def handovers(session: Session, people_clauses: list | None = None) -> list[Handover]:
    """Every 提供記録, oldest first. With `people_clauses` (several municipalities: the caller's
    register) a handover keeps only the caller's people and one naming none of them is left out:
    a handover is scoped through the people it names (one city's office made it from its list)."""
    rows = session.exec(select(ShareHandover).order_by(ShareHandover.handed_on, ShareHandover.recorded_at)).all()
    seen = visible_people(session, (i for r in rows for i in r.person_ids), people_clauses) if people_clauses else None
    out = []
    for r in rows:
        ids = frozenset(uuid.UUID(i) for i in r.person_ids)
        if seen is not None:
            ids = ids & seen
            if not ids:
                continue
        out.append(Handover(r.id, Recipient(r.recipient), r.recipient_name, r.handed_on, ids, Mode(r.mode),
                            r.handed_by, ShareMedium(r.medium)))
    return out


def holdings_report(session: Session, as_of: date, ordinance: Ordinance | str,
                    people_clauses: list | None = None) -> tuple[dict[str, Holdings], dict]:
    """Per recipient name: who they hold and who is to be retrieved as of `as_of`, and for each
    (recipient name, person) the day it was last handed over — of the caller's people only when
    `people_clauses` are given."""
    given = handovers(session, people_clauses)
    people = {pid for h in given for pid in h.person_ids}
    report = holdings(given, consent_records(session, list(people)), as_of, Ordinance(ordinance))
    last: dict = {}
    for h in given:
        if h.on <= as_of:
            for pid in h.person_ids:
                last[(h.recipient_name, pid)] = h.on
    return report, last


# ---- for whom a list, export or print is made ----

OFFICE_LINE = "庁内限り・同意のない方を含む（外部提供不可） / Office only: includes people who have not consented"


@dataclass(frozen=True)
class ShareTarget:
    """Who a list, export or print is for. The city office names an outside recipient (category and
    name) or makes it for its own use; a field user (民生委員 …) is the recipient themselves, their
    scope already holds only whom the rule allows (server/auth/policy.py: people_clauses)."""

    recipient: Optional[Recipient]   # Recipient.office, an outside category, or None (no category known)
    name: str
    mode: Mode
    ordinance: Ordinance
    by_office: bool

    @property
    def outside(self) -> bool:
        return self.recipient != Recipient.office

    @property
    def recorded(self) -> bool:
        """A handover record (提供記録) is written: an outside recipient with a known category."""
        return self.outside and self.recipient is not None

    def people_clause(self):
        """The extra WHERE on Person an office-made list for an outside recipient needs (normal mode)."""
        if self.by_office and self.outside and self.mode == Mode.normal:
            return shareable_clause(self.recipient, self.ordinance)
        return None

    @property
    def line(self) -> str:
        """What every page (or the top of the list) says about the sharing."""
        if not self.outside:
            return OFFICE_LINE if self.mode == Mode.normal else "庁内限り（災害時） / Office use only (disaster mode)"
        who = " ".join(x for x in ((self.recipient.ja if self.recipient else ""), self.name) if x)
        if self.mode == Mode.disaster:
            rule = "災害時のため同意の有無によらず掲載（法第49条の11第3項）"
        elif self.recipient is None:
            rule = "平常時：名簿情報の提供に同意した方のみ掲載"
        elif self.ordinance == Ordinance.opt_out:
            rule = "平常時：条例により、提供を拒否した方を除いて掲載"
        else:
            rule = "平常時：この提供先への提供に同意した方のみ掲載"
        return f"提供先: {who} · {rule}"


class TargetError(ValueError):
    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def target_for(principal, recipient: Optional[str] = None, recipient_name: Optional[str] = None) -> ShareTarget:
    """The target of a list made by `principal`: an office user names it (no recipient, or
    "office": the office's own use; else a category and the recipient's name, e.g. 東消防署);
    a field user is the recipient. TargetError (field errors) for a bad category or a missing name."""
    mode, ordinance = Mode(principal.mode), Ordinance(getattr(principal, "ordinance", "opt_in"))
    if not principal.is_city_office:
        return ShareTarget(principal.share_category, principal.username, mode, ordinance, False)
    raw = (recipient or "").strip()
    if not raw or raw == Recipient.office.value:
        return ShareTarget(Recipient.office, "", mode, ordinance, True)
    try:
        category = parse_recipient(raw)
    except ValueError:
        raise TargetError([{"field": "recipient", "message": "one of " + ", ".join(
            f"{r.value} ({r.ja})" for r in Recipient)}]) from None
    name = " ".join((recipient_name or "").split())
    if not name or len(name) > 200:
        raise TargetError([{"field": "recipient_name", "message":
                            "提供先の名称を入力してください（200文字以内） / the recipient's name (at most 200 characters)"}])
    return ShareTarget(category, name, mode, ordinance, True)
