"""Row operations on records: list, get, create, versioned update, delete.

Every write checks what the database would refuse (unknown foreign id, duplicate unique value)
and turns it into field errors, runs the resource's `before_write`, stays within the caller's
write scope and adds a change-log row for the sync feed. Master records are updated with a
version check (`UPDATE … WHERE version = ?`, exactly one row changed); events are create-only.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from ..errors import ApiError, not_found, validation_error
from ..models.base import keep_stored, utcnow
from ..sync.changelog import log_change
from .access import UNRESTRICTED, Access
from .resource import Resource


def to_public(resource: Resource, session: Session, rows: list[Any]) -> list[dict]:
    items = [resource.public.model_validate(row, from_attributes=True).model_dump(mode="json") for row in rows]
    if resource.decorate and rows:
        resource.decorate(session, rows, items)
    return items


def row_values(resource: Resource, row: Any) -> dict:
    return {name: getattr(row, name) for name in resource.field_names}


def _model_for_table(table_name: str) -> type[SQLModel] | None:
    for mapper in SQLModel._sa_registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table_name:
            return mapper.class_
    return None


def check_references_and_uniques(resource: Resource, session: Session, values: dict, own_id: uuid.UUID | None) -> None:
    """Turn what the database would refuse (unknown foreign id, duplicate unique value) into 422s."""
    errors = []
    table = resource.table.__table__
    for column in table.columns:
        value = values.get(column.name)
        if value is None:
            continue
        for fk in column.foreign_keys:
            target = _model_for_table(fk.column.table.name)
            if target is not None and session.get(target, value) is None:
                errors.append({"field": column.name, "message": f"no {fk.column.table.name} with id {value}"})
        if column.unique:
            clash = session.exec(select(resource.table.id).where(column == value)).first()
            if clash is not None and clash != own_id:
                errors.append({"field": column.name, "message": f"{value!s} is already used by another record"})
    # Multi-column uniques, as constraints or as unique indexes (person: 登録者番号 per municipality).
    groups = [list(c.columns) for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    groups += [list(i.columns) for i in table.indexes if i.unique]
    for cols in groups:
        if len(cols) > 1:
            if all(values.get(c.name) is not None for c in cols):
                query = select(resource.table.id).where(*[c == values[c.name] for c in cols])
                clash = session.exec(query).first()
                if clash is not None and clash != own_id:
                    errors.append({"field": cols[-1].name,
                                   "message": f"{values[cols[-1].name]!s} is already used by another record with the same "
                                              + ", ".join(c.name for c in cols[:-1])})
    if errors:
        raise ApiError(422, "validation failed", errors)


def list_rows(resource: Resource, session: Session, clauses: list, limit: int, offset: int,
              access: Access = UNRESTRICTED) -> dict:
    table = resource.table
    where = [*clauses, *access.clauses()]
    if where:
        rows, total = _page_and_count(resource, session, where, limit, offset)
    else:  # the whole table: an index count and an index walk that stops at the page are cheapest
        total = session.exec(select(sa.func.count()).select_from(table).where(*where)).one()
        rows = session.exec(select(table).order_by(*resource.order_by(table)).limit(limit).offset(offset)).all()
    return {"items": access.shape(to_public(resource, session, list(rows))), "total": total, "limit": limit,
            "offset": offset}


def _page_and_count(resource: Resource, session: Session, where: list, limit: int, offset: int) -> tuple[list, int]:
    """A page of filtered rows and the count of all matches in one statement, so each filter (a
    plan-status subquery, a search inside JSON) is evaluated once rather than once for the count
    and again for the page. The window runs over ids only; the page's rows are joined after."""
    table = resource.table
    matched = (select(table.id, sa.func.count().over().label("total")).where(*where)
               .order_by(*resource.order_by(table)).limit(limit).offset(offset).subquery())
    found = session.exec(select(table, matched.c.total).join(matched, table.id == matched.c.id)
                         .order_by(*resource.order_by(table))).all()
    if found:
        return [row for row, _ in found], found[0][1]
    if offset == 0:
        return [], 0
    # Past the last page: the window saw no row, so count on its own.
    return [], session.exec(select(sa.func.count()).select_from(table).where(*where)).one()


def get_row(resource: Resource, session: Session, row_id: uuid.UUID, access: Access = UNRESTRICTED) -> Any:
    """The row, or 404 — for an unknown id and for a row outside the caller's scope alike."""
    clauses = access.clauses()
    if clauses:
        row = session.exec(select(resource.table).where(resource.table.id == row_id, *clauses)).first()
    else:
        row = session.get(resource.table, row_id)
    if row is None:
        raise not_found(resource.title or resource.path)
    return row


def get_visible(resource: Resource, session: Session, row_id: uuid.UUID, access: Access) -> Any:
    """The row if the caller may see it, else None (no error: for checks, not for answers)."""
    return session.exec(select(resource.table).where(resource.table.id == row_id, *access.clauses())).first()


def within_write_scope(resource: Resource, session: Session, row_id: uuid.UUID, access: Access) -> bool:
    clauses = access.write_clauses()
    if not clauses:
        return True
    return session.exec(select(resource.table.id).where(resource.table.id == row_id, *clauses)).first() is not None


def _out_of_scope_error(resource: Resource, field_name: str, value: Any) -> ApiError:
    """Worded exactly like the error for an id that does not exist, so scope cannot be probed."""
    column = resource.table.__table__.columns.get(field_name)
    target = next(iter(column.foreign_keys)).column.table.name if column is not None and column.foreign_keys else "record"
    return ApiError(422, "validation failed", [{"field": field_name, "message": f"no {target} with id {value}"}])


def unusable_id(client_id: Any) -> ApiError:
    return ApiError(422, "validation failed",
                    [{"field": "id", "message": f"id {client_id} cannot be used; make a new one (a random UUID)"}])


def create_row(resource: Resource, session: Session, data: dict, access: Access = UNRESTRICTED) -> tuple[dict, bool]:
    """Validate and insert; returns (public dict, created). An event re-sent with the same id
    returns the stored one unchanged (retries are normal for field devices)."""
    try:
        model = resource.create.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    client_id = getattr(model, "id", None)
    if client_id is not None:
        existing = session.get(resource.table, client_id)
        if existing is not None:
            if resource.is_event and within_write_scope(resource, session, existing.id, access):
                return access.shape(to_public(resource, session, [existing]))[0], False
            visible = get_visible(resource, session, client_id, access)
            if visible is None:
                # Outside the caller's scope: not "exists" (that would confirm the record), but the
                # answer for every id the caller cannot use.
                raise unusable_id(client_id)
            raise ApiError(409, "a record with this id exists",
                           extra={"current": access.shape(to_public(resource, session, [visible]))[0]})
    values = {name: getattr(model, name) for name in resource.field_names}
    if "recorded_by" in values and access.principal is not None:
        values["recorded_by"] = access.principal.username  # who recorded it is the caller, not what they say
    if resource.create_defaults:
        resource.create_defaults(session, values, access)
    check_references_and_uniques(resource, session, values, None)
    row = resource.table(**values)
    if client_id is not None:
        row.id = client_id
    if resource.before_write:
        resource.before_write(session, row, None)
    session.add(row)
    session.flush()
    if not within_write_scope(resource, session, row.id, access):
        # the caller's transaction (or savepoint) is rolled back by whoever catches this
        ref = access.rule.create_ref if access.rule else ""
        if ref:
            raise _out_of_scope_error(resource, ref, values.get(ref))
        raise ApiError(403, "you may not create this record")
    if resource.after_create:
        resource.after_create(session, row, access)
    log_change(session, resource.path, row.id)
    return access.shape(to_public(resource, session, [row]))[0], True


def update_row(resource: Resource, session: Session, row_id: uuid.UUID, data: dict,
               access: Access = UNRESTRICTED) -> dict:
    """Partial update based on `version`; a stale version gets 409 with the current record."""
    assert resource.update is not None
    row = get_row(resource, session, row_id, access)
    if not within_write_scope(resource, session, row.id, access):
        raise not_found(resource.title or resource.path)
    if resource.check_changes and isinstance(data, dict):
        resource.check_changes(session, row, {k: v for k, v in data.items() if k != "version"})
    previous = row_values(resource, row)
    # A phone number or postal code stored before the API normalised them stays while unchanged.
    context = keep_stored(previous)
    try:
        patch = resource.update.model_validate(data, context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None
    if patch.version != row.version:
        raise ApiError(409, f"stale version: you edited version {patch.version}, the record is at version {row.version}",
                       extra={"current": access.shape(to_public(resource, session, [row]))[0]})
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    check_writable(access, changes, previous)
    merged = {**{k: _plain(v) for k, v in previous.items()}, **changes}
    try:
        model = resource.create.model_validate(merged, context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None
    new_values = {name: getattr(model, name) for name in resource.field_names}
    check_references_and_uniques(resource, session, new_values, row.id)
    for name, value in new_values.items():
        setattr(row, name, value)
    if resource.before_write:
        resource.before_write(session, row, previous)
    stored = {c.name: getattr(row, c.name) for c in resource.table.__table__.columns if c.name not in ("id",)}
    stored.update(version=row.version + 1, updated_at=utcnow())
    # Race-safe: the write happens only if nobody changed the row since we read it.
    result = session.execute(sa.update(resource.table).where(resource.table.id == row.id,
                                                             resource.table.version == patch.version).values(**stored))
    if result.rowcount != 1:
        raise ApiError(409, "the record changed while you were saving; reload and try again")
    log_change(session, resource.path, row.id, before=previous)
    if resource.after_update:
        resource.after_update(session, row.id, previous, stored)
    session.expire(row)
    return access.shape(to_public(resource, session, [session.get(resource.table, row_id)]))[0]


def check_writable(access: Access, changes: dict, previous: dict) -> None:
    """A rule that narrows what a role may change (a 民生委員 corrects a plan's supporters only):
    a change to any other field is refused, naming it; a field sent unchanged is not a change."""
    writable = getattr(access.rule, "writable", None)
    if writable is None:
        return
    refused = sorted(name for name, value in changes.items()
                     if name not in writable and _plain(value) != _plain(previous.get(name)))
    if refused:
        raise ApiError(403, "your role may not change these fields",
                       [{"field": name, "message": "not changeable by your role"} for name in refused])


def delete_row(resource: Resource, session: Session, row_id: uuid.UUID, version: int | None,
               access: Access = UNRESTRICTED) -> None:
    """Delete a master record (e.g. a person leaving the register); devices get a tombstone.
    Records that events or other records still point at cannot be deleted (409)."""
    row = get_row(resource, session, row_id, access)
    if not within_write_scope(resource, session, row.id, access):
        raise not_found(resource.title or resource.path)
    if version is not None and version != row.version:
        raise ApiError(409, f"stale version: the record is at version {row.version}",
                       extra={"current": access.shape(to_public(resource, session, [row]))[0]})
    previous = row_values(resource, row)
    try:
        with session.begin_nested():
            session.delete(row)
            session.flush()
    except IntegrityError:
        raise ApiError(409, f"this {resource.title or resource.path} is still referenced (plans, events …); "
                            "it cannot be deleted") from None
    log_change(session, resource.path, row_id, op="delete", before=previous)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
