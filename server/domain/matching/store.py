"""The database side of matching: load people and shelters as plain inputs, store proposals,
confirm them, and re-run when a shelter report changes a shelter's state.

Who is considered (docs/matching.md):
- everyone whose reasons or care needs put them in a welfare group (rules.person_groups),
  and everyone whose plan names a welfare shelter as destination;
- except people whose latest 安否確認 says 在宅・無事 (staying home), and people whose latest
  安否確認 places them at a usable welfare shelter (they are in its reported occupancy).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import date
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ...models import EvacuationPlan, MatchProposal, Municipality, Person, Shelter, ShelterReport
from ...models.base import utcnow
from ...models.matching import ProposalState
from ...models.shelters import accepts_people_of
from ...models.vocab import SafetyOutcome, SeismicClass, TargetGroup
from ..current_state import latest_safety_checks, latest_shelter_reports
from .proposals import latest_confirmed, municipality_of, newest_per_municipality
from .propose import MatchParams, MatchPerson, MatchShelter, Proposal, diff, propose
from .intensity import PlaceIntensity, load_place_intensity
from .rules import (WELFARE_KINDS, SeismicRule, intensity_label, need_level, person_groups, places_needed,
                    required_capabilities, room_left, shelter_state)

log = logging.getLogger("tsunagu.matching")
RERUN_CARER_TIME_LIMIT_S = 2.0  # a re-run holds the shelter report's write transaction


def _shelter_input(shelter: Shelter, report: Optional[ShelterReport], places: PlaceIntensity,
                   rule: SeismicRule) -> MatchShelter:
    open_state = report.open_state if report else None
    damage = report.damage if report else None
    occupancy = report.occupancy if report else 0
    intensity = places.at(shelter.district_id, shelter.id)
    return MatchShelter(
        shelter.id, shelter.lon, shelter.lat, room_left(shelter.capacity, open_state, occupancy),
        frozenset(TargetGroup(g) for g in shelter.target_groups), frozenset(shelter.capabilities),
        shelter_state(shelter.kind, open_state, damage, shelter.seismic_class, intensity, rule,
                      opened_on_request=shelter.opened_on_request_at is not None),
        intensity)


def _places(session: Session, intensity, intensity_by_record) -> PlaceIntensity:
    if isinstance(intensity, PlaceIntensity):
        return intensity
    return load_place_intensity(session, intensity, intensity_by_record)


def load_inputs(session: Session, *, intensity: Optional[float] | PlaceIntensity = None,
                rule: SeismicRule = SeismicRule(), today: Optional[date] = None,
                municipality_code: Optional[str] = None, intensity_by_record: Optional[dict] = None
                ) -> tuple[list[MatchPerson], list[MatchShelter], dict]:
    """People and welfare shelters as plain matching inputs, plus counts of who was left out.

    `intensity` is the city-wide value; HQ's district values and `intensity_by_record` (shelter
    or person id → value, e.g. a drill's shaking model) take precedence where they apply
    (intensity.py)."""
    today = today or date.today()
    places = _places(session, intensity, intensity_by_record)
    shelter_query = select(Shelter).where(Shelter.kind.in_([str(k) for k in WELFARE_KINDS]))
    if municipality_code:  # its own shelters and those of other municipalities accepting its people (広域避難)
        shelter_query = shelter_query.where(sa.or_(Shelter.municipality_code == municipality_code,
                                                   accepts_people_of([municipality_code])))
    shelter_rows = session.exec(shelter_query.order_by(Shelter.id)).all()
    reports = latest_shelter_reports(session, [s.id for s in shelter_rows])
    shelters = [_shelter_input(s, reports.get(s.id), places, rule) for s in shelter_rows]
    if municipality_code:  # a shelter shared across the border: the other cities' places are taken
        taken = reserved_by_others(session, municipality_code, {s.id for s in shelter_rows})
        shelters = [dataclasses.replace(s, room=max(0, s.room - taken[s.id])) if taken.get(s.id) else s
                    for s in shelters]
    welfare = {s.id: s for s in shelters}

    person_query = (select(Person.id, Person.lon, Person.lat, Person.reasons, Person.care_needs, Person.birth_date,
                           Person.district_id, EvacuationPlan.destination_shelter_id,
                           EvacuationPlan.alternate_shelter_id, EvacuationPlan.carer_accompanies)
                    .join(EvacuationPlan, EvacuationPlan.person_id == Person.id, isouter=True))
    if municipality_code:
        person_query = person_query.where(Person.municipality_code == municipality_code)
    rows = session.exec(person_query.order_by(Person.id)).all()
    candidates = []
    for row in rows:
        groups = person_groups(row.reasons, row.care_needs, row.birth_date, today)
        destination = row.destination_shelter_id if row.destination_shelter_id in welfare else None
        alternate = row.alternate_shelter_id if row.alternate_shelter_id in welfare else None
        if not groups and destination is not None:
            # The plan's authors judged the person fits there (and at the alternate): take their
            # groups. A plan whose only welfare shelter is the alternate sends the person to a
            # 指定避難所 first: not matched.
            groups = welfare[destination].groups | (welfare[alternate].groups if alternate is not None else frozenset())
        if groups:
            candidates.append((row, groups, destination, alternate))
    checks = _latest_checks(session, [row.id for row, _, _, _ in candidates])
    people, staying_home, already_there = [], 0, 0
    for row, groups, destination, alternate in candidates:
        check = checks.get(row.id)
        outcome = check.outcome if check else None
        if outcome == SafetyOutcome.safe_home:
            staying_home += 1
            continue
        if check is not None and check.shelter_id in welfare and welfare[check.shelter_id].blocked is None:
            already_there += 1
            continue
        people.append(MatchPerson(row.id, row.lon, row.lat, groups, required_capabilities(row.care_needs),
                                  need_level(row.reasons, row.care_needs, groups, outcome), destination,
                                  places=places_needed(row.carer_accompanies),
                                  intensity=places.at(row.district_id, row.id), alternate=alternate))
    # DWAT triage moves (福祉的トリアージ → 福祉避難所へ移送) are demands like any other.
    from ..dwat.referrals import merge_demands, triage_demands  # here: the DWAT layer builds on matching
    moves = triage_demands(session, today, municipality_code)
    if moves:
        people = merge_demands(people, moves, {row.id: row.carer_accompanies for row in rows if row.id in moves})
    left_out = {"staying_home": staying_home, "already_at_shelter": already_there}
    if moves:
        left_out["triage_moves"] = len(moves)  # in the summary only when DWAT asked for moves
    return people, shelters, left_out


def reserved_by_others(session: Session, municipality_code: str, shelter_ids: set) -> dict:
    """Shelter id → places other municipalities' confirmed proposals hold there (広域避難: a
    shelter accepting two cities' people is filled by both cities' runs). Each other
    municipality's latest confirmed proposal counts for its own people only, a person with a
    carer as two places; a person whose latest 安否確認 puts them at that shelter already is in
    its reported occupancy and is not counted twice (nor one now staying home). Unconfirmed
    proposals hold nothing."""
    codes = session.exec(select(Municipality.municipality_code)
                         .where(Municipality.municipality_code != municipality_code)).all()
    held: dict = {}
    for code in codes:
        proposal = latest_confirmed(session, code)
        wanted = {} if proposal is None else {uuid.UUID(a[0]): uuid.UUID(a[1]) for a in proposal.assignments
                                              if uuid.UUID(a[1]) in shelter_ids}
        if not wanted:
            continue
        rows = session.exec(select(Person.id, EvacuationPlan.carer_accompanies)
                            .join(EvacuationPlan, EvacuationPlan.person_id == Person.id, isouter=True)
                            .where(Person.id.in_(list(wanted)), Person.municipality_code == code)).all()
        checks = _latest_checks(session, [row.id for row in rows])
        for row in rows:
            shelter_id, check = wanted[row.id], checks.get(row.id)
            if check is not None and (check.shelter_id == shelter_id or check.outcome == SafetyOutcome.safe_home):
                continue  # there (in the occupancy), or staying home (no longer a demand)
            held[shelter_id] = held.get(shelter_id, 0) + places_needed(row.carer_accompanies)
    return held


def _latest_checks(session: Session, person_ids: list) -> dict:
    found = {}
    for start in range(0, len(person_ids), 5000):  # keep IN lists within bind-parameter limits
        found.update(latest_safety_checks(session, person_ids[start:start + 5000]))
    return found


# ---- proposals ----

def _same_municipality(session: Session, state: ProposalState, municipality_code: Optional[str]) -> list:
    """Ids of the proposals in `state` that a new one of this municipality replaces: its own
    municipality's (a run for the whole installation replaces every one, as with one city)."""
    rows = session.exec(select(MatchProposal).where(MatchProposal.state == state)).all()
    return [p.id for p in rows if municipality_code is None or municipality_of(p) == municipality_code]


def latest_proposal(session: Session) -> Optional[MatchProposal]:
    return session.exec(select(MatchProposal).order_by(MatchProposal.created_at.desc(), MatchProposal.id)
                        .limit(1)).first()


def assignments_of(proposal: Optional[MatchProposal]) -> dict[str, str]:
    return {a[0]: a[1] for a in proposal.assignments} if proposal else {}


def run_matching(session: Session, *, intensity: Optional[float] = None, rule: SeismicRule = SeismicRule(),
                 params: MatchParams = MatchParams(), today: Optional[date] = None, trigger: str = "manual",
                 created_by: str = "", municipality_code: Optional[str] = None,
                 intensity_by_record: Optional[dict] = None) -> MatchProposal:
    """Compute a proposal, diff it against the last confirmed one, and store it (state
    `proposed`). Earlier unconfirmed proposals become `superseded`. Runs in the caller's
    transaction. `intensity` is the city-wide 震度; HQ's district values and
    `intensity_by_record` (shelter or person id → value) apply where they exist."""
    places = load_place_intensity(session, intensity, intensity_by_record)
    people, shelters, left_out = load_inputs(session, intensity=places, rule=rule, today=today,
                                             municipality_code=municipality_code)
    result: Proposal = propose(people, shelters, params)
    confirmed = latest_confirmed(session, municipality_code)
    new = {str(a.person_id): str(a.shelter_id) for a in result.assignments}
    changes = diff(assignments_of(confirmed), new, {str(p): r for p, r in result.unplaced})
    summary = {**result.summary, **left_out, "intensity": intensity, "intensity_label": intensity_label(intensity),
               "district_intensities": len(places.by_district),
               "moved": len(changes["moved"]), "added": len(changes["added"]), "removed": len(changes["removed"])}
    if municipality_code is None:
        session.execute(sa.update(MatchProposal).where(MatchProposal.state == ProposalState.proposed)
                        .values(state=ProposalState.superseded))
    else:  # another municipality's pending proposal stays its own to confirm
        pending = _same_municipality(session, ProposalState.proposed, municipality_code)
        if pending:
            session.execute(sa.update(MatchProposal).where(MatchProposal.id.in_(pending))
                            .values(state=ProposalState.superseded))
    proposal = MatchProposal(
        created_by=created_by, trigger=trigger[:80], summary=summary,
        params={**params.to_dict(), "intensity": intensity, "seismic_rule": rule.to_dict(),
                "intensity_by_record": dict(places.by_record),
                "municipality_code": municipality_code, "today": (today or date.today()).isoformat()},
        # [person, shelter, walking m, source] and, at a plan's alternate, why not the destination
        assignments=[[str(a.person_id), str(a.shelter_id), a.walking_m, a.source] + ([a.because] if a.because else [])
                     for a in result.assignments],
        unplaced=[[str(p), reason] for p, reason in result.unplaced],
        compared_with_id=confirmed.id if confirmed else None, diff=changes)
    session.add(proposal)
    session.flush()
    return proposal


def rule_from_params(params: dict) -> tuple[Optional[float], SeismicRule, MatchParams, Optional[str]]:
    """The run settings stored with a proposal, to re-run with the same rules."""
    seismic = params.get("seismic_rule") or {}
    default = SeismicRule()
    rule = SeismicRule(min_intensity=seismic.get("min_intensity", default.min_intensity),
                       excluded=frozenset(SeismicClass(c) for c in seismic.get("excluded", default.excluded)),
                       unverified=frozenset(SeismicClass(c) for c in seismic.get("unverified", default.unverified)))
    match = MatchParams(max_walk_m=int(params.get("max_walk_m", 3000)), detour=float(params.get("detour", 1.3)),
                        solver=params.get("solver", "flow"))
    return params.get("intensity"), rule, match, params.get("municipality_code")


class ProposalStateError(Exception):
    pass


def confirm(session: Session, proposal_id: uuid.UUID, by: str) -> MatchProposal:
    """Confirm a proposal; the previously confirmed one becomes superseded — of the same
    municipality (several in the installation: city B's confirmation leaves city A's in force).
    Only a proposal still in state `proposed` can be confirmed (race-safe: exactly one row must
    change)."""
    chosen = session.get(MatchProposal, proposal_id)
    code = municipality_of(chosen) if chosen is not None else None
    previous = [latest_confirmed(session)] if code is None else \
        [session.get(MatchProposal, i) for i in _same_municipality(session, ProposalState.confirmed, code)]
    result = session.execute(sa.update(MatchProposal)
                             .where(MatchProposal.id == proposal_id, MatchProposal.state == ProposalState.proposed)
                             .values(state=ProposalState.confirmed, confirmed_at=utcnow(), confirmed_by=by[:100]))
    if result.rowcount != 1:
        raise ProposalStateError("only the latest proposal, not yet confirmed or superseded, can be confirmed")
    gone = [p.id for p in previous if p is not None and p.id != proposal_id]
    if gone:
        session.execute(sa.update(MatchProposal).where(MatchProposal.id.in_(gone))
                        .values(state=ProposalState.superseded))
    session.flush()
    proposal = session.get(MatchProposal, proposal_id)
    session.refresh(proposal)
    return proposal


# ---- re-run on shelter reports ----

def _ordering(report: ShelterReport) -> tuple:
    return (report.observed_at, report.recorded_at, str(report.id))


def shelter_report_changes_state(session: Session, report: ShelterReport, settings: Optional[dict] = None) -> bool:
    """Whether `report` (stored or about to be) changes its shelter's usable state or room
    compared with the latest report before it, under the rules of `settings` (a proposal's
    params; default: the newest proposal's)."""
    shelter = session.get(Shelter, report.shelter_id)
    if shelter is None or shelter.kind not in WELFARE_KINDS:
        return False
    others = session.exec(select(ShelterReport).where(ShelterReport.shelter_id == report.shelter_id,
                                                      ShelterReport.id != report.id)).all()
    before = max(others, key=_ordering, default=None)
    if before is not None and _ordering(before) > _ordering(report):
        return False  # a late report of something older: the current state is unchanged
    if settings is None:
        latest = latest_proposal(session)
        settings = latest.params if latest else {}
    intensity, rule, _, _ = rule_from_params(settings)
    places = load_place_intensity(session, intensity, settings.get("intensity_by_record"))
    old = _shelter_input(shelter, before, places, rule)
    new = _shelter_input(shelter, report, places, rule)
    return (old.blocked, old.room) != (new.blocked, new.room)


def runs_to_redo(session: Session, shelter_id: uuid.UUID) -> list[MatchProposal]:
    """The proposals whose runs a report about the shelter calls to re-run, each the newest of
    its municipality. A run for the whole installation (one city) that is the newest proposal:
    that run alone, as ever. With several municipalities: every municipality whose people may
    use the shelter (its own and those in its `accepts_from`, 広域避難) or are placed there in
    its newest or newest confirmed proposal — each that has run matching, by code; the others
    are not touched."""
    newest = latest_proposal(session)
    if newest is None:
        return []
    installed = session.exec(select(sa.func.count()).select_from(Municipality)).one()
    if municipality_of(newest) is None or installed <= 1:
        return [newest]
    shelter = session.get(Shelter, shelter_id)
    codes = {shelter.municipality_code, *(shelter.accepts_from or [])} - {None, ""} if shelter else set()
    latest = newest_per_municipality(session)
    confirmed = newest_per_municipality(session, ProposalState.confirmed)
    here = str(shelter_id)
    for code in set(latest) | set(confirmed):
        if any(a[1] == here for p in (latest.get(code), confirmed.get(code)) if p for a in p.assignments):
            codes.add(code)  # its people are placed there (the shelter may since have stopped accepting them)
    return [latest[code] for code in sorted(codes) if code in latest]


def rerun_if_shelter_changed(session: Session, report: ShelterReport) -> list[MatchProposal]:
    """Call after (or while) a shelter report is created. When matching is in use (a proposal
    exists) and the report changes the shelter's state, re-run with the last run's rules —
    per municipality, every one the shelter concerns (`runs_to_redo`), each in its own run and
    savepoint — and return the new proposals (their diffs show who moved where). The report is
    added to the session and flushed first. A failure of a re-run is logged, never raised: a
    shelter report must be saved whatever happens to the re-runs."""
    if latest_proposal(session) is None:
        return []
    # Stored first (outside the savepoints), so the re-runs see it and a failed re-run keeps it.
    session.add(report)
    session.flush()
    try:
        previous = runs_to_redo(session, report.shelter_id)
    except Exception:  # noqa: BLE001 — the report matters more than the re-run
        log.exception("matching re-run after shelter report %s failed", report.id)
        return []
    done = []
    for latest in previous:
        try:
            with session.begin_nested():
                if not shelter_report_changes_state(session, report, latest.params or {}):
                    continue
                intensity, rule, params, municipality = rule_from_params(latest.params)
                # inside the report's transaction: little time for an exact solve with carers
                params = dataclasses.replace(params, carer_time_limit_s=RERUN_CARER_TIME_LIMIT_S)
                done.append(run_matching(session, intensity=intensity, rule=rule, params=params,
                                         trigger=f"shelter_report:{report.id}", created_by="system",
                                         municipality_code=municipality,
                                         intensity_by_record=latest.params.get("intensity_by_record")))
        except Exception:  # noqa: BLE001 — the report matters more than the re-run
            log.exception("matching re-run (%s) after shelter report %s failed",
                          municipality_of(latest) or "all", report.id)
    return done
