"""The gateway's probes: ready is this replica's own state, the broker is a dependency (``services.gateway.health``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from werkzeug.test import Client

from services.gateway.app import Gateway
from services.gateway.health import BrokerProbe
from services.gateway.ratelimit import RateLimits
from services.gateway.routes import route_table
from services.gateway.tokens import BearerTokens, JwksFile
from tests.support.environment import RunEnvironment
from tests.support.platform import free_port

NOWHERE = f"amqp://guest:guest@127.0.0.1:{free_port()}//"  # nothing listens there


class Pool:
    """A caller standing in for the RPC pool: open until closed."""

    def __init__(self) -> None:
        self.closed = False

    def call(self, *args: Any) -> Any:
        raise AssertionError("no call is made by a probe")


def a_gateway(tmp_path: Path, broker: BrokerProbe, pool: Pool) -> Gateway:
    tokens = BearerTokens(JwksFile(tmp_path / "jwks.json"), issuer="i", audience="a")
    return Gateway(route_table(), tokens, RateLimits("1/minute", "1/minute"), pool, broker=broker)


def test_an_unreachable_broker_makes_the_dependencies_unhealthy_and_leaves_the_replica_ready(tmp_path: Path) -> None:
    client = Client(a_gateway(tmp_path, BrokerProbe(NOWHERE), Pool()))
    for _ in range(3):  # unthrottled, however low the public limit
        dependencies = client.get("/health/dependencies")
        body: Any = dependencies.json
        assert dependencies.status_code == 503 and body["healthy"] is False
        assert body["broker"].startswith("down: ")
        ready = client.get("/health/ready")
        assert ready.status_code == 200 and ready.json == {"ready": True, "rpc_pool": "ok"}
    assert client.get("/health/live").json == {"alive": True}


def test_a_closed_pool_or_a_stop_makes_the_replica_unready(tmp_path: Path, test_env: RunEnvironment) -> None:
    pool = Pool()
    gateway = a_gateway(tmp_path, BrokerProbe(test_env.amqp_uri), pool)
    client = Client(gateway)
    assert client.get("/health/dependencies").json == {"healthy": True, "broker": "ok"}
    pool.closed = True
    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.json == {"ready": False, "rpc_pool": "closed"}
    pool.closed = False
    gateway.stopping = True
    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.json == {"ready": False, "rpc_pool": "stopping"}
    assert client.get("/health/live").status_code == 200


def test_the_broker_probe_connects_at_most_once_per_ttl(test_env: RunEnvironment) -> None:
    probe = BrokerProbe(test_env.amqp_uri, ttl=60)
    assert probe() == "ok"
    probe.amqp_uri = NOWHERE  # the broker goes away: within the ttl the last answer stands
    assert probe() == "ok"
    assert BrokerProbe(NOWHERE, ttl=0)().startswith("down: ")
