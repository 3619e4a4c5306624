"""福祉的トリアージ (welfare triage) in a general shelter: can this person go on living here,
with what support, or must they move?

A triage is recorded by a team on an active deployment, for a person who is at that
deployment's shelter; anything else is refused (a team triages the people in front of it).
A "move to a 福祉避難所" outcome becomes a placement demand in exactly the shape matching
uses (matching.MatchPerson), built with matching's own rules (person_groups,
required_capabilities, need_level), so the move is placed like any other demand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Hashable, Iterable, Optional

from ...models.vocab import DeploymentState, LabelledEnum, SafetyOutcome, TargetGroup
from ..matching import MatchPerson
from ..matching.rules import need_level, person_groups, required_capabilities
from ..japan_time import local_day
from .common import Deployment, DwatError, Site, error, require_aware
from .request_flow import NeedKind

MAX_NOTES = 2000


class TriageOutcome(LabelledEnum):
    stay_with_support = ("stay_with_support", "支援付きで現避難所に滞在", "stay here with support")
    welfare_room = ("welfare_room", "福祉避難室（同じ建物内）", "welfare room in this building")
    move_to_welfare_shelter = ("move_to_welfare_shelter", "福祉避難所へ移送", "move to a welfare shelter")
    hospital = ("hospital", "医療機関へ搬送", "hospital")
    other = ("other", "その他", "other")


@dataclass(frozen=True)
class Triage:
    """One triage. `groups` is the team's judgement of the welfare-shelter groups (受入対象者)
    the person belongs to, for people the register does not know or knows too little of;
    `urgent` raises the person's placement level by one, as a 要支援 safety check does."""

    id: Hashable
    deployment_id: Hashable
    person_id: Hashable
    site_id: Hashable            # where the person is now
    outcome: TriageOutcome
    at: datetime
    by: str
    needs: tuple[NeedKind, ...] = ()
    groups: frozenset[TargetGroup] = frozenset()
    urgent: bool = False
    destination: Optional[Hashable] = None  # a welfare shelter the team already arranged, if any
    notes: str = ""


@dataclass(frozen=True)
class TriagePerson:
    """What the register says about the person (reasons and care needs as stored codes)."""

    id: Hashable
    reasons: tuple[str, ...] = ()
    care_needs: tuple[str, ...] = ()
    birth_date: Optional[date] = None


def new_triage(id: Hashable, deployment: Deployment, *, person_id: Hashable, person_site_id: Hashable,
               outcome: str, at: datetime, by: str, needs: Iterable[str] = (),
               groups: Iterable[str] = (), urgent: bool = False, destination: Optional[Hashable] = None,
               notes: str = "") -> Triage:
    """Validate and create a triage. Refused (DwatError, all problems at once): a person
    not at the deployment's shelter, a deployment not active or a time outside its days,
    an unknown outcome, need or group, notes over 2,000 characters."""
    require_aware(at)
    problems = []
    if person_site_id != deployment.site_id:
        problems.append(error("person_not_at_site", "対象者は派遣先の避難所にいません",
                              "the person is not at the deployment's shelter", "person_site_id"))
    if deployment.state != DeploymentState.active:
        problems.append(error("deployment_not_active", f"派遣が{deployment.state.ja}です（活動中のみ記録可）",
                              f"the deployment is {deployment.state.en}; only an active one can record",
                              "deployment_id"))
    elif not deployment.window.contains(local_day(at)):
        problems.append(error("outside_deployment", "派遣期間外の日時です", "the time is outside the deployment's days",
                              "at"))
    parsed_outcome = None
    try:
        parsed_outcome = TriageOutcome.parse(str(outcome))
    except ValueError:
        problems.append(error("bad_outcome", "判定結果が不明です", f"unknown outcome {outcome!r}", "outcome"))
    parsed_needs, parsed_groups = [], set()
    for value in needs:
        try:
            parsed_needs.append(NeedKind.parse(str(value)))
        except ValueError:
            problems.append(error("unknown_need", f"不明な支援ニーズ「{value}」", f"unknown need {value!r}", "needs"))
    for value in groups:
        try:
            parsed_groups.add(TargetGroup.parse(str(value)))
        except ValueError:
            problems.append(error("unknown_group", f"不明な対象区分「{value}」", f"unknown group {value!r}", "groups"))
    if len(notes) > MAX_NOTES:
        problems.append(error("notes_too_long", "メモは2000字までです", "notes are limited to 2,000 characters", "notes"))
    if not str(by).strip():
        problems.append(error("no_actor", "記録者が必要です", "who recorded it is required", "by"))
    if problems:
        raise DwatError(problems)
    return Triage(id, deployment.id, person_id, person_site_id, parsed_outcome, at, by,
                  tuple(dict.fromkeys(parsed_needs)), frozenset(parsed_groups), bool(urgent), destination, notes)


def placement_demand(triage: Triage, person: Optional[TriagePerson], site: Site, today: date) -> MatchPerson:
    """The matching demand for a "move to a 福祉避難所" triage. The person starts from the
    shelter they are at (its coordinates); groups are the register's (matching's
    person_groups) plus the team's judgement; care needs give required capabilities and the
    level, raised one step when the team marked it urgent. Refused: another outcome, a
    person id that does not match, a site that is not the triage's, or no group at all (no
    welfare shelter could take them: say which group, or send them elsewhere)."""
    problems = []
    if triage.outcome != TriageOutcome.move_to_welfare_shelter:
        problems.append(error("not_a_move", f"判定が「{triage.outcome.ja}」のため移送対象ではありません",
                              f"the outcome is {triage.outcome.en}, not a move", "outcome"))
    if person is not None and person.id != triage.person_id:
        problems.append(error("person_mismatch", "対象者が一致しません", "the person does not match the triage",
                              "person_id"))
    if site.id != triage.site_id:
        problems.append(error("site_mismatch", "避難所が一致しません", "the site is not the triage's", "site_id"))
    person = person or TriagePerson(triage.person_id)
    groups = person_groups(person.reasons, person.care_needs, person.birth_date, today) | triage.groups
    if not groups and not problems:
        problems.append(error("no_target_group", "受入対象区分（高齢者・障害者など）が特定できません",
                              "no welfare-shelter group (elderly, disabled …) applies; name one", "groups"))
    if problems:
        raise DwatError(problems)
    groups = frozenset(groups)
    outcome = SafetyOutcome.needs_help if triage.urgent else None
    return MatchPerson(triage.person_id, site.lon, site.lat, groups, required_capabilities(person.care_needs),
                       need_level(person.reasons, person.care_needs, groups, outcome), triage.destination)


def outcome_counts(triages: Iterable[Triage]) -> dict[TriageOutcome, int]:
    """Triages per outcome, every outcome present (zeros too), for the daily report."""
    counts = Counter(t.outcome for t in triages)
    return {o: counts[o] for o in TriageOutcome}
