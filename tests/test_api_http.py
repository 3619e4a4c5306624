"""HTTP-level behaviour: OpenAPI document, docs page, bad bodies, size limit, no 500s."""

from __future__ import annotations

from sqlmodel import SQLModel

from server.records.registry import RESOURCES
from server.app import create_app
from server.settings import load_settings


def test_openapi_is_3_1_and_covers_every_resource(client):
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for r in RESOURCES:
        assert f"/api/{r.path}" in doc["paths"]
        assert r.create.__name__ in doc["components"]["schemas"]
        assert r.public.__name__ in doc["components"]["schemas"]
    person = doc["components"]["schemas"]["PersonCreate"]
    # generated from the model: every field of the table's editable set is there
    assert {"register_no", "birth_date", "care_needs", "consent"} <= set(person["properties"])
    assert set(person["required"]) >= {"register_no", "name", "birth_date", "sex", "address"}
    # every $ref resolves
    text = client.get("/api/openapi.json").text
    import re
    for ref in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert ref in doc["components"]["schemas"], ref


def test_openapi_validates_as_openapi_3_1(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/openapi.json").json())


def test_landing_and_docs_pages(client):
    index = client.get("/")
    assert index.status_code == 200 and "つなぐ" in index.text and "/api/docs" in index.text
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/people" in docs.text


def test_malformed_json_is_400(client):
    r = client.post("/api/people", content=b'{"name": ', headers={"content-type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
    r = client.post("/api/people", content=b"[1, 2]")
    assert r.status_code == 422
    r = client.post("/api/people", content=b"")
    assert r.status_code == 400
    r = client.post("/api/people", content="{\"name\": \"\xff\"}".encode("latin-1"))
    assert r.status_code == 400


def test_upload_over_the_limit_is_413(engine, client):
    from starlette.testclient import TestClient

    settings = load_settings({"TSUNAGU_MAX_UPLOAD_BYTES": "1000"})
    with TestClient(create_app(settings=settings, engine=engine)) as small:
        small.headers["Authorization"] = client.headers["Authorization"]
        r = small.post("/api/people", content=b"{" + b" " * 2000 + b"}")
        assert r.status_code == 413

        def chunks():  # no Content-Length: counted while streaming
            for _ in range(10):
                yield b" " * 200

        r = small.post("/api/imports/people", content=chunks(), headers={"content-type": "text/csv"})
        assert r.status_code == 413
        assert small.get("/api/people").json()["total"] == 0


def test_unknown_path_and_method(client):
    assert client.get("/api/nothing-here").status_code == 404
    assert client.delete("/api/people").status_code == 405
    assert client.get("/no-such-page").status_code == 404


def test_query_parameters_are_validated(client):
    r = client.get("/api/people", params={"limit": 100000})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
    r = client.get("/api/shelters", params={"kind": "castle"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"


def test_every_table_is_created_by_the_migrations(engine):
    from sqlalchemy import inspect

    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrations_match_the_models(engine):
    """Alembic's autogenerate finds nothing to add: the models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_every_api_route_is_in_the_openapi_document(client, app):
    from starlette.routing import Route

    doc = client.get("/api/openapi.json").json()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith(("/api/", "/auth/")):
            for method in route.methods - {"HEAD"}:
                assert method.lower() in doc["paths"][route.path], (method, route.path)


def test_an_unexpected_error_is_a_500_with_an_incident_id_and_no_personal_data_in_the_log(engine, client, caplog):
    from starlette.routing import Route
    from starlette.testclient import TestClient

    app = create_app(engine=engine)

    async def boom(request):
        raise ValueError("山田 花子 さんの住所が不正")  # a message with personal data in it

    app.router.routes.insert(0, Route("/api/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers["Authorization"] = client.headers["Authorization"]
        r = c.get("/api/boom")
    assert r.status_code == 500 and "incident" in r.json()["detail"]
    assert "山田" not in r.text
    assert "ValueError" in caplog.text and "山田" not in caplog.text
    assert r.headers["content-security-policy"]  # headers still on
