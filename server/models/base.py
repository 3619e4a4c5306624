"""Column types and mixins shared by every table.

Master records carry `id` (UUID, may be made on a client), `version` (incremented on every
write) and timestamps. Events carry `id`, `observed_at` (when it happened, by the
reporter's clock) and `recorded_at` (when the server stored it); they are never updated.

Every Create and Update model (and the nested input models such as `EmergencyContactInput`)
normalises its `phone` and `postal_code` fields the way the CSV importer does
(`domain.textnorm`): what an API client, a field tablet or an import sends is stored in one
form. Public and table models do not: a stored value is shown exactly as it is stored.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from ..domain.textnorm import normalize_phone, normalize_postal_code


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


# Input fields normalised by `NormalisedCodes`, by name, with the importer's functions.
CODE_NORMALISERS = {"phone": normalize_phone, "phone_alt": normalize_phone, "postal_code": normalize_postal_code}
KEEP_STORED = "keep_stored"


def keep_stored(record: Any) -> dict:
    """Validation context for re-validating a stored record.

    A phone number or postal code stored before the API normalised them may be one that is
    no longer accepted (``042-325-0011 内線12``); an edit of another field must not be refused
    for it, so such a value is kept as it is while it comes back unchanged. A changed value
    must be valid. Pass as ``Model.model_validate(data, context=keep_stored(stored_values))``.
    """
    found: set[tuple[str, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, BaseModel):
            value = value.model_dump()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in CODE_NORMALISERS and isinstance(item, str):
                    found.add((key, item))
                else:
                    walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(record)
    return {KEEP_STORED: frozenset(found)}


class NormalisedCodes(BaseModel):
    """Normalises `phone` and `postal_code` fields, where the model has them.

    ``０４２（３２５）００１１`` → ``042-325-0011``, ``〒１８５ー０００１`` → ``185-0001``; an invalid
    value is a field error with textnorm's bilingual message; "" stays "". Runs before the type
    and length checks, so a full-width postal code is not refused for its length.

    A plain pydantic mixin (not SQLModel) so that nested models get the validation context too.
    """

    @field_validator(*CODE_NORMALISERS, mode="before", check_fields=False)
    @classmethod
    def _normalise_code(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value  # None in an update, or a wrong type the field itself reports
        try:
            return CODE_NORMALISERS[info.field_name](value)
        except ValueError:
            kept = (info.context or {}).get(KEEP_STORED, ())
            if (info.field_name, value) in kept:
                return value
            raise


class Update(NormalisedCodes, SQLModel):
    """Base of every partial update: the version the client based its edit on."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

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


class CreateMixin(NormalisedCodes, SQLModel):
    """Base of every Create model: unknown fields are refused, an id may be made by the client;
    phone numbers and postal codes are normalised (`NormalisedCodes`)."""

    # NaN / Infinity are not numbers any field may hold (the JSON parser refuses them too)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    id: Optional[uuid.UUID] = Field(default=None, description="Client-made UUID (optional)")
