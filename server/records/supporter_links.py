"""Plans ↔ supporter register entries: the copies on plans, the load, and the review flags.

A plan's `supporters` JSON keeps each supporter's name, address and phone as a copy (every
reader — field app, printing, sync, matching — reads it); `supporter_id` on the line links the
register entry, which is the source. So:

* when an entry's name, phone or address changes, every linked plan's copy is rewritten through
  the records layer (`update_row`: version bump, saved previous version, change log, so devices
  fetch it) — `refresh_plan_copies`;
* when an entry is marked left (辞退・転出), or a plan write puts a supporter over their
  threshold (`OVERLOAD_THRESHOLD`, 民生委員 `MINSEI_OVERLOAD_THRESHOLD`), the linked plans that
  are done (作成済) become 要見直し through `domain.workbench.review` — `flag_plans`;
* `supporter_review_reasons` says, for the plans linked to a left or overloaded supporter, why:
  the review list shows these reasons.

The plan resource is passed in (the registry describes both resources; this module must not
import it back).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Callable, Hashable, Iterable, Mapping, Optional

import sqlalchemy as sa
from sqlmodel import Session, select

from ..auth.audit import record, record_in_parts
from ..auth.principal import installed_municipalities
from ..domain.workbench.adapters import plan_from_row
from ..domain.workbench.common import Plan
from ..domain.workbench.review import State, Trigger, review_triggers
from ..domain.workbench.supporters import (Availability, SupporterEntry, SupporterKind, SupporterLoad,
                                           supporter_load, threshold_for)
from ..errors import ApiError
from ..models import ChangeLog, District, EvacuationPlan, SupporterRecord
from ..models.vocab import PlanStatus
from .access import UNRESTRICTED, Access
from .rows import update_row
from . import review_flags

COPIED = ("name", "phone", "address")


def default_municipality(session: Session, values: dict, access: Access) -> None:
    """A new entry's municipality (several in one installation): the one named, else its 町丁目's,
    else the caller's only one, else the installation's only one; with several possible and none
    named, a 422 asks for it. A 町丁目 of another municipality than the one named is refused."""
    district = session.get(District, values["district_id"]) if values.get("district_id") else None
    named = values.get("municipality_code")
    codes = getattr(access.principal, "municipality_codes", None)
    if district is not None and codes is not None and district.municipality_code not in codes:
        raise ApiError(422, "validation failed", [_absent("district_id", values["district_id"])])  # as if absent
    if named and district is not None and district.municipality_code != named:
        raise ApiError(422, "validation failed", [{"field": "district_id",
                                                   "message": "the 町丁目 is in another municipality than municipality_code"}])
    if named:
        return
    if district is not None:
        values["municipality_code"] = district.municipality_code
    elif codes is not None and len(codes) == 1:
        values["municipality_code"] = next(iter(codes))
    else:
        installed = installed_municipalities(session)
        if len(installed) > 1:
            raise ApiError(422, "validation failed", [{"field": "municipality_code", "message":
                           "市区町村か町丁目を指定してください (several municipalities: name the "
                           "supporter's municipality_code or 町丁目)"}])
        values["municipality_code"] = installed[0] if installed else None


def _absent(field: str, value) -> dict:
    """The reference check's words for an unknown id (records/rows.py): a 町丁目 of another
    municipality is refused as if it did not exist."""
    return {"field": field, "message": f"no district with id {value}"}


def check_districts(session: Session, row: SupporterRecord, previous: Optional[dict]) -> None:
    """Several municipalities: an entry's 町丁目 and 担当区域 are its own municipality's
    (`supporter.municipality_code`, never changed by an update), so an update cannot move a
    supporter into another city's district. Only newly set districts are checked."""
    had = {str(d) for d in [(previous or {}).get("district_id"), *((previous or {}).get("area_district_ids") or ())] if d}
    wanted = [("district_id", row.district_id)] if row.district_id else []
    wanted += [("area_district_ids", d) for d in row.area_district_ids or ()]
    wanted = [(f, d) for f, d in wanted if str(d) not in had]
    if not wanted or len(installed_municipalities(session)) <= 1:
        return
    errors = []
    for field, value in wanted:
        try:
            district = session.get(District, value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            district = None
        if district is None or district.municipality_code != row.municipality_code:
            errors.append(_absent(field, value))
    if errors:
        raise ApiError(422, "validation failed", errors)


def entry_from_row(row: SupporterRecord) -> SupporterEntry:
    """The domain's entry for a stored row (birth year → 1 January: flags an elderly supporter
    a few months early rather than late)."""
    return SupporterEntry(row.id, row.name, SupporterKind(row.kind), row.name_kana, row.phone, row.address,
                          frozenset(uuid.UUID(str(i)) for i in row.area_district_ids or ()),  # JSON gives text
                          Availability(row.availability),
                          row.lives_outside_city, date(row.birth_year, 1, 1) if row.birth_year else None,
                          row.elderly, row.person_id, row.active)


def line_ids(supporters: Iterable[Any]) -> list[uuid.UUID]:
    """The register ids a plan's supporter lines link, in order, once each."""
    out = []
    for s in supporters or ():
        value = s.get("supporter_id") if isinstance(s, dict) else getattr(s, "supporter_id", None)
        if value:
            try:
                out.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
            except ValueError:
                continue
    return list(dict.fromkeys(out))


def linked_plans(session: Session, supporter_id: uuid.UUID, access: Access = UNRESTRICTED) -> list[EvacuationPlan]:
    """The plans (in the caller's scope) with a line linked to this entry. The text test narrows
    the scan; the JSON test decides (an id inside a note would not count)."""
    rows = session.exec(select(EvacuationPlan).where(
        EvacuationPlan.supporters.cast(sa.String).contains(str(supporter_id)), *access.clauses())).all()
    return [r for r in rows if supporter_id in line_ids(r.supporters)]


# One per database: (the state it was counted at, entry id → plan count). Counting reads every
# plan's JSON (~0.4 s CPU on 50,000 plans); the list pages ask on every request.
_COUNTS: dict[str, tuple[tuple, dict]] = {}


def _state_key(session: Session) -> tuple:
    """Changes when any plan is written: every write through the records layer, sync or an
    importer adds a change-log row (its `at` tells a reused seq after a rollback apart); the
    plan count covers a bulk load that logs nothing."""
    last = session.exec(select(ChangeLog.seq, ChangeLog.at).order_by(ChangeLog.seq.desc()).limit(1)).first()
    plans = session.exec(select(sa.func.count()).select_from(EvacuationPlan)).one()
    return (tuple(last) if last else None, plans)


def plan_counts(session: Session) -> dict[uuid.UUID, int]:
    """Entry id → number of plans naming it, for the whole city, in one query over the JSON;
    kept until the next plan write."""
    url = str(session.get_bind().url)
    key = _state_key(session)
    cached = _COUNTS.get(url)
    if cached is not None and cached[0] == key:
        return cached[1]
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        sql = ("SELECT json_extract(s.value, '$.supporter_id') AS sid, count(DISTINCT p.id) FROM evacuation_plan p, "
               "json_each(p.supporters) s WHERE json_extract(s.value, '$.supporter_id') IS NOT NULL GROUP BY sid")
    else:
        sql = ("SELECT s.value ->> 'supporter_id' AS sid, count(DISTINCT p.id) FROM evacuation_plan p, "
               "json_array_elements(p.supporters) s WHERE s.value ->> 'supporter_id' IS NOT NULL GROUP BY sid")
    out = {}
    for sid, count in session.execute(sa.text(sql)).all():
        try:
            out[uuid.UUID(str(sid))] = count
        except ValueError:
            continue
    _COUNTS[url] = (key, out)
    return out


def load_of(session: Session, row: SupporterRecord, plans: list[EvacuationPlan]) -> SupporterLoad:
    """The domain's load for one entry (count, over the threshold, night/day mismatches)."""
    # Which plans need help at night is not stored yet: only the day mismatch (away by day) shows.
    found = supporter_load({p.id: [row.id] for p in plans}, {row.id: entry_from_row(row)})
    return found.get(row.id) or SupporterLoad(row.id, (), False, (), (), bool(row.lives_outside_city))


def threshold_of(row: SupporterRecord) -> int:
    return threshold_for(entry_from_row(row))


def link_errors(supporters: Iterable[Any], previous: Optional[dict],
                exists: Callable[[uuid.UUID], bool]) -> list[tuple[int, uuid.UUID]]:
    """(line index, entry id) of each line that newly links an entry which does not exist; a
    link the plan already had is not re-checked (the plan stays editable). `exists`: one
    `session.get` for a save, a set of the chunk's known ids for the plan CSV import."""
    had = set(line_ids((previous or {}).get("supporters") or ()))
    out = []
    for i, s in enumerate(supporters or ()):
        ids = line_ids([s])
        if ids and ids[0] not in had and not exists(ids[0]):
            out.append((i, ids[0]))
    return out


def check_links(session: Session, supporters: Iterable[Any], previous: Optional[dict] = None,
                municipality_code: Optional[str] = None) -> None:
    """A plan line may newly link only an entry that exists (422, naming the line), like any other id —
    and, with several municipalities, only an entry of the plan's person's municipality (each city
    keeps its own 支援者台帳: another city's entry is answered as unknown, as on the workbench form)."""
    def exists(sid) -> bool:
        entry = session.get(SupporterRecord, sid)
        return entry is not None and (municipality_code is None or entry.municipality_code in (None, municipality_code))

    errors = [{"field": f"supporters.{i}.supporter_id", "message": f"no supporter with id {sid}"}
              for i, sid in link_errors(supporters, previous, exists)]
    if errors:
        raise ApiError(422, "validation failed", errors)


def refresh_plan_copies(session: Session, plans_resource, row: SupporterRecord, previous: Optional[dict]) -> list:
    """After an entry's name, phone or address changed: rewrite every linked plan's copy (the
    relation stays the plan's own — 長男 of this person). Returns the plan ids rewritten."""
    if previous is None or all(previous.get(k) == getattr(row, k) for k in COPIED):
        return []
    changed = []
    for plan in linked_plans(session, row.id):
        lines = [dict(s) if isinstance(s, dict) else s.model_dump(mode="json") for s in plan.supporters or ()]
        for line in lines:
            if str(line.get("supporter_id") or "") == str(row.id):
                line.update({k: getattr(row, k) for k in COPIED})
        update_row(plans_resource, session, plan.id, {"version": plan.version, "supporters": lines})
        changed.append(plan.id)
    if changed:  # who changed the entry is in the entry's own audit row, in the same transaction
        record(session, "update", resource="plans", record_ids=changed,
               detail=f"supporter {row.id}: contact copied from the register")
    return changed


def flag_plans(session: Session, plans_resource, triggers: dict[Hashable, tuple[Trigger, ...]]) -> list:
    """The supporter's reasons are recorded on each plan (the review list shows why) and done
    plans become 要見直し — through the one entry point for every trigger
    (`records.review_flags.flag_plans`: previous version kept, version + 1, change feed); an audit
    entry per batch names the plans and the reasons (codes only, no names)."""
    ids = [uuid.UUID(str(k)) for k in triggers]
    done = set()
    for start in range(0, len(ids), review_flags.CHUNK):  # a plan import may flag thousands at once
        done.update(session.exec(select(EvacuationPlan.id).where(EvacuationPlan.id.in_(ids[start:start + review_flags.CHUNK]),
                                                                 EvacuationPlan.status == PlanStatus.done)).all())
    review_flags.flag_plans(session, triggers)
    flagged = [pid for pid in triggers if uuid.UUID(str(pid)) in done]
    if flagged:
        codes = sorted({t.code for ts in triggers.values() for t in ts})
        record_in_parts(session, "review_flag", resource="plans", record_ids=flagged,
                        detail="要見直し: " + ", ".join(codes))
    return flagged


def _state(plans: list[EvacuationPlan], entries: dict, links: dict) -> State:
    return State(plans={p.id: plan_from_row(p) for p in plans}, supporters=entries, links=links)


def after_supporter_write(session: Session, plans_resource, row: SupporterRecord, previous: Optional[dict]) -> list:
    """The supporter resource's hook: the districts' municipality, refresh copies, then flag plans
    if the entry was marked left."""
    check_districts(session, row, previous)
    refresh_plan_copies(session, plans_resource, row, previous)
    if previous is None or not previous.get("active") or row.active:
        return []
    plans = linked_plans(session, row.id)
    was = entry_from_row(row)
    before_entry = SupporterEntry(**{**was.__dict__, "active": True})
    links = {p.id: [row.id] for p in plans}
    triggers = review_triggers(_state(plans, {row.id: before_entry}, links), _state(plans, {row.id: was}, links))
    return flag_plans(session, plans_resource, triggers)


def after_plan_write(session: Session, plans_resource, plan: EvacuationPlan, previous: Optional[dict]) -> list:
    """The plan resource's hook: a supporter newly on this plan who is now over their threshold
    flags every done plan they are on (any of them may be the one they cannot reach at 3 a.m.)."""
    before_ids = set(line_ids((previous or {}).get("supporters") or ()))
    added = [sid for sid in line_ids(plan.supporters) if sid not in before_ids]
    if not added:
        return []
    triggers: dict = {}
    for sid in added:
        entry_row = session.get(SupporterRecord, sid)
        if entry_row is None:
            continue
        others = [p for p in linked_plans(session, sid) if p.id != plan.id]
        entry = {sid: entry_from_row(entry_row)}
        before = {p.id: [sid] for p in others}
        after = {**before, plan.id: [sid]}
        found = review_triggers(_state(others, entry, before), _state([*others, plan], entry, after))
        for pid, ts in found.items():
            triggers.setdefault(pid, ())
            triggers[pid] += ts
    # This plan's own status is the caller's to set (it is being saved now); flag the others.
    triggers.pop(plan.id, None)
    return flag_plans(session, plans_resource, triggers)


def _plans_linking(session: Session, wanted: set) -> dict[uuid.UUID, set]:
    """Entry id → the plans linking it, for the `wanted` entries, in one pass over the plans' JSON."""
    if session.get_bind().dialect.name == "sqlite":
        sql = ("SELECT p.id, json_extract(s.value, '$.supporter_id') FROM evacuation_plan p, json_each(p.supporters) s "
               "WHERE json_extract(s.value, '$.supporter_id') IS NOT NULL")
    else:
        sql = ("SELECT p.id, s.value ->> 'supporter_id' FROM evacuation_plan p, json_array_elements(p.supporters) s "
               "WHERE s.value ->> 'supporter_id' IS NOT NULL")
    out: dict = {}
    for pid, sid in session.execute(sa.text(sql)).all():
        try:
            sid = uuid.UUID(str(sid))
        except ValueError:
            continue
        if sid in wanted:
            out.setdefault(sid, set()).add(pid if isinstance(pid, uuid.UUID) else uuid.UUID(str(pid)))
    return out


def after_plans_written(session: Session, plans_resource, added: Mapping[uuid.UUID, set],
                        removed: Mapping[uuid.UUID, set]) -> list:
    """`after_plan_write` for many plans written at once (the plan CSV import), in one pass after
    the writes: `added` / `removed` — entry id → the plans the writes linked / unlinked it on. A
    supporter whose count crossed their threshold over the whole write flags every done plan they
    are on (the same rule, `review_triggers`). The file's own plans too: a single save leaves the
    plan being saved to its caller, but a file has no one plan that crossed — the first ten saved
    one by one would be flagged by the eleventh, and any of them may be the one the supporter
    cannot reach."""
    if not added:
        return []
    entries = {r.id: r for r in session.exec(select(SupporterRecord).where(SupporterRecord.id.in_(list(added))))}
    linking = _plans_linking(session, set(entries))
    triggers: dict = {}
    for sid, row in entries.items():
        now = linking.get(sid, set())
        before = (now - set(added[sid])) | set(removed.get(sid, ()))
        if len(now) <= threshold_of(row) or len(before) >= len(now):
            continue  # not over the threshold, or not more than before: nothing crossed
        entry = {sid: entry_from_row(row)}
        plans = {pid: Plan(pid, None) for pid in now}  # the rule needs them by id only
        found = review_triggers(State(plans=plans, supporters=entry, links={pid: [sid] for pid in before}),
                                State(plans=plans, supporters=entry, links={pid: [sid] for pid in now}))
        for pid, ts in found.items():
            triggers[pid] = triggers.get(pid, ()) + ts
    return flag_plans(session, plans_resource, triggers) if triggers else []


def supporter_review_reasons(session: Session, plan_ids: Optional[Iterable] = None) -> dict[uuid.UUID, list[Trigger]]:
    """Plan id → the supporter reasons it needs review now: a linked entry left, or is over the
    threshold. For the review list (it shows why); `plan_ids` narrows to those plans."""
    counts = plan_counts(session)
    wanted = None if plan_ids is None else set(plan_ids)
    query = select(EvacuationPlan)
    if wanted is not None:
        query = query.where(EvacuationPlan.id.in_(list(wanted)))
    plans = [p for p in session.exec(query).all() if line_ids(p.supporters)]
    ids = {sid for p in plans for sid in line_ids(p.supporters)}
    rows = {r.id: r for r in session.exec(select(SupporterRecord).where(SupporterRecord.id.in_(list(ids))))} if ids else {}
    out: dict = {}
    for p in plans:
        for sid in line_ids(p.supporters):
            row = rows.get(sid)
            if row is None:
                continue
            if not row.active:
                out.setdefault(p.id, []).append(Trigger("supporter_left", "避難支援等実施者が辞退・転出しました",
                                                        "a supporter left", sid))
            limit = threshold_of(row)
            if counts.get(sid, 0) > limit:
                out.setdefault(p.id, []).append(Trigger("supporter_overloaded",
                                                        f"避難支援等実施者の担当が{limit}件を超えています",
                                                        f"a supporter is on more than {limit} plans", sid))
    return out
