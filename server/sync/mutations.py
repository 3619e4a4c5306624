"""Applying a batch of mutations from a device: idempotent, merged field by field, never silent."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_core import to_jsonable_python
from sqlmodel import Session, select

from ..auth.principal import Principal
from ..errors import ApiError, field_errors, not_found
from ..models.base import keep_stored
from ..models.sync import SyncConflict, SyncMutation
from ..records.access import Access, access_for
from ..records.resource import Resource
from ..records.rows import (check_writable, create_row, delete_row, get_row, row_values, to_public, update_row,
                            within_write_scope)

MAX_BATCH = 100


class Mutation(BaseModel):
    id: uuid.UUID = Field(description="Client-made mutation id")
    entity: str
    op: str = Field(description="create | update | delete")
    record_id: uuid.UUID | None = None
    base_version: int | None = Field(default=None, ge=1)
    data: dict[str, Any] | None = None
    base: dict[str, Any] = Field(default_factory=dict)
    changes: dict[str, Any] | None = None

    @field_validator("op")
    @classmethod
    def _op(cls, value: str) -> str:
        if value not in ("create", "update", "delete"):
            raise ValueError("op must be create, update or delete")
        return value


def payload_hash(raw: dict) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _same(a: Any, b: Any) -> bool:
    return to_jsonable_python(a) == to_jsonable_python(b)


def _rejected(mutation_id: Any, errors: list[dict], detail: str = "") -> dict:
    result = {"id": str(mutation_id) if mutation_id else None, "status": "rejected", "errors": errors}
    if detail:
        result["detail"] = detail
    return result


def apply_batch(session: Session, principal: Principal, resources: dict[str, Resource], device_id: str,
                raw_mutations: list[Any]) -> list[dict]:
    """Apply every mutation in order inside the caller's transaction; one result per mutation."""
    ids = []
    for raw in raw_mutations:
        try:
            ids.append(uuid.UUID(str(raw.get("id"))))
        except (AttributeError, ValueError):
            pass
    # One query for the whole batch: a retried batch is answered from these without touching records.
    known = {m.id: m for m in session.exec(select(SyncMutation).where(SyncMutation.id.in_(ids))).all()} if ids else {}
    return [_apply_one(session, principal, resources, device_id, raw, known) for raw in raw_mutations]


def _apply_one(session: Session, principal: Principal, resources: dict[str, Resource], device_id: str,
               raw: Any, known: dict[uuid.UUID, SyncMutation]) -> dict:
    if not isinstance(raw, dict):
        return _rejected(None, [{"field": "mutation", "message": "a mutation is a JSON object"}])
    try:
        mutation = Mutation.model_validate(raw)
    except ValidationError as exc:
        return _rejected(raw.get("id"), field_errors(exc), "malformed mutation")
    digest = payload_hash(raw)
    stored = known.get(mutation.id)
    if stored is not None:
        if stored.user_id != principal.user_id or stored.payload_hash != digest:
            return _rejected(mutation.id, [{"field": "id", "message": "mutation id reused with different content"}])
        return {**stored.result, "status": "duplicate", "original_status": stored.status}
    resource = resources.get(mutation.entity)
    savepoint = session.begin_nested()
    try:
        if resource is None:
            raise ApiError(422, "unknown entity", [{"field": "entity", "message": f"unknown entity {mutation.entity!r}"}])
        result = _dispatch(session, principal, resource, mutation, device_id)
        savepoint.commit()
    except ApiError as exc:
        savepoint.rollback()
        errors = exc.errors or [{"field": "body", "message": exc.detail}]
        result = _rejected(mutation.id, errors, exc.detail)
        result["http_status"] = exc.status
    row = SyncMutation(id=mutation.id, user_id=principal.user_id, device_id=device_id[:64],
                       entity=mutation.entity[:40], op=mutation.op, record_id=mutation.record_id,
                       payload_hash=digest, status=result["status"], result=result)
    session.add(row)
    known[mutation.id] = row  # the same id twice in one batch is a retry too
    return result


def _dispatch(session: Session, principal: Principal, resource: Resource, m: Mutation, device_id: str) -> dict:
    if m.op == "create":
        if m.data is None:
            raise ApiError(422, "create needs data", [{"field": "data", "message": "required"}])
        record, created = create_row(resource, session, m.data, access_for(principal, resource.path, "create"))
        return {"id": str(m.id), "status": "applied" if created else "duplicate", "record": record}
    if m.record_id is None:
        raise ApiError(422, f"{m.op} needs record_id", [{"field": "record_id", "message": "required"}])
    if m.op == "delete":
        delete_row(resource, session, m.record_id, m.base_version, access_for(principal, resource.path, "delete"))
        return {"id": str(m.id), "status": "applied", "record": None}
    if resource.is_event:
        raise ApiError(405, "events are append-only: a correction is a new event")
    if m.changes is None or m.base_version is None:
        raise ApiError(422, "update needs base_version and changes",
                       [{"field": "changes" if m.changes is None else "base_version", "message": "required"}])
    access = access_for(principal, resource.path, "update")
    return _merge_update(session, principal, resource, access, m, device_id)


def _as_read(resource: Resource, version: int, changes: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The changes as the update model reads them (phone numbers and postal codes normalised),
    for comparing with the stored values; as sent if they do not validate (`update_row` then
    refuses the ones it applies, with the field errors)."""
    assert resource.update is not None
    try:
        patch = resource.update.model_validate({**changes, "version": version}, context=keep_stored(current))
    except ValidationError:
        return changes
    return to_jsonable_python(patch.model_dump(exclude_unset=True, exclude={"version"}))


def _merge_update(session: Session, principal: Principal, resource: Resource, access: Access, m: Mutation,
                  device_id: str) -> dict:
    """Fields only the device changed are applied; fields both changed keep the server value and the
    device value goes to a conflict record. A field sent without its base value, on a record that
    has changed since, counts as changed on both sides: nothing is overwritten unseen."""
    row = get_row(resource, session, m.record_id, access)
    if not within_write_scope(resource, session, row.id, access):
        # Checked before anything is merged or stored as a conflict, and answered exactly like a
        # record that does not exist: a conflict must never carry a change the caller could not make.
        raise not_found(resource.title or resource.path)
    unknown = [f for f in m.changes if f not in resource.field_names]
    if unknown:
        raise ApiError(422, "unknown fields", [{"field": f"changes.{f}", "message": "unknown field"} for f in unknown])
    if resource.check_changes:
        resource.check_changes(session, row, m.changes)  # a flow field is refused, never kept as a conflict
    current = {k: to_jsonable_python(v) for k, v in row_values(resource, row).items()}
    check_writable(access, m.changes, current)  # before a conflict could carry a field the role may not change
    read = _as_read(resource, row.version, m.changes, current)
    apply: dict[str, Any] = {}
    conflicts: list[SyncConflict] = []
    for field, client_value in m.changes.items():
        server_value = current.get(field)
        if m.base_version == row.version or (field in m.base and _same(server_value, m.base[field])):
            apply[field] = client_value
        elif _same(server_value, read.get(field, client_value)):
            continue  # both made the same edit (０４２… typed offline is the 042-… already stored)
        else:
            conflicts.append(SyncConflict(entity=resource.path, record_id=row.id, field=field,
                                          base_value=to_jsonable_python(m.base.get(field)), server_value=server_value,
                                          client_value=to_jsonable_python(client_value), mutation_id=m.id,
                                          user_id=principal.user_id, device_id=device_id[:64]))
    if apply:
        record = update_row(resource, session, row.id, {"version": row.version, **apply}, access)
    else:
        record = access.shape(to_public(resource, session, [row]))[0]
    for conflict in conflicts:
        session.add(conflict)
    session.flush()
    result: dict[str, Any] = {"id": str(m.id), "status": "merged" if conflicts else "applied", "record": record}
    if conflicts:
        result["conflicts"] = [str(c.id) for c in conflicts]
        result["conflict_fields"] = [c.field for c in conflicts]
    return result
