"""The rules of matching, as plain functions: who needs a welfare shelter, which groups a person
belongs to, which shelter capabilities their care needs require, how urgent they are, and which
shelters may be used after an earthquake. docs/matching.md states the same rules in prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Optional

from ...models.vocab import CareNeed as N
from ...models.vocab import Capability as C
from ...models.vocab import Damage, OpenState, Reason, SafetyOutcome, SeismicClass, ShelterKind
from ...models.vocab import TargetGroup as G

WELFARE_KINDS = frozenset({ShelterKind.designated_welfare, ShelterKind.agreement_welfare})
WELFARE_GROUPS = frozenset({G.elderly, G.disabled, G.pregnant_infant, G.medical_care})
ELDERLY_AGE = 65

MEDICAL_NEEDS = frozenset({N.ventilator, N.power_dependent, N.oxygen, N.suction, N.dialysis})
DISABILITY_REASONS = frozenset({Reason.physical_disability, Reason.intellectual_disability,
                                Reason.mental_disability, Reason.intractable_disease})
DISABILITY_NEEDS = frozenset({N.intellectual, N.mental, N.hearing, N.visual})
FRAILTY_NEEDS = frozenset({N.bedridden, N.wheelchair, N.dementia, N.walking_aid})

# Care need → capabilities of which the shelter must have at least one.
REQUIRED_CAPABILITIES: dict[N, frozenset[C]] = {
    N.ventilator: frozenset({C.backup_power}),
    N.power_dependent: frozenset({C.backup_power}),
    N.suction: frozenset({C.backup_power}),             # electric aspirators
    N.oxygen: frozenset({C.oxygen, C.backup_power}),    # cylinders, or a concentrator on backup power
    N.dialysis: frozenset({C.dialysis_link}),
    N.wheelchair: frozenset({C.wheelchair_access}),
    N.bedridden: frozenset({C.care_beds}),
}

# Need levels: 0 is the most urgent. Placed first when places are short.
LEVELS = 4
URGENT_OUTCOMES = frozenset({SafetyOutcome.needs_help, SafetyOutcome.injured})


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def person_groups(reasons: Iterable[str], care_needs: Iterable[str], birth_date: Optional[date],
                  today: date) -> frozenset[G]:
    """The welfare-shelter target groups (受入対象者) a person belongs to; empty means a
    指定避難所 (general shelter) will do. A person may belong to several groups; a shelter
    that accepts any one of them may take the person."""
    reasons, needs = set(reasons), set(care_needs)
    older = birth_date is not None and age_on(birth_date, today) >= ELDERLY_AGE
    groups: set[G] = set()
    if reasons & {Reason.pregnancy, Reason.infant} or needs & {N.pregnancy, N.infant}:
        groups.add(G.pregnant_infant)
    if Reason.medical_care in reasons or needs & MEDICAL_NEEDS:
        groups.add(G.medical_care)
    if reasons & DISABILITY_REASONS or needs & DISABILITY_NEEDS:
        groups.add(G.disabled)
    if Reason.care_level_3plus in reasons or (older and (groups or needs & FRAILTY_NEEDS)):
        groups.add(G.elderly)
    return frozenset(groups)


def required_capabilities(care_needs: Iterable[str]) -> tuple[frozenset[C], ...]:
    """Each entry: a set of capabilities of which the shelter must have one. Sorted, so equal
    needs give equal tuples."""
    wanted = {REQUIRED_CAPABILITIES[N(n)] for n in care_needs if N(n) in REQUIRED_CAPABILITIES}
    return tuple(sorted(wanted, key=lambda s: sorted(s)))


def need_level(reasons: Iterable[str], care_needs: Iterable[str], groups: frozenset[G],
               latest_outcome: Optional[str] = None) -> int:
    """0 = life depends on power (ventilator, powered device); 1 = other medical care or
    bedridden; 2 = wheelchair, 要介護3以上, disability, pregnancy and infants, dementia;
    3 = everyone else. A latest 安否確認 of 要支援 or 負傷 makes a person one level more urgent."""
    reasons, needs = set(reasons), set(care_needs)
    if needs & {N.ventilator, N.power_dependent}:
        level = 0
    elif needs & {N.oxygen, N.suction, N.dialysis, N.bedridden} or Reason.medical_care in reasons:
        level = 1
    elif (needs & {N.wheelchair, N.dementia} or Reason.care_level_3plus in reasons
          or groups & {G.disabled, G.pregnant_infant}):
        level = 2
    else:
        level = 3
    if latest_outcome in URGENT_OUTCOMES:
        level = max(0, level - 1)
    return level


# ---- earthquakes: the JMA seismic intensity scale (気象庁震度階級) ----

# Class → lowest instrumental intensity (計測震度) of the class.
JMA_CLASSES: dict[str, float] = {"0": -10.0, "1": 0.5, "2": 1.5, "3": 2.5, "4": 3.5, "5-": 4.5, "5+": 5.0,
                                 "6-": 5.5, "6+": 6.0, "7": 6.5}
_ALIASES = {"5弱": "5-", "5強": "5+", "6弱": "6-", "6強": "6+", "5lower": "5-", "5upper": "5+",
            "6lower": "6-", "6upper": "6+"}


def parse_intensity(text: str | float | None) -> Optional[float]:
    """震度 as an instrumental intensity: '6-', '6弱', '6+', '6強', '7', or a number like 5.7.
    None or '' means no earthquake."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return _in_range(float(text))
    cleaned = text.strip().replace("震度", "").replace(" ", "").translate(str.maketrans("０１２３４５６７－＋．", "01234567-+."))
    if not cleaned:
        return None
    cleaned = _ALIASES.get(cleaned.lower(), cleaned)
    if cleaned in JMA_CLASSES:
        return JMA_CLASSES[cleaned]
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"unknown seismic intensity {text!r}; use 5-, 5+, 6-, 6+, 7 (or 5弱 … 6強) "
                         "or an instrumental intensity such as 5.7") from None
    return _in_range(value)


def _in_range(value: float) -> float:
    # a number given as a number is checked like one given as text (it was not: 12 passed)
    if not -3.0 <= value <= 7.5:
        raise ValueError("instrumental intensity must be between -3 and 7.5")
    return value


def intensity_label(value: Optional[float]) -> str:
    if value is None:
        return "none"
    label = "0"
    for name, low in JMA_CLASSES.items():
        if value >= low:
            label = name
    return label


# A status report saying the building is undamaged (被害なし) or lightly damaged (軽微): what makes a
# building of unverified resistance usable after strong shaking. 大きな被害 and 使用不可 never are.
INSPECTED_OK = frozenset({Damage.none, Damage.minor})
UNUSABLE_DAMAGE = frozenset({Damage.major, Damage.unusable})


@dataclass(frozen=True)
class SeismicRule:
    """After shaking of at least `min_intensity` (default 震度6弱), buildings of the excluded
    classes are not used: 旧耐震 never diagnosed, or with Is値 < 0.6. Buildings of the
    `unverified` classes (default 不明: every shelter imported from GSI until staff fill in
    its building data) are used only once a status report from the shelter says 被害なし or 軽微."""

    min_intensity: float = JMA_CLASSES["6-"]
    excluded: frozenset[SeismicClass] = field(default_factory=lambda: frozenset(
        {SeismicClass.old_undiagnosed, SeismicClass.old_high_risk, SeismicClass.old_some_risk}))
    unverified: frozenset[SeismicClass] = field(default_factory=lambda: frozenset({SeismicClass.unknown}))

    def strong(self, intensity: Optional[float]) -> bool:
        return intensity is not None and intensity >= self.min_intensity

    def excludes(self, seismic_class: str, intensity: Optional[float]) -> bool:
        return self.strong(intensity) and seismic_class in self.excluded

    def needs_inspection(self, seismic_class: str, intensity: Optional[float]) -> bool:
        return self.strong(intensity) and seismic_class in self.unverified

    def to_dict(self) -> dict:
        return {"min_intensity": self.min_intensity, "excluded": sorted(str(c) for c in self.excluded),
                "unverified": sorted(str(c) for c in self.unverified)}


# Why a shelter may not take anyone (MatchShelter.blocked), with labels for HQ (ja, en);
# docs/matching.md has the same list.
BLOCKED_LABELS: dict[str, tuple[str, str]] = {
    "damaged": ("建物被害（大きな被害・使用不可）", "damaged (major damage or unusable)"),
    "closed": ("閉鎖", "closed"),
    "not_requested": ("協定：開設要請前", "agreement shelter not yet asked to open"),
    "seismic": ("耐震基準により使用しない", "excluded by the seismic rule"),
    "seismic_unverified": ("耐震性不明：被害なし・軽微の報告待ち", "unknown resistance: awaiting a report of no or minor damage"),
}
BLOCKED_REASONS = tuple(BLOCKED_LABELS)

# Why a person was placed at their plan's alternate (第二避難先) rather than its destination
# (Assignment.because), with labels (ja, en); docs/matching.md has the same list.
DESTINATION_UNUSED_LABELS: dict[str, tuple[str, str]] = {
    **BLOCKED_LABELS,
    "full": ("第一避難先が満員", "the destination is full"),
    "unsuitable": ("第一避難先が受入対象・設備に合わない", "the destination does not take the person's group or needs"),
    "no_destination": ("第一避難先が福祉避難所でない（未設定を含む）", "no welfare shelter as the destination"),
}


def shelter_state(kind: str, open_state: Optional[str], damage: Optional[str], seismic_class: str,
                  intensity: Optional[float], rule: SeismicRule, opened_on_request: bool = False) -> Optional[str]:
    """Why a shelter may not take anyone, or None when it may. Open or openable means any state
    but 閉鎖 (closed); a shelter with no report counts as not yet open (openable).

    - `damaged`: the latest report says 大きな被害 or 使用不可, whatever the building's class;
    - `closed`: the latest report says 閉鎖;
    - `not_requested`: a 協定福祉避難所 opens only on the city's request, and HQ has not marked
      it opened (`opened_on_request`);
    - `seismic`: strong shaking and a building class the rule excludes;
    - `seismic_unverified`: strong shaking, a building of unknown resistance, and no report yet
      that it is undamaged or lightly damaged (`damage` is the latest report's, None without one).
    """
    if kind not in WELFARE_KINDS:
        return "not_welfare"
    if damage in UNUSABLE_DAMAGE:
        return "damaged"
    if open_state == OpenState.closed:
        return "closed"
    if kind == ShelterKind.agreement_welfare and not opened_on_request:
        return "not_requested"
    if rule.excludes(seismic_class, intensity):
        return "seismic"
    if rule.needs_inspection(seismic_class, intensity) and damage not in INSPECTED_OK:
        return "seismic_unverified"
    return None


def room_left(capacity: Optional[int], open_state: Optional[str], occupancy: int) -> int:
    """Places left: capacity minus the reported occupancy; none when reported 満員 (full), and
    none (not negative) when more people are there than the capacity (overflow)."""
    if capacity is None or open_state == OpenState.full:
        return 0
    return max(0, capacity - occupancy)


# A person whose plan says a family carer (介助者) comes along takes two places.
CARER_PLACES = 2


def places_needed(carer_accompanies: bool | None) -> int:
    return CARER_PLACES if carer_accompanies else 1
