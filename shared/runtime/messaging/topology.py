"""Where the platform's events travel on RabbitMQ: exchanges, queues, bindings.

Each service publishes to one topic exchange, ``<service>.events``, with the
event type as routing key (nameko's convention, so any nameko
``@event_handler`` can listen too). Each consuming service has one durable
queue per source service, ``<service>.inbox.<source>``, bound to the types it
handles and declared ``x-single-active-consumer`` so that one replica at a
time takes a source's events, in order.

Quorum queues
    The inbound queues are quorum queues (``x-queue-type: quorum``),
    replicated by Raft across the cluster's nodes: while a majority of their
    replicas is up (two of three), a node's restart leaves them available,
    with what they held. (A classic queue lives on one node: while
    that node is down the queue is unavailable, and what is published to it
    meanwhile is lost.)
    Single active consumer works on them as on classic queues.

A delivery limit, and where it leads
    A quorum queue counts how often each message was handed back
    (``x-delivery-count``): its consumer rejected it with requeue, or its
    channel closed with it unacknowledged, which is what happens when the
    consumer's process dies. Past ``x-delivery-limit``
    (``Settings.inbound_delivery_limit``) the broker dead-letters it to the
    service's own fanout exchange ``<service>.dead-letters`` (the message keeps
    its routing key, its headers, and gains ``x-death``), bound to the quorum
    queue of the same name, which the service consumes into its
    ``dead_letters`` table (``dead_lettering``). A message that kills its
    consumer before it is acknowledged thus stops doing so after the limit,
    without being lost. Dead-lettering is ``at-least-once`` (with
    ``x-overflow: reject-publish``, which it requires): the message leaves the
    inbound queue only once the dead-letter queue has confirmed it.

    The limit counts hand-backs, not the handler's attempts: a handler that
    raises is retried in the process (``Settings.handler_attempts``, with
    backoff) within one delivery and then dead-lettered by the platform as
    ``failed``; none of that returns the message. What returns one is a crash,
    a lost connection, a stop (each hands back every unacknowledged message:
    up to ``inbound_prefetch``, all of a lane behind a stuck event), and a
    database that stayed away ``handler_database_wait`` seconds (the lane is
    handed back and redelivered at once, so an outage counts one per
    ``handler_database_wait``: about seven minutes of outage with the
    defaults). The default, 20, is far above what a few restarts and a short
    outage cost, and bounds how many times one message can take a replica
    down. A dead-lettered event is not lost either way: it is in its source's
    store, and the subscription's cursor moves past an event only once a
    handler has taken it, so the next catch-up (after a reconnection or a
    restart) hands it to its handler again, once in effect as always.

On a locked-down broker (``shared.runtime.process.broker``) a service may
configure only its own exchanges and queues: a consumer never declares its
sources' exchanges, it only checks they exist (passively, which needs no
permission) and binds to them. The provisioning identity (``make migrate``)
creates them; ``declare_topology`` does both, whichever it is allowed.

nameko's own RPC queues (``rpc-<service>``) and reply queues are left as
nameko declares them, classic: a request is transient, its caller waits a few
seconds (``rpc_timeout``) and then gives up, so a request lost with a node is
a timed-out call the caller may retry, not a lost fact (a command's effects
are events, stored and relayed, never only in a queue); a reply matters only
while its caller waits, and its queue is the caller's alone, not durable, and
deleted by the broker after minutes unused (``x-expires``). While the node of
a service's RPC queue is down, calls to that service time out.

A queue declared before, with other arguments (a classic queue from before
the inbound queues were quorum queues, or another delivery limit), cannot be
declared again: the broker answers ``PRECONDITION_FAILED`` and
``declare_topology`` raises ``QueueDeclaredOtherwise`` naming each such queue
and the remedy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import kombu
from amqp.exceptions import AccessRefused, NotFound, PreconditionFailed
from kombu import Exchange, Queue, binding

from shared.config import DEFAULT_INBOUND_DELIVERY_LIMIT

log = logging.getLogger(__name__)

#: ``{consuming service: {source service: [event types]}}``
Subscriptions = Mapping[str, Mapping[str, Iterable[str]]]


class QueueDeclaredOtherwise(RuntimeError):
    """Queues that exist on the broker with other arguments than the platform declares them with."""


def inbound_queue_name(service: str, source: str) -> str:
    return f"{service}.inbox.{source}"


def dead_letter_name(service: str) -> str:
    """The name of ``service``'s dead-letter exchange and of its dead-letter queue (one name, two resources)."""
    return f"{service}.dead-letters"


def events_exchange(source: str, passive: bool = False) -> Exchange:
    """The exchange nameko's EventDispatcher uses for ``source``'s events (``passive``: only checked to exist)."""
    return Exchange(f"{source}.events", type="topic", durable=True, auto_delete=False, passive=passive)


def dead_letter_exchange(service: str) -> Exchange:
    """Where the broker dead-letters ``service``'s inbound messages: fanout, so the event type stays the key."""
    return Exchange(dead_letter_name(service), type="fanout", durable=True, auto_delete=False)


def inbound_queue_arguments(service: str, delivery_limit: int = DEFAULT_INBOUND_DELIVERY_LIMIT) -> dict[str, Any]:
    """The arguments of every inbound queue of ``service`` (see the module's docs)."""
    if delivery_limit < 1:
        raise ValueError(f"INBOUND_DELIVERY_LIMIT={delivery_limit} must be at least 1")
    return {
        "x-queue-type": "quorum",
        "x-single-active-consumer": True,
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": dead_letter_name(service),
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def inbound_queue(
    service: str, source: str, event_types: Iterable[str], delivery_limit: int = DEFAULT_INBOUND_DELIVERY_LIMIT
) -> Queue:
    """``service``'s queue for ``source``'s events; declaring it never declares the source's exchange."""
    exchange = events_exchange(source, passive=True)
    return Queue(
        inbound_queue_name(service, source),
        bindings=[binding(exchange, routing_key=event_type) for event_type in sorted(set(event_types))],
        durable=True,
        auto_delete=False,
        queue_arguments=inbound_queue_arguments(service, delivery_limit),
    )


def dead_letter_queue(service: str) -> Queue:
    """``service``'s dead-letter queue, bound to its dead-letter exchange (declaring it declares both).

    A quorum queue too, consumed by one replica at a time, with no delivery
    limit of its own: its consumer only records what it takes, and a letter
    it could not record is better kept than dropped.
    """
    return Queue(
        dead_letter_name(service),
        exchange=dead_letter_exchange(service),
        routing_key="",
        durable=True,
        auto_delete=False,
        queue_arguments={"x-queue-type": "quorum", "x-single-active-consumer": True},
    )


def declare_topology(
    amqp_uri: str,
    subscriptions: Subscriptions,
    ssl: dict[str, Any] | None = None,
    skip_refused: bool = False,
    exchanges: Iterable[Exchange] = (),
    delivery_limit: int = DEFAULT_INBOUND_DELIVERY_LIMIT,
) -> int:
    """Declare ``exchanges`` and every consumer's inbound queue and bindings; return how many inbound queues.

    nameko publishes events with ``mandatory=False``: an event sent before its
    consumer's queue exists is dropped without a word. Declaring all queues
    before any service starts (from every service's start-up and from ``make
    migrate``) closes that gap. Each consumer's dead-letter exchange and queue
    are declared before its inbound queues, so that nothing is dead-lettered
    into an exchange that does not exist yet.

    An exchange (each of ``exchanges``, each source's) is created only when
    missing: the provisioning identity may, a service's own broker user may
    only for its own. With ``skip_refused``, what the credentials may not
    declare or bind (another service's queue, on a locked-down broker) is left
    out instead of raising ``AccessRefused``.

    Raises ``QueueDeclaredOtherwise``, after trying every queue, when some
    exist with other arguments (``PRECONDITION_FAILED``), naming each.
    """
    declared = 0
    otherwise: list[str] = []
    with kombu.Connection(amqp_uri, connect_timeout=10, ssl=ssl) as connection:
        for exchange in exchanges:
            _allowed(skip_refused, exchange.name, _ensure_exchange, connection, exchange)
        for service, sources in subscriptions.items():
            if not sources:
                continue
            dead_letters = dead_letter_queue(service)
            try:
                _allowed(skip_refused, dead_letters.name, _declare, connection, dead_letters)
            except PreconditionFailed as error:
                otherwise.append(_declared_otherwise(dead_letters.name, service, None, error))
            for source, types in sources.items():
                queue = inbound_queue(service, source, types, delivery_limit)
                try:
                    declared += _allowed(skip_refused, queue.name, _ensure_queue, connection, queue, source)
                except PreconditionFailed as error:
                    otherwise.append(_declared_otherwise(queue.name, service, source, error))
    if otherwise:
        raise QueueDeclaredOtherwise("\n".join(otherwise))
    return declared


def _declared_otherwise(queue: str, service: str, source: str | None, error: PreconditionFailed) -> str:
    """What to do about a queue the broker has with other arguments."""
    said = f"{queue}: the broker has it with other arguments than {service} declares ({error.reply_text})."
    if source is None:
        return (
            f"{said} Remedy: let {service} take what is in it (each message goes to its dead_letters), stop "
            f"{service}, delete the queue (rabbitmqctl delete_queue -p <vhost> {queue}) and start {service} "
            "again: it is declared afresh."
        )
    return (
        f"{said} It is most likely a classic queue from before inbound queues were quorum queues, or one "
        f"declared with another INBOUND_DELIVERY_LIMIT. Remedy: stop {service}, delete the queue (rabbitmqctl "
        f"delete_queue -p <vhost> {queue}; draining it first is not needed) and start {service} again: the "
        f"queue is declared afresh, and before taking live deliveries {service} catches up from {source}'s "
        "store from where its subscription stands, so the events left in the deleted queue, or published "
        "while there was none, are handled from there (the inbox skips those already handled)."
    )


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
    _declare(connection, queue)


def _declare(connection: kombu.Connection, queue: Queue) -> None:
    """Declare ``queue`` (and what it binds to, as ``queue`` says) on a channel of its own."""
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
