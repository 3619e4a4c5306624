"""The OpenAPI 3.1 document, generated from the same resource descriptions and models
that serve the requests (pydantic's JSON Schema 2020-12 is OpenAPI 3.1's schema dialect)."""

from __future__ import annotations

import re
from typing import Any, Optional

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .. import __version__
from ..models.auth import AuditEntryPublic, AuthTokenPublic, UserCreate, UserPublic, UserUpdate
from ..models.plans import PlanVersionPublic
from ..models.sync import SyncConflictPublic
from ..auth.guard import public
from ..records.registry import RESOURCES
from ..records.resource import Resource
from ..sync.mutations import Mutation

REF = "#/components/schemas/{model}"


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the field, or `body` for the whole object")
    message: str


class ErrorResponse(BaseModel):
    detail: str
    errors: list[FieldError] = []


class ConflictResponse(BaseModel):
    detail: str
    current: Optional[dict] = Field(default=None, description="The record as it is now on the server")


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": _json(_ref(ErrorResponse), "Malformed JSON, or nested more than 32 levels deep"),
    "413": _json(_ref(ErrorResponse), "Request body too large"),
    "422": _json(_ref(ErrorResponse), "Invalid input, with per-field errors"),
}
NOT_FOUND = {"404": _json(_ref(ErrorResponse), "No such record")}


def _resource_paths(r: Resource) -> dict[str, dict]:
    tag = r.title or r.path
    page = {"type": "object", "required": ["items", "total", "limit", "offset"], "properties": {
        "items": {"type": "array", "items": _ref(r.public)}, "total": {"type": "integer"},
        "limit": {"type": "integer"}, "offset": {"type": "integer"}}}
    params = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 50}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}},
        *[{"name": f.name, "in": "query", "schema": f.schema, "description": f.description} for f in r.filters],
    ]
    id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
    create_responses = {"201": _json(_ref(r.public), "Created"), **ERRORS}
    if r.is_event:
        create_responses["200"] = _json(_ref(r.public), "Already stored (a retry with the same id)")
    else:
        create_responses["409"] = _json(_ref(ConflictResponse), "A record with this id exists")
    collection = {
        "get": {"tags": [tag], "summary": f"List {r.path}", "operationId": f"list_{r.path}", "parameters": params,
                "responses": {"200": _json(page, "A page of records"),
                              "400": _json(_ref(ErrorResponse), "A filter on a field your role may not see"),
                              "422": ERRORS["422"]}},
        "post": {"tags": [tag], "summary": f"Create a {tag}", "operationId": f"create_{r.path}",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(r.create)}}},
                 "responses": create_responses},
    }
    item: dict[str, Any] = {
        "get": {"tags": [tag], "summary": f"One {tag}", "operationId": f"get_{r.path}", "parameters": id_param,
                "responses": {"200": _json(_ref(r.public), "The record"), **NOT_FOUND}},
    }
    if r.is_event:
        item["patch"] = {"tags": [tag], "summary": "Not allowed: events are append-only",
                         "operationId": f"patch_{r.path}", "parameters": id_param,
                         "responses": {"405": _json(_ref(ErrorResponse), "Events cannot be edited")}}
    else:
        item["delete"] = {"tags": [tag], "summary": f"Delete a {tag} (devices get a tombstone)",
                          "operationId": f"delete_{r.path}",
                          "parameters": id_param + [{"name": "version", "in": "query", "schema": {"type": "integer"},
                                                     "description": "If given, must be the current version"}],
                          "responses": {"204": {"description": "Deleted"}, **NOT_FOUND,
                                        "409": _json(_ref(ConflictResponse), "Stale version, or still referenced")}}
        item["patch"] = {"tags": [tag], "summary": f"Update a {tag} (version-checked)", "operationId": f"update_{r.path}",
                         "parameters": id_param,
                         "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(r.update)}}},
                         "responses": {"200": _json(_ref(r.public), "Updated"), **NOT_FOUND, **ERRORS,
                                       "409": _json(_ref(ConflictResponse), "Stale version: the current record is returned")}}
    return {f"/api/{r.path}": collection, f"/api/{r.path}/{{id}}": item}


def _extra_paths() -> dict[str, dict]:
    id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
    csv_body = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}},
                                              "multipart/form-data": {"schema": {"type": "object", "properties": {
                                                  "file": {"type": "string", "contentMediaType": "text/csv"}}}}}}
    apply = [{"name": "apply", "in": "query", "schema": {"type": "boolean", "default": False},
              "description": "false: dry run (nothing written); true: write all valid rows in one transaction"}]
    report = {"type": "object", "description": "Import report: counts and every bad row with line, column and reason"}
    csv_out = {"200": {"description": "CSV, UTF-8 with BOM (opens in Excel)", "content": {"text/csv": {"schema": {"type": "string"}}}}}
    return {
        "/api/plans/{id}/history": {"get": {
            "tags": ["evacuation plan"], "summary": "Earlier versions of a plan, newest first",
            "operationId": "plan_history", "parameters": id_param,
            "responses": {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref(PlanVersionPublic)}}},
                                       "Saved versions"), **NOT_FOUND}}},
        "/api/imports/people": {"post": {"tags": ["import"], "summary": "Import people CSV (UTF-8, UTF-8 BOM or CP932)",
                                         "operationId": "import_people", "parameters": apply, "requestBody": csv_body,
                                         "responses": {"200": _json(report, "Report"), **ERRORS}}},
        "/api/imports/shelters": {"post": {"tags": ["import"], "summary": "Import shelters (GSI 指定避難所 CSV or the project's own)",
                                           "operationId": "import_shelters", "parameters": apply, "requestBody": csv_body,
                                           "responses": {"200": _json(report, "Report"), **ERRORS}}},
        "/api/imports/plans": {"post": {"tags": ["import"], "summary": "Import the plan CSV (個別避難計画; all or nothing on apply)",
                                        "operationId": "import_plans", "parameters": apply, "requestBody": csv_body,
                                        "responses": {"200": _json(report, "Report"), **ERRORS}}},
        "/api/exports/plans.csv": {"get": {"tags": ["export"], "summary": "Every person's plan as CSV (one row per person)",
                                           "operationId": "export_plans", "responses": csv_out}},
        "/api/exports/people.csv": {"get": {"tags": ["export"], "summary": "All people as CSV",
                                            "operationId": "export_people", "responses": csv_out}},
        "/api/exports/shelters.csv": {"get": {"tags": ["export"], "summary": "All shelters as CSV",
                                              "operationId": "export_shelters", "responses": csv_out}},
    }


def _op(tag: str, summary: str, op_id: str, responses: dict, body: dict | None = None, params: list | None = None) -> dict:
    out: dict[str, Any] = {"tags": [tag], "summary": summary, "operationId": op_id, "responses": responses}
    if body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        out["parameters"] = params
    return out


_NAMED = {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"},
                                                                     "name": {"type": "string"}}}}
_IDS = {"type": "array", "items": {"type": "string", "format": "uuid"}}
ME = {"type": "object", "required": ["user_id", "username", "role", "mode", "scope", "actions"], "properties": {
    "user_id": {"type": "string", "format": "uuid"}, "username": {"type": "string"},
    "display_name": {"type": "string"}, "role": {"type": "string"}, "role_label": {"type": "string"},
    "mode": {"enum": ["normal", "disaster"]},
    "municipality": {"type": ["object", "null"], "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "municipalities": {"type": "array", "description": "the caller's municipalities, each with the mode in force there",
                       "items": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                                                  "mode": {"enum": ["normal", "disaster"]}}}},
    "scope": {"type": "object", "properties": {"district_ids": _IDS, "shelter_ids": _IDS, "deployment_ids": _IDS,
                                               "districts": _NAMED, "shelters": _NAMED}},
    "actions": {"type": "array", "items": {"type": "string"},
                "description": "names of the access table's actions the caller may perform now (docs/access.md)"},
    "writable": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                 "description": "`<resource>.update` → the only fields the caller may change, where the table narrows them"},
    "csrf_token": {"type": ["string", "null"]}}}


def _access_and_sync_paths() -> dict[str, dict]:
    obj = {"type": "object"}
    creds = {"type": "object", "required": ["username", "password"], "properties": {
        "username": {"type": "string"}, "password": {"type": "string"}, "label": {"type": "string"}}}
    id_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
    unauthorized = {"401": _json(_ref(ErrorResponse), "Wrong username or password (one answer for both)"),
                    "403": _json(_ref(ErrorResponse), "Posted from another site (login CSRF)"),
                    "422": ERRORS["422"], "429": _json(_ref(ErrorResponse), "Too many failed sign-ins")}
    return {
        "/auth/login": {"post": _op("access", "Sign in for browser pages: sets the session cookie", "login",
                                    {"200": _json(obj, "User and CSRF token"), **unauthorized}, creds)},
        "/auth/token": {"post": _op("access", "Sign in a field device: a bearer token, shown once", "device_token",
                                    {"201": _json(obj, "Token, its id and expiry"), **unauthorized}, creds)},
        "/auth/logout": {"post": _op("access", "Sign out: revokes the token in use", "logout",
                                     {"200": _json(obj, "Signed out")})},
        "/api/me": {"get": _op("access", "Who am I: role, municipality, scope, the mode in force and the actions allowed",
                               "me", {"200": _json(ME, "The caller")})},
        "/api/mode": {"get": _op("access", "The mode in force (normal / disaster) of a municipality (default: the "
                                           "caller's only one; several: each of the caller's)", "get_mode",
                                 {"200": _json(obj, "Mode"), "422": ERRORS["422"]},
                                 params=[{"name": "municipality_code", "in": "query", "required": False,
                                          "schema": {"type": "string"}}]),
                      "post": _op("access", "Switch a municipality's mode (administrator, with a reason)", "set_mode",
                                  {"200": _json(obj, "Mode"), "422": ERRORS["422"]},
                                  {"type": "object", "required": ["mode", "reason"], "properties": {
                                      "mode": {"enum": ["normal", "disaster"]}, "reason": {"type": "string"},
                                      "municipality_code": {"type": "string",
                                                            "description": "default: the caller's only municipality"}}})},
        "/api/users": {"get": _op("access", "Accounts (administrator)", "list_users",
                                  {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref(UserPublic)}}}, "Accounts")}),
                       "post": _op("access", "Create an account (administrator)", "create_user",
                                   {"201": _json(_ref(UserPublic), "Created"), "422": ERRORS["422"]}, _ref(UserCreate))},
        "/api/users/{id}": {"patch": _op("access", "Change an account (version-checked)", "update_user",
                                         {"200": _json(_ref(UserPublic), "Updated"), **NOT_FOUND, "409": _json(_ref(ConflictResponse), "Stale")},
                                         _ref(UserUpdate), id_param)},
        "/api/tokens": {"get": _op("access", "Sign-in tokens, without secrets (administrator)", "list_tokens",
                                   {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref(AuthTokenPublic)}}}, "Tokens")})},
        "/api/tokens/{id}/revoke": {"post": _op("access", "Revoke a token (a lost tablet)", "revoke_token",
                                                {"200": _json(obj, "Revoked"), **NOT_FOUND}, params=id_param)},
        "/api/audit": {"get": _op("access", "The audit log (administrator)", "audit_log",
                                  {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref(AuditEntryPublic)}}}, "Entries")})},
        "/api/audit.csv": {"get": _op("access", "The audit log as CSV", "audit_csv",
                                      {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}})},
        "/api/sync/changes": {"get": _op("sync", "Changes feed: a snapshot, then changes after the cursor", "sync_changes",
                                         {"200": _json(obj, "A page of changes, or a reset"),
                                          "410": _json(_ref(ErrorResponse), "Stale cursor: start again")},
                                         params=[{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("cursor", "scope_key")]
                                         + [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 2000}}])},
        "/api/sync/mutations": {"post": _op("sync", "Apply a batch of device mutations (one transaction)", "sync_mutations",
                                            {"200": _json(obj, "One result per mutation"), "413": ERRORS["413"]},
                                            {"type": "object", "properties": {"device_id": {"type": "string"},
                                                                              "mutations": {"type": "array", "maxItems": 100, "items": _ref(Mutation)}}})},
        "/api/conflicts": {"get": _op("sync", "Conflict records to resolve (welfare staff)", "list_conflicts",
                                      {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref(SyncConflictPublic)}}}, "Conflicts")})},
        "/api/conflicts/{id}/resolve": {"post": _op("sync", "Resolve a conflict: keep the server's or the device's value", "resolve_conflict",
                                                    {"200": _json(obj, "Resolved"), **NOT_FOUND, "409": _json(_ref(ErrorResponse), "Already resolved")},
                                                    {"type": "object", "properties": {"choice": {"enum": ["server", "client"]}}}, id_param)},
    }


def build_openapi() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], str]] = [(ErrorResponse, "serialization"), (ConflictResponse, "serialization"),
                                                  (PlanVersionPublic, "serialization"), (UserPublic, "serialization"),
                                                  (UserCreate, "validation"), (UserUpdate, "validation"),
                                                  (AuditEntryPublic, "serialization"), (AuthTokenPublic, "serialization"),
                                                  (SyncConflictPublic, "serialization"), (Mutation, "validation")]
    paths: dict[str, dict] = {}
    for r in RESOURCES:
        models += [(r.create, "validation"), (r.public, "serialization")]
        if r.update is not None:
            models.append((r.update, "validation"))
        paths.update(_resource_paths(r))
    paths.update(_extra_paths())
    paths.update(_access_and_sync_paths())
    _, schemas = models_json_schema(models, ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tsunagu (つなぐ) API", "version": __version__,
                 "description": "Register of people needing evacuation support (避難行動要支援者名簿), individual "
                                "evacuation plans (個別避難計画), welfare shelters (福祉避難所) and DWAT."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": dict(sorted(paths.items())),
        "security": [{"bearer": []}, {"session": []}],
        "components": {"schemas": schemas.get("$defs", {}), "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "Device token from POST /auth/token"},
            "session": {"type": "apiKey", "in": "cookie", "name": "tsunagu_session",
                        "description": "Browser session from POST /auth/login; changes need the X-CSRF-Token header"}}},
    }


def add_remaining_routes(doc: dict[str, Any], routes) -> dict[str, Any]:
    """Every other /api and /auth route of the app, so none is missing from the document: method,
    path parameters and the endpoint's own first docstring line (their bodies are described in docs/)."""
    for route in routes:
        if not isinstance(route, Route) or not route.path.startswith(("/api/", "/auth/")):
            continue
        entry = doc["paths"].setdefault(route.path, {})
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if method.lower() in entry:
                continue
            endpoint = getattr(route.endpoint, "__wrapped__", route.endpoint)
            summary = (endpoint.__doc__ or route.name or route.path).strip().splitlines()[0]
            params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in route.param_convertors]
            operation: dict[str, Any] = {"tags": [route.path.split("/")[2]], "summary": summary,
                                         "operationId": method.lower() + re.sub(r"[^a-z0-9]+", "_", route.path.lower()).rstrip("_"),
                                         "responses": {"200": {"description": "See docs/ for the body"},
                                                       "401": {"description": "Sign-in required"},
                                                       "403": {"description": "Role may not"}}}
            if params:
                operation["parameters"] = params
            entry[method.lower()] = operation
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return doc


_CACHE: dict[str, Any] = {}


@public
async def openapi_endpoint(request: Request) -> JSONResponse:
    if "doc" not in _CACHE:
        _CACHE["doc"] = add_remaining_routes(build_openapi(), request.app.routes)
    return JSONResponse(_CACHE["doc"])


routes = [Route("/api/openapi.json", openapi_endpoint, methods=["GET"], name="openapi")]
