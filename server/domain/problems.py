"""Structured problems shared by the domain layers (DWAT dispatch, the workbench): a stable
`code` for tests and clients, a `field`, a Japanese and an English message, and a severity.

Why structured rather than exception text: the API answers a 4xx with field errors, and the
screens show Japanese first with English available. A refusal (`Refused`) carries every problem
found, and nothing the caller holds was changed: the functions return new values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One finding of a check. `severity` is `error` (refused) or `warning` (shown, allowed)."""

    code: str
    ja: str
    en: str
    field: str = ""
    severity: str = ERROR

    def to_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "severity": self.severity, "ja": self.ja, "en": self.en}


def error(code: str, ja: str, en: str, field: str = "") -> Problem:
    return Problem(code, ja, en, field, ERROR)


def warning(code: str, ja: str, en: str, field: str = "") -> Problem:
    return Problem(code, ja, en, field, WARNING)


class Refused(ValueError):
    """A domain function refused its input; `problems` holds every reason."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.code}: {p.en}" for p in self.problems) or "refused")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.problems)


def raise_errors(problems: Iterable[Problem], refusal: type[Refused] = Refused) -> None:
    """Raise `refusal` with the errors among `problems` (warnings alone pass)."""
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        raise refusal(errors)
