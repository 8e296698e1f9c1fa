"""Where the platform's events travel on RabbitMQ: exchanges, queues, bindings.

Each service publishes to one topic exchange, ``<service>.events``, with the
event type as routing key (nameko's convention, so any nameko
``@event_handler`` can listen too). Each consuming service has one durable
queue per source service, ``<service>.inbox.<source>``, bound to the types it
handles and declared ``x-single-active-consumer`` so that one replica at a
time takes a source's events, in order.

On a locked-down broker (``shared.runtime.process.broker``) a service may
configure only its own exchange and queues: a consumer never declares its
sources' exchanges, it only checks they exist (passively, which needs no
permission) and binds to them. The provisioning identity (``make migrate``)
creates them; ``declare_topology`` does both, whichever it is allowed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import kombu
from amqp.exceptions import AccessRefused, NotFound
from kombu import Exchange, Queue, binding

log = logging.getLogger(__name__)

#: ``{consuming service: {source service: [event types]}}``
Subscriptions = Mapping[str, Mapping[str, Iterable[str]]]


def inbound_queue_name(service: str, source: str) -> str:
    return f"{service}.inbox.{source}"


def events_exchange(source: str, passive: bool = False) -> Exchange:
    """The exchange nameko's EventDispatcher uses for ``source``'s events (``passive``: only checked to exist)."""
    return Exchange(f"{source}.events", type="topic", durable=True, auto_delete=False, passive=passive)


def inbound_queue(service: str, source: str, event_types: Iterable[str]) -> Queue:
    """``service``'s queue for ``source``'s events; declaring it never declares the source's exchange."""
    exchange = events_exchange(source, passive=True)
    return Queue(
        inbound_queue_name(service, source),
        bindings=[binding(exchange, routing_key=event_type) for event_type in sorted(set(event_types))],
        durable=True,
        auto_delete=False,
        queue_arguments={"x-single-active-consumer": True},
    )


def declare_topology(
    amqp_uri: str,
    subscriptions: Subscriptions,
    ssl: dict[str, Any] | None = None,
    skip_refused: bool = False,
    exchanges: Iterable[Exchange] = (),
) -> int:
    """Declare ``exchanges`` and every consumer's inbound queue and bindings; return how many queues.

    nameko publishes events with ``mandatory=False``: an event sent before its
    consumer's queue exists is dropped without a word. Declaring all queues
    before any service starts (from every service's start-up and from ``make
    migrate``) closes that gap.

    An exchange (each of ``exchanges``, each source's) is created only when
    missing: the provisioning identity may, a service's own broker user may
    only for its own. With ``skip_refused``, what the credentials may not
    declare or bind (another service's queue, on a locked-down broker) is left
    out instead of raising ``AccessRefused``.
    """
    declared = 0
    with kombu.Connection(amqp_uri, connect_timeout=10, ssl=ssl) as connection:
        for exchange in exchanges:
            _allowed(skip_refused, exchange.name, _ensure_exchange, connection, exchange)
        for service, sources in subscriptions.items():
            for source, types in sources.items():
                queue = inbound_queue(service, source, types)
                declared += _allowed(skip_refused, queue.name, _ensure_queue, connection, queue, source)
    return declared


def _allowed(skip_refused: bool, what: str, step: Any, *args: Any) -> int:
    """1 when ``step(*args)`` was done, 0 when the broker refused it and that is allowed."""
    try:
        step(*args)
    except AccessRefused as refused:
        if not skip_refused:
            raise
        log.debug("%s: not allowed to these credentials: %s", what, refused)
        return 0
    return 1


def _ensure_queue(connection: kombu.Connection, queue: Queue, source: str) -> None:
    _ensure_exchange(connection, events_exchange(source))
    with _channel(connection) as channel:
        queue(channel).declare()


def _ensure_exchange(connection: kombu.Connection, exchange: Exchange) -> None:
    """Check that ``exchange`` exists (which needs no permission), and create it when it does not."""
    try:
        with _channel(connection) as channel:
            exchange(channel).declare(passive=True)
    except NotFound:
        with _channel(connection) as channel:
            exchange(channel).declare(passive=False)


@contextmanager
def _channel(connection: kombu.Connection) -> Iterator[Any]:
    """A channel of its own for one step: a refusal closes that channel, not the connection."""
    channel = connection.channel()
    try:
        yield channel
    finally:
        try:
            channel.close()
        except Exception:
            pass  # the broker closed it already
