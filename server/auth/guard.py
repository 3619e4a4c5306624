"""Request-level checks shared by every route: who is asking, may their role do this at all."""

from __future__ import annotations

import uuid
from functools import wraps
from typing import Any, Callable

from starlette.requests import Request

from ..errors import ApiError
from ..models.auth import Role
from ..records.access import access_for
from .policy import Rule
from .principal import Principal


def principal_of(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise ApiError(401, "sign-in required", headers={"WWW-Authenticate": 'Bearer realm="tsunagu"'})
    return principal


def _deployment_check(principal: Principal) -> None:
    # A DWAT member's access starts and ends with their team's deployment.
    if principal.role == Role.dwat_member and not principal.deployment_ids:
        raise ApiError(403, "no active deployment: DWAT access ends when the deployment ends")


def active_principal(request: Request) -> Principal:
    """The caller, signed in and (for DWAT) still deployed; 401 / 403 otherwise."""
    principal = principal_of(request)
    _deployment_check(principal)
    return principal


def authorize(request: Request, resource: str, action: str) -> tuple[Principal, Rule]:
    """The caller and their rule for `resource`; 401 if not signed in, 403 if the role may not `action` it."""
    principal = active_principal(request)
    return principal, access_for(principal, resource, action).rule


def require_role(*roles: Role) -> Callable:
    """Decorator for custom endpoints: only these roles; the principal is put on request.state."""
    def decorate(endpoint: Callable) -> Callable:
        @wraps(endpoint)
        async def wrapper(request: Request) -> Any:
            principal = active_principal(request)
            if principal.role not in roles:
                raise ApiError(403, f"your role ({principal.role.value}) may not use this")
            return await endpoint(request)
        # The roles, visible on the endpoint for whoever inspects the routes. No test reads it
        # yet: tests/test_access.py checks the roles of chosen routes by calling them; a test
        # that covers every route is still to come.
        wrapper.required_roles = roles
        return wrapper
    return decorate


def check_filters(access, resource: str, params: dict[str, str]) -> None:
    """A supporter naming a district outside their scope is told it does not exist (and it is audited)."""
    principal = access.principal
    if principal is None or principal.role != Role.district_supporter:
        return
    raw = params.get("district_id")
    if raw is None:
        return
    try:
        wanted = uuid.UUID(raw)
    except ValueError:
        return
    if wanted not in principal.district_ids:
        raise ApiError(404, "district not found")
