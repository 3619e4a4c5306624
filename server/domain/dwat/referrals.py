"""Triage moves (福祉避難所へ移送) as matching demands, and HQ's referral list (紹介 → 受入先決定 → 到着).

A person's current triage is their latest (by observed time). When it says "move to a
福祉避難所", matching (server/domain/matching/store.py) places the person like any other
demand, built by `triage.placement_demand` (the person starts from the shelter they are at).
The referral list follows each move: referred (紹介) at the triage, a destination once a
matching proposal places the person (案 while proposed, 受入先決定 once confirmed), arrived
(到着) when a safety check puts the person at a welfare shelter after the triage.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Optional, Sequence

from sqlmodel import Session, select

from ...models import DwatDeployment, DwatTeam, Municipality, Person, SafetyCheck, Shelter
from ...models.dwat_field import DwatTriage
from ..matching.proposals import latest_confirmed, latest_proposed
from ..matching.propose import MatchPerson
from ..matching.rules import WELFARE_KINDS, places_needed
from .adapters import site_from_shelter
from .common import DwatError
from .triage import Triage, TriageOutcome, TriagePerson, placement_demand

MOVE = TriageOutcome.move_to_welfare_shelter.value


def latest_triages(session: Session, person_ids: Optional[list] = None) -> dict[uuid.UUID, DwatTriage]:
    """Each person's latest triage (observed time, then recorded time, then id)."""
    query = select(DwatTriage).where(DwatTriage.person_id.is_not(None))
    if person_ids is not None:
        query = query.where(DwatTriage.person_id.in_(person_ids))
    latest: dict = {}
    for t in session.exec(query).all():
        key = (t.observed_at, t.recorded_at, str(t.id))
        if t.person_id not in latest or key > latest[t.person_id][0]:
            latest[t.person_id] = (key, t)
    return {pid: t for pid, (_, t) in latest.items()}


def current_moves(session: Session) -> list[DwatTriage]:
    """The triages that are each person's latest and say "move to a 福祉避難所"."""
    return sorted((t for t in latest_triages(session).values() if t.outcome == MOVE),
                  key=lambda t: (t.observed_at, str(t.id)))


def _as_triage(row: DwatTriage) -> Triage:
    from ...models.vocab import TargetGroup
    from .request_flow import NeedKind
    return Triage(row.id, row.deployment_id, row.person_id, row.shelter_id, TriageOutcome(row.outcome),
                  row.observed_at, row.reporter, tuple(NeedKind(n) for n in row.needs),
                  frozenset(TargetGroup(g) for g in row.groups), row.urgent, row.destination_shelter_id, row.notes)


def arrivals(session: Session, moves: list[DwatTriage]) -> dict[uuid.UUID, SafetyCheck]:
    """person id → the first safety check at a welfare shelter observed at or after their move."""
    if not moves:
        return {}
    welfare = set(session.exec(select(Shelter.id).where(Shelter.kind.in_([str(k) for k in WELFARE_KINDS]))).all())
    since = {t.person_id: t.observed_at for t in moves}
    checks = session.exec(select(SafetyCheck).where(SafetyCheck.person_id.in_(list(since)),
                                                    SafetyCheck.shelter_id.in_(list(welfare) or [uuid.uuid4()]))).all()
    found: dict = {}
    for c in sorted(checks, key=lambda c: (c.observed_at, c.recorded_at)):
        if c.observed_at >= since[c.person_id] and c.person_id not in found:
            found[c.person_id] = c
    return found


def triage_demands(session: Session, today: date, municipality_code: Optional[str] = None) -> dict:
    """person id → MatchPerson for every current move whose person has not arrived yet. A move
    matching cannot place (no group: refused when it was recorded) is left out, not raised."""
    moves = current_moves(session)
    arrived = arrivals(session, moves)
    people = {p.id: p for p in session.exec(select(Person).where(
        Person.id.in_([t.person_id for t in moves] or [uuid.uuid4()]))).all()}
    shelters = {s.id: s for s in session.exec(select(Shelter).where(
        Shelter.id.in_([t.shelter_id for t in moves] or [uuid.uuid4()]))).all()}
    demands = {}
    for row in moves:
        person = people.get(row.person_id)
        if row.person_id in arrived or person is None or row.shelter_id not in shelters:
            continue
        if municipality_code and person.municipality_code != municipality_code:
            continue
        facts = TriagePerson(person.id, tuple(str(r) for r in person.reasons),
                             tuple(str(c) for c in person.care_needs), person.birth_date)
        try:
            demand = placement_demand(_as_triage(row), facts, site_from_shelter(shelters[row.shelter_id]), today)
        except DwatError:
            continue
        demands[person.id] = demand
    return demands


def merge_demands(people: list[MatchPerson], demands: dict, carers: dict) -> list[MatchPerson]:
    """matching's people with the triage moves laid over them: a moved person's demand replaces
    the register's (they start from the shelter they are at); a moved person the register alone
    would not have placed is added. `carers`: person id → whether a carer comes along."""
    out = []
    for p in people:
        demand = demands.get(p.id)
        if demand is None:
            out.append(p)
            continue
        # replace(), not a new MatchPerson: everything the register knows and the triage does not say
        # (the carer's place, the 震度, the plan's alternate …) is kept
        out.append(replace(p, lon=demand.lon, lat=demand.lat, groups=demand.groups | p.groups,
                           requires=demand.requires or p.requires, level=min(demand.level, p.level),
                           destination=demand.destination or p.destination))
    known = {p.id for p in people}
    for pid, demand in demands.items():
        if pid not in known:
            out.append(MatchPerson(pid, demand.lon, demand.lat, demand.groups, demand.requires, demand.level,
                                   demand.destination, places_needed(carers.get(pid, False))))
    return out


# ---- HQ's referral list ----

@dataclass(frozen=True)
class Referral:
    triage_id: uuid.UUID
    person_id: uuid.UUID
    register_no: str
    name: str                   # empty for callers who may not read names (HQ viewer)
    referred_at: str
    from_shelter: str
    team: str
    urgent: bool
    registered_on_site: bool
    stage: str                  # referred | proposed | placed | arrived
    destination: str            # shelter name, when a proposal places the person
    unplaced_reason: str
    arrived_at: str
    arrived_at_shelter: str

    def to_dict(self) -> dict:
        return dict(self.__dict__, triage_id=str(self.triage_id), person_id=str(self.person_id))


STAGES = {"referred": ("紹介", "referred"), "proposed": ("受入先案", "destination proposed"),
          "placed": ("受入先決定", "destination decided"), "arrived": ("到着", "arrived")}


def _stage_sources(session: Session, code: Optional[str]) -> tuple[dict, dict, dict]:
    """(placed, pending, unplaced) by person id, from the latest confirmed and the latest
    proposed proposal of a municipality (None: the installation's latest, as with one city).
    Proposals are per municipality: another city's newer run says nothing of these people."""
    confirmed, proposed = latest_confirmed(session, code), latest_proposed(session, code)
    placed = {a[0]: a[1] for a in (confirmed.assignments if confirmed else [])}
    pending = {a[0]: a[1] for a in (proposed.assignments if proposed else [])}
    unplaced = {u[0]: u[1] for u in ((proposed or confirmed).unplaced if (proposed or confirmed) else [])}
    return placed, pending, unplaced


def referral_list(session: Session, with_names: bool, where: Sequence = ()) -> list[Referral]:
    """Every current move, oldest first, at its stage. A confirmed proposal that places the
    person decides the destination (placed); a newer proposal not yet confirmed shows as
    proposed; a safety check at a welfare shelter after the move is the arrival. `where`:
    clauses on the triages (the caller's municipalities' sites)."""
    moves = current_moves(session)
    if moves and where:
        kept = set(session.exec(select(DwatTriage.id).where(DwatTriage.id.in_([t.id for t in moves]), *where)).all())
        moves = [t for t in moves if t.id in kept]
    if not moves:
        return []
    arrived = arrivals(session, moves)
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_([t.person_id for t in moves]))).all()}
    several = len(session.exec(select(Municipality.municipality_code)).all()) > 1
    codes = {(people[t.person_id].municipality_code if several and t.person_id in people else None) for t in moves}
    sources = {code: _stage_sources(session, code) for code in codes}

    def source_of(person_id) -> tuple[dict, dict, dict]:
        person = people.get(person_id)
        return sources[person.municipality_code if several and person else None]

    shelter_ids = {t.shelter_id for t in moves} | {c.shelter_id for c in arrived.values()}
    shelter_ids |= {uuid.UUID(s) for code in codes for found in sources[code][:2] for s in found.values()}
    names = {s.id: s.name for s in session.exec(select(Shelter).where(Shelter.id.in_(list(shelter_ids)))).all()}
    deployments = {d.id: d.team_id for d in session.exec(select(DwatDeployment).where(
        DwatDeployment.id.in_([t.deployment_id for t in moves]))).all()}
    teams = {t.id: t.name for t in session.exec(select(DwatTeam).where(DwatTeam.id.in_(list(deployments.values())))).all()}
    out = []
    for t in moves:
        person = people.get(t.person_id)
        key = str(t.person_id)
        check = arrived.get(t.person_id)
        placed, pending, unplaced = source_of(t.person_id)
        if check is not None:
            stage, destination = "arrived", names.get(check.shelter_id, "")
        elif key in placed:
            stage, destination = "placed", names.get(uuid.UUID(placed[key]), "")
        elif key in pending:
            stage, destination = "proposed", names.get(uuid.UUID(pending[key]), "")
        else:
            stage, destination = "referred", ""
        out.append(Referral(t.id, t.person_id, person.register_no if person else "",
                            person.name if (person and with_names) else "", t.observed_at.isoformat(),
                            names.get(t.shelter_id, ""), teams.get(deployments.get(t.deployment_id), ""), t.urgent,
                            t.registered_on_site, stage, destination,
                            unplaced.get(key, "") if stage == "referred" else "",
                            check.observed_at.isoformat() if check else "",
                            names.get(check.shelter_id, "") if check else ""))
    return out
