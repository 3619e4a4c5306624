"""The changes feed: a snapshot of everything in scope, then every change after a cursor."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from sqlmodel import Session, select

from ..auth.policy import held_before, rule_for
from ..auth.principal import Principal
from ..errors import ApiError
from ..models.sync import ChangeLog
from ..records.access import Access
from ..records.resource import Resource
from ..records.rows import to_public
from .changelog import epoch, max_seq

MAX_LIMIT = 2000
MAX_ENTITY_INDEX = 100  # far more than there are synced resources


@dataclass
class Cursor:
    epoch: str
    seq: int
    entity: Optional[int] = None   # snapshot position: index into the entity list …
    after: Optional[str] = None    # … and the last id sent of that entity

    def encode(self) -> str:
        raw = json.dumps({"e": self.epoch, "s": self.seq, "n": self.entity, "a": self.after}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            padded = text + "=" * (-len(text) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            cursor = cls(str(data["e"]), int(data["s"]), data.get("n"), data.get("a"))
            if cursor.entity is not None:
                cursor.entity = int(cursor.entity)
            if cursor.after is not None:
                uuid.UUID(cursor.after)
            # A cursor is made by this server: a negative position (which would index from the
            # end of the entity list) or one beyond any change-log position is forged.
            if cursor.seq < 0 or not 0 <= (cursor.entity or 0) <= MAX_ENTITY_INDEX:
                raise ValueError
            return cursor
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
            raise stale("the cursor is malformed") from None


def stale(why: str) -> ApiError:
    return ApiError(410, f"{why}; start again from an empty cursor", extra={"reset": True})


def scope_key(principal: Principal) -> str:
    """A fingerprint of what this user may see; when it changes, the device re-syncs and sweeps."""
    basis = {"user": str(principal.user_id), "role": principal.role.value, "mode": principal.mode.value,
             "d": sorted(map(str, principal.district_ids)), "s": sorted(map(str, principal.shelter_ids)),
             "p": sorted(map(str, principal.deployment_ids)), "t": str(principal.team_id or "")}
    if principal.municipality_codes is not None:  # several municipalities (one: the key as before)
        basis.update(m=sorted(principal.municipality_codes), x=sorted(principal.disaster_codes))
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:24]


def synced_entities(principal: Principal, resources: list[Resource]) -> list[tuple[Resource, Access]]:
    """The resources this role may list, each with its access rule, in a fixed order."""
    out = []
    for resource in resources:
        rule = rule_for(resource.path, principal)
        if rule is not None and "list" in rule.actions:
            out.append((resource, Access(principal, rule)))
    return out


def changes(session: Session, principal: Principal, resources: list[Resource], cursor_text: str,
            limit: int, client_scope_key: str | None) -> dict[str, Any]:
    """One page of the feed. See docs/sync.md for the contract."""
    key = scope_key(principal)
    if client_scope_key and client_scope_key != key:
        return {"reset": True, "scope_key": key, "items": [], "cursor": "", "more": True}
    current_epoch = epoch(session)
    top = max_seq(session)
    if not cursor_text:
        cursor = Cursor(current_epoch, top, 0, None)
    else:
        cursor = Cursor.decode(cursor_text)
        if cursor.epoch != current_epoch:
            raise stale("the cursor belongs to another database")
        if cursor.seq > top:
            raise stale("the cursor is ahead of this server (restored from a backup?)")
    entities = synced_entities(principal, resources)
    items: list[dict] = []
    if cursor.entity is not None:
        cursor = _snapshot_page(session, entities, cursor, limit, items)
        more = True
    else:
        cursor, more = _change_page(session, principal, entities, cursor, limit, items)
    return {"items": items, "cursor": cursor.encode(), "more": more, "scope_key": key}


def _snapshot_page(session: Session, entities, cursor: Cursor, limit: int, items: list[dict]) -> Cursor:
    index, after = cursor.entity, cursor.after
    while index < len(entities) and len(items) < limit:
        resource, access = entities[index]
        table = resource.table
        room = limit - len(items)
        query = select(table).where(*access.clauses())
        if after:
            query = query.where(table.id > uuid.UUID(after))
        rows = list(session.exec(query.order_by(table.id).limit(room)).all())
        for item in access.shape(to_public(resource, session, rows)):
            items.append({"entity": resource.path, "id": item["id"], "op": "upsert", "data": item})
        if len(rows) < room:
            index, after = index + 1, None  # this entity is exhausted
        else:
            after = str(rows[-1].id)
    if index >= len(entities):
        return Cursor(cursor.epoch, cursor.seq, None, None)  # snapshot done: changes from its start on
    return Cursor(cursor.epoch, cursor.seq, index, after)


# Records whose change can bring their person into (or out of) a user's scope: a plan naming a
# shelter, a safety check placing someone at a shelter.
_PERSON_LINKED = {"plans": "person_id", "safety-checks": "person_id"}


def _change_page(session: Session, principal: Principal, entities, cursor: Cursor, limit: int, items: list[dict]) -> tuple[Cursor, bool]:
    rows = session.exec(select(ChangeLog).where(ChangeLog.seq > cursor.seq).order_by(ChangeLog.seq).limit(limit)).all()
    if not rows:
        return cursor, False
    by_entity = {resource.path: (resource, access) for resource, access in entities}
    latest: dict[tuple[str, uuid.UUID], ChangeLog] = {}
    first_before: dict[tuple[str, uuid.UUID], Optional[dict]] = {}
    for row in rows:  # several writes to one record in a page: the last one tells …
        if row.entity in by_entity:
            latest[(row.entity, row.record_id)] = row
            # … and the device's copy is as it was before the first of them
            first_before.setdefault((row.entity, row.record_id), row.before)
    wanted: dict[str, set[uuid.UUID]] = {}
    for (entity, record_id), row in latest.items():
        if row.op == "upsert":
            wanted.setdefault(entity, set()).add(record_id)
    people_touched: set[uuid.UUID] = set(wanted.get("people", set()))
    for entity, column in _PERSON_LINKED.items():
        if entity in wanted and "people" in by_entity:
            table = by_entity[entity][0].table
            linked = session.exec(select(getattr(table, column)).where(table.id.in_(list(wanted[entity])))).all()
            people_touched.update(linked)
    if people_touched:
        wanted["people"] = people_touched
    visible: dict[tuple[str, uuid.UUID], dict] = {}
    for entity, ids in wanted.items():
        resource, access = by_entity[entity]
        found = list(session.exec(select(resource.table).where(resource.table.id.in_(list(ids)), *access.clauses())).all())
        for item in access.shape(to_public(resource, session, found)):
            visible[(entity, uuid.UUID(item["id"]))] = item
    held = _held_before(session, principal, latest, first_before, visible)
    emitted: set[tuple[str, uuid.UUID]] = set()
    for (entity, record_id), row in sorted(latest.items(), key=lambda kv: kv[1].seq):
        if row.op == "delete":
            if (entity, record_id) in held:  # a tombstone only for what the device was sent
                items.append({"entity": entity, "id": str(record_id), "op": "delete"})
            emitted.add((entity, record_id))
        elif (entity, record_id) in visible:
            items.append({"entity": entity, "id": str(record_id), "op": "upsert", "data": visible[(entity, record_id)]})
            emitted.add((entity, record_id))
    for person_id in sorted(people_touched, key=str):
        key = ("people", person_id)
        if key in emitted:
            continue
        if key in visible:  # came into scope through a plan or a safety check
            items.append({"entity": "people", "id": str(person_id), "op": "upsert", "data": visible[key]})
        elif key in latest and key in held:
            # The person changed and is no longer this user's: the device drops its copy, with
            # the person's plan and safety checks. Never for a person the device did not hold.
            items.append({"entity": "people", "id": str(person_id), "op": "drop"})
    return Cursor(cursor.epoch, rows[-1].seq), len(rows) == limit


def _held_before(session: Session, principal: Principal, latest: dict, first_before: dict, visible: dict) -> set:
    """(entity, id) of changed records the device held before this page: candidates are deletes
    and people who are not visible now; the policy judges them by their scope keys before."""
    candidates: dict[str, dict] = {}
    for (entity, record_id), row in latest.items():
        if row.op == "delete" or (entity == "people" and (entity, record_id) not in visible):
            candidates.setdefault(entity, {})[record_id] = first_before.get((entity, record_id))
    held = set()
    for entity, befores in candidates.items():
        held.update((entity, record_id) for record_id in held_before(session, principal, entity, befores))
    return held
