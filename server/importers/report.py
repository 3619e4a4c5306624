"""What an import did, or would do: counts, row errors, warnings, shelters still incomplete.

A report carries line numbers, column names, register numbers / 共通ID and reasons —
never a person's name, address or other value: it is printed, logged and sent to the
browser, and the register is sensitive personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class RowIssue(NamedTuple):
    """One problem in one cell: physical line in the file (header = 1), column header, reason."""

    line: int
    column: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class IncompleteShelter:
    """A shelter whose record still lacks fields staff must fill in (capacity, 耐震, 受入対象者 …)."""

    common_id: str | None
    name: str
    missing: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"common_id": self.common_id, "name": self.name, "missing": list(self.missing)}


class ImportFileError(ValueError):
    """The whole file is refused (encoding, missing column, not a CSV); nothing was written."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def to_dict(self) -> dict[str, Any]:
        return {"detail": self.message, "errors": [{"field": "file", "message": self.message}],
                "line": self.line}


class ImportConflictError(ImportFileError):
    """Someone else changed the same records while the import ran; nothing was written, try again."""


@dataclass
class ImportReport:
    """Counts and findings of one import. With ``applied=False`` the counts say what *would* happen.

    ``rows`` counts data rows (blank rows are skipped); ``invalid`` counts rows with at least
    one error, ``errors`` lists every error. ``created + updated + unchanged == valid``.
    """

    kind: str                      # "people" | "shelters" | "plans"
    source_format: str             # "people_csv" | "shelters_csv" | "gsi_shelters" | "plans_csv"
    encoding: str = ""
    applied: bool = False
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    incomplete: list[IncompleteShelter] = field(default_factory=list)
    # the ids of the records an applied import wrote (the plan import: for its audit entry; not sent)
    record_ids: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, line: int, column: str, reason: str) -> None:
        self.errors.append(RowIssue(line, column, reason))

    def warn(self, line: int, column: str, reason: str) -> None:
        self.warnings.append(RowIssue(line, column, reason))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, used by the API and ``tsunagu import … --json``."""
        return {
            "kind": self.kind,
            "format": self.source_format,
            "encoding": self.encoding,
            "applied": self.applied,
            "counts": {name: getattr(self, name)
                       for name in ("rows", "valid", "invalid", "created", "updated", "unchanged")},
            "errors": [issue.to_dict() for issue in self.errors],
            "warnings": [issue.to_dict() for issue in self.warnings],
            "incomplete": [item.to_dict() for item in self.incomplete],
        }
