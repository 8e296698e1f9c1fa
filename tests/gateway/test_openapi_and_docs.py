"""One route table, three views of it: the routes served, ``/openapi.json`` (OpenAPI 3.1, from the
services' own schemas) and ``/docs`` (HTML rendered here, nothing loaded from elsewhere)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from werkzeug.test import Client

from services.gateway.app import Gateway
from services.gateway.openapi import component_name
from services.gateway.problems import KINDS
from services.gateway.routes import DOCUMENT_ROUTES, EVENT_ID_PATTERN
from shared.domain.schemas import schema_for
from shared.runtime.messaging.rpc import contract_of
from shared.runtime.process.catalog import existing_services, load_service
from shared.security.policy import PUBLIC, allows


def document(client: Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json is not None
    return response.json


def test_every_rpc_method_of_every_service_has_its_staff_operation(client: Client) -> None:
    paths = document(client)["paths"]
    for name in existing_services():
        cls = load_service(name)
        methods = [m for m in dir(cls) if contract_of(getattr(cls, m)) is not None]
        for method in methods:
            operation = paths[f"/api/v1/{name}/{method}"]["post"]
            assert operation["operationId"] == f"staff.{name}.{method}"
            assert operation["security"] == [{"bearer": []}]


AUDIT_METHODS = ("audit_heads", "audit_proof", "audit_consistency")


def test_the_public_operations_need_no_token_and_are_granted_to_the_public(gateway: Gateway) -> None:
    public = [route for route in gateway.routes if route.public]
    assert {(r.service, r.method) for r in public} >= {
        ("feedback", "submit"),
        ("feedback", "my_case"),
        ("feedback", "follow_up"),
        ("feedback", "close"),
        ("cadre", "open_notices"),
        ("cadre", "published_results"),
        *((name, method) for name in existing_services() for method in AUDIT_METHODS),
    }
    for route in public:
        assert allows([PUBLIC], route.service, route.method, query=route.contract.query)
        assert gateway.document["paths"][route.path][route.verb.lower()]["security"] == []
        assert "receipt" not in route.path, "a receipt code never travels in a URL"


def test_request_and_reply_schemas_are_the_services_own(client: Client, gateway: Gateway) -> None:
    doc = document(client)
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    for route in gateway.routes:
        contract = route.contract
        if contract.request is not None:
            name = component_name(contract.request)
            assert set(schemas[name]["properties"]) == set(schema_for(contract.request).fields)
            assert "actor" not in schemas[name]["properties"], "the caller never sends who they are"
        if contract.response is not None:
            assert component_name(contract.response) in schemas
    create = schemas["cadre.CreateSelection"]
    assert create["additionalProperties"] is False and {"title", "unit", "kind", "posts"} <= set(create["required"])
    assert create["properties"]["min_credit_hours"]["type"] == ["string", "null"], "decimals travel as strings"


def test_every_reference_resolves_and_every_schema_is_valid_json_schema(client: Client) -> None:
    doc = document(client)
    text = str(doc)
    for ref in set(re.findall(r"'\$ref': '#/components/(\w+)/([\w.]+)'", text)):
        assert ref[1] in doc["components"][ref[0]], ref
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_problems_are_documented_as_problem_json(client: Client) -> None:
    doc = document(client)
    create = doc["paths"]["/api/v1/cadre/create_selection"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503", "504"} <= set(create)
    assert doc["components"]["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert doc["components"]["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    assert "application/problem+json" in doc["components"]["responses"]["422"]["content"]


def test_the_docs_page_is_rendered_here_and_loads_nothing_from_elsewhere(client: Client, gateway: Gateway) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "no CDN, no external link"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    for route in gateway.routes:
        assert route.path in html
    for kind in KINDS:
        assert f"id='problem-{kind.slug}'" in html
    assert client.get("/").mimetype == "text/html", "/ is the public site's notice board (tests/gateway/test_site.py)"


def test_health_answers_on_the_same_port(client: Client) -> None:
    assert client.get("/health/live").json == {"alive": True}
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json == {"ready": True, "rpc_pool": "ok"}
    dependencies = client.get("/health/dependencies")
    assert dependencies.status_code == 200 and dependencies.json == {"healthy": True, "broker": "ok"}


def test_the_audit_operations_take_the_event_in_the_path_and_the_sizes_in_the_query(client: Client) -> None:
    paths = document(client)["paths"]
    for name in existing_services():
        proof = paths[f"/api/v1/public/audit/{name}/proofs/{{event_id}}"]["get"]
        (event_id,) = [p for p in proof["parameters"] if p["in"] == "path"]
        assert event_id["name"] == "event_id" and event_id["required"] is True
        assert event_id["schema"]["pattern"] == EVENT_ID_PATTERN
        assert {p["name"] for p in proof["parameters"] if p["in"] == "query"} == {"tree_size", "since"}
        consistency = paths[f"/api/v1/public/audit/{name}/consistency"]["get"]
        assert {(p["name"], p["required"]) for p in consistency["parameters"]} == {
            ("old_size", True),
            ("new_size", True),
        }
        assert "Retry-After" in document(client)["components"]["responses"]["409"]["headers"]


def test_the_verifier_and_the_key_are_documented_public_operations(client: Client) -> None:
    doc = document(client)
    for route in DOCUMENT_ROUTES:
        operation = doc["paths"][route.path]["get"]
        assert operation["security"] == [] and operation["tags"] == ["public"]
        assert list(operation["responses"]["200"]["content"]) == [route.media_type]
    assert doc["paths"]["/api/v1/public/audit/verifier.py"]["get"]["responses"]["200"]["content"] == {
        "text/x-python": {"schema": {"type": "string"}}
    }
    html = client.get("/docs").get_data(as_text=True)
    assert "/api/v1/public/audit/verifier.py" in html and "independent channel" in html
    assert "Path parameters:" in html
