"""Lawful sharing of the register in normal times (災害対策基本法 Art. 49-11).

Rules:
- Normal mode, outside recipient (消防, 警察, 民生委員, 社協, 自主防災組織, 自治会): with the
  default ordinance setting (`opt_in`) a list contains only people whose latest answer for
  that recipient category is 同意; where the city's ordinance makes sharing default-on
  (`opt_out`), everyone except those whose latest answer is 不同意 (refusal).
- The office itself (市役所内部) may list everyone, but the list says so on every page: the
  decision carries `banner=True` when it includes anyone who has not consented to sharing.
- Disaster mode (Art. 49-11(3)): everyone, whatever their answer — as the access rules do
  today (server/auth/principal.py: consent_only applies in normal mode only).
- Consent is recorded per recipient category with its date and method (書面, 口頭); a
  consent dated in the future is refused. The latest record (by date, then by order
  given) is the person's answer: a later refusal withdraws an earlier consent.
- Every handover to a recipient is a 提供記録; `holdings` says which people each recipient
  holds as of a day, minus people who withdrew after it was handed over (to be retrieved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Hashable, Iterable, Mapping, Optional, Sequence

from ...models.auth import Mode
from ...models.vocab import ConsentAnswer, ConsentMethod, Ordinance, Recipient, ShareMedium
from .common import Problem, check_not_future, error, raise_errors


# The vocabularies live with the models (the consent and handover tables store them).
Answer = ConsentAnswer
Method = ConsentMethod
Medium = ShareMedium

OUTSIDE = tuple(r for r in Recipient if r != Recipient.office)


@dataclass(frozen=True)
class ConsentRecord:
    person_id: Hashable
    recipient: Recipient
    answer: Answer
    method: Method
    on: date


def check_consent(record: ConsentRecord, today: date) -> list[Problem]:
    """Refuse a record dated in the future and one answered for the office (which needs none)."""
    problems = check_not_future(record.on, today, "on")
    if record.recipient == Recipient.office:
        problems.append(error("office_needs_no_consent", "市役所内部の利用に同意は不要です",
                              "the office's own use needs no consent", "recipient"))
    return problems


def record_consent(records: Sequence[ConsentRecord], record: ConsentRecord, today: date) -> tuple[ConsentRecord, ...]:
    """The records with `record` added; WorkbenchError (nothing added) when it is refused."""
    raise_errors(check_consent(record, today))
    return tuple(records) + (record,)


def latest_answers(records: Iterable[ConsentRecord], as_of: Optional[date] = None
                   ) -> dict[Hashable, dict[Recipient, ConsentRecord]]:
    """person → recipient → the record in force (latest by date; for equal dates the later
    in the sequence). With `as_of`, records after that day are ignored."""
    out: dict[Hashable, dict[Recipient, ConsentRecord]] = {}
    for r in records:
        if as_of is not None and r.on > as_of:
            continue
        current = out.setdefault(r.person_id, {}).get(r.recipient)
        if current is None or r.on >= current.on:
            out[r.person_id][r.recipient] = r
    return out


@dataclass(frozen=True)
class ShareDecision:
    recipient: Recipient
    mode: Mode
    ordinance: Ordinance
    included: tuple
    excluded: tuple
    banner: bool          # the list contains people who have not consented: say so on every page

    @property
    def banner_text(self) -> str:
        return "同意のない方を含みます（庁内利用に限る）" if self.banner else ""


def _consented_somewhere(answers: Mapping[Recipient, ConsentRecord]) -> bool:
    return any(r.answer == Answer.consented for r in answers.values())


def who_may_be_shared(people: Sequence[Hashable], consents: Iterable[ConsentRecord], recipient: Recipient,
                      mode: Mode, ordinance: Ordinance = Ordinance.opt_in, *, as_of: Optional[date] = None
                      ) -> ShareDecision:
    """Which of `people` (ids, in list order) a list, export or print for `recipient` may hold.
    See the module docstring for the rules; the banner is set for the office's own lists and
    for disaster-mode lists whenever someone included has not consented."""
    answers = latest_answers(consents, as_of)
    included, excluded = [], []
    for pid in people:
        mine = answers.get(pid, {})
        if recipient == Recipient.office or mode == Mode.disaster:
            ok = True
        elif ordinance == Ordinance.opt_out:
            ok = not (recipient in mine and mine[recipient].answer == Answer.refused)
        else:
            ok = recipient in mine and mine[recipient].answer == Answer.consented
        (included if ok else excluded).append(pid)
    if recipient == Recipient.office:
        banner = any(not _consented_somewhere(answers.get(pid, {})) for pid in included)
    else:
        banner = any(not (recipient in answers.get(pid, {}) and answers[pid][recipient].answer == Answer.consented)
                     for pid in included)
    return ShareDecision(recipient, mode, ordinance, tuple(included), tuple(excluded), banner)


@dataclass(frozen=True)
class Handover:
    """提供記録: what register data was handed to whom, when, under which mode, by whom."""

    id: Hashable
    recipient: Recipient
    recipient_name: str          # e.g. 民生委員 山田花子, 東消防署
    on: date
    person_ids: frozenset
    mode: Mode
    handed_by: str
    medium: Medium = Medium.list


def check_handover(h: Handover, consents: Iterable[ConsentRecord], today: date,
                   ordinance: Ordinance = Ordinance.opt_in) -> list[Problem]:
    """A handover dated in the future, or naming people the rule did not allow on that day."""
    problems = check_not_future(h.on, today, "on")
    allowed = set(who_may_be_shared(sorted(h.person_ids, key=str), consents, h.recipient, h.mode, ordinance,
                                    as_of=h.on).included)
    if h.person_ids - allowed:
        problems.append(error("not_shareable", f"同意のない方が{len(h.person_ids - allowed)}人含まれています",
                              f"{len(h.person_ids - allowed)} people may not be shared with this recipient",
                              "person_ids"))
    return problems


@dataclass(frozen=True)
class Holdings:
    recipient_name: str
    recipient: Recipient
    held: tuple                  # people the recipient holds as of the day
    to_retrieve: tuple           # handed over, then withdrew (不同意 after the handover)
    handovers: tuple             # the 提供記録 ids, oldest first


def holdings(handovers: Iterable[Handover], consents: Iterable[ConsentRecord], as_of: date,
             ordinance: Ordinance = Ordinance.opt_in) -> dict[str, Holdings]:
    """Per recipient (by name): who they hold as of `as_of` from the handovers up to that
    day, minus people whose answer for that category turned to 不同意 after the handover
    (shown as to_retrieve). Under opt_out a later refusal withdraws in the same way."""
    records = list(consents)
    by_person: dict[Hashable, list[ConsentRecord]] = {}
    for r in sorted(records, key=lambda r: r.on):  # stable: equal dates keep the given order
        if r.on <= as_of:
            by_person.setdefault(r.person_id, []).append(r)
    grouped: dict[str, list[Handover]] = {}
    for h in sorted(handovers, key=lambda h: (h.on, str(h.id))):
        if h.on <= as_of:
            grouped.setdefault(h.recipient_name, []).append(h)
    out = {}
    for name, hs in grouped.items():
        last_given: dict[Hashable, date] = {}
        for h in hs:
            for pid in h.person_ids:
                last_given[pid] = h.on
        held, withdrawn = [], []
        category = hs[-1].recipient
        for pid, given in sorted(last_given.items(), key=lambda kv: str(kv[0])):
            later = [r for r in by_person.get(pid, ()) if r.recipient == category and r.on >= given]
            if later and later[-1].answer == Answer.refused and category != Recipient.office:
                withdrawn.append(pid)
            else:
                held.append(pid)
        out[name] = Holdings(name, category, tuple(held), tuple(withdrawn), tuple(h.id for h in hs))
    return out
