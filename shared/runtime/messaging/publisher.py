"""Publishing a batch of events to RabbitMQ and waiting for the broker's confirms.

Waiting for a confirm after every message caps a publisher at one round trip
per event. With publisher confirms on the channel, the broker acknowledges by
delivery tag (often several at once, ``multiple``), so a batch is published
in one go and then confirmed as a whole: only when every message of the batch
is confirmed does the relay move its checkpoint.

The messages follow nameko's event conventions (exchange ``<source>.events``,
topic, routing key = event type, JSON body, ``nameko.*`` context headers), so
any nameko ``@event_handler`` can listen to the platform's events too.

Every message is published ``mandatory``: one that no queue is bound for
comes back from the broker, and is counted (``orgwork_events_unroutable_total``)
and logged instead of vanishing. Nothing is lost by it: a subscriber that
comes later reads the store (``subscriptions``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import amqp
import kombu

from shared.runtime.messaging.topology import events_exchange
from shared.runtime.observability import metrics
from shared.security.event_signatures import SIGNATURE_HEADER

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """The broker refused (nacked) or did not confirm a batch in time."""


@dataclass(frozen=True)
class OutgoingMessage:
    routing_key: str
    body: bytes
    message_id: str
    headers: dict[str, Any]


def event_message(envelope: dict[str, Any], signature: str | None = None) -> OutgoingMessage:
    """A stored event as a nameko event message, with its source's signature (``shared.security.event_signatures``)."""
    metadata = envelope.get("metadata") or {}
    headers: dict[str, Any] = {
        f"nameko.{key}": metadata[key]
        for key in ("correlation_id", "causation_id", "actor")
        if metadata.get(key) is not None
    }
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return OutgoingMessage(envelope["type"], body, envelope["event_id"], headers)


class BatchPublisher:
    """One AMQP connection and confirming channel, publishing to one exchange."""

    def __init__(
        self,
        amqp_uri: str,
        source: str,
        heartbeat: int = 30,
        confirm_timeout: float = 30.0,
        ssl: dict[str, Any] | None = None,
    ) -> None:
        self.source = source
        self.amqp_uri = amqp_uri
        self.ssl = ssl  # ``Settings.amqp_ssl()``: None leaves TLS to the URI
        self.exchange = events_exchange(source)
        self.heartbeat = heartbeat
        self.confirm_timeout = confirm_timeout
        self._connection: kombu.Connection | None = None
        self._channel: Any = None
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._nacked = False

    def connect(self) -> None:
        self.close()
        connection = kombu.Connection(self.amqp_uri, heartbeat=self.heartbeat, connect_timeout=5, ssl=self.ssl)
        connection.connect()
        channel = connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self.exchange(channel).declare()
        self._connection, self._channel = connection, channel
        self._next_tag, self._unconfirmed, self._nacked = 1, set(), False

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.connected

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish every message, then wait until the broker confirmed them all."""
        if not self.connected:
            self.connect()
        channel = self._channel
        for message in messages:
            channel.basic_publish(
                amqp.Message(
                    message.body,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=message.message_id,
                    application_headers=message.headers,
                ),
                exchange=self.exchange.name,
                routing_key=message.routing_key,
                mandatory=True,
            )
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1
        self._wait_for_confirms()

    def _wait_for_confirms(self) -> None:
        assert self._connection is not None
        try:
            while self._unconfirmed and not self._nacked:
                self._connection.drain_events(timeout=self.confirm_timeout)
        except TimeoutError as exc:
            self.close()
            raise PublishFailed(f"no confirm within {self.confirm_timeout}s") from exc
        if self._nacked:
            self.close()
            raise PublishFailed("the broker refused (nacked) a message of the batch")

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._unconfirmed = {tag for tag in self._unconfirmed if tag > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked = True

    def _on_return(self, exc: Any, exchange: str, routing_key: str, message: Any) -> None:
        """A message no queue is bound for: counted and logged (a late subscriber reads the store)."""
        log.info("%s: no queue takes %s events yet (unroutable)", self.source, routing_key)
        metrics.EVENTS_UNROUTABLE.labels(self.source, routing_key).inc()

    def keep_alive(self) -> None:
        """Read what the broker sent (its heartbeats) and send ours when due.

        py-amqp only counts frames it has read as signs of life: an idle
        publisher that never reads would declare the broker dead after two
        heartbeat intervals.
        """
        if self._connection is not None and self._connection.connected:
            try:
                self._connection.drain_events(timeout=0)
            except TimeoutError:
                pass
            self._connection.heartbeat_check()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:
                pass
        self._connection, self._channel = None, None
