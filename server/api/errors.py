"""One error shape for every API answer: `{"detail": str, "errors": [{"field", "message"}]}`."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse


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

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return JSONResponse(body, status_code=self.status, headers=self.headers)


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


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; 400 for malformed JSON, 422 for a non-object."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "request body is empty; a JSON object is expected")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(422, "a JSON object is expected", [{"field": "body", "message": "not an object"}])
    return data
