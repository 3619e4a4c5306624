"""The inputs every workbench module shares: person, plan and shelter facts, and the error.

Structured problems (code + Japanese + English + field + severity) and the refusal that carries
them are shared with the DWAT layer (server/domain/problems.py): the API answers both with the
same 4xx field-error shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from typing import Hashable, Iterable, Optional

from ...models.vocab import Consent, PlanStatus, SeismicClass, ShelterKind
from ..problems import ERROR, WARNING, Problem, Refused, error, warning
from ..problems import raise_errors as _raise_errors
from ..matching.rules import ELDERLY_AGE, age_on
from ..textnorm import normalize_text

__all__ = ["ERROR", "WARNING", "Problem", "error", "warning", "WorkbenchError", "raise_errors", "Care",
           "CARE_LABELS", "PlanSupporter", "Plan", "PersonFacts", "ShelterFacts", "is_elderly", "name_key",
           "check_not_future"]


class WorkbenchError(Refused):
    """Raised by every workbench function that refuses its input; carries every problem."""


def raise_errors(problems: Iterable[Problem]) -> None:
    """Raise WorkbenchError with the errors among `problems` (warnings alone pass)."""
    _raise_errors(problems, WorkbenchError)


def check_not_future(value: Optional[date], today: date, field: str = "consent_date") -> list[Problem]:
    """A consent (or any record) dated after today cannot have happened: refused, not clamped."""
    if value is not None and value > today:
        return [error("future_date", "未来の日付は記録できません", "a date in the future cannot be recorded", field)]
    return []


@dataclass(frozen=True)
class Care:
    """配慮事項 — the same sub-fields as models.plans.CareNotes (the diff names each one)."""

    walking_ability: str = ""
    how_to_help: str = ""
    items_to_carry: str = ""
    doctor: str = ""
    conditions: str = ""
    allergies: str = ""
    blood_type: str = ""
    usual_location: str = ""
    building_structure: str = ""

    def items(self) -> list[tuple[str, str]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


CARE_LABELS = {"walking_ability": "歩行の状況", "how_to_help": "支援の方法", "items_to_carry": "持ち出す物",
               "doctor": "かかりつけ医", "conditions": "病名・状態", "allergies": "アレルギー",
               "blood_type": "血液型", "usual_location": "普段いる場所", "building_structure": "建物の構造"}


@dataclass(frozen=True)
class PlanSupporter:
    """A supporter as named on a plan. `supporter_id` links a supporter-register entry once the
    free text has been migrated (supporters.py); None for free text not yet linked."""

    name: str
    relation: str = ""
    address: str = ""
    phone: str = ""
    supporter_id: Optional[Hashable] = None


@dataclass(frozen=True)
class Plan:
    """個別避難計画 — the fields of models.plans.PlanFields as plain values."""

    id: Hashable
    person_id: Hashable
    status: PlanStatus = PlanStatus.not_started
    supporters: tuple[PlanSupporter, ...] = ()
    destination_id: Optional[Hashable] = None
    alternate_id: Optional[Hashable] = None
    route_note: str = ""
    timing_note: str = ""
    care: Care = Care()
    consent: bool = False
    consent_date: Optional[date] = None
    author: str = ""
    review_due: Optional[date] = None
    carer_accompanies: bool = False  # 介助者が同行: the carer takes a place at the shelter too


@dataclass(frozen=True)
class PersonFacts:
    """What the workbench needs to know about a registered person (models.people.Person).
    `district_id` is the 町丁目, `welfare_area_id` its 福祉圏域 (the district's parent)."""

    id: Hashable
    register_no: str = ""
    birth_date: Optional[date] = None
    reasons: frozenset[str] = frozenset()
    care_needs: frozenset[str] = frozenset()
    address: str = ""
    district_id: Optional[Hashable] = None
    welfare_area_id: Optional[Hashable] = None
    minsei_iin: str = ""
    consent: Consent = Consent.not_asked
    consent_date: Optional[date] = None
    lon: Optional[float] = None
    lat: Optional[float] = None


@dataclass(frozen=True)
class ShelterFacts:
    """A shelter as plan rules see it. `hazard_areas` names the hazard areas (浸水想定区域,
    土砂災害警戒区域 …) the building lies in, precomputed by the caller (server/importers/hazards)."""

    id: Hashable
    name: str = ""
    common_id: Optional[str] = None
    kind: ShelterKind = ShelterKind.designated
    target_groups: frozenset[str] = frozenset()
    capabilities: frozenset[str] = frozenset()
    seismic_class: SeismicClass = SeismicClass.unknown
    lon: Optional[float] = None
    lat: Optional[float] = None
    hazard_areas: tuple[str, ...] = ()


def is_elderly(birth_date: Optional[date], today: date, flag: Optional[bool] = None) -> bool:
    """65 or over on `today` (matching's ELDERLY_AGE); an explicit flag wins when no birth date."""
    if birth_date is not None:
        return age_on(birth_date, today) >= ELDERLY_AGE
    return bool(flag)


_SPACES_RE = re.compile(r"[\s\u3000]+")


def name_key(name: str) -> str:
    """A name compared without spaces or width: 山田　太郎, 山田 太郎 and 山田太郎 are one key."""
    return _SPACES_RE.sub("", normalize_text(name))
