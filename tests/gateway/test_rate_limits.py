"""Rate limits by client address: behind a trusted proxy each client counts apart, and with no
proxy trusted a forged ``X-Forwarded-For`` changes nothing; past the limit, 429 with ``Retry-After``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from werkzeug.test import Client, TestResponse

from services.gateway.app import Gateway, wsgi_app
from services.gateway.rpc_pool import RpcPool
from shared.config import Settings
from tests.gateway.conftest import bearer

NOTICES = "/api/v1/public/notices"
PROXY = "10.0.0.2"


@pytest.fixture
def limited(services: None, platform_settings: Settings) -> Iterator[Gateway]:
    """A gateway allowing 3 public and 4 staff requests a minute per address."""
    settings = platform_settings.replace(gateway={"public_rate_limit": "3/minute", "staff_rate_limit": "4/minute"})
    built = Gateway.from_settings(settings)
    yield built
    if isinstance(built.caller, RpcPool):
        built.caller.close()


class From:
    """Requests to ``app`` arriving from ``address`` (the peer the gateway sees)."""

    def __init__(self, app: object, address: str) -> None:
        self.client = Client(app)  # type: ignore[arg-type]
        self.environ = {"REMOTE_ADDR": address}

    def get(self, path: str, **options: object) -> TestResponse:
        return self.client.get(path, environ_base=self.environ, **options)  # type: ignore[arg-type]

    def post(self, path: str, **options: object) -> TestResponse:
        return self.client.post(path, environ_base=self.environ, **options)  # type: ignore[arg-type]


def statuses(client: From, count: int, forwarded_for: str | None = None, path: str = NOTICES) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return [client.get(path, headers=headers).status_code for _ in range(count)]


def test_two_clients_behind_a_trusted_proxy_are_limited_apart(limited: Gateway) -> None:
    behind_proxy = From(wsgi_app(limited, trusted_proxies=1), PROXY)
    assert statuses(behind_proxy, 4, "198.51.100.1") == [200, 200, 200, 429]
    assert statuses(behind_proxy, 3, "198.51.100.2") == [200, 200, 200], "another client has its own budget"
    # A client that writes its own X-Forwarded-For is still known by the address the proxy appended.
    assert statuses(behind_proxy, 1, "203.0.113.99, 198.51.100.1") == [429]


def test_a_spoofed_forwarded_for_without_a_trusted_proxy_does_not_evade_the_limit(limited: Gateway) -> None:
    direct = From(wsgi_app(limited, trusted_proxies=0), "192.0.2.10")
    answers = [direct.get(NOTICES, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(1, 6)]
    assert answers == [200, 200, 200, 429, 429]


def test_the_refusal_says_when_to_come_back(limited: Gateway) -> None:
    client = From(limited, "192.0.2.20")
    statuses(client, 3)
    response = client.get(NOTICES)
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json is not None and response.json["retry_after"] == retry_after
    assert response.json["type"] == "/docs#problem-rate-limited"


def test_staff_and_public_budgets_are_apart_and_probes_are_never_limited(limited: Gateway) -> None:
    client = From(limited, "192.0.2.30")
    assert statuses(client, 4) == [200, 200, 200, 429]
    headers = bearer("selection_officer")
    staff = [client.post("/api/v1/cadre/list_selections", json={}, headers=headers).status_code for _ in range(5)]
    assert staff == [200, 200, 200, 200, 429]
    assert statuses(client, 5, path="/health/live") == [200] * 5
