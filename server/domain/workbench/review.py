"""The review cycle (見直し): overdue reviews, and the changes that flag a plan 要見直し.

Why automatic flags: a plan is only as good as the facts it was made on. When the person's
needs, address or reasons change, when a supporter leaves or is now named on too many plans,
or when the destination's earthquake class, kind or target groups change, the plan may no
longer work — staff must look at it again. Only plans marked done (作成済) change status to
要見直し; a plan still being drafted keeps its status but the reasons are reported, so
nothing half-written is mistaken for reviewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Hashable, Iterable, Mapping, Optional, Sequence

from ...models.vocab import PlanStatus
from ..textnorm import normalize_address
from .common import Plan, PersonFacts, ShelterFacts
from .supporters import OVERLOAD_THRESHOLD, SupporterEntry, threshold_for


@dataclass(frozen=True)
class Overdue:
    plan_id: Hashable
    person_id: Hashable
    review_due: Optional[date]
    days_overdue: Optional[int]  # None: no review date at all


def overdue_reviews(plans: Iterable[Plan], today: date, *, include_undated: bool = True) -> list[Overdue]:
    """Plans whose 次回見直し日 is before `today` (due today is not yet overdue), most overdue
    first; with `include_undated`, done plans without any review date come last — a done plan
    that is never reviewed is the quiet failure this list exists to catch."""
    out = []
    for p in plans:
        if p.review_due is not None and p.review_due < today:
            out.append(Overdue(p.id, p.person_id, p.review_due, (today - p.review_due).days))
        elif p.review_due is None and include_undated and p.status == PlanStatus.done:
            out.append(Overdue(p.id, p.person_id, None, None))
    return sorted(out, key=lambda o: (o.days_overdue is None, -(o.days_overdue or 0), str(o.plan_id)))


@dataclass(frozen=True)
class Trigger:
    code: str
    ja: str
    en: str
    subject: Hashable = None  # the person, supporter or shelter that changed


@dataclass(frozen=True)
class State:
    """A snapshot of what plans depend on. `links`: plan id → supporter entry ids."""

    plans: Mapping[Hashable, Plan] = field(default_factory=dict)
    people: Mapping[Hashable, PersonFacts] = field(default_factory=dict)
    supporters: Mapping[Hashable, SupporterEntry] = field(default_factory=dict)
    shelters: Mapping[Hashable, ShelterFacts] = field(default_factory=dict)
    links: Mapping[Hashable, Sequence[Hashable]] = field(default_factory=dict)


def person_changes(before: PersonFacts, after: PersonFacts) -> list[Trigger]:
    """Needs, address (compared width-folded: ３－５ and 3-5 are the same place) and reasons."""
    out = []
    if set(before.care_needs) != set(after.care_needs):
        out.append(Trigger("needs_changed", "本人の配慮が必要な事項が変わりました", "the person's care needs changed",
                           after.id))
    if normalize_address(before.address) != normalize_address(after.address):
        out.append(Trigger("address_changed", "本人の住所が変わりました", "the person's address changed", after.id))
    if set(before.reasons) != set(after.reasons):
        out.append(Trigger("reasons_changed", "避難支援等を必要とする事由が変わりました", "the person's reasons changed",
                           after.id))
    return out


def shelter_changes(before: ShelterFacts, after: Optional[ShelterFacts]) -> list[Trigger]:
    """Seismic class, kind and target groups — what decides whether it may be a destination."""
    if after is None:
        return [Trigger("shelter_removed", "避難先の施設が削除されました", "the shelter was removed", before.id)]
    out = []
    if before.seismic_class != after.seismic_class:
        out.append(Trigger("shelter_seismic_changed", "避難先の耐震区分が変わりました", "the shelter's seismic class changed",
                           after.id))
    if before.kind != after.kind:
        out.append(Trigger("shelter_kind_changed", "避難先の種別が変わりました", "the shelter's kind changed", after.id))
    if set(before.target_groups) != set(after.target_groups):
        out.append(Trigger("shelter_groups_changed", "避難先の受入対象者が変わりました",
                           "the shelter's target groups changed", after.id))
    return out


def _loads(links: Mapping[Hashable, Sequence[Hashable]]) -> dict[Hashable, int]:
    counts: dict[Hashable, int] = {}
    for ids in links.values():
        for sid in set(ids):
            counts[sid] = counts.get(sid, 0) + 1
    return counts


def review_triggers(before: State, after: State, *, threshold: int = OVERLOAD_THRESHOLD
                    ) -> dict[Hashable, tuple[Trigger, ...]]:
    """Plan id → why it needs review, comparing two snapshots. A supporter "leaves" when the
    entry is gone or made inactive (their plans are flagged, linked before or after); one
    "becomes overloaded" when their plan count crosses the threshold upwards (every plan
    they are on is flagged, as any of them may be the one they cannot reach)."""
    found: dict[Hashable, list[Trigger]] = {}

    def add(plan_id, triggers):
        if triggers and plan_id in after.plans:
            found.setdefault(plan_id, []).extend(triggers)

    for plan in after.plans.values():
        old, new = before.people.get(plan.person_id), after.people.get(plan.person_id)
        if old is not None and new is not None:
            add(plan.id, person_changes(old, new))
        for sid in dict.fromkeys(s for s in (plan.destination_id, plan.alternate_id) if s is not None):
            if sid in before.shelters:
                add(plan.id, shelter_changes(before.shelters[sid], after.shelters.get(sid)))
    load_before, load_after = _loads(before.links), _loads(after.links)
    plans_of: dict[Hashable, set] = {}
    for links in (before.links, after.links):
        for plan_id, ids in links.items():
            for sid in ids:
                plans_of.setdefault(sid, set()).add(plan_id)
    for sid, plan_ids in plans_of.items():
        was, now = before.supporters.get(sid), after.supporters.get(sid)
        triggers = []
        if was is not None and was.active and (now is None or not now.active):
            triggers.append(Trigger("supporter_left", "避難支援等実施者が辞退・転出しました", "a supporter left", sid))
        limit = threshold_for(now or was, threshold)
        if load_before.get(sid, 0) <= limit < load_after.get(sid, 0):
            triggers.append(Trigger("supporter_overloaded", f"避難支援等実施者の担当が{limit}件を超えました",
                                    f"a supporter is now on more than {limit} plans", sid))
        for plan_id in sorted(plan_ids, key=str):
            add(plan_id, triggers)
    return {pid: tuple(ts) for pid, ts in sorted(found.items(), key=lambda kv: str(kv[0]))}


def flag_for_review(plans: Mapping[Hashable, Plan], triggers: Mapping[Hashable, Sequence[Trigger]]
                    ) -> dict[Hashable, Plan]:
    """New plans with status 要見直し for the done plans among `triggers` (others unchanged)."""
    return {pid: replace(plans[pid], status=PlanStatus.needs_review) for pid in triggers
            if pid in plans and plans[pid].status == PlanStatus.done}
