"""A submitter's identity crosses the broker sealed: what RabbitMQ carries from the gateway to feedback.

A queue of the test's own is bound to nameko's RPC exchange (``nameko-rpc``)
with the routing key of ``feedback.submit``, in the run's vhost, so it gets
a copy of every request the gateway sends feedback, exactly as the broker
carries it. The name and contact a member of the public typed must not be in
it; the seal to feedback's key must, and feedback must still keep the
identity (sealed again, at rest, under the submitter's own key).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import kombu
import pytest
from werkzeug.test import Client

from services.gateway.app import Gateway
from services.gateway.client import GatewayClient, GatewayError
from services.gateway.ratelimit import RateLimits
from shared.db.database import Database
from shared.eventstore.store import EventStore
from shared.runtime.process.control import wait_until
from shared.security import sealed_identity
from tests.support.environment import RunEnvironment

SUBMIT = "/api/v1/public/feedback"
RPC_EXCHANGE = "nameko-rpc"  # nameko's default, which the platform keeps


def submission(**more: Any) -> dict[str, Any]:
    return {"channel": "mailbox", "category": "general", "text": "The village road is broken.", **more}


def someone() -> dict[str, str]:
    """An identity no other test uses, so finding it anywhere means it leaked from here."""
    tag = uuid.uuid4().hex[:8]
    return {"name": f"Chen Jing {tag}", "contact": f"chen.{tag}@example.org"}


@contextmanager
def spy(amqp_uri: str, routing_key: str) -> Iterator[kombu.Queue]:
    """A queue of the test's own bound to the RPC exchange: a copy of each request to ``routing_key``."""
    with kombu.Connection(amqp_uri) as connection:
        exchange = kombu.Exchange(RPC_EXCHANGE, type="topic", durable=True)
        queue = kombu.Queue(
            f"test-spy-{uuid.uuid4().hex[:8]}", exchange, routing_key=routing_key, exclusive=True, auto_delete=True
        )(connection.channel())
        queue.declare()
        try:
            yield queue
        finally:
            queue.delete()


def captured(queue: kombu.Queue) -> list[tuple[bytes, dict[str, Any]]]:
    """Every message the spy holds so far: its body as sent, and its headers."""
    taken = []
    while (message := queue.get(no_ack=True)) is not None:
        taken.append((message.body if isinstance(message.body, bytes) else message.body.encode(), message.headers))
    return taken


def test_an_identity_crosses_the_broker_sealed_and_is_kept(
    live_gateway: str, test_env: RunEnvironment, database: Database
) -> None:
    identity = someone()
    with spy(test_env.amqp_uri, "feedback.submit") as queue:
        receipt = GatewayClient(live_gateway).feedback.submit(**submission(anonymous=False, identity=identity))
        (body, headers), *_ = wait_until(lambda: captured(queue), what="the request on the broker")

    on_the_wire = body + json.dumps(headers, default=str).encode()
    for value in identity.values():
        assert value.encode() not in on_the_wire, "the identity crossed the broker in clear"
    arguments = json.loads(body)["kwargs"]
    assert "identity" not in arguments
    sealed = arguments["sealed_identity"]
    assert sealed.encode() in body
    private_key = sealed_identity.load_private(os.environ["SECURITY_KEYS_DIR"])
    assert sealed_identity.open(private_key, sealed) == identity, "sealed to feedback's key"

    assert receipt["identity_kept"] is True
    (received,) = EventStore(database, "feedback").read_stream(f"submission-{receipt['submission_id']}")[:1]
    assert received.data["identity"] == identity, "the store opens it to what the submitter gave"


def test_an_anonymous_submission_carries_no_identity(live_gateway: str, test_env: RunEnvironment) -> None:
    with spy(test_env.amqp_uri, "feedback.submit") as queue:
        receipt = GatewayClient(live_gateway).feedback.submit(**submission())
        (body, _), *_ = wait_until(lambda: captured(queue), what="the request on the broker")
    assert receipt["identity_kept"] is False
    assert not {"identity", "sealed_identity"} & set(json.loads(body)["kwargs"])


def test_both_an_identity_and_a_sealed_one_are_refused_naming_both(client: Client) -> None:
    response = client.post(SUBMIT, json=submission(anonymous=False, identity=someone(), sealed_identity="x" * 80))
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"identity", "sealed_identity"}


def test_an_identity_is_checked_before_it_is_sealed(client: Client) -> None:
    response = client.post(SUBMIT, json=submission(anonymous=False, identity={"name": "", "contact": "c"}))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["identity.name"]


def test_a_sealed_identity_that_does_not_open_is_refused_by_feedback(live_gateway: str) -> None:
    with pytest.raises(GatewayError) as caught:
        GatewayClient(live_gateway).feedback.submit(**submission(anonymous=False, sealed_identity="A" * 120))
    assert caught.value.status == 422
    assert [e["field"] for e in caught.value.problem["errors"]] == ["sealed_identity"]


def test_a_gateway_without_feedbacks_key_refuses_an_identity_rather_than_send_it_in_clear(
    gateway: Gateway, test_env: RunEnvironment
) -> None:
    keyless = Client(Gateway(gateway.routes, gateway.tokens, RateLimits("100/minute", "100/minute"), gateway.caller))
    identity = someone()
    with spy(test_env.amqp_uri, "feedback.submit") as queue:
        refused = keyless.post(SUBMIT, json=submission(anonymous=False, identity=identity))
        assert refused.status_code == 503
        assert refused.get_json()["title"] == "The service is not available"
        assert "feedback.hpke.pub" in refused.get_json()["detail"]
        anonymous = keyless.post(SUBMIT, json=submission())
        assert anonymous.status_code == 200 and anonymous.get_json()["identity_kept"] is False
        sent = wait_until(lambda: captured(queue), what="the anonymous request on the broker")
    assert len(sent) == 1, "the one with an identity never reached the broker"
    assert all(value.encode() not in sent[0][0] for value in identity.values())
