"""Publishing another service's event, as its relay would, before that service exists.

An envelope made here carries the hash of its content, chained to ``prev_hash``,
and ``publish`` signs it with the source's key from the run's key directory,
as the source's relay would; ``signed_by`` signs it with another key instead
(a forgery), and ``signed_by=None`` sends it unsigned.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from typing import Any

import kombu

from shared.eventstore.hashing import canonical_json, event_hash
from shared.runtime.messaging.publisher import BatchPublisher, event_message
from shared.security.assertions import AssertionSigner
from shared.security.event_signatures import EventSigner
from shared.security.keys import KeyRing
from tests.support.identities import EVERY_ROLE

GENESIS = "0" * 64
_SOURCE = object()


def envelope(
    source: str,
    event_type: str,
    stream_id: str,
    data: dict[str, Any],
    version: int = 1,
    prev_hash: str = GENESIS,
    **metadata: Any,
) -> dict[str, Any]:
    made = {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "schema_version": 1,
        "stream_id": stream_id,
        "version": version,
        "position": version,
        "tx_id": 1,
        "data": data,
        "metadata": {
            "actor": "test",
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
            "reason": None,
            "service": source,
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
            **metadata,
        },
        "prev_hash": prev_hash,
    }
    return rehashed(made)


def rehashed(made: dict[str, Any]) -> dict[str, Any]:
    """The envelope with the hash of its (possibly edited) content."""
    digest = event_hash(
        position=made["position"],
        stream_id=made["stream_id"],
        version=made["version"],
        event_id=made["event_id"],
        type=made["type"],
        schema_version=made["schema_version"],
        data_json=canonical_json(made["data"]),
        metadata_json=canonical_json(made["metadata"], "metadata"),
        prev_hash=bytes.fromhex(made["prev_hash"]),
    )
    return {**made, "hash": digest.hex()}


def signature(source: str, made: dict[str, Any], signer: str | None = None) -> str:
    """``signer``'s signature of the envelope as ``source``'s (the source's own by default)."""
    keys = KeyRing(os.environ["SECURITY_KEYS_DIR"])
    return EventSigner(source, keys.private(signer or source)).sign(bytes.fromhex(made["hash"]))


def publish(amqp_uri: str, source: str, *envelopes: dict[str, Any], signed_by: Any = _SOURCE) -> None:
    """Publish as ``source``'s relay would: signed with its key (or ``signed_by``'s, or unsigned with None)."""
    publisher = BatchPublisher(amqp_uri, source)
    try:
        publisher.publish(
            [
                event_message(
                    e, None if signed_by is None else signature(source, e, None if signed_by is _SOURCE else signed_by)
                )
                for e in envelopes
            ]
        )
    finally:
        publisher.close()


def publish_raw(
    amqp_uri: str,
    exchange: str,
    routing_key: str,
    body: bytes,
    content_type: str | None = "application/json",
    **properties: Any,
) -> None:
    """Put any bytes on the wire, as a careless or hostile client might."""
    with kombu.Connection(amqp_uri) as connection:
        producer = connection.Producer()
        producer.publish(
            body,
            exchange=kombu.Exchange(exchange, type="topic", durable=True),
            routing_key=routing_key,
            content_type=content_type,
            content_encoding="binary",
            declare=[kombu.Exchange(exchange, type="topic", durable=True)],
            **properties,
        )


class RawRpc:
    """RPC requests written by hand, and the replies they get (if any) on a queue of our own."""

    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri
        self.reply_key = f"raw-replies-{uuid.uuid4().hex}"
        self._connection = kombu.Connection(amqp_uri)
        exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True)
        self._queue = kombu.Queue(self.reply_key, exchange, routing_key=self.reply_key, exclusive=True)
        self._queue(self._connection.channel()).declare()

    def send(self, routing_key: str, body: bytes, content_type: str | None = "application/json", **props: Any) -> None:
        """Send ``body`` as a request, vouched for as a member of staff with every role (as the gateway would)."""
        service = routing_key.split(".", 1)[0]
        signer = AssertionSigner.from_keys(KeyRing(os.environ["SECURITY_KEYS_DIR"]), "gateway")
        headers = {"nameko.identity": signer.assertion(EVERY_ROLE, service), **props.pop("headers", {})}
        publish_raw(self.amqp_uri, "nameko-rpc", routing_key, body, content_type, headers=headers, **props)

    def reply(self, timeout: float = 10.0) -> Any:
        """The next reply on our queue (decoded), or None when none came."""
        replies: list[Any] = []

        def take(body: Any, message: Any) -> None:
            replies.append(body)
            message.ack()

        deadline = time.monotonic() + timeout
        with kombu.Consumer(self._connection, [self._queue], callbacks=[take]):
            while not replies and time.monotonic() < deadline:  # other frames come too (consume-ok...)
                try:
                    self._connection.drain_events(timeout=max(0.01, deadline - time.monotonic()))
                except TimeoutError:
                    break
        return replies[0] if replies else None

    def close(self) -> None:
        self._connection.release()
