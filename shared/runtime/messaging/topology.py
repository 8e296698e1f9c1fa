"""Where the platform's events travel on RabbitMQ: exchanges, queues, bindings.

Each service publishes to one topic exchange, ``<service>.events``, with the
event type as routing key (nameko's convention, so any nameko
``@event_handler`` can listen too). Each consuming service has one durable
queue per source service, ``<service>.inbox.<source>``, bound to the types it
handles and declared ``x-single-active-consumer`` so that one replica at a
time takes a source's events, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import kombu
from kombu import Exchange, Queue, binding

#: ``{consuming service: {source service: [event types]}}``
Subscriptions = Mapping[str, Mapping[str, Iterable[str]]]


def inbound_queue_name(service: str, source: str) -> str:
    return f"{service}.inbox.{source}"


def events_exchange(source: str) -> Exchange:
    """The exchange nameko's EventDispatcher uses for ``source``'s events."""
    return Exchange(f"{source}.events", type="topic", durable=True, auto_delete=False)


def inbound_queue(service: str, source: str, event_types: Iterable[str]) -> Queue:
    exchange = events_exchange(source)
    return Queue(
        inbound_queue_name(service, source),
        bindings=[binding(exchange, routing_key=event_type) for event_type in sorted(set(event_types))],
        durable=True,
        auto_delete=False,
        queue_arguments={"x-single-active-consumer": True},
    )


def declare_topology(amqp_uri: str, subscriptions: Subscriptions) -> int:
    """Declare every consumer's inbound queue and bindings; return how many queues.

    nameko publishes events with ``mandatory=False``: an event sent before its
    consumer's queue exists is dropped without a word. Declaring all queues
    before any service starts (from every service's start-up and from ``make
    migrate``) closes that gap.
    """
    declared = 0
    with kombu.Connection(amqp_uri, connect_timeout=10) as connection:
        channel = connection.channel()
        for service, sources in subscriptions.items():
            for source, types in sources.items():
                inbound_queue(service, source, types)(channel).declare()
                declared += 1
    return declared
