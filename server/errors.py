"""One error shape for every refusal: `{"detail": str, "errors": [{"field", "message"}]}`.

Below the HTTP layer: records, sync, printing and the importers raise `ApiError`; the app turns
it into a JSON answer (`server/app.py`), the CLI into a message. The JSON body parser lives
here too, so that sync and the importers read JSON exactly as the handlers do.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import ValidationError


class ApiError(Exception):
    """Raised by handlers and domain code; turned into a JSON response by the app."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None,
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers
        self.audited = False  # set once an audit entry records this refusal

    def body(self) -> dict[str, Any]:
        """The JSON answer: detail, field errors if any, and the extra keys (`current` …)."""
        body: dict[str, Any] = {"detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict]:
    """Pydantic errors as `[{"field": "birth_date", "message": "..."}]`; model-level errors get `body`."""
    out = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ())]
        field = ".".join(([prefix] if prefix else []) + loc) or "body"
        message = err.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        out.append({"field": field, "message": message})
    return out


def validation_error(exc: ValidationError) -> ApiError:
    return ApiError(422, "validation failed", field_errors(exc))


def not_found(what: str = "record") -> ApiError:
    return ApiError(404, f"{what} not found")


# Limits on what a JSON body may hold (docs/api.md "Input limits"). Deeper nesting than any
# record needs would only exhaust the stack somewhere later (parser, validation, storage).
MAX_JSON_DEPTH = 32
# PostgreSQL `integer`: a larger number cannot be stored in any integer column on either engine.
MAX_INT = 2**31 - 1


def _too_deep() -> ApiError:
    return ApiError(400, f"JSON nested more than {MAX_JSON_DEPTH} levels deep")


def check_json_value(data: Any, prefix: str = "") -> list[dict]:
    """Field errors for values no field may hold: NaN / Infinity, integers beyond ±MAX_INT, NUL
    characters in text (PostgreSQL cannot store them; SQLite would). Iterative: depth cannot
    exhaust the stack here; deeper than MAX_JSON_DEPTH raises 400."""
    errors: list[dict] = []
    stack: list[tuple[Any, str, int]] = [(data, prefix, 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        where = path or "body"
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    errors.append({"field": where, "message": "a NUL character is not allowed in a key"})
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{path}.{index}" if path else str(index), depth + 1))
        elif isinstance(value, str):
            if "\x00" in value:
                errors.append({"field": where, "message": "a NUL character (U+0000) is not allowed in text"})
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not -MAX_INT <= value <= MAX_INT:
                errors.append({"field": where, "message": f"a whole number from -{MAX_INT} to {MAX_INT}"})
        elif isinstance(value, float) and not math.isfinite(value):
            errors.append({"field": where, "message": "NaN and Infinity are not numbers; send a finite number"})
    errors.sort(key=lambda e: e["field"])
    return errors


def parse_json(raw: bytes | str) -> Any:
    """The one JSON body parser: 400 for malformed or too deeply nested JSON, 422 for values no
    field may hold (`check_json_value`). Every handler that reads a JSON body goes through here."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or an integer of >4300 digits
        raise ApiError(400, f"malformed JSON: {exc}") from None
    errors = check_json_value(data)
    if errors:
        raise ApiError(422, "validation failed", errors)
    return data
