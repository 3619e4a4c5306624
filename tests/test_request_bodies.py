"""One way to validate: every request body through a model (`read_body`), every path id through
`path_uuid`; the answers keep the one error shape `{"detail", "errors": [{"field", "message"}]}`."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import uuid

import pytest
from pydantic import BaseModel
from starlette.requests import Request

from server.api.http import path_uuid, read_body
from server.errors import ApiError


def run(coroutine):
    """Run a coroutine to its end on a thread of its own: the browser tests' Playwright keeps an
    event loop running in the main thread of the same pytest run, where asyncio.run is refused."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Example(BaseModel):
    name: str
    count: int = 1


def _request(body: bytes, path_params=None) -> Request:
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b"",
             "path_params": path_params or {}}
    return Request(scope, receive)


def _read(body: bytes, **kw):
    return run(read_body(_request(body), Example, **kw))


def test_read_body_gives_the_model():
    assert _read(b'{"name": "a", "count": 2}') == Example(name="a", count=2)


@pytest.mark.parametrize("body,status,field", [(b'{"count": "x"}', 422, "name"), (b"[1]", 422, "body"),
                                               (b"{", 400, None), (b"", 400, None)])
def test_read_body_refuses_with_the_fields_named(body, status, field):
    with pytest.raises(ApiError) as refused:
        _read(body)
    assert refused.value.status == status
    if field:
        assert field in [e["field"] for e in refused.value.errors]


def test_an_empty_body_may_mean_every_default():
    class Defaults(BaseModel):
        count: int = 3
    assert run(read_body(_request(b" "), Defaults, empty_ok=True)) == Defaults()


def test_path_uuid_reads_the_id_or_answers_not_found():
    row_id = uuid.uuid4()
    assert path_uuid(_request(b"", {"id": str(row_id)})) == row_id
    with pytest.raises(ApiError) as unknown:
        path_uuid(_request(b"", {"plan_id": "x"}), "plan_id", what="evacuation plan")
    assert (unknown.value.status, unknown.value.detail) == (404, "evacuation plan not found")


@pytest.mark.parametrize("body,field", [({"mutations": "x"}, "mutations"), ({}, "mutations")])
def test_a_mutation_batch_is_read_through_its_model(client, body, field):
    r = client.post("/api/sync/mutations", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def test_a_device_id_of_any_kind_is_kept_as_text(client):
    r = client.post("/api/sync/mutations", json={"mutations": [], "device_id": 42})
    assert r.status_code == 200 and r.json()["results"] == []


@pytest.mark.parametrize("body", [{}, {"choice": "both"}])
def test_a_resolution_is_server_or_client(client, body):
    r = client.post(f"/api/conflicts/{uuid.uuid4()}/resolve", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "choice"


def test_a_conflict_id_that_is_not_a_uuid_is_not_found(client):
    assert client.post("/api/conflicts/nope/resolve", json={"choice": "server"}).status_code == 404
