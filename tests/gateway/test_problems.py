"""Errors as data: every failure is an RFC 9457 problem with the status that names it, and nothing
more about the failure (never a traceback) leaves the gateway."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import kombu
import pytest
from werkzeug.test import Client, TestResponse

from services.gateway.app import Gateway
from services.gateway.ratelimit import RateLimits
from services.gateway.routes import Route, route_table
from services.gateway.rpc_pool import RpcPool
from shared.config import Settings
from shared.errors import InternalError, RateLimited
from shared.runtime.messaging.rpc import RpcContract
from shared.security.assertions import AssertionSigner, Identity
from shared.security.keys import KeyRing
from tests.gateway.conftest import bearer


def staff() -> dict[str, str]:
    return bearer("selection_officer", "department_staff", subject="staff:problem-tester")


CREATE = "/api/v1/cadre/create_selection"


def problem(response: TestResponse, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body is not None
    assert body["status"] == status and body["type"] == f"/docs#problem-{slug}"
    assert body["instance"] == f"urn:uuid:{response.headers['X-Request-Id']}"
    assert {"title", "detail"} <= set(body)
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def selection(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Deputy head",
        "unit": "Problem township",
        "kind": "public_selection",
        "posts": [{"post_id": "p1", "title": "Deputy head"}],
        **changes,
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"a string"', "application/json"),
        (b'{"limit": NaN}', "application/json"),
        (b'{"phase": "a", "phase": "b"}', "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b"[" * 100 + b"]" * 100, "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(client: Client, body: bytes, content_type: str) -> None:
    response = client.post("/api/v1/cadre/list_selections", data=body, content_type=content_type, headers=staff())
    problem(response, 400, "malformed-request")


def test_a_body_of_another_media_type_is_415(client: Client) -> None:
    response = client.post(CREATE, data="title=x", content_type="application/x-www-form-urlencoded", headers=staff())
    problem(response, 415, "unsupported-media-type")


def test_a_body_too_large_is_413(client: Client) -> None:
    huge = json.dumps(selection(reason="x" * 300_000))
    problem(client.post(CREATE, data=huge, content_type="application/json", headers=staff()), 413, "payload-too-large")


def test_invalid_fields_are_422_naming_each_field(client: Client) -> None:
    bad = selection(actor="someone else", posts=[{"post_id": "p 1"}])
    del bad["title"]
    body = problem(client.post(CREATE, json=bad, headers=staff()), 422, "validation-failed")
    fields = {error["field"]: error for error in body["errors"]}
    assert set(fields) == {"title", "actor", "posts.0.post_id", "posts.0.title"}
    assert fields["posts.0.post_id"]["pointer"] == "#/posts/0/post_id"
    assert fields["actor"]["detail"] == "Unknown field.", "the actor is the token's subject, never an argument"


def test_text_that_cannot_be_stored_is_422(client: Client) -> None:
    body = problem(client.post(CREATE, json=selection(title="a\u0000b"), headers=staff()), 422, "validation-failed")
    assert body["errors"][0]["field"] == "title"
    lone = b'{"title": "\\ud800", "unit": "u", "kind": "public_selection", "posts": []}'
    response = client.post(CREATE, data=lone, content_type="application/json", headers=staff())
    assert problem(response, 422, "validation-failed")["errors"][0]["field"] == "title"


def test_a_query_string_is_checked_like_a_body(client: Client) -> None:
    body = problem(client.get("/api/v1/public/results?limit=0&colour=red"), 422, "validation-failed")
    assert {error["field"] for error in body["errors"]} == {"limit", "colour"}
    problem(client.get("/api/v1/public/results?limit=1&limit=2"), 400, "malformed-request")
    problem(client.get("/api/v1/public/notices?anything=1"), 422, "validation-failed")


def test_what_does_not_exist_is_404(client: Client) -> None:
    body = problem(
        client.post("/api/v1/cadre/get_cadre", json={"cadre_id": "nobody"}, headers=staff()), 404, "not-found"
    )
    assert (body["kind"], body["key"]) == ("cadre", "nobody")
    problem(client.get("/api/v1/nothing/here"), 404, "not-found")


def test_a_method_the_route_does_not_take_is_405(client: Client) -> None:
    response = client.get(CREATE, headers=staff())
    problem(response, 405, "method-not-allowed")
    assert response.headers["Allow"] == "POST"


def test_a_broken_rule_is_409_naming_it(client: Client) -> None:
    process_id = f"problem-{uuid.uuid4().hex[:8]}"
    created = client.post(CREATE, json=selection(process_id=process_id), headers=staff())
    assert created.status_code == 200, created.json
    closing = client.post("/api/v1/cadre/close_selection", json={"process_id": process_id}, headers=staff())
    body = problem(closing, 409, "rule-violation")
    assert body["rule"]


class Failing:
    """A caller whose every call fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def call(self, *args: Any) -> Any:
        raise self.error


def gateway_calling(caller: Any, gateway: Gateway) -> Client:
    return Client(Gateway(gateway.routes, gateway.tokens, RateLimits("100/minute", "100/minute"), caller))


def test_a_service_rate_limit_is_429_with_retry_after(gateway: Gateway) -> None:
    client = gateway_calling(Failing(RateLimited("submissions from 192.0.2.1", 20, 3600, 1234)), gateway)
    response = client.post("/api/v1/public/feedback", json={"channel": "hotline", "category": "general", "text": "t"})
    body = problem(response, 429, "rate-limited")
    assert response.headers["Retry-After"] == "1234" and body["retry_after"] == 1234


def test_an_internal_error_is_500_with_its_error_id_only(gateway: Gateway) -> None:
    client = gateway_calling(Failing(InternalError("abc-123", "cadre")), gateway)
    body = problem(client.get("/api/v1/public/notices"), 500, "internal-error")
    assert body["error_id"] == "abc-123"


def test_an_unexpected_failure_in_the_gateway_is_500_without_a_traceback(gateway: Gateway) -> None:
    client = gateway_calling(Failing(KeyError("secret detail")), gateway)
    response = client.get("/api/v1/public/notices")
    body = problem(response, 500, "internal-error")
    assert body["error_id"] and "secret detail" not in response.get_data(as_text=True)


# -- the services behind, unreachable or silent ---------------------------------------------


@pytest.fixture
def silent_service(platform_settings: Settings) -> Iterator[str]:
    """A service whose RPC queue exists but that nobody consumes: calls to it are never answered."""
    name = f"silent{uuid.uuid4().hex[:6]}"
    with kombu.Connection(platform_settings.amqp_uri) as connection:
        exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True)
        queue = kombu.Queue(f"rpc-{name}", exchange, routing_key=f"{name}.*", auto_delete=False)
        queue(connection.channel()).declare()
        try:
            yield name
        finally:
            queue(connection.channel()).delete()


def ping_route(service: str) -> Route:
    return Route(
        "GET", f"/api/v1/public/{service}/ping", service, "ping", RpcContract(None, None, False, True), True, ""
    )


def gateway_over_pool(gateway: Gateway, settings: Settings, service: str, timeout: float) -> tuple[Client, RpcPool]:
    signer = AssertionSigner.from_keys(KeyRing(settings.security.keys_dir), "gateway")
    pool = RpcPool(settings.amqp_uri, signer, size=2, timeout=timeout)
    app = Gateway([ping_route(service)], gateway.tokens, RateLimits("100/minute", "100/minute"), pool)
    return Client(app), pool


def test_a_service_that_does_not_answer_in_time_is_504(
    gateway: Gateway, platform_settings: Settings, silent_service: str
) -> None:
    client, pool = gateway_over_pool(gateway, platform_settings, silent_service, timeout=0.5)
    try:
        problem(client.get(f"/api/v1/public/{silent_service}/ping"), 504, "gateway-timeout")
        problem(client.get(f"/api/v1/public/{silent_service}/ping"), 504, "gateway-timeout")
    finally:
        pool.close()


def test_a_service_nobody_runs_is_503(gateway: Gateway, platform_settings: Settings) -> None:
    client, pool = gateway_over_pool(gateway, platform_settings, "nobodyhome", timeout=2)
    try:
        problem(client.get("/api/v1/public/nobodyhome/ping"), 503, "service-unavailable")
    finally:
        pool.close()


def test_a_broker_that_cannot_be_reached_is_503(gateway: Gateway, platform_settings: Settings) -> None:
    signer = AssertionSigner.from_keys(KeyRing(platform_settings.security.keys_dir), "gateway")
    pool = RpcPool("amqp://guest:guest@127.0.0.1:1/", signer, size=1, timeout=1)
    client = Client(Gateway(gateway.routes, gateway.tokens, RateLimits("9/minute", "9/minute"), pool))
    problem(client.get("/api/v1/public/notices"), 503, "service-unavailable")


def test_every_response_says_which_request_it_answers(client: Client) -> None:
    chosen = str(uuid.uuid4())
    response = client.get("/api/v1/public/notices", headers={"X-Correlation-Id": chosen})
    assert response.headers["X-Correlation-Id"] == chosen
    assert response.headers["Cache-Control"] == "no-store"
    ignored = client.get("/api/v1/public/notices", headers={"X-Correlation-Id": "not a uuid"})
    assert ignored.headers["X-Correlation-Id"] == ignored.headers["X-Request-Id"]


def test_identity_reaches_the_service_as_the_public(gateway: Gateway) -> None:
    seen: list[Identity] = []

    class Recording:
        def call(self, service: str, method: str, arguments: Any, identity: Identity, correlation_id: str) -> Any:
            seen.append(identity)
            return {"items": []}

    client = Client(Gateway(route_table(), gateway.tokens, RateLimits("9/minute", "9/minute"), Recording()))
    client.get("/api/v1/public/notices", environ_base={"REMOTE_ADDR": "198.51.100.77"})
    assert seen == [Identity("public", ("public",), "gateway", client="198.51.100.77")]
