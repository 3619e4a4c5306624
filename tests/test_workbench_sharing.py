"""Art. 49-11 sharing (server/domain/workbench/sharing.py): the rule by mode and ordinance,
consent records, handover records and per-recipient holdings."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.workbench.common import WorkbenchError
from server.domain.workbench.sharing import (Answer, ConsentRecord, Handover, Medium, Method, Ordinance, Recipient,
                                             check_handover, holdings, latest_answers, record_consent,
                                             who_may_be_shared)
from server.models.auth import Mode

TODAY = date(2026, 12, 1)
PEOPLE = ["P1", "P2", "P3", "P4"]


def rec(pid, recipient, answer, on, method=Method.written) -> ConsentRecord:
    return ConsentRecord(pid, recipient, answer, method, on)


# P1 consented to 消防 and 民生委員; P2 consented to 民生委員 only, refused 消防; P3 never asked;
# P4 consented to 消防, then withdrew (口頭) later.
CONSENTS = [rec("P1", Recipient.fire, Answer.consented, date(2025, 4, 1)),
            rec("P1", Recipient.minsei, Answer.consented, date(2025, 4, 1)),
            rec("P2", Recipient.minsei, Answer.consented, date(2025, 4, 2)),
            rec("P2", Recipient.fire, Answer.refused, date(2025, 4, 2)),
            rec("P4", Recipient.fire, Answer.consented, date(2025, 4, 3)),
            rec("P4", Recipient.fire, Answer.refused, date(2026, 6, 1), Method.oral)]


def test_normal_opt_in_only_consented_for_that_category():
    d = who_may_be_shared(PEOPLE, CONSENTS, Recipient.fire, Mode.normal)
    assert d.included == ("P1",) and d.excluded == ("P2", "P3", "P4") and not d.banner
    assert who_may_be_shared(PEOPLE, CONSENTS, Recipient.minsei, Mode.normal).included == ("P1", "P2")
    assert who_may_be_shared(PEOPLE, CONSENTS, Recipient.police, Mode.normal).included == ()


def test_normal_opt_out_everyone_but_refusals():
    d = who_may_be_shared(PEOPLE, CONSENTS, Recipient.fire, Mode.normal, Ordinance.opt_out)
    assert d.included == ("P1", "P3") and d.excluded == ("P2", "P4")
    assert d.banner  # P3 never answered: the list says it holds people without consent


def test_as_of_before_withdrawal():
    d = who_may_be_shared(PEOPLE, CONSENTS, Recipient.fire, Mode.normal, as_of=date(2026, 1, 1))
    assert d.included == ("P1", "P4")


def test_office_lists_everyone_with_banner():
    d = who_may_be_shared(PEOPLE, CONSENTS, Recipient.office, Mode.normal)
    assert d.included == tuple(PEOPLE) and d.banner and "同意のない方" in d.banner_text
    only_consented = who_may_be_shared(["P1", "P2"], CONSENTS, Recipient.office, Mode.normal)
    assert not only_consented.banner and only_consented.banner_text == ""


def test_disaster_mode_widens_to_everyone():
    d = who_may_be_shared(PEOPLE, CONSENTS, Recipient.jishubo, Mode.disaster)
    assert d.included == tuple(PEOPLE) and d.excluded == () and d.banner


def test_consent_date_in_future_refused():
    with pytest.raises(WorkbenchError) as exc:
        record_consent(CONSENTS, rec("P3", Recipient.fire, Answer.consented, date(2026, 12, 2)), TODAY)
    assert exc.value.codes == ("future_date",)
    added = record_consent(CONSENTS, rec("P3", Recipient.fire, Answer.consented, TODAY), TODAY)
    assert len(added) == len(CONSENTS) + 1


def test_office_consent_refused_as_meaningless():
    with pytest.raises(WorkbenchError) as exc:
        record_consent((), rec("P3", Recipient.office, Answer.consented, TODAY), TODAY)
    assert exc.value.codes == ("office_needs_no_consent",)


def test_latest_answer_wins_same_day_later_record():
    records = [rec("P1", Recipient.fire, Answer.consented, TODAY), rec("P1", Recipient.fire, Answer.refused, TODAY)]
    assert latest_answers(records)["P1"][Recipient.fire].answer == Answer.refused


def _handover(hid, on, people, recipient=Recipient.fire, name="府中消防署", mode=Mode.normal) -> Handover:
    return Handover(hid, recipient, name, on, frozenset(people), mode, "福祉課 佐藤", Medium.print)


def test_handover_checked_against_the_rule_on_its_day():
    assert check_handover(_handover("H1", date(2026, 1, 10), ["P1", "P4"]), CONSENTS, TODAY) == []
    problems = check_handover(_handover("H2", date(2026, 7, 1), ["P1", "P4"]), CONSENTS, TODAY)
    assert [p.code for p in problems] == ["not_shareable"]
    assert [p.code for p in check_handover(_handover("H3", date(2027, 1, 1), ["P1"]), CONSENTS, TODAY)] == ["future_date"]
    assert check_handover(_handover("H4", date(2026, 7, 1), PEOPLE, mode=Mode.disaster), CONSENTS, TODAY) == []


def test_holdings_per_recipient_minus_later_withdrawals():
    handovers = [_handover("H1", date(2026, 1, 10), ["P1", "P4"]),
                 _handover("H2", date(2026, 3, 1), ["P1", "P2"], Recipient.minsei, "民生委員 山田"),
                 _handover("H3", date(2027, 1, 1), ["P3"])]
    result = holdings(handovers, CONSENTS, TODAY)
    assert set(result) == {"府中消防署", "民生委員 山田"}
    fire = result["府中消防署"]
    assert fire.held == ("P1",) and fire.to_retrieve == ("P4",) and fire.handovers == ("H1",)
    assert result["民生委員 山田"].held == ("P1", "P2")
    # Before the withdrawal, the fire service held both.
    assert holdings(handovers, CONSENTS, date(2026, 5, 1))["府中消防署"].held == ("P1", "P4")


def test_consent_again_after_withdrawal_is_held_again():
    records = CONSENTS + [rec("P4", Recipient.fire, Answer.consented, date(2026, 8, 1))]
    assert holdings([_handover("H1", date(2026, 1, 10), ["P4"])], records, TODAY)["府中消防署"].held == ("P4",)
