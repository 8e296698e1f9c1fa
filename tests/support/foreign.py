"""Publishing another service's event, as its relay would, before that service exists."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import kombu

from shared.runtime.messaging.publisher import BatchPublisher, event_message


def envelope(
    source: str, event_type: str, stream_id: str, data: dict[str, Any], version: int = 1, **metadata: Any
) -> dict[str, Any]:
    return {
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
        "hash": "0" * 64,
        "prev_hash": "0" * 64,
    }


def publish(amqp_uri: str, source: str, *envelopes: dict[str, Any]) -> None:
    publisher = BatchPublisher(amqp_uri, source)
    try:
        publisher.publish([event_message(e) for e in envelopes])
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
        publish_raw(self.amqp_uri, "nameko-rpc", routing_key, body, content_type, **props)

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
