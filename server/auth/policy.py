"""The access table: named role groups, every action a route performs, and for each record
resource and role which actions, which rows, which fields.

This is the one place where access is decided. Every route declares the action it performs
(`server/auth/guard.py`: `requires`, `page`, `public`, `declares`); `allowed(principal, action)`
answers for all of them, and the records layer asks `rule_for` for the rows and fields. docs/access.md
shows the table (tests/test_docs.py keeps it in step) and tests/test_access_table.py calls every
route as every role in both modes against it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

import sqlalchemy as sa
from sqlmodel import select

from ..models import (District, DwatActivityReport, DwatDeployment, DwatMember, DwatRequest, DwatTeam,
                      EvacuationPlan, Municipality, Person, PersonConsent, SafetyCheck, Shelter, ShelterReport)
from ..models.dwat_field import DwatTriage
from ..models.supporters import SupporterCandidate, SupporterRecord
from ..models.auth import Mode, Role
from ..models.shelters import accepts_people_of
from ..models.vocab import Consent
from ..domain.share_records import held_by_consent, shareable_clause
from .principal import Principal

Clauses = Callable[[Principal], list]

READ = frozenset({"list", "read"})
WRITE = frozenset({"create", "update"})
ALL = READ | WRITE | {"delete"}


@dataclass(frozen=True)
class Rule:
    actions: frozenset
    scope: Optional[Clauses] = None        # rows the role may see; None = all rows
    write_scope: Optional[Clauses] = None  # rows the role may create/change; None = same as scope
    create_ref: str = ""                   # field named in the error when a create falls outside write scope
    hidden: frozenset = frozenset()        # dotted field paths removed from answers
    only: Optional[frozenset] = None       # if set: the only fields returned
    writable: Optional[frozenset] = None   # if set: the only fields an update may change
    # the rows of the caller's municipalities (set for every rule from MUNICIPAL below); called
    # only when the installation has several municipalities, so a single city adds no clause
    municipal: Optional[Callable[[Principal, bool], list]] = None

    def clauses(self, principal: Principal) -> list:
        return [*(self.scope(principal) if self.scope else []), *self._municipal(principal, False)]

    def write_clauses(self, principal: Principal) -> list:
        chosen = self.write_scope or self.scope
        return [*(chosen(principal) if chosen else []), *self._municipal(principal, True)]

    def _municipal(self, principal: Principal, write: bool) -> list:
        if self.municipal is None or principal.municipality_codes is None:
            return []
        return self.municipal(principal, write)


# ---- row scopes ----

def _assigned_people(shelter_ids) -> Any:
    """People a shelter expects (plan destination or alternate) or has received (safety check there)."""
    ids = list(shelter_ids)
    return sa.union(
        select(EvacuationPlan.person_id).where(sa.or_(EvacuationPlan.destination_shelter_id.in_(ids),
                                                      EvacuationPlan.alternate_shelter_id.in_(ids))),
        select(SafetyCheck.person_id).where(SafetyCheck.shelter_id.in_(ids)),
    )


def _own_people(p: Principal) -> list:
    """The register of the caller's municipalities ([] = all: one municipality in the installation)."""
    return [] if p.municipality_codes is None else [Person.municipality_code.in_(sorted(p.municipality_codes))]


def people_clauses(p: Principal) -> list:
    """The people a role may see. The municipality is part of it: city staff never read another
    city's register. Shelter staff and DWAT see whom their shelters expect or received — in 広域避難
    that includes people of another municipality the shelter accepts (Shelter.accepts_from)."""
    if p.is_city_office or p.role == Role.hq_viewer:
        return _own_people(p)
    if p.role == Role.district_supporter:
        clauses = [Person.district_id.in_(list(p.district_ids)), *_own_people(p)]
    elif p.role in (Role.shelter_staff, Role.dwat_member):
        clauses = [Person.id.in_(_assigned_people(p.shelter_ids))]
    else:
        return [sa.false()]
    if p.consent_only:
        clauses.append(shareable_clause(p.share_category, p.ordinance))
    elif p.mixed_modes:  # only some of the caller's municipalities declared a disaster
        clauses.append(sa.or_(shareable_clause(p.share_category, p.ordinance),
                              Person.municipality_code.in_(sorted(p.disaster_codes))))
    return clauses


def _people_subquery(p: Principal):
    return select(Person.id).where(*people_clauses(p))


def plan_clauses(p: Principal) -> list:
    return [] if not people_clauses(p) else [EvacuationPlan.person_id.in_(_people_subquery(p))]


def safety_clauses(p: Principal) -> list:
    return [] if not people_clauses(p) else [SafetyCheck.person_id.in_(_people_subquery(p))]


def own_shelters(column) -> Clauses:
    return lambda p: [column.in_(list(p.shelter_ids))]


def own_team(column) -> Clauses:
    return lambda p: [column == p.team_id] if p.team_id else [sa.false()]


def own_deployments(column) -> Clauses:
    return lambda p: [column.in_(list(p.deployment_ids))]


# ---- municipalities (several in one installation; docs/access.md "Municipalities") ----

def _codes(p: Principal) -> list[str]:
    return sorted(p.municipality_codes or ())


def municipal_shelters(p: Principal, write: bool = False) -> Any:
    """The caller's municipalities' shelters, and for reading also those that accept its people."""
    own = Shelter.municipality_code.in_(_codes(p))
    return own if write else sa.or_(own, accepts_people_of(_codes(p)))


def _by_shelter(column) -> Callable[[Principal, bool], list]:
    return lambda p, write: [column.in_(select(Shelter.id).where(municipal_shelters(p, write)))]


MUNICIPAL: dict[str, Callable[[Principal, bool], list]] = {
    "municipalities": lambda p, write: [Municipality.municipality_code.in_(_codes(p))],
    "districts": lambda p, write: [District.municipality_code.in_(_codes(p))],
    "shelters": lambda p, write: [municipal_shelters(p, write)],
    "shelter-reports": _by_shelter(ShelterReport.shelter_id),
    "dwat-deployments": _by_shelter(DwatDeployment.shelter_id),
    "dwat-requests": _by_shelter(DwatRequest.shelter_id),
    "dwat-activity-reports": lambda p, write: [DwatActivityReport.deployment_id.in_(
        select(DwatDeployment.id).where(DwatDeployment.shelter_id.in_(
            select(Shelter.id).where(municipal_shelters(p, write)))))],
    "dwat-triages": lambda p, write: [DwatTriage.deployment_id.in_(
        select(DwatDeployment.id).where(DwatDeployment.shelter_id.in_(
            select(Shelter.id).where(municipal_shelters(p, write)))))],
    # people, plans and safety checks: the city office's rule has no row scope, so its municipality
    # is added here; the other roles' scopes (people_clauses) carry it themselves (shelter staff
    # and DWAT see accepted people of other municipalities). DWAT teams and members: the
    # prefecture's, shared by its municipalities.
    "people": lambda p, write: _own_people(p) if p.is_city_office else [],
    "plans": lambda p, write: [EvacuationPlan.person_id.in_(select(Person.id).where(*_own_people(p)))]
    if p.is_city_office else [],
    "safety-checks": lambda p, write: [SafetyCheck.person_id.in_(select(Person.id).where(*_own_people(p)))]
    if p.is_city_office else [],
    "consents": lambda p, write: [PersonConsent.person_id.in_(select(Person.id).where(*_own_people(p)))],
    # 支援者台帳: each entry belongs to the city that keeps it (supporter.municipality_code)
    "supporters": lambda p, write: [SupporterRecord.municipality_code.in_(_codes(p))],
}


def municipal_clauses(resource: str, p: Principal, write: bool = False) -> list:
    """The municipality condition of a resource alone ([] with one municipality): for pages that
    read rows outside the records layer (DWAT reports, chronology, referrals)."""
    chosen = MUNICIPAL.get(resource)
    return [] if chosen is None or p.municipality_codes is None else chosen(p, write)


def candidate_clauses(p: Principal) -> list:
    """Duplicate-candidate pairs of the caller's municipalities: both entries theirs."""
    if p.municipality_codes is None:
        return []
    own = select(SupporterRecord.id).where(SupporterRecord.municipality_code.in_(_codes(p)))
    return [SupporterCandidate.a_id.in_(own), SupporterCandidate.b_id.in_(own)]

# ---- field sets ----

PERSON_HQ_FIELDS = frozenset({"id", "version", "created_at", "updated_at", "register_no", "district_id",
                              "lon", "lat", "reasons", "latest_safety"})
PERSON_SUPPORTER_HIDDEN = frozenset({"reason_note"})
PLAN_SUPPORTER_HIDDEN = frozenset({"care.conditions", "care.doctor", "care.blood_type"})
TRIAGE_HQ_FIELDS = frozenset({"id", "recorded_at", "observed_at", "deployment_id", "person_id", "shelter_id",
                              "outcome", "urgent", "destination_shelter_id", "registered_on_site"})
SAFETY_HQ_FIELDS = frozenset({"id", "recorded_at", "observed_at", "person_id", "outcome", "shelter_id"})

A, W, D, S, M, H, P = (Role.admin, Role.welfare_staff, Role.district_supporter, Role.shelter_staff,
                       Role.dwat_member, Role.hq_viewer, Role.prefecture_coordinator)

# ---- named role groups ----

ADMIN = frozenset({A})                       # システム管理者
CITY_OFFICE = frozenset({A, W})              # 市役所 (owns the register and the plans)
HQ = CITY_OFFICE | {H}                       # 災害対策本部 and the city office
FIELD = frozenset({D, S, M})                 # supporters, shelter staff, DWAT (scoped, consent in normal times)
PREFECTURE = frozenset({P})                  # 都道府県DWAT事務局: DWAT across its municipalities, never the register
DWAT_COORDINATION = CITY_OFFICE | PREFECTURE  # who dispatches DWAT teams
MULTI_MUNICIPALITY = frozenset({A, H, P})    # roles an account may hold for several municipalities
PRINTERS = CITY_OFFICE | FIELD               # who may read plans, so print them
DWAT_FOLLOW = HQ | PREFECTURE                # who follows DWAT on site: reports and chronology (no register data)
EVERYONE_SIGNED_IN = frozenset(Role)
PUBLIC = "public"                            # the action of a route anyone may call, signed in or not
DWAT_BOARD = HQ | PREFECTURE                 # who sees the DWAT dispatch board (派遣調整): requests, suggestions, rotation
DWAT_DISPATCH = DWAT_COORDINATION            # who moves a request along its flow and confirms a team

OFFICE = {A: Rule(ALL), W: Rule(ALL)}
READ_ALL = Rule(READ)

POLICY: dict[str, dict[Role, Rule]] = {
    "municipalities": {**OFFICE, D: READ_ALL, S: READ_ALL, M: READ_ALL, H: READ_ALL, P: READ_ALL},
    "districts": {**OFFICE, D: READ_ALL, S: READ_ALL, M: READ_ALL, H: READ_ALL, P: READ_ALL},
    "people": {
        **OFFICE,
        D: Rule(READ, people_clauses, hidden=PERSON_SUPPORTER_HIDDEN),
        S: Rule(READ, people_clauses),
        M: Rule(READ, people_clauses),
        H: Rule(READ, people_clauses, only=PERSON_HQ_FIELDS),
    },
    "plans": {
        **OFFICE,
        # 民生委員 learn on their visits who helps and how to reach them: they may correct the
        # supporters (and their phone numbers), nothing else of a plan.
        D: Rule(READ | {"update"}, plan_clauses, hidden=PLAN_SUPPORTER_HIDDEN, writable=frozenset({"supporters"})),
        S: Rule(READ, plan_clauses),
        M: Rule(READ, plan_clauses),
    },
    # 支援者台帳: contact data of people who are not on the register and never consented to be
    # shared. The office only: a 民生委員 sees the supporters of the plans they may read on the
    # plans themselves (name, relation, phone), not the register (addresses, birth years, notes).
    "supporters": {**OFFICE},
    "safety-checks": {
        **OFFICE,
        D: Rule(READ | {"create"}, safety_clauses, create_ref="person_id"),
        S: Rule(READ | {"create"}, safety_clauses, create_ref="person_id"),
        M: Rule(READ | {"create"}, safety_clauses, create_ref="person_id"),
        H: Rule(READ, safety_clauses, only=SAFETY_HQ_FIELDS),
    },
    "shelters": {
        **OFFICE, D: READ_ALL, M: READ_ALL, H: READ_ALL, P: READ_ALL,
        S: Rule(READ | {"update"}, write_scope=own_shelters(Shelter.id)),
    },
    "shelter-reports": {
        **OFFICE, D: READ_ALL, H: READ_ALL, P: READ_ALL,
        S: Rule(READ | {"create"}, write_scope=own_shelters(ShelterReport.shelter_id), create_ref="shelter_id"),
        M: Rule(READ | {"create"}, write_scope=own_shelters(ShelterReport.shelter_id), create_ref="shelter_id"),
    },
    # answers per recipient category (Art. 49-11): the office keeps them
    "consents": {**OFFICE},
    "dwat-teams": {**OFFICE, H: READ_ALL, P: READ_ALL, M: Rule(READ, own_team(DwatTeam.id))},
    "dwat-members": {**OFFICE, H: READ_ALL, P: READ_ALL, M: Rule(READ, own_team(DwatMember.team_id))},
    "dwat-deployments": {
        **OFFICE, H: READ_ALL, P: Rule(READ | WRITE),
        S: Rule(READ, own_shelters(DwatDeployment.shelter_id)),
        M: Rule(READ, own_team(DwatDeployment.team_id)),
    },
    "dwat-requests": {
        **OFFICE, H: READ_ALL, P: Rule(READ | {"update"}),
        S: Rule(READ | {"create"}, own_shelters(DwatRequest.shelter_id), create_ref="shelter_id"),
        M: Rule(READ, own_shelters(DwatRequest.shelter_id)),
    },
    "dwat-activity-reports": {
        **OFFICE, H: READ_ALL, P: READ_ALL,
        M: Rule(READ | {"create"}, own_deployments(DwatActivityReport.deployment_id), create_ref="deployment_id"),
    },
    # 福祉的トリアージ: the team records on its deployment; the office reads all (and reviews people
    # added on site); HQ sees outcomes, never names or notes (the referral list is its view).
    "dwat-triages": {
        **OFFICE,
        H: Rule(READ, only=TRIAGE_HQ_FIELDS),
        M: Rule(READ | {"create"}, own_deployments(DwatTriage.deployment_id), create_ref="deployment_id"),
    },
}

POLICY = {resource: {role: replace(rule, municipal=MUNICIPAL.get(resource)) for role, rule in rules.items()}
          for resource, rules in POLICY.items()}

# ---- the action table ----

@dataclass(frozen=True)
class Action:
    roles: frozenset
    modes: frozenset = frozenset(Mode)   # the modes in which it may be done at all
    deployed: bool = True                # a DWAT member needs an active deployment (access ends with it)
    note: str = ""


ACTIONS: dict[str, Action] = {
    # the caller and their session
    "me.read": Action(EVERYONE_SIGNED_IN, deployed=False, note="who am I: role, scope, mode, actions"),
    "session.sign_out": Action(EVERYONE_SIGNED_IN, deployed=False),
    "mode.read": Action(EVERYONE_SIGNED_IN, deployed=False),
    "events.change": Action(EVERYONE_SIGNED_IN, deployed=False, note="405 to all: an event is never changed"),
    "mode.switch": Action(ADMIN, note="平常時 ⇄ 災害時, with a reason"),
    "users.list": Action(ADMIN), "users.create": Action(ADMIN), "users.update": Action(ADMIN),
    "tokens.list": Action(ADMIN), "tokens.revoke": Action(ADMIN),
    "audit.read": Action(ADMIN), "audit.export": Action(ADMIN),
    # field devices
    "sync.pull": Action(EVERYONE_SIGNED_IN, note="rows: the caller's scope"),
    "sync.push": Action(EVERYONE_SIGNED_IN, note="rows: the caller's write scope"),
    "conflicts.list": Action(CITY_OFFICE), "conflicts.resolve": Action(CITY_OFFICE),
    # bulk data
    "import.people": Action(CITY_OFFICE), "import.shelters": Action(CITY_OFFICE),
    "export.people": Action(CITY_OFFICE), "export.shelters": Action(CITY_OFFICE),
    "import.plans": Action(CITY_OFFICE, note="plan CSV (個別避難計画): dry run, then all or nothing"),
    "export.plans": Action(CITY_OFFICE, note="plan CSV, one row per person on the register"),
    # HQ
    "hq.view": Action(HQ, note="map page, tallies, live stream"),
    "hq.coverage": Action(CITY_OFFICE, note="the web of support's city figures on the HQ panel (plans are read)"),
    "hazards.read": Action(EVERYONE_SIGNED_IN), "hazards.people": Action(HQ),
    "district_intensity.read": Action(HQ), "district_intensity.set": Action(CITY_OFFICE),
    "shelter.open_request": Action(CITY_OFFICE),
    "matching.read": Action(HQ, note="the HQ viewer gets totals, no person's destination"),
    "matching.run": Action(CITY_OFFICE), "matching.confirm": Action(CITY_OFFICE),
    # DWAT dispatch (docs/dwat.md); no register data on any of these
    "dwat.board": Action(DWAT_BOARD, note="dispatch board, suggestions, rotation plan and what-if"),
    "dwat.dispatch": Action(DWAT_DISPATCH, note="request flow steps, confirming a team (makes the deployment)"),
    # printing (rows: the plans the caller may read)
    "workbench.view": Action(CITY_OFFICE, note="the welfare office's workbench: register search, person pages, forms"),
    "workbench.edit": Action(CITY_OFFICE, note="saves from the workbench; rows through the records layer"),
    "print.page": Action(EVERYONE_SIGNED_IN, deployed=False, note="the page explains a refusal itself"),
    # DWAT on site, as HQ and the prefecture see it (the merger adds the prefecture's role here)
    "dwat.reports.view": Action(DWAT_FOLLOW, note="daily reports by site and day, chart, chronology"),
    "dwat.chronology.export": Action(DWAT_FOLLOW, note="クロノロジー CSV (csvsafe), audited"),
    "dwat.referrals.view": Action(HQ, note="triage moves: 紹介 → 受入先決定 → 到着; names for the office only"),
    "print.plan": Action(PRINTERS), "print.batch": Action(PRINTERS), "print.field_list": Action(PRINTERS),
}


def _resource_actions() -> dict[str, Action]:
    """`<resource>.<list|read|create|update|delete>` from the record matrix above, so one table answers."""
    out = {}
    for resource, rules in POLICY.items():
        for op in ("list", "read", "create", "update", "delete"):
            out[f"{resource}.{op}"] = Action(frozenset(r for r, rule in rules.items() if op in rule.actions))
    return out


ACTIONS.update(_resource_actions())


def action(name: str) -> Action:
    """The action `name`; an unknown name is a programming error caught when the route is declared."""
    if name not in ACTIONS:
        raise KeyError(f"no action {name!r} in the access table (server/auth/policy.py: ACTIONS)")
    return ACTIONS[name]


def allowed(principal: Optional[Principal], name: str) -> bool:
    """The one question: may this caller (None: not signed in) perform the action now?"""
    if name == PUBLIC:
        return True
    entry = action(name)
    if principal is None or principal.role not in entry.roles or principal.mode not in entry.modes:
        return False
    return not (entry.deployed and principal.role == M and not principal.deployment_ids)


# Where each role works: the first of these pages its role may open (after sign-in, `/` leads there).
LANDINGS = (("workbench.view", "/workbench"), ("hq.view", "/hq"), ("dwat.board", "/dwat"))
FIELD_APP = "/app/"


def landing_page(role: Role) -> str:
    """The page a role lands on after signing in: the office on the workbench, HQ on the map, the
    field roles (民生委員, shelter staff, DWAT) in the field app."""
    return next((path for name, path in LANDINGS if role in action(name).roles), FIELD_APP)


def allowed_actions(principal: Principal) -> list[str]:
    return sorted(name for name in ACTIONS if allowed(principal, name))


def writable_fields(principal: Principal) -> dict[str, list[str]]:
    """`<resource>.update` → the only fields this caller may change, where a rule narrows them."""
    out = {}
    for resource, rules in POLICY.items():
        rule = rules.get(principal.role)
        if rule is not None and rule.writable is not None and allowed(principal, f"{resource}.update"):
            out[f"{resource}.update"] = sorted(rule.writable)
    return out


# Resources whose reads disclose personal data of people on the register: every read is audited.
PERSONAL = frozenset({"people", "plans", "safety-checks", "consents", "supporters", "dwat-triages"})



def held_before(session, p: Principal, entity: str, befores: dict) -> set:
    """Of the records `befores` names ({id: scope keys before a write, or None for a new record}),
    those this caller's scope held before the write: only they get a drop or a tombstone in the
    changes feed, so the feed never names a record the device was not sent. A person's assignment
    to a shelter is judged as it is now (a change to a person does not move their plan)."""
    if entity == "people":
        if not people_clauses(p):
            return set(befores)
        known = {rid: b for rid, b in befores.items() if b}
        if p.is_city_office or p.role == Role.hq_viewer:  # scoped by municipality only
            return {rid for rid, b in known.items() if b.get("municipality_code") in p.municipality_codes}
        if p.role == Role.district_supporter:
            held = {rid for rid, b in known.items() if b.get("district_id") and
                    uuid.UUID(b["district_id"]) in p.district_ids}
        elif p.role in (Role.shelter_staff, Role.dwat_member) and known:
            held = set(session.exec(select(Person.id).where(Person.id.in_(list(known)),
                                                            Person.id.in_(_assigned_people(p.shelter_ids)))).all())
        else:
            held = set()
        if p.consent_only and p.share_category is None and p.ordinance == "opt_in":
            held = {rid for rid in held if known[rid].get("consent") == Consent.yes.value}
        elif p.consent_only and held:
            held = held_by_consent(session, p, held, {rid: known[rid].get("consent") for rid in held})
        elif p.mixed_modes and held:
            opened = {rid for rid in held if known[rid].get("municipality_code") in p.disaster_codes}
            rest = held - opened
            held = opened | (held_by_consent(session, p, rest, {rid: known[rid].get("consent") for rid in rest})
                             if rest else set())
        return held
    if entity == "plans":
        if not people_clauses(p):
            return set(befores)
        owners = {rid: uuid.UUID(b["person_id"]) for rid, b in befores.items() if b and b.get("person_id")}
        visible = set(session.exec(select(Person.id).where(Person.id.in_(list(owners.values())),
                                                           *people_clauses(p))).all()) if owners else set()
        return {rid for rid, owner in owners.items() if owner in visible}
    return set(befores)


def sees_plan_destinations(principal: Principal) -> bool:
    """Shelter matching proposals (docs/matching.md) name each person's destination shelter —
    the content of their evacuation plan — for the whole register. Only a role that reads every
    plan sees them per person; the others (the HQ viewer, who may not read plans) get the
    proposal's totals and the number of people per shelter."""
    rule = rule_for("plans", principal)  # the role's own row scope; the municipality narrows any role
    return rule is not None and "read" in rule.actions and not (rule.scope and rule.scope(principal))


def names_district(principal: Optional[Principal], district_id) -> bool:
    """May the caller name this district (a list filter, a district field list)? A district
    supporter only their own (a 福祉圏域 includes its 町丁目); other roles any (rows are scoped anyway)."""
    return principal is None or principal.role != D or district_id in principal.district_ids


def names_shelter(principal: Optional[Principal], shelter_id) -> bool:
    """May the caller name this shelter (a shelter field list)? Shelter staff and DWAT members only
    their own shelters / the deployment's; other roles any."""
    return principal is None or principal.role not in (S, M) or shelter_id in principal.shelter_ids


def rule_for(resource: str, principal: Principal) -> Optional[Rule]:
    return POLICY.get(resource, {}).get(principal.role)


def readable(rule: Rule, field: str) -> bool:
    """May a caller with this rule see the top-level `field`? (A filter or sort on it needs this.)"""
    if rule.only is not None and field not in rule.only:
        return False
    return field not in rule.hidden


def shape(rule: Rule, item: dict) -> dict:
    """Remove the fields this role may not see."""
    if rule.only is not None:
        item = {k: v for k, v in item.items() if k in rule.only}
    for path in rule.hidden:
        head, _, tail = path.partition(".")
        if not tail:
            item.pop(head, None)
        elif isinstance(item.get(head), dict):
            item[head] = {k: v for k, v in item[head].items() if k != tail}
    return item
