"""Request-level checks shared by every route: who is asking, may they perform the route's action
(the access table in policy.py answers)."""

from __future__ import annotations

import uuid
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ..errors import ApiError
from ..models.auth import Role
from ..records.access import access_for
from .policy import ACTIONS, PUBLIC, Rule, action, allowed, names_district
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


def _refuse(principal: Principal, name: str) -> None:
    if allowed(principal, name):
        return
    if action(name).deployed:
        _deployment_check(principal)  # the reason a deployed DWAT member would have been let in
    raise ApiError(403, f"your role ({principal.role.value}) may not use this")


def requires(name: str) -> Callable:
    """Decorator for a JSON endpoint: it performs action `name` of the access table; 401 for no
    sign-in, 403 for a caller the table refuses. The name is kept on the endpoint (`.action`) for
    tests/test_access_table.py, which calls every route as every role."""
    action(name)  # an unknown action fails when the module loads, not at the first request

    def decorate(endpoint: Callable) -> Callable:
        @wraps(endpoint)
        async def wrapper(request: Request) -> Any:
            _refuse(principal_of(request), name)
            return await endpoint(request)
        wrapper.action = name
        return wrapper
    return decorate


PAGE_REFUSED = "この画面を使う権限がありません (your role may not use this page)"


def page(name: str, refusal: str = PAGE_REFUSED) -> Callable:
    """Decorator for an HTML page: no sign-in → the sign-in page, coming back here afterwards; a
    signed-in caller the table refuses → the 403 page (audited by the app's error handler)."""
    action(name)

    def decorate(endpoint: Callable) -> Callable:
        @wraps(endpoint)
        async def wrapper(request: Request) -> Any:
            principal = getattr(request.state, "principal", None)
            if principal is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/login?" + urlencode({"next": target}, safe="/"), status_code=303)
            if not allowed(principal, name):
                raise HTTPException(403, f"{refusal} (your role: {principal.role.value})")
            return await endpoint(request)
        wrapper.action = name
        wrapper.page = True  # no sign-in: a redirect, not a 401 (the access test expects which)
        return wrapper
    return decorate


def declares(name: str, route: Any) -> Any:
    """A route whose endpoint checks `name` itself (the generic record handlers ask the records
    layer, which asks the same table): the name is only recorded on the route, for the access test."""
    action(name)
    route.action = name
    return route


def route_action(route: Any) -> str | None:
    """The action a route (or a Mount) declared, wherever it was declared; None if it did not."""
    target = getattr(route, "endpoint", None) or getattr(route, "app", None)
    return getattr(route, "action", None) or getattr(target, "action", None)


def public(endpoint: Any) -> Any:
    """A route anyone may call (sign-in, health, static files, the field app's shell): said so explicitly."""
    endpoint.action = PUBLIC
    return endpoint


def check_filters(access, resource: str, params: dict[str, str]) -> None:
    """A supporter naming a district outside their scope is told it does not exist (and it is audited)."""
    raw = params.get("district_id")
    if raw is None:
        return
    try:
        wanted = uuid.UUID(raw)
    except ValueError:
        return
    if not names_district(access.principal, wanted):
        raise ApiError(404, "district not found")


def access_table_markdown(routes: list) -> str:
    """docs/access.md's action table, from the access table and the routes that declare each
    action (tests/test_docs.py checks the page holds exactly this)."""
    roles = list(Role)
    by_action: dict[str, list[str]] = {}
    for route in routes:
        methods = sorted((getattr(route, "methods", None) or {"GET"}) - {"HEAD"})
        path = "/vendor/…" if route.path.startswith("/vendor/") else route.path  # one per npm library installed
        entry = f"{','.join(methods)} `{path}`"
        if entry not in by_action.setdefault(route_action(route) or "?", []):
            by_action[route_action(route) or "?"].append(entry)
    lines = ["| action | " + " | ".join(f"`{r.value}`" for r in roles) + " | routes | note |",
             "|---|" + "---|" * len(roles) + "---|---|"]
    for name in sorted(ACTIONS):
        entry = ACTIONS[name]
        if name not in by_action:  # update / delete of an event: in the record matrix, offered by no route
            continue
        cells = ["✓" if r in entry.roles else "—" for r in roles]
        note = entry.note + ("" if entry.deployed or Role.dwat_member not in entry.roles
                             else ("; " if entry.note else "") + "DWAT also without an active deployment")
        lines.append(f"| `{name}` | " + " | ".join(cells) + f" | {'<br>'.join(by_action.get(name, [])) or '—'} | {note} |")
    lines.append(f"| `{PUBLIC}` | " + " | ".join("✓" for _ in roles) + " | "
                 + "<br>".join(by_action.get(PUBLIC, [])) + " | also without an account |")
    return "\n".join(lines) + "\n"
