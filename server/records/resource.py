"""A resource description: one kind of record or event, described once for the row operations,
the routes and the OpenAPI document alike, so they cannot drift."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from sqlmodel import Session, SQLModel

from ..auth.policy import readable
from ..errors import MAX_INT, ApiError


@dataclass
class Filter:
    """A list filter: query parameter `name` compared with `column`."""

    name: str
    column: Any
    parse: Callable[[str], Any] = str
    op: str = "eq"  # eq | prefix | gte | lte | contains
    description: str = ""
    schema: dict = field(default_factory=lambda: {"type": "string"})

    @property
    def field_name(self) -> str:
        """The record field this filter reads: a caller who may not see it may not filter on it."""
        return self.column.key

    def clause(self, value: Any):
        if self.op == "eq":
            return self.column == value
        if self.op == "prefix":
            return self.column.startswith(value, autoescape=True)
        if self.op == "gte":
            return self.column >= value
        if self.op == "lte":
            return self.column <= value
        raise ValueError(self.op)


def parse_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError("expected true or false")


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a timezone is required, e.g. 2026-11-27T09:00:00+09:00")
    return parsed


UUID_SCHEMA = {"type": "string", "format": "uuid"}
DATETIME_SCHEMA = {"type": "string", "format": "date-time"}


def enum_filter(name: str, column: Any, enum: type) -> Filter:
    return Filter(name, column, enum, schema={"type": "string", "enum": [m.value for m in enum]},
                  description=" / ".join(f"{m.value}={m.ja}" for m in enum))


def uuid_filter(name: str, column: Any, description: str = "") -> Filter:
    return Filter(name, column, parse_uuid, schema=UUID_SCHEMA, description=description)


# Fields a Create model may carry that an update never changes: the record's own id, which a
# device may make (a UUID made offline) and which is fixed from then on.
CREATE_ONLY = frozenset({"id"})


@dataclass
class Resource:
    """Everything needed to serve one kind of record or event."""

    path: str
    table: type[SQLModel]
    create: type[SQLModel]
    public: type[SQLModel]
    update: Optional[type[SQLModel]] = None  # None: an append-only event
    filters: list[Filter] = field(default_factory=list)
    order_by: Callable[[type], list] = lambda t: [t.id]
    title: str = ""
    # Called inside the write transaction with (session, row, previous row values or None).
    before_write: Optional[Callable[[Session, Any, Optional[dict]], None]] = None
    # Called after a new row is stored and found within the caller's write scope, with
    # (session, row, access): what needs to know who made it (a DWAT request's first step).
    after_create: Optional[Callable[[Session, Any, Any], None]] = None
    # Called after a successful update with (session, record id, values before, values after):
    # what depends on the record reacts (e.g. plans flagged 要見直し, records/review_flags.py).
    after_update: Optional[Callable[[Session, Any, dict, dict], None]] = None
    # Called on a create with (session, field values, access) before the references are checked:
    # fills what follows from the caller (a supporter's municipality) or raises a 422.
    create_defaults: Optional[Callable[[Session, dict, Any], None]] = None
    # Adds derived state (latest event ...) to the public dicts of a page of rows.
    decorate: Optional[Callable[[Session, list[Any], list[dict]], None]] = None
    # Called with (session, stored row, changes as sent) before an update is validated or a sync
    # update merged: refuses a change only a dedicated route may make (a DWAT request's step and
    # its derived state), naming that route, before anything is applied or kept as a conflict.
    check_changes: Optional[Callable[[Session, Any, dict], None]] = None
    # Fields set when the record is made and never changed by an update: its identity (whose
    # plan, which team, which city's code). The Update model leaves exactly these out.
    fixed: frozenset[str] = frozenset()

    @property
    def is_event(self) -> bool:
        return self.update is None

    @property
    def field_names(self) -> list[str]:
        """The stored fields: those of the Create model except the create-only client id."""
        return [name for name in self.create.model_fields if name not in CREATE_ONLY]

    @property
    def editable(self) -> list[str]:
        """The fields an update may change: what the Update model holds besides `version`."""
        return [name for name in self.field_names if name not in self.fixed]


MAX_LIMIT_DEFAULT = 500


def parse_list_params(resource: Resource, params: dict[str, str], max_limit: int,
                      rule: Any = None) -> tuple[list, int, int]:
    """Filters, limit and offset from the query; 400 for a filter on a field the caller's `rule`
    hides (answering it would disclose the field a request at a time), 422 for bad values."""
    known = {f.name: f for f in resource.filters}
    hidden = [key for key in params if rule is not None and key in known and not readable(rule, known[key].field_name)]
    if hidden:
        raise ApiError(400, "you may not filter on fields your role cannot see",
                       [{"field": key, "message": "your role may not see this field, so it cannot filter on it"}
                        for key in hidden])
    errors: list[dict] = []
    clauses = []
    limit, offset = 50, 0
    for key, raw in params.items():
        if key == "limit":
            try:
                limit = int(raw)
                if not 1 <= limit <= max_limit:
                    raise ValueError
            except ValueError:
                errors.append({"field": "limit", "message": f"must be an integer from 1 to {max_limit}"})
        elif key == "offset":
            try:
                offset = int(raw)
                if not 0 <= offset <= MAX_INT:
                    raise ValueError
            except ValueError:
                errors.append({"field": "offset", "message": f"must be an integer from 0 to {MAX_INT}"})
        elif key in known:
            try:
                clauses.append(known[key].clause(known[key].parse(raw)))
            except (ValueError, TypeError) as exc:
                errors.append({"field": key, "message": str(exc) or "invalid value"})
        else:
            errors.append({"field": key, "message": "unknown query parameter; allowed: "
                           + ", ".join(["limit", "offset", *known])})
    if errors:
        raise ApiError(422, "invalid query parameters", errors)
    return clauses, limit, offset
