"""What "confirmed" (安否確認済) means — the one definition, used by the HQ map's tallies
(server/domain/hq_map.py, and through `confirmed_statuses` by the map page) and by the drill
figures (server/drills/runner.py). docs/hq-map.md and docs/drills.md state it in words.

A person is **confirmed** when their latest 安否確認 (by observed time) says they were reached
and their state is known: 在宅・無事, 避難済, 要支援 or 負傷. 連絡つかず (not reachable) is a
check that did *not* confirm anything — the person is still unconfirmed, like one never
checked; both are the gaps HQ has to close. Being confirmed once does not last: a later
連絡つかず makes the person unconfirmed again, because the latest check is what HQ acts on.
"""

from __future__ import annotations

from typing import Optional

from ..models.vocab import SafetyOutcome

CONFIRMED_OUTCOMES: frozenset[SafetyOutcome] = frozenset({
    SafetyOutcome.safe_home, SafetyOutcome.evacuated, SafetyOutcome.needs_help, SafetyOutcome.injured})


def is_confirmed(latest_outcome: Optional[str]) -> bool:
    """Whether a person whose latest 安否確認 has this outcome (None: never checked) is confirmed."""
    return latest_outcome is not None and latest_outcome in CONFIRMED_OUTCOMES
