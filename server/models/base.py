"""Column types and mixins shared by every table.

Master records carry `id` (UUID, may be made on a client), `version` (incremented on every
write) and timestamps. Events carry `id`, `observed_at` (when it happened, by the
reporter's clock) and `recorded_at` (when the server stored it); they are never updated.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
from pydantic import ConfigDict, field_validator
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores UTC; always returns timezone-aware UTC, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def json_list(**kwargs: Any) -> Any:
    return Field(default_factory=list, sa_type=sa.JSON, **kwargs)


def json_dict(**kwargs: Any) -> Any:
    return Field(default_factory=dict, sa_type=sa.JSON, **kwargs)


def enum_field(default: Any = ..., **kwargs: Any) -> Any:
    """Enums are stored as plain strings so both databases and migrations stay simple."""
    return Field(default, sa_type=sa.String(40), **kwargs)


def time_field(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class RecordMeta(SQLModel):
    """Bookkeeping columns of a master record."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = Field(default=1, ge=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventMeta(SQLModel):
    """Bookkeeping columns of an append-only event."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class PublicRecordMeta(SQLModel):
    id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime


class PublicEventMeta(SQLModel):
    id: uuid.UUID
    recorded_at: datetime


class Update(SQLModel):
    """Base of every partial update: the version the client based its edit on."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version the change is based on; a stale one gets 409.")


def strip_text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    return value


def not_future(value: date | None) -> date | None:
    if value is not None and value > date.today():
        raise ValueError("date is in the future")
    return value


class TextStripped(SQLModel):
    """Strips surrounding whitespace from every string field before validation."""

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return strip_text(value)


class CreateMixin(SQLModel):
    """Base of every Create model: unknown fields are refused, an id may be made by the client."""

    model_config = ConfigDict(extra="forbid")
    id: Optional[uuid.UUID] = Field(default=None, description="Client-made UUID (optional)")
