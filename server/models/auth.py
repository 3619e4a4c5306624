"""Accounts, sign-in tokens, disaster mode switches and the audit log."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from .base import CreateMixin, PublicRecordMeta, RecordMeta, TextStripped, Update, UTCDateTime, enum_field, json_list, utcnow
from .geo import normalize_municipality_code
from .vocab import LabelledEnum


class Role(LabelledEnum):
    admin = ("admin", "システム管理者", "administrator")
    welfare_staff = ("welfare_staff", "福祉担当職員", "welfare staff (city office)")
    district_supporter = ("district_supporter", "地域支援者", "district supporter (民生委員, 社協, 自主防災組織)")
    shelter_staff = ("shelter_staff", "避難所職員", "shelter staff")
    dwat_member = ("dwat_member", "DWAT隊員", "DWAT member")
    hq_viewer = ("hq_viewer", "災害対策本部", "disaster HQ viewer")
    prefecture_coordinator = ("prefecture_coordinator", "都道府県DWAT事務局", "prefecture DWAT coordinator")


class Mode(LabelledEnum):
    """Art. 49-11: normal times share register data only with consent; a disaster lifts that."""

    normal = ("normal", "平常時", "normal")
    disaster = ("disaster", "災害時", "disaster")


USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class UserFields(TextStripped):
    username: str = Field(max_length=64, description="Sign-in name: 3–64 of a-z 0-9 . _ -")
    display_name: str = Field(default="", max_length=100)
    role: Role = enum_field()
    active: bool = True
    district_ids: list[uuid.UUID] = json_list(description="Scope of a district supporter: 福祉圏域 or 町丁目 ids")
    shelter_ids: list[uuid.UUID] = json_list(description="Scope of shelter staff")
    dwat_member_id: Optional[uuid.UUID] = Field(default=None, foreign_key="dwat_member.id",
                                                description="A DWAT member's scope is their team's active deployment")
    affiliation: str = Field(default="", max_length=100, description="e.g. 民生委員, 社会福祉協議会, 自主防災組織")
    municipality_codes: list[str] = json_list(
        description="The municipalities (市区町村コード) the account works for: one for city staff, several for a "
                    "prefecture role. Empty: the only municipality of the installation (refused when there are several)")

    @field_validator("municipality_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        return sorted({normalize_municipality_code(str(code)) for code in value})

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.lower()
        if not USERNAME_RE.match(value):
            raise ValueError("username: 3–64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
        return value


class User(UserFields, RecordMeta, table=True):
    __tablename__ = "app_user"
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    last_sign_in_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class UserCreate(CreateMixin, UserFields):
    password: str = Field(min_length=10, max_length=200, description="At least 10 characters")


class UserUpdate(Update):
    display_name: Optional[str] = None
    role: Optional[Role] = None
    active: Optional[bool] = None
    district_ids: Optional[list[uuid.UUID]] = None
    shelter_ids: Optional[list[uuid.UUID]] = None
    dwat_member_id: Optional[uuid.UUID] = None
    affiliation: Optional[str] = None
    municipality_codes: Optional[list[str]] = None
    password: Optional[str] = Field(default=None, min_length=10, max_length=200)


class UserPublic(UserFields, PublicRecordMeta):
    last_sign_in_at: Optional[datetime] = None


class AuthToken(SQLModel, table=True):
    """A browser session or a device (tablet) token. Only a hash of the secret is stored."""

    __tablename__ = "auth_token"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=10, description="session | device")
    secret_hash: str = Field(max_length=64, unique=True, index=True)
    csrf_token: str = Field(default="", max_length=64)
    label: str = Field(default="", max_length=100, description="Device name, e.g. 戸倉地区タブレット1")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    last_used_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class AuthTokenPublic(SQLModel):
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: Optional[datetime]
    last_used_at: Optional[datetime]


class ModeSwitch(SQLModel, table=True):
    """Append-only history of normal ⇄ disaster switches; the latest is in force."""

    __tablename__ = "mode_switch"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    mode: Mode = enum_field()
    reason: str = Field(max_length=300)
    user_id: Optional[uuid.UUID] = Field(default=None, foreign_key="app_user.id")
    # The municipality whose mode this is (a quake in one city does not open another city's
    # register); "" = every municipality of the installation (a single-city installation's switches).
    municipality_code: str = Field(default="", max_length=6, index=True)


class AuditEntry(SQLModel, table=True):
    """Who did what to which records, under which mode. Ids only — never personal values."""

    __tablename__ = "audit_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    user_id: Optional[uuid.UUID] = Field(default=None, index=True)
    username: str = Field(default="", max_length=64, index=True)
    role: str = Field(default="", max_length=40)
    action: str = Field(max_length=40, index=True)
    resource: str = Field(default="", max_length=60)
    record_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    mode: str = Field(default="", max_length=20)
    status: int = 200
    detail: str = Field(default="", max_length=300)
    client: str = Field(default="", max_length=64, description="Client address")


class AuditEntryPublic(SQLModel):
    id: int
    at: datetime
    user_id: Optional[uuid.UUID]
    username: str
    role: str
    action: str
    resource: str
    record_ids: list[str]
    mode: str
    status: int
    detail: str
    client: str
