"""The resources: every kind of record and event, described once for the row operations, the
routes, the sync feed and the OpenAPI document alike."""

from __future__ import annotations

import uuid
from typing import Any, Optional

from pydantic_core import to_jsonable_python
from sqlmodel import Session, select

from ..auth.audit import record
from ..auth.principal import installed_municipalities
from ..domain.current_state import latest_safety_checks, latest_shelter_reports
from ..domain.dwat.adapters import lenient_counts
from ..domain.dwat.request_flow import STATE_OF_STEP
from ..domain.japan_time import local_day
from ..domain.matching.store import rerun_if_shelter_changed
from ..errors import ApiError
from ..models import (District, DwatActivityReport, DwatDeployment, DwatMember, DwatRequest, DwatRequestStep, DwatTeam,
                      EvacuationPlan, Municipality, Person, PersonConsent, PlanVersion, SafetyCheck, Shelter,
                      ShelterReport, SupporterRecord)
from ..models import dwat, events, geo, people, plans, sharing, shelters, supporters
from ..models.base import utcnow
from ..models.vocab import (Consent, ConsentAnswer, Recipient, DeploymentState, DistrictKind, OpenState, PlanStatus,
                            RequestState, RequestStep, SafetyOutcome, SeismicClass, ShelterKind)
from .access import Access
from .dwat_field import DWAT_TRIAGES, report_before_write, request_before_write
from .dwat_roster import check_deployment_write, check_member_write, team_checks
from .resource import DATETIME_SCHEMA, Filter, Resource, enum_filter, parse_bool, parse_datetime, uuid_filter
from .plan_border import check_plan_border
from .rows import get_row
from . import review_flags
from .supporter_links import after_plan_write, after_supporter_write, check_links, default_municipality


def _people_decorate(session: Session, rows: list[Person], items: list[dict]) -> None:
    latest = latest_safety_checks(session, [r.id for r in rows])
    for row, item in zip(rows, items):
        check = latest.get(row.id)
        item["latest_safety"] = None if check is None else {
            "outcome": check.outcome, "observed_at": check.observed_at.isoformat(), "check_id": str(check.id)}


def _shelter_decorate(session: Session, rows: list[Shelter], items: list[dict]) -> None:
    latest = latest_shelter_reports(session, [r.id for r in rows])
    for row, item in zip(rows, items):
        item["incomplete"] = row.incomplete_fields()
        report = latest.get(row.id)
        item["current"] = None if report is None else {
            "open_state": report.open_state, "occupancy": report.occupancy, "damage": report.damage,
            "observed_at": report.observed_at.isoformat(), "report_id": str(report.id)}


def _people_before_write(session: Session, row: Person, previous: Optional[dict]) -> None:
    """The ふりがな search key follows the ふりがな (update_row writes the row's columns as set here)."""
    row.kana_key = people.kana_key(row.name_kana or "")


def _shelter_before_write(session: Session, row: Shelter, previous: Optional[dict]) -> None:
    row.seismic_class = row.derived_seismic_class()


AGREEMENT_DESTINATION = {
    "field": "destination_shelter_id", "code": "agreement_shelter_as_destination",
    "message": "協定福祉避難所は市の開設要請があって初めて開設されます。第二避難先として指定してください。"
               " / A 協定福祉避難所 opens only on the city's request: name it as the alternate (第二避難先)."}


def _plan_decorate(session: Session, rows: list[EvacuationPlan], items: list[dict]) -> None:
    """Warnings, not refusals: a plan may still name a 協定福祉避難所 as its destination."""
    wanted = {r.destination_shelter_id for r in rows if r.destination_shelter_id is not None}
    agreement = set(session.exec(select(Shelter.id).where(Shelter.id.in_(wanted),
                                                          Shelter.kind == ShelterKind.agreement_welfare)).all()) \
        if wanted else set()
    for row, item in zip(rows, items):
        item["warnings"] = [AGREEMENT_DESTINATION] if row.destination_shelter_id in agreement else []


def plan_version_row(plan_id, version: int, previous: dict) -> dict[str, Any]:
    """The kept copy of a plan before a save (its field values as JSON): one shape for a save
    through `update_row` and for the plan CSV import's bulk update."""
    return {"id": uuid.uuid4(), "plan_id": plan_id, "version": version, "saved_at": utcnow(),
            "data": to_jsonable_python(previous)}


def _person_municipality(session: Session, row: EvacuationPlan) -> Optional[str]:
    """The plan's person's municipality when the installation has several (their plan links only
    their own city's 支援者台帳 entries); None with one municipality: nothing to tell apart."""
    if not row.supporters or len(installed_municipalities(session)) <= 1:
        return None
    person = session.get(Person, row.person_id)
    return person.municipality_code if person is not None else None


def _plan_before_write(session: Session, row: EvacuationPlan, previous: Optional[dict]) -> None:
    """Every save keeps the previous version of the plan. A supporter line may link only an
    existing register entry; a newly named destination of another municipality must accept the
    person's (plan_border); a supporter newly over their threshold flags their other done plans."""
    check_links(session, row.supporters, previous, _person_municipality(session, row))
    check_plan_border(session, row, previous)
    after_plan_write(session, PLANS, row, previous)
    if previous is None:
        return
    session.add(PlanVersion(**plan_version_row(row.id, row.version, previous)))


def _supporter_before_write(session: Session, row: SupporterRecord, previous: Optional[dict]) -> None:
    """The register entry is the source of the plans' copies: a changed name / phone / address is
    copied to every linked plan; an entry marked left flags its done plans 要見直し."""
    after_supporter_write(session, PLANS, row, previous)


def _person_updated(session: Session, record_id, before: dict, after: dict) -> None:
    review_flags.after_people_write(session, [(record_id, before, after)])


def _shelter_updated(session: Session, record_id, before: dict, after: dict) -> None:
    review_flags.after_shelters_write(session, [(record_id, before, after)])


def _plan_updated(session: Session, record_id, before: dict, after: dict) -> None:
    review_flags.clear_on_done(session, record_id, after.get("status"))


def plan_history(session: Session, plan_id, access: Access, client: str = "") -> dict[str, Any]:
    """The saved versions of a plan, newest first, shaped like the plan itself; an audited read."""
    get_row(PLANS, session, plan_id, access)
    record(session, "read", principal=access.principal, resource="plans/history", record_ids=[plan_id],
           client=client)
    versions = session.exec(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                            .order_by(PlanVersion.version.desc())).all()
    items = [plans.PlanVersionPublic.model_validate(v, from_attributes=True).model_dump(mode="json")
             for v in versions]
    for item in items:  # the same fields are hidden in old versions as in the current one
        item["data"] = access.shape([item["data"]])[0]
    return {"items": items}


MUNICIPALITIES = Resource(
    "municipalities", Municipality, geo.MunicipalityCreate, geo.MunicipalityPublic, geo.MunicipalityUpdate,
    title="municipality", order_by=lambda t: [t.municipality_code], fixed=frozenset({"municipality_code"}))

DISTRICTS = Resource(
    "districts", District, geo.DistrictCreate, geo.DistrictPublic, geo.DistrictUpdate,
    title="district", order_by=lambda t: [t.kind, t.code], fixed=frozenset({"kind", "code", "municipality_code"}),
    filters=[enum_filter("kind", District.kind, DistrictKind), uuid_filter("parent_id", District.parent_id),
             Filter("municipality_code", District.municipality_code), Filter("code", District.code)])

PEOPLE = Resource(
    "people", Person, people.PersonCreate, people.PersonPublic, people.PersonUpdate,
    title="person", order_by=lambda t: [t.register_no], decorate=_people_decorate, after_update=_person_updated,
    before_write=_people_before_write,
    filters=[uuid_filter("district_id", Person.district_id, "町丁目"), enum_filter("consent", Person.consent, Consent),
             Filter("register_no", Person.register_no, description="登録者番号 (exact)"),
             Filter("name_kana", Person.name_kana, op="prefix", description="ふりがな prefix"),
             Filter("municipality_code", Person.municipality_code)])

PLANS = Resource(
    "plans", EvacuationPlan, plans.PlanCreate, plans.PlanPublic, plans.PlanUpdate,
    title="evacuation plan", order_by=lambda t: [t.created_at, t.id], before_write=_plan_before_write,
    after_update=_plan_updated,
    fixed=frozenset({"person_id"}),
    decorate=_plan_decorate,
    filters=[uuid_filter("person_id", EvacuationPlan.person_id), enum_filter("status", EvacuationPlan.status, PlanStatus),
             uuid_filter("destination_shelter_id", EvacuationPlan.destination_shelter_id)])

SUPPORTERS = Resource(
    "supporters", SupporterRecord, supporters.SupporterCreate, supporters.SupporterPublic, supporters.SupporterUpdate,
    title="supporter", order_by=lambda t: [t.name_kana, t.name, t.id], before_write=_supporter_before_write,
    create_defaults=default_municipality, fixed=frozenset({"municipality_code"}),
    filters=[Filter("kind", SupporterRecord.kind, description="minsei, jichikai, jishubo, neighbour, family, "
                                                               "care_manager, business, other"),
             Filter("active", SupporterRecord.active, parse_bool, schema={"type": "boolean"}),
             uuid_filter("district_id", SupporterRecord.district_id, "町丁目 the supporter lives in"),
             uuid_filter("person_id", SupporterRecord.person_id)])

SHELTERS = Resource(
    "shelters", Shelter, shelters.ShelterCreate, shelters.ShelterPublic, shelters.ShelterUpdate,
    title="shelter", order_by=lambda t: [t.kind, t.name], decorate=_shelter_decorate,
    before_write=_shelter_before_write, after_update=_shelter_updated,
    filters=[enum_filter("kind", Shelter.kind, ShelterKind), uuid_filter("district_id", Shelter.district_id),
             enum_filter("seismic_class", Shelter.seismic_class, SeismicClass),
             Filter("common_id", Shelter.common_id, description="共通ID")])


def _since_filter(column) -> Filter:
    return Filter("since", column, parse_datetime, op="gte", schema=DATETIME_SCHEMA,
                  description="observed at or after (ISO 8601 with timezone)")


def _shelter_report_written(session: Session, row: ShelterReport, previous: Optional[dict]) -> None:
    """A report that changes a shelter's usable state or room re-runs the matching (if in use)."""
    rerun_if_shelter_changed(session, row)


SHELTER_REPORTS = Resource(
    "shelter-reports", ShelterReport, events.ShelterReportCreate, events.ShelterReportPublic,
    title="shelter status report", order_by=lambda t: [t.observed_at.desc(), t.id],
    before_write=_shelter_report_written,
    filters=[uuid_filter("shelter_id", ShelterReport.shelter_id), enum_filter("open_state", ShelterReport.open_state, OpenState),
             _since_filter(ShelterReport.observed_at)])

SAFETY_CHECKS = Resource(
    "safety-checks", SafetyCheck, events.SafetyCheckCreate, events.SafetyCheckPublic,
    title="safety check", order_by=lambda t: [t.observed_at.desc(), t.id],
    filters=[uuid_filter("person_id", SafetyCheck.person_id), enum_filter("outcome", SafetyCheck.outcome, SafetyOutcome),
             _since_filter(SafetyCheck.observed_at)])

def _team_decorate(session: Session, rows: list[DwatTeam], items: list[dict]) -> None:
    """The roster check (名簿チェック): 4–6 members and a leader are errors that block dispatch;
    no sub-leader, no woman, a profession missing are warnings (docs/dwat.md)."""
    checks = team_checks(session, rows)
    for row, item in zip(rows, items):
        item["roster"] = checks[row.id]


def _state_code(value: Any) -> Optional[str]:
    try:
        return RequestState.parse(str(value)).value
    except ValueError:
        return None


def _request_flow_fields(session: Session, row: DwatRequest, changes: dict) -> None:
    """The flow's fields move only through its routes (/api/dwat/requests/{id}/advance, /confirm):
    `step` and `team_id` are never changed here, nor `deployment_id` (sent unchanged it is no
    change), and `state`, the step's legacy summary, may be sent only as the step has it (a
    record echoed back), so the two cannot disagree."""
    step = RequestStep(row.step)
    derived = STATE_OF_STEP[step].value
    route = dwat.FLOW_ROUTES.replace("{id}", str(row.id))
    errors = [{"field": name, "message": f"moved only through the request flow: use {route}"}
              for name in ("step", "team_id") if name in changes]
    if "deployment_id" in changes and str(changes["deployment_id"] or "") != str(row.deployment_id or ""):
        # the flow acts on this deployment (on site makes it active, closed ends it): /confirm sets it
        errors.append({"field": "deployment_id", "message": f"set by the request flow when a team is confirmed: use {route}"})
    if "state" in changes and _state_code(changes["state"]) != derived:
        errors.append({"field": "state", "message": (
            f"state follows the request's step ({step.value} {step.ja} → {derived}) and is not set on its own "
            f"(要請の状態は手順から決まります); use {route}")})
    if errors:
        raise ApiError(422, "validation failed", errors)


def _request_before_write(session: Session, row: DwatRequest, previous: Optional[dict]) -> None:
    """Counts read from the free-text needs when none are given; wanted from the day it is made.
    A new request starts at the flow's first step with no team: the flow's own routes move it.
    Its `state` is the step's (a row left disagreeing by an older version is put right)."""
    if previous is None and (row.step != RequestStep.requested or row.team_id is not None
                             or row.deployment_id is not None):
        raise ApiError(422, "validation failed", [
            {"field": "step" if row.step != RequestStep.requested else "team_id" if row.team_id else "deployment_id",
             "message": "a request starts as requested (要請受付) with no team; use /api/dwat/requests/{id}/advance "
                        "and /confirm to move it"}])
    derived = STATE_OF_STEP[RequestStep(row.step)]
    if previous is None and row.state != derived:
        raise ApiError(422, "validation failed", [
            {"field": "state", "message": f"a new request is {derived.value} (要請受付); its state follows its step: "
                                          f"use {dwat.FLOW_ROUTES} to move it"}])
    row.state = derived
    request_before_write(session, row, previous)  # need counts: known kinds, something asked for
    if not row.need_counts:
        row.need_counts = lenient_counts(row.needs)
    if row.wanted_from is None:
        row.wanted_from = local_day(row.created_at)


def _request_created(session: Session, row: DwatRequest, access: Access) -> None:
    """The first step of the flow (要請受付): who made the request, and when."""
    who = access.principal.username if access.principal is not None else ""
    session.add(DwatRequestStep(request_id=row.id, from_step=None, to_step="requested", by=who, at=row.created_at))


DWAT_TEAMS = Resource("dwat-teams", DwatTeam, dwat.DwatTeamCreate, dwat.DwatTeamPublic, dwat.DwatTeamUpdate,
                      title="DWAT team", order_by=lambda t: [t.name], decorate=_team_decorate,
                      filters=[Filter("status", DwatTeam.status)])

DWAT_MEMBERS = Resource(
    "dwat-members", DwatMember, dwat.DwatMemberCreate, dwat.DwatMemberPublic, dwat.DwatMemberUpdate,
    title="DWAT member", order_by=lambda t: [t.team_id, t.role, t.name], before_write=check_member_write,
    filters=[uuid_filter("team_id", DwatMember.team_id)])

DWAT_DEPLOYMENTS = Resource(
    "dwat-deployments", DwatDeployment, dwat.DwatDeploymentCreate, dwat.DwatDeploymentPublic, dwat.DwatDeploymentUpdate,
    title="DWAT deployment", order_by=lambda t: [t.start_date.desc(), t.id], fixed=frozenset({"team_id"}),
    before_write=check_deployment_write,
    filters=[uuid_filter("team_id", DwatDeployment.team_id), uuid_filter("shelter_id", DwatDeployment.shelter_id),
             enum_filter("state", DwatDeployment.state, DeploymentState)])

DWAT_REQUESTS = Resource(
    "dwat-requests", DwatRequest, dwat.DwatRequestCreate, dwat.DwatRequestPublic, dwat.DwatRequestUpdate,
    # step and team move only through the flow (/api/dwat/requests/{id}/advance, /confirm)
    title="DWAT request", order_by=lambda t: [t.created_at.desc(), t.id], fixed=frozenset({"shelter_id", "step", "team_id"}),
    before_write=_request_before_write, after_create=_request_created, check_changes=_request_flow_fields,
    filters=[uuid_filter("shelter_id", DwatRequest.shelter_id), enum_filter("state", DwatRequest.state, RequestState)])

DWAT_ACTIVITY = Resource(
    "dwat-activity-reports", DwatActivityReport, events.DwatActivityCreate, events.DwatActivityPublic,
    title="DWAT activity report", order_by=lambda t: [t.report_date.desc(), t.observed_at.desc(), t.id],
    before_write=report_before_write,
    filters=[uuid_filter("deployment_id", DwatActivityReport.deployment_id), _since_filter(DwatActivityReport.observed_at)])

CONSENTS = Resource(
    "consents", PersonConsent, sharing.PersonConsentCreate, sharing.PersonConsentPublic,
    title="consent answer per recipient category (Art. 49-11)",
    order_by=lambda t: [t.person_id, t.recipient, t.answered_on, t.recorded_at],
    filters=[uuid_filter("person_id", PersonConsent.person_id),
             enum_filter("recipient", PersonConsent.recipient, Recipient),
             enum_filter("answer", PersonConsent.answer, ConsentAnswer)])

RESOURCES: list[Resource] = [MUNICIPALITIES, DISTRICTS, PEOPLE, PLANS, SUPPORTERS, SHELTERS, SHELTER_REPORTS, SAFETY_CHECKS,
                             DWAT_TEAMS, DWAT_MEMBERS, DWAT_DEPLOYMENTS, DWAT_REQUESTS, DWAT_ACTIVITY, CONSENTS,
                             DWAT_TRIAGES]
BY_PATH: dict[str, Resource] = {r.path: r for r in RESOURCES}
