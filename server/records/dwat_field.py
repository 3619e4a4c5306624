"""The DWAT field side in the records layer: welfare triage (`dwat-triages`), the rules that
guard the daily report and the request counts, run inside the write transaction of
`create_row` / `update_row` (the REST API and the sync protocol alike, so both refuse the same
way: a 422 with field errors over HTTP, `rejected` with the same errors over sync).

Why the checks live in `before_write`: the domain functions (server/domain/dwat/) decide; here
they get the stored rows they need (the deployment, where the person is) and a refusal becomes
the API's field errors. Nothing is written when they refuse: the caller's savepoint rolls back.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Optional

from pydantic import ValidationError
from sqlmodel import Session, select

from ..domain.dwat.adapters import deployment_from_row, site_from_shelter
from ..domain.dwat.common import DwatError
from ..domain.dwat.daily_report import Activity, new_report
from ..domain.dwat.request_flow import parse_needs
from ..domain.dwat.triage import TriageOutcome, TriagePerson, new_triage, placement_demand
from ..domain.japan_time import local_day
from ..errors import ApiError, field_errors
from ..models import DwatDeployment, EvacuationPlan, Municipality, Person, SafetyCheck, Shelter
from ..models.dwat_field import DwatTriage, DwatTriageCreate, DwatTriagePublic
from ..models.people import PersonCreate
from ..models.vocab import SafetyOutcome
from ..sync.changelog import log_change
from .resource import DATETIME_SCHEMA, Filter, Resource, parse_bool, parse_datetime, uuid_filter

ON_SITE_NOTE = "DWAT現地登録（福祉的トリアージ）・要確認 / added on site by a DWAT triage: to review"


def refusal(exc: DwatError, status: int = 422) -> ApiError:
    """A domain refusal as the API's field errors (Japanese first, the code for clients)."""
    return ApiError(status, "; ".join(p.en for p in exc.problems),
                    [{"field": p.field or "body", "message": f"{p.ja} / {p.en}", "code": p.code}
                     for p in exc.problems])


def person_site(session: Session, person_id: uuid.UUID, shelter_id: uuid.UUID) -> Optional[uuid.UUID]:
    """Where the person is now, as far as the records tell: the shelter of their latest safety
    check that names one; failing that, `shelter_id` when their plan sends them there
    (destination or alternate); else unknown (None: not at this shelter)."""
    checks = session.exec(select(SafetyCheck).where(SafetyCheck.person_id == person_id,
                                                    SafetyCheck.shelter_id.is_not(None))).all()
    if checks:
        return max(checks, key=lambda c: (c.observed_at, c.recorded_at, str(c.id))).shelter_id
    planned = session.exec(select(EvacuationPlan.id).where(
        EvacuationPlan.person_id == person_id,
        (EvacuationPlan.destination_shelter_id == shelter_id) | (EvacuationPlan.alternate_shelter_id == shelter_id)
    )).first()
    return shelter_id if planned is not None else None


def _new_person(row: DwatTriage) -> dict:
    value = row.new_person
    if value is None:
        return {}
    return value if isinstance(value, dict) else value.model_dump(mode="json")


def _only_municipality(session: Session) -> str:
    """A shelter without a municipality code (an old import): the installation's only city."""
    codes = session.exec(select(Municipality.municipality_code)).all()
    return codes[0] if len(codes) == 1 else ""


def _register_on_site(session: Session, row: DwatTriage, shelter: Shelter) -> None:
    """The person a team met who is not on the register: a new 要配慮者, flagged for the office,
    placed at the shelter by a safety check (so the team and the shelter see them)."""
    data = _new_person(row)
    code = shelter.municipality_code or _only_municipality(session)
    values = dict(register_no=f"DWAT-{row.id.hex[:10].upper()}", municipality_code=code, name=data["name"],
                  name_kana=data.get("name_kana", ""), birth_date=data["birth_date"], sex=data.get("sex", "unknown"),
                  address=data.get("address") or f"（避難中: {shelter.name}）", phone=data.get("phone", ""),
                  reasons=list(data.get("reasons", [])), reason_note=ON_SITE_NOTE, lon=shelter.lon, lat=shelter.lat)
    try:
        checked = PersonCreate.model_validate(values)
    except ValidationError as exc:
        raise ApiError(422, "the new person cannot be added", field_errors(exc, "new_person")) from None
    person = Person(**checked.model_dump(exclude={"id"}))
    session.add(person)
    session.flush()
    check = SafetyCheck(person_id=person.id, outcome=SafetyOutcome.evacuated, shelter_id=shelter.id,
                        observed_at=row.observed_at, reporter=row.reporter, device_id=row.device_id,
                        note="DWAT現地登録")
    session.add(check)
    session.flush()
    log_change(session, "people", person.id)
    log_change(session, "safety-checks", check.id)
    row.person_id = person.id
    row.registered_on_site = True
    row.new_person = data


def triage_before_write(session: Session, row: DwatTriage, previous: Optional[dict]) -> None:
    """Validate a triage with the domain's rules and, for a person not on the register, add them."""
    deployment_row = session.get(DwatDeployment, row.deployment_id)
    shelter = session.get(Shelter, deployment_row.shelter_id)
    deployment = deployment_from_row(deployment_row)
    row.shelter_id = deployment_row.shelter_id
    if (row.person_id is None) == (row.new_person is None):
        raise ApiError(422, "name the person assessed, or describe a new one", [
            {"field": "person_id", "code": "person_required",
             "message": "対象者（登録済み）か新規の方のどちらか一方を指定してください / give person_id or new_person, not both"}])
    here = row.shelter_id if row.person_id is None else person_site(session, row.person_id, row.shelter_id)
    person = session.get(Person, row.person_id) if row.person_id else None
    try:
        triage = new_triage(row.id, deployment, person_id=row.person_id or row.id, person_site_id=here,
                            outcome=row.outcome, at=row.observed_at, by=row.reporter or "—", needs=row.needs,
                            groups=row.groups, urgent=row.urgent, destination=row.destination_shelter_id,
                            notes=row.notes)
        if triage.outcome == TriageOutcome.move_to_welfare_shelter:
            reasons = person.reasons if person else _new_person(row).get("reasons", [])
            facts = TriagePerson(triage.person_id, tuple(str(r) for r in reasons),
                                 tuple(str(c) for c in (person.care_needs if person else ())),
                                 person.birth_date if person else None)
            placement_demand(triage, facts, site_from_shelter(shelter), local_day(row.observed_at))
    except DwatError as exc:
        raise refusal(exc) from None
    row.outcome = triage.outcome.value
    row.needs = [n.value for n in triage.needs]
    row.groups = sorted(g.value for g in triage.groups)
    if row.person_id is None:
        _register_on_site(session, row, shelter)
    elif row.new_person is not None:
        row.new_person = None


def _count_map(raw) -> dict:
    return {str(k): v for k, v in dict(raw or {}).items()}


def report_before_write(session: Session, row, previous: Optional[dict]) -> None:
    """A daily report is checked by the domain's rules (a deployment that ended or has not
    started, a day outside it, counts that are not whole numbers ≥ 0). Old clients send the
    three legacy numbers only: they become counts; new clients send counts, and the legacy
    numbers are kept in step so older readers still see them."""
    counts, triage = _count_map(row.counts), _count_map(row.triage_counts)
    if not counts:
        counts = {k: n for k, n in ((Activity.consultation.value, row.consultations),
                                    (Activity.assessment.value, row.people_assessed),
                                    (Activity.transfer.value, row.referrals)) if n}
    deployment = deployment_from_row(session.get(DwatDeployment, row.deployment_id))
    try:
        report = new_report(row.id, deployment, report_date=row.report_date, counts=counts, triage=triage,
                            submitted_at=row.observed_at, reporter=row.reporter or "—", issues=row.issues,
                            handover=row.handover)
    except DwatError as exc:
        raise refusal(exc) from None
    row.counts = {k.value: n for k, n in report.counts}
    row.triage_counts = {k.value: n for k, n in report.triage}
    by_kind = dict(report.counts)
    row.consultations = by_kind.get(Activity.consultation, 0)
    row.people_assessed = by_kind.get(Activity.assessment, 0) + sum(n for _, n in report.triage)
    row.referrals = by_kind.get(Activity.transfer, 0)


def request_before_write(session: Session, row, previous: Optional[dict]) -> None:
    """Need counts (by kind) are checked by the domain's rules: known kinds, whole numbers ≥ 0.
    A request from the field app must ask for something: counts all zero and no free-text need
    are refused (`no_needs`). Requests of the older free-text shape stay as they were."""
    if previous is not None and _count_map(previous.get("need_counts")) == _count_map(row.need_counts):
        return
    counts = _count_map(row.need_counts)
    if not counts and row.needs:
        return
    parsed, problems = parse_needs(counts)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise refusal(DwatError([dataclasses.replace(p, field="need_counts") for p in errors]))
    row.need_counts = {k.value: n for k, n in parsed}


def _since(column) -> Filter:
    return Filter("since", column, parse_datetime, op="gte", schema=DATETIME_SCHEMA,
                  description="observed at or after (ISO 8601 with timezone)")


DWAT_TRIAGES = Resource(
    "dwat-triages", DwatTriage, DwatTriageCreate, DwatTriagePublic,
    title="DWAT triage", order_by=lambda t: [t.observed_at.desc(), t.id], before_write=triage_before_write,
    filters=[uuid_filter("deployment_id", DwatTriage.deployment_id), uuid_filter("person_id", DwatTriage.person_id),
             Filter("outcome", DwatTriage.outcome, description="stay_with_support, welfare_room, "
                                                                "move_to_welfare_shelter, hospital, other"),
             Filter("registered_on_site", DwatTriage.registered_on_site, parse_bool,
                    schema={"type": "boolean"}, description="現地登録 (to review)"),
             _since(DwatTriage.observed_at)])
