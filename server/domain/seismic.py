"""Earthquake resistance (耐震) of shelter buildings.

新耐震基準 applies to buildings whose 建築確認 (building permit) is on or after 1981-06-01.
For older buildings a 耐震診断 gives an Is値: < 0.3 high collapse risk, 0.3–0.6 some risk,
≥ 0.6 low risk; a 耐震改修 (retrofit) brings the building up to standard.
"""

from __future__ import annotations

from datetime import date

from ..models.vocab import SeismicClass

NEW_STANDARD_FROM = date(1981, 6, 1)
IS_LOW_RISK = 0.6
IS_SOME_RISK = 0.3


def seismic_class(permit_date: date | None, diagnosis_done: bool | None,
                  is_value: float | None, retrofit_done: bool | None) -> SeismicClass:
    """Derive the seismic class from what is known about the building."""
    if permit_date is not None and permit_date >= NEW_STANDARD_FROM:
        return SeismicClass.new_standard
    if retrofit_done:
        return SeismicClass.old_retrofitted
    if is_value is not None:
        if is_value >= IS_LOW_RISK:
            return SeismicClass.old_low_risk
        if is_value >= IS_SOME_RISK:
            return SeismicClass.old_some_risk
        return SeismicClass.old_high_risk
    if permit_date is None:
        return SeismicClass.unknown
    return SeismicClass.old_undiagnosed
