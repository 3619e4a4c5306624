"""Sync bookkeeping: the change log (feed order), applied mutations (idempotency), conflicts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import UTCDateTime, utcnow


class ChangeLog(SQLModel, table=True):
    """One row per write to a synced record or event; `seq` orders the changes feed."""

    __tablename__ = "change_log"
    seq: Optional[int] = Field(default=None, primary_key=True)
    entity: str = Field(max_length=40, description="API resource name, e.g. people")
    record_id: uuid.UUID = Field(index=True)
    op: str = Field(max_length=10, description="upsert | delete")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # What decided who could see the record before this write (ids and codes only, never personal
    # values): people {district_id, consent}, plans {person_id}. The feed sends a drop or a
    # tombstone only to callers whose scope held the record before (docs/sync.md).
    before: Optional[dict] = Field(default=None, sa_type=sa.JSON)


class SyncMutation(SQLModel, table=True):
    """A mutation a device pushed, with its result: a retry returns this instead of applying again."""

    __tablename__ = "sync_mutation"
    id: uuid.UUID = Field(primary_key=True, description="Client-made mutation id")
    user_id: uuid.UUID = Field(index=True)
    device_id: str = Field(default="", max_length=64)
    entity: str = Field(max_length=40)
    op: str = Field(max_length=10)
    record_id: Optional[uuid.UUID] = None
    payload_hash: str = Field(max_length=64)
    status: str = Field(max_length=12, description="applied | merged | rejected")
    result: dict = Field(default_factory=dict, sa_type=sa.JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SyncConflict(SQLModel, table=True):
    """A field both a device and the server changed: the server value stayed, the device's is kept here."""

    __tablename__ = "sync_conflict"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    entity: str = Field(max_length=40)
    record_id: uuid.UUID = Field(index=True)
    field: str = Field(max_length=60)
    base_value: Any = Field(default=None, sa_type=sa.JSON)
    server_value: Any = Field(default=None, sa_type=sa.JSON)
    client_value: Any = Field(default=None, sa_type=sa.JSON)
    mutation_id: uuid.UUID
    user_id: uuid.UUID
    device_id: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime, index=True)
    resolved_by: Optional[uuid.UUID] = None
    resolution: str = Field(default="", max_length=10, description="server | client")


class SyncConflictPublic(SQLModel):
    id: uuid.UUID
    entity: str
    record_id: uuid.UUID
    field: str
    base_value: Any
    server_value: Any
    client_value: Any
    mutation_id: uuid.UUID
    user_id: uuid.UUID
    device_id: str
    created_at: datetime
    resolved_at: Optional[datetime]
    resolved_by: Optional[uuid.UUID]
    resolution: str


class SyncEpoch(SQLModel, table=True):
    """A random id made once per database: cursors from another database (or a restore) are refused."""

    __tablename__ = "sync_epoch"
    id: int = Field(default=1, primary_key=True)
    epoch: str = Field(max_length=32)
