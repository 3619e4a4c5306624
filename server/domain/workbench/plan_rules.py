"""Plan authoring rules (個別避難計画): completeness and status, destination eligibility,
ranked shelter options with walking distance, and the field-level diff between versions.

Why these rules:
- "作成済" (done) is what the national survey counts; a plan counts only when it can be
  carried out: somewhere to go (destination), someone to help (≥ 1 supporter) and the
  person's consent on record (consent with its date — a consent without a date cannot be
  traced). A done plan that loses one of these drops back to 作成中 with a warning rather
  than being refused: staff must be able to record that a supporter left.
- Destinations are chosen from shelters that accept the person: the same acceptance rules as
  matching (server/domain/matching/rules.py), so the plan and the disaster-day placement agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Callable, Hashable, Iterable, Optional, Sequence

from ...models.vocab import Capability, PlanStatus, SeismicClass, ShelterKind, TargetGroup
from ..geo import Zone, to_plane, zone_for
from ..matching.propose import MatchParams
from ..matching.rules import WELFARE_KINDS, person_groups, required_capabilities
from .common import (CARE_LABELS, ERROR, Plan, PersonFacts, PlanSupporter, Problem, ShelterFacts,
                     check_not_future, error, name_key, raise_errors, warning)

MAX_SUPPORTERS = 3
# 旧耐震 buildings never diagnosed, or diagnosed with a high collapse risk, are refused as a
# planned destination; "some risk" and "unknown" are shown as warnings for staff to judge.
REFUSED_SEISMIC = frozenset({SeismicClass.old_undiagnosed, SeismicClass.old_high_risk})
WARNED_SEISMIC = frozenset({SeismicClass.old_some_risk, SeismicClass.unknown})
DETOUR = MatchParams().detour  # the same straight-line → walking factor as matching


# ---- completeness and status -------------------------------------------------------------

def missing_for_done(plan: Plan) -> list[Problem]:
    """What a plan lacks to count as done (作成済), as warnings naming each missing item."""
    missing = []
    if plan.destination_id is None:
        missing.append(warning("missing_destination", "避難先が未設定です", "no destination", "destination_id"))
    if not plan.supporters:
        missing.append(warning("missing_supporter", "避難支援等実施者が一人もいません", "no supporter", "supporters"))
    if not plan.consent or plan.consent_date is None:
        missing.append(warning("missing_consent", "本人の同意（同意日）の記録がありません",
                               "no consent record (consent with its date)", "consent"))
    return missing


def is_complete(plan: Plan) -> bool:
    return not missing_for_done(plan)


@dataclass(frozen=True)
class SaveCheck:
    """The plan as it will be stored (status possibly lowered) and the warnings to show."""

    plan: Plan
    problems: tuple[Problem, ...]


def check_save(old: Optional[Plan], new: Plan, today: date) -> SaveCheck:
    """Check a save of `new` over `old` (None for a new plan). Raise WorkbenchError for:
    a future consent date, more than three supporters, alternate == destination, and asking
    to mark an incomplete plan done. A plan that was done and loses a required item drops to
    作成中 (drafting) with warnings — e.g. removing its only supporter."""
    problems: list[Problem] = list(check_not_future(new.consent_date, today))
    if len(new.supporters) > MAX_SUPPORTERS:
        problems.append(error("too_many_supporters", "避難支援等実施者は3人までです", "at most three supporters",
                              "supporters"))
    if new.alternate_id is not None and new.alternate_id == new.destination_id:
        problems.append(error("alternate_is_destination", "第二避難先は避難先と別の施設にしてください",
                              "the alternate must differ from the destination", "alternate_shelter_id"))
    for i, s in enumerate(new.supporters):
        if not name_key(s.name):
            problems.append(error("supporter_without_name", "支援者の氏名が空です", "a supporter has no name",
                                  f"supporters[{i}].name"))
    missing = missing_for_done(new)
    if old is not None and old.supporters and not new.supporters:
        problems.append(warning("last_supporter_removed", "最後の避難支援等実施者を外しました。計画は作成済ではなくなります",
                                "the plan's only supporter was removed; the plan is no longer done", "supporters"))
    plan = new
    if new.status == PlanStatus.done and missing:
        if old is not None and old.status == PlanStatus.done:
            plan = replace(new, status=PlanStatus.drafting)
            problems.append(warning("dropped_from_done", "必要な項目が欠けたため作成中に戻しました",
                                    "a required item is missing: status set back to drafting", "status"))
        else:
            problems.append(error("incomplete_for_done",
                                  "作成済にするには次が必要です: " + "、".join(p.ja for p in missing),
                                  "done needs: " + "; ".join(p.en for p in missing), "status"))
    raise_errors(problems)
    if plan.status != PlanStatus.done:
        problems.extend(missing)
    return SaveCheck(plan, tuple(problems))


# ---- destination eligibility -------------------------------------------------------------

@dataclass(frozen=True)
class Eligibility:
    """Whether a shelter may be the person's destination: errors refuse, warnings are shown."""

    shelter_id: Hashable
    problems: tuple[Problem, ...]

    @property
    def allowed(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)


def person_profile(person: PersonFacts, today: date) -> tuple[frozenset, tuple]:
    """Target groups and required capabilities, by matching's rules."""
    return (person_groups(person.reasons, person.care_needs, person.birth_date, today),
            required_capabilities(person.care_needs))


def destination_problems(person: PersonFacts, shelter: ShelterFacts, today: date, *,
                         hazard: Optional[Callable[[ShelterFacts], Iterable[str]]] = None,
                         profile: Optional[tuple] = None, field: str = "destination_shelter_id") -> list[Problem]:
    """Why `shelter` may not (error) or should be questioned (warning) as `person`'s destination.

    - a welfare shelter must accept one of the person's target groups (受入対象者);
    - any shelter must have, for each care need that requires one, a matching capability
      (oxygen or backup power for home oxygen, backup power for a ventilator …);
    - 旧耐震 never diagnosed (or Is値 < 0.3) is refused; Is値 0.3–0.6 or unknown warned;
    - inside a hazard area is refused (`hazard` returns area names; default: the shelter's
      precomputed `hazard_areas`);
    - a 協定福祉避難所 opens only on the city's request: not for direct evacuation (warning);
    - a 指定避難所 for someone in a welfare group: allowed, with a warning (transfer later).
    """
    groups, requires = profile or person_profile(person, today)
    out: list[Problem] = []
    if shelter.kind in WELFARE_KINDS and groups and not (groups & shelter.target_groups):
        wanted = "、".join(TargetGroup(g).ja for g in sorted(groups))
        out.append(error("does_not_accept_group", f"この施設は受入対象者（{wanted}）を受け入れていません",
                         f"the shelter does not accept the person's groups ({', '.join(sorted(groups))})", field))
    if shelter.kind in WELFARE_KINDS and not groups:
        out.append(warning("welfare_not_needed", "福祉避難所の対象者ではありません（指定避難所で足ります）",
                           "the person is in no welfare group; a general shelter will do", field))
    lacking = [need for need in requires if not (need & shelter.capabilities)]
    if lacking:
        ja = "、".join("または".join(Capability(c).ja for c in sorted(need)) for need in lacking)
        en = "; ".join(" or ".join(sorted(need)) for need in lacking)
        out.append(error("lacks_capability", f"必要な設備がありません（{ja}）",
                         f"the shelter lacks a required capability ({en})", field))
    if shelter.seismic_class in REFUSED_SEISMIC:
        out.append(error("seismic_unsafe", f"旧耐震で安全が確認されていません（{SeismicClass(shelter.seismic_class).ja}）",
                         "old-standard building not shown to be safe (undiagnosed or Is < 0.3)", field))
    elif shelter.seismic_class in WARNED_SEISMIC:
        out.append(warning("seismic_doubtful", f"耐震性に注意（{SeismicClass(shelter.seismic_class).ja}）",
                           "earthquake resistance doubtful or unknown", field))
    areas = tuple(hazard(shelter)) if hazard else shelter.hazard_areas
    if areas:
        out.append(error("in_hazard_area", f"災害危険区域内にあります（{'、'.join(areas)}）",
                         f"inside a hazard area ({', '.join(areas)})", field))
    if shelter.kind == ShelterKind.agreement_welfare:
        out.append(warning("agreement_not_direct", "協定福祉避難所は市の要請で開設されるため、直接避難先には向きません",
                           "an agreement shelter opens on the city's request: not for direct evacuation", field))
    if shelter.kind == ShelterKind.designated and groups:
        out.append(warning("general_for_welfare", "指定避難所です。福祉避難所へは後から移ることになります",
                           "a general shelter: the person moves to a welfare shelter later", field))
    return out


def border_problem(person_municipality: str, shelter_municipality: str, accepts_from: Iterable[str], *,
                   field: str = "destination_shelter_id") -> Optional[Problem]:
    """広域避難: a shelter of another municipality is a destination only when it accepts the
    person's municipality (受入協定, Shelter.accepts_from). The one rule for every plan write —
    the JSON API and the field app's sync (records layer), the workbench form and the plan CSV
    import. The caller applies it only when the installation holds several municipalities."""
    if shelter_municipality == person_municipality or person_municipality in set(accepts_from or ()):
        return None
    return error("other_municipality", "他の市区町村の避難所で、この方の市区町村からの受入れ（受入協定）がありません",
                 "a shelter of another municipality that does not accept the person's municipality", field)


def check_destination(person: PersonFacts, shelter: ShelterFacts, today: date, **kw) -> Eligibility:
    return Eligibility(shelter.id, tuple(destination_problems(person, shelter, today, **kw)))


def refuse_destination(person: PersonFacts, shelter: ShelterFacts, today: date, **kw) -> list[Problem]:
    """Raise WorkbenchError when the shelter may not be the destination; return the warnings."""
    problems = destination_problems(person, shelter, today, **kw)
    raise_errors(problems)
    return problems


# ---- ranked shelter options --------------------------------------------------------------

@dataclass(frozen=True)
class ShelterOption:
    shelter_id: Hashable
    name: str
    walking_m: Optional[int]
    eligibility: Eligibility


def walking_metres(person: PersonFacts, shelters: Sequence[ShelterFacts], zone: Optional[Zone] = None,
                   municipality_code: Optional[str] = None) -> list[Optional[int]]:
    """Straight line in the plane rectangular zone × matching's detour factor, whole metres;
    None where either end has no location. Never computed in degrees (server/domain/geo.py)."""
    if person.lon is None or person.lat is None:
        return [None] * len(shelters)
    zone = zone or zone_for(person.lon, person.lat, municipality_code)
    located = [s for s in shelters if s.lon is not None and s.lat is not None]
    if not located:
        return [None] * len(shelters)
    xy = to_plane([person.lon] + [s.lon for s in located], [person.lat] + [s.lat for s in located], zone)
    dist = {s.id: int(round(math.hypot(*(xy[i + 1] - xy[0])) * DETOUR)) for i, s in enumerate(located)}
    return [dist.get(s.id) for s in shelters]


def shelter_options(person: PersonFacts, shelters: Sequence[ShelterFacts], today: date, *,
                    hazard=None, include_refused: bool = True, zone: Optional[Zone] = None) -> list[ShelterOption]:
    """The shelters for the destination picker: allowed ones first, then fewer warnings, then
    the nearest; refused ones last (with their reasons) so staff see why a nearby one is out."""
    profile = person_profile(person, today)
    metres = walking_metres(person, shelters, zone)
    options = [ShelterOption(s.id, s.name, m, Eligibility(s.id, tuple(destination_problems(
        person, s, today, hazard=hazard, profile=profile)))) for s, m in zip(shelters, metres)]
    if not include_refused:
        options = [o for o in options if o.eligibility.allowed]
    return sorted(options, key=lambda o: (not o.eligibility.allowed, len(o.eligibility.problems),
                                          o.walking_m is None, o.walking_m or 0, o.name, str(o.shelter_id)))


# ---- version diff ------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One field-level change. `path` is e.g. "destination_id", "care.allergies",
    "supporters[山田花子].phone"; kind is added / removed / changed."""

    path: str
    kind: str
    before: object = None
    after: object = None


_SUPPORTER_FIELDS = ("name", "relation", "address", "phone", "supporter_id")
_PLAIN = tuple(f.name for f in fields(Plan) if f.name not in ("id", "person_id", "supporters", "care"))


def _supporter_key(s: PlanSupporter) -> object:
    return ("id", s.supporter_id) if s.supporter_id is not None else ("name", name_key(s.name))


def _keyed(supporters) -> dict:
    """Key → supporter; a second supporter with the same key (two 山田 花子 without register
    ids) gets the key plus its occurrence, so neither hides the other."""
    out: dict = {}
    for s in supporters:
        key, n = _supporter_key(s), 0
        while (key, n) in out:
            n += 1
        out[(key, n)] = s
    return out


def plan_diff(old: Plan, new: Plan) -> list[Change]:
    """Field-level changes from `old` to `new` for the version history screen. Supporters are
    paired by register id, else by normalised name, so a reordered list shows no change and a
    changed phone shows as one sub-field change rather than a removal and an addition."""
    changes = [Change(f, "changed", getattr(old, f), getattr(new, f)) for f in _PLAIN
               if getattr(old, f) != getattr(new, f)]
    for (name, before), (_, after) in zip(old.care.items(), new.care.items()):
        if before != after:
            changes.append(Change(f"care.{name}", "added" if not before else "removed" if not after else "changed",
                                  before, after))
    olds, news = _keyed(old.supporters), _keyed(new.supporters)
    for key, s in olds.items():
        label = f"supporters[{s.name}]"
        if key not in news:
            changes.append(Change(label, "removed", s, None))
            continue
        for f in _SUPPORTER_FIELDS:
            if getattr(s, f) != getattr(news[key], f):
                changes.append(Change(f"{label}.{f}", "changed", getattr(s, f), getattr(news[key], f)))
    changes.extend(Change(f"supporters[{s.name}]", "added", None, s) for key, s in news.items() if key not in olds)
    return changes


def change_label(change: Change) -> str:
    """The Japanese label of a change's field, for the history screen."""
    head = change.path.split(".")[-1] if change.path.startswith("care.") else change.path
    return CARE_LABELS.get(head, _LABELS.get(change.path.split("[")[0].split(".")[0], change.path))


_LABELS = {"status": "状態", "destination_id": "避難先", "alternate_id": "第二避難先", "route_note": "避難経路",
           "timing_note": "避難のタイミング", "consent": "同意", "consent_date": "同意日", "author": "作成者",
           "review_due": "次回見直し日", "supporters": "避難支援等実施者", "carer_accompanies": "介助者の同行"}
