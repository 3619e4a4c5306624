"""DWAT dispatch (派遣調整) for HQ and the prefecture (docs/dwat.md):

    GET  /dwat                                 the dispatch board (page)
    GET  /api/dwat/suggestions                 open requests, teams ranked with reasons
    GET  /api/dwat/rotation?days=&drop_team=&drop_from=   the coming days per site, gaps, what-if
    POST /api/dwat/requests/{id}/advance       {to, version, note}: accepted / on_site / closed / cancelled
    POST /api/dwat/requests/{id}/confirm       {team_id, version, start_date?, end_date?, note?}

Handlers are thin: the records layer reads (server/records/dwat_dispatch.py, dwat_board.py) and
writes (server/records/dwat_flow.py).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Optional

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..auth.guard import page, principal_of, requires
from ..auth.policy import allowed
from ..domain.japan_time import today_jst
from ..errors import ApiError
from ..records import dwat_board, dwat_dispatch as dispatch, dwat_flow as flow
from ..web import templates
from .http import client_address, in_session, path_uuid, read_json_object


def _actor(request: Request) -> flow.Actor:
    principal = principal_of(request)
    return flow.Actor(principal, principal.username, client_address(request))


def _query_day(request: Request, name: str) -> Optional[date]:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid query parameters", [{"field": name, "message": "a date (YYYY-MM-DD)"}]) from None


@requires("dwat.board")
async def suggestions(request: Request) -> Response:
    codes = principal_of(request).municipality_codes
    items = await in_session(request, lambda session: dispatch.suggestions(dispatch.load_pool(session, codes=codes)))
    return JSONResponse({"items": items})


@requires("dwat.board")
async def rotation(request: Request) -> Response:
    params = request.query_params
    try:
        days = int(params.get("days", "14"))
    except ValueError:
        raise ApiError(422, "invalid query parameters", [{"field": "days", "message": "1 to 60"}]) from None
    drop = None
    if params.get("drop_team"):
        try:
            drop = uuid.UUID(params["drop_team"])
        except ValueError:
            raise ApiError(422, "invalid query parameters", [{"field": "drop_team", "message": "a team id"}]) from None
    drop_from = _query_day(request, "drop_from")
    today = today_jst()
    codes = principal_of(request).municipality_codes
    return JSONResponse(await in_session(request, lambda session: dispatch.rotation(
        dispatch.load_pool(session, codes=codes), today, days, drop, drop_from)))


@requires("dwat.dispatch")
async def advance(request: Request) -> Response:
    request_id = path_uuid(request, what="DWAT request")
    body = await read_json_object(request)
    request.state.audit_refusal = ("dwat_request_advance", "dwat-requests", [request_id])
    actor = _actor(request)
    return JSONResponse(await in_session(request, lambda session: flow.advance_request(
        session, actor, request_id, body.get("to"), body.get("version"), body.get("note") or "")))


@requires("dwat.dispatch")
async def confirm(request: Request) -> Response:
    request_id = path_uuid(request, what="DWAT request")
    body = await read_json_object(request)
    request.state.audit_refusal = ("dwat_confirm", "dwat-requests", [request_id])
    actor = _actor(request)
    today = today_jst()
    return JSONResponse(await in_session(request, lambda session: flow.confirm_team(
        session, actor, request_id, body, today)), status_code=201)


@page("dwat.board", "DWAT派遣調整は本部・市役所の職員のみ利用できます (HQ only)")
async def board_page(request: Request) -> Response:
    principal = request.state.principal
    today = today_jst()
    data = await in_session(request, lambda session: dwat_board.board(session, today, codes=principal.municipality_codes))
    return templates.TemplateResponse(request, "dwat.html", {
        "version": __version__, "board": data, "today": today,
        "can_dispatch": allowed(principal, "dwat.dispatch"), "username": principal.username})


routes = [
    Route("/dwat", board_page, methods=["GET"], name="dwat-board"),
    Route("/api/dwat/suggestions", suggestions, methods=["GET"], name="dwat-suggestions"),
    Route("/api/dwat/rotation", rotation, methods=["GET"], name="dwat-rotation"),
    Route("/api/dwat/requests/{id}/advance", advance, methods=["POST"], name="dwat-advance"),
    Route("/api/dwat/requests/{id}/confirm", confirm, methods=["POST"], name="dwat-confirm"),
]
