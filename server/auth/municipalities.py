"""Which municipalities an account works for (several municipalities in one installation).

One municipality in the installation: an account belongs to it without saying so (given or not).
Several: every account names its municipality; only the roles that work across a prefecture or a
wide-area union (policy.MULTI_MUNICIPALITY) may name several. An administrator of a city creates
and sees accounts of that city only. Nothing is ever widened by default."""

from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from ..models.auth import Role, User
from ..models.geo import Municipality
from .policy import MULTI_MUNICIPALITY
from .principal import Principal


class MunicipalityRefused(ValueError):
    """The account's municipalities cannot be these; the message names why (a 422 on `municipality_codes`)."""


def installed(session: Session) -> list[str]:
    return sorted(session.exec(select(Municipality.municipality_code)).all())


def account_municipalities(session: Session, role: Role, codes: list[str],
                           by: Optional[Principal] = None) -> list[str]:
    """The codes to store for an account of `role` asked for with `codes`, created or changed by `by`."""
    every = installed(session)
    codes = sorted(set(codes))
    if not codes:
        if len(every) > 1:
            raise MunicipalityRefused("this installation has several municipalities: name the account's "
                                      "municipality (市区町村コード) / 所属する市区町村を指定してください")
        return every  # the only one (or none yet)
    unknown = [c for c in codes if c not in every]
    if every and unknown:
        raise MunicipalityRefused(f"no municipality {', '.join(unknown)} in this installation")
    if len(codes) > 1 and Role(role) not in MULTI_MUNICIPALITY:
        raise MunicipalityRefused(f"an account of role {Role(role).value} works for one municipality")
    if by is not None and by.municipality_codes is not None and not set(codes) <= by.municipality_codes:
        raise MunicipalityRefused("you may give an account only your own municipalities")
    return codes


def sees_account(principal: Principal, user: User) -> bool:
    """An administrator of a city sees the accounts of its municipalities only."""
    if principal.municipality_codes is None:
        return True
    return bool(set(user.municipality_codes or []) & principal.municipality_codes)
