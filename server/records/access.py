"""The caller's access to one resource: their principal and their rule from the policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..auth.policy import rule_for, shape
from ..auth.principal import Principal
from ..errors import ApiError


@dataclass
class Access:
    """The caller's rule for one resource; None-free helpers so internal callers can pass `UNRESTRICTED`."""

    principal: Any = None
    rule: Any = None
    extra: tuple = ()   # further WHERE clauses on top of the rule's (e.g. Art. 49-11 sharing for a recipient)

    def clauses(self) -> list:
        return (self.rule.clauses(self.principal) if self.rule else []) + list(self.extra)

    def write_clauses(self) -> list:
        return self.rule.write_clauses(self.principal) if self.rule else []

    def shape(self, items: list[dict]) -> list[dict]:
        if self.rule is None:
            return items
        return [shape(self.rule, item) for item in items]


UNRESTRICTED = Access()


def access_for(principal: Principal, resource_path: str, action: str) -> Access:
    """The principal's access to `resource_path` for `action`; 403 if their role may not."""
    rule = rule_for(resource_path, principal)
    if rule is None or action not in rule.actions:
        raise ApiError(403, f"your role ({principal.role.value}) may not {action} {resource_path}")
    return Access(principal, rule)
