"""Taking other services' events: once in effect, in stream order, never stuck.

``@handles("supervision", "OutcomeRecorded", payload=OutcomeRecorded)`` makes a
service method handle that event. What the platform guarantees around it:

Once in effect
    The handler runs inside a transaction that first writes the inbox row
    ``(event_id, handler)``. Its effects and that row commit together; a
    redelivered event finds the row and is skipped (``duplicate``).

In stream order, with replicas
    A service has one durable queue per source service,
    ``<service>.inbox.<source>``, bound to the event types it handles, declared
    with ``x-single-active-consumer``: with several replicas, RabbitMQ delivers
    to one of them at a time and fails over to another when it dies. Within
    the active replica, messages are dispatched in delivery order into one lane
    per source stream; a lane runs one worker at a time, so the events of a
    stream take effect in the order they were stored, while different streams
    run in parallel. Events of different streams that touch one aggregate
    meet at its optimistic concurrency check and are retried.

In batches
    The worker that starts a lane takes every event queued in it (up to
    ``BATCH_MAX``) and ``deliver_batch`` claims, handles and commits them in
    one transaction: one WAL flush for a burst instead of one per event. A
    catch-up takes a page of the source's store the same way. A batch that
    meets anything unusual is rolled back and delivered one event at a time,
    so failures, retries and dead letters are exactly those of single events.

Authenticated
    A live delivery is taken only when its source signed it: the envelope's
    hash must be the hash of its content, and the ``orgwork.signature``
    header the source relay's Ed25519 signature of that hash
    (``shared.security.event_signatures``). In the handler's transaction,
    the event must also continue its stream's chain as far as this service's
    inbox has seen it (``inbox.chain_break``). A forged, altered or
    out-of-chain envelope is dead-lettered as ``unauthenticated``, kept as it
    came, never replayable, and nothing of it is applied. (Events read from
    the source's store while catching up are the store's own and need no
    signature; they are chained like the rest.)

Never stuck, never killed by a message
    A message is checked before it reaches a lane: one kombu cannot decode
    (see ``wire``), or whose envelope is not well formed, storable, and of the
    type it was routed as, is dead-lettered at once as it came (its raw body,
    with the reason) and acknowledged. A handler that raises is retried with
    exponential backoff (``delivery``); after ``handler_attempts`` attempts the event is written to ``dead_letters``
    (with the whole envelope, to be listed and replayed) and acknowledged, and
    the lane moves on. Rule violations and invalid payloads cannot succeed on a
    retry and are dead-lettered at once. Losing PostgreSQL is not the event's
    fault: the handler waits and retries without giving up, holding its lane,
    so order survives an outage.

Never looping on a message that kills
    A message that takes its consumer down before it is acknowledged (again
    and again) is counted by its quorum queue each time it comes back; past
    ``Settings.inbound_delivery_limit`` the broker dead-letters it to the
    service's dead-letter queue, which every service that handles events
    consumes into its ``dead_letters`` (``dead_lettering``, ``topology``).

Late subscribers, lost queues
    After every (re)connection, each subscription first reads the source's
    store from its cursor (``subscriptions``) and hands each event to its
    handler, holding live deliveries (unacknowledged) until it has caught up:
    a subscriber that starts after its publisher, or whose queue was lost,
    misses nothing, and the inbox takes each event once.

Green
    Handlers wait on PostgreSQL through the green psycopg2, so the hub keeps
    answering AMQP heartbeats however slow a handler is (see
    ``Settings.amqp_heartbeat``).
"""

from __future__ import annotations

import functools
import itertools
import logging
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import eventlet
from kombu import Queue
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint, ProviderCollector, SharedExtension

from shared.db.database import database_gone
from shared.eventstore.hashing import recompute_hash
from shared.eventstore.records import Cursor, RecordedEvent
from shared.eventstore.store import EventStore
from shared.runtime.messaging.batches import Batch, Handled, call_handler
from shared.runtime.messaging.dead_lettering import DeadLetterQueue
from shared.runtime.messaging.delivery import checked_record, deliver, deliver_batch
from shared.runtime.messaging.inbox import DeadLetters
from shared.runtime.messaging.subscriptions import LowWater, SubscriptionBook, source_store_exists
from shared.runtime.messaging.topology import dead_letter_queue, inbound_queue
from shared.runtime.messaging.wire import GuardedQueueConsumer, Rejected, count_rejected
from shared.runtime.observability import metrics
from shared.runtime.resources import ServiceDatabase, settings_of
from shared.runtime.trust import Trust
from shared.security.event_signatures import SIGNATURE_HEADER, Unauthenticated

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

LOW_WATER_SAVE_SECONDS = 2.0
#: At most this many of a lane's queued events are handled in one transaction.
BATCH_MAX = 100
#: Events read from a source's store per page while catching up (one transaction each).
CATCH_UP_PAGE = 500
#: While catching up, the subscription's cursor is saved at most this often (and at the end).
CATCH_UP_MOVE_SECONDS = 1.0
#: Refused messages kept only as their raw body: nothing to replay.
NOT_REPLAYABLE = ("unstorable", "unauthenticated")


def subscriptions_of(service_cls: type) -> dict[str, list[str]]:
    """``{source: [event types]}`` handled by a service class (read from its methods)."""
    found: dict[str, list[str]] = {}
    for name in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, name, None), "nameko_entrypoints", ()):
            if isinstance(entrypoint, Handles):
                found.setdefault(entrypoint.source, []).append(entrypoint.event_type)
    return found


class InboundQueueConsumer(GuardedQueueConsumer):
    """nameko's queue consumer, but handing messages over in delivery order.

    nameko spawns a greenthread per message, and eventlet does not promise to
    run them in the order spawned; the router's ``handle_message`` only files
    the message into its lane and returns, so it is called directly.
    """

    @property
    def prefetch_count(self) -> int:
        return settings_of(self.container).inbound_prefetch

    def handle_message(self, provider: Any, body: Any, message: Any) -> None:
        provider.handle_message(body, message)

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        """After every (re)connection: each subscription catches up before it takes live deliveries.

        While the connection was down, the broker took back what was
        unacknowledged, and a queue may have been lost and declared afresh
        with the events published meanwhile gone from it.
        """
        super().on_consume_ready(connection, channel, consumers, **kwargs)
        for provider in list(self._providers):
            if isinstance(provider, _Subscription):  # not the dead-letter queue: nothing to catch up with
                provider.router.catch_up(provider)

    def let_go(self, providers: list[Any]) -> None:
        """Stop consuming, handing every unacknowledged message back in one step.

        Cancelling consumers first would let RabbitMQ make another replica the
        single active consumer while this one still holds prefetched messages
        (returned only when its connection closes): that replica would take a
        stream's later events before its earlier ones. Dropping the connection
        instead removes the consumers and requeues their messages atomically,
        as a crash would, so the next consumer starts where this one stopped.
        """
        self.should_stop = True
        for consumer in list(self._consumers.values()):
            try:
                consumer.channel.connection.sock.shutdown(socket.SHUT_RDWR)
            except (AttributeError, OSError):
                pass  # already closed
            break
        for provider in providers:
            ProviderCollector.unregister_provider(self, provider)


@dataclass(eq=False)
class _Subscription:
    """One source service's queue, as a provider of the queue consumer, and where it stands.

    Until it has caught up with its source's store, the messages delivered to
    it are held, unacknowledged (the broker's prefetch bounds them).
    """

    router: "InboundRouter"
    source: str
    queue: Queue
    types: frozenset[str]
    low_water: LowWater | None = None
    caught_up: bool = False
    catching_up: bool = False
    held: list[tuple[Any, Any]] = field(default_factory=list)

    def handle_message(self, body: Any, message: Any) -> None:
        self.router.dispatch(self.source, body, message)

    def handle_undecodable(self, message: Any, rejected: Rejected) -> None:
        self.router.refuse(self.source, message, None, rejected)

    def __hash__(self) -> int:
        return hash((self.source, self.queue.name))

    def __eq__(self, other: object) -> bool:
        return self is other


class InboundRouter(SharedExtension, ProviderCollector):
    """Files each delivered event into its stream's lane and runs lanes one event at a time."""

    queue_consumer = InboundQueueConsumer()
    pool = ServiceDatabase()
    trust = Trust()

    def __init__(self) -> None:
        super().__init__()
        self._lanes: dict[str, deque[tuple[Handles, RecordedEvent, Any]]] = {}
        self._active: set[str] = set()  # lanes with an event being handled
        self._idle = eventlet.event.Event()
        self._idle.send(None)
        self._stopping = False
        self._subscriptions: list[_Subscription] = []
        self._saved: dict[str, Cursor] = {}  # each source's mark as last written
        self._dead_letters: list[DeadLetterQueue] = []  # the service's dead-letter queue, when it subscribes

    def setup(self) -> None:
        service = self.container.service_name
        by_source: dict[str, list[str]] = {}
        self._handlers: dict[tuple[str, str], Handles] = {}
        for entrypoint in self.container.entrypoints:
            if isinstance(entrypoint, Handles):
                by_source.setdefault(entrypoint.source, []).append(entrypoint.event_type)
                self._handlers[(entrypoint.source, entrypoint.event_type)] = entrypoint
        for source, types in sorted(by_source.items()):
            queue = inbound_queue(service, source, types, settings_of(self.container).inbound_delivery_limit)
            subscription = _Subscription(self, source, queue, frozenset(types))
            self._subscriptions.append(subscription)
            self.queue_consumer.register_provider(subscription)
        self._book = SubscriptionBook(service)
        if self._subscriptions:  # what the broker dead-letters from them (``dead_lettering``)
            self._dead_letters = [DeadLetterQueue(self, dead_letter_queue(service))]
            self.queue_consumer.register_provider(self._dead_letters[0])

    def start(self) -> None:
        self._keeper = eventlet.spawn(self._keep_low_water)

    def kill(self) -> None:
        self._stopping = True
        if getattr(self, "_keeper", None) is not None:
            self._keeper.kill()

    def unregister_provider(self, provider: Any) -> None:
        """Called as each ``@handles`` entrypoint stops: finish, then let go at once."""
        if not self._stopping:
            self._stopping = True
            self._idle.wait()  # in-flight handlers finish and ack on a live channel
            self._lanes.clear()
            self.queue_consumer.let_go([*self._subscriptions, *self._dead_letters])
            if getattr(self, "_keeper", None) is not None:
                self._keeper.kill()
            self._save_low_water()
        super().unregister_provider(provider)

    # -- dispatching -------------------------------------------------------

    def dispatch(self, source: str, body: Any, message: Any) -> None:
        if self._stopping:
            return  # left unacknowledged: redelivered after the restart
        subscription = self._subscription(source)
        if not subscription.caught_up:
            subscription.held.append((body, message))
            return
        routed_as = str(message.delivery_info.get("routing_key"))
        entrypoint = self._handlers.get((source, routed_as))
        if entrypoint is None:
            log.warning("no handler for %s.%s; acknowledging", source, routed_as[:100])
            self.queue_consumer.ack_message(message)
            return
        try:
            record = checked_record(body, routed_as)
            self._authenticate(source, record, message)
        except Rejected as rejected:
            self.refuse(source, message, body, rejected)
            return
        if subscription.low_water is not None:
            subscription.low_water.delivered(record.cursor)
        self._lanes.setdefault(record.stream_id, deque()).append((entrypoint, record, message))
        self._start_next(record.stream_id)

    def _authenticate(self, source: str, record: RecordedEvent, message: Any) -> None:
        """Raise ``Rejected("unauthenticated")`` unless ``source`` signed this very content."""
        try:
            if recompute_hash(record) != record.hash:
                raise Unauthenticated("the event's hash is not the hash of its content")
            headers = message.headers if isinstance(message.headers, dict) else {}
            self.trust.events.verify(source, record.hash, headers.get(SIGNATURE_HEADER))
        except Unauthenticated as error:
            raise Rejected("unauthenticated", str(error)) from None

    def _subscription(self, source: str) -> _Subscription:
        return next(s for s in self._subscriptions if s.source == source)

    # -- catching up ---------------------------------------------------------------------

    def catch_up(self, subscription: _Subscription) -> None:
        """Hold live deliveries and read the source's store from the subscription's cursor (in a thread)."""
        subscription.caught_up = False
        if not subscription.catching_up and not self._stopping:
            subscription.catching_up = True
            self.container.spawn_managed_thread(functools.partial(self._catch_up, subscription))

    def _catch_up(self, subscription: _Subscription) -> None:
        service, source = self.container.service_name, subscription.source
        backoff = 0.5
        while not self._stopping:
            try:
                read = self._read_source(subscription)
            except Exception as error:
                log.warning("%s: catching up with %s failed: %s; retrying in %.1fs", service, source, error, backoff)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if read:
                log.info("%s: caught up with %s: %d event(s) from its store", service, source, read)
            held, subscription.held = subscription.held, []
            subscription.caught_up = True  # nothing yields from here on: the held go first, in order
            subscription.catching_up = False
            for body, message in held:
                self.dispatch(source, body, message)
            return
        subscription.catching_up = False

    def _read_source(self, subscription: _Subscription) -> int:
        """Hand every event of the source's store after the cursor to its handler, in order; return how many."""
        source, database = subscription.source, self.pool.database
        with database.transaction() as conn:
            state = self._book.open(conn, source)
            exists = source_store_exists(conn, source)
        if subscription.low_water is None:
            subscription.low_water = LowWater(state.cursor)
        cursor = max(state.cursor, subscription.low_water.mark)
        read, moved = 0, time.monotonic()
        # As stored, sealed, like a live delivery: ``deliver`` opens it for the handler, and
        # a dead letter never keeps a personal field in clear.
        store = EventStore(database, source, open_sealed=False)
        # The next page is read (on a connection of its own) while this one is handled.
        ahead = eventlet.spawn(store.read_all, cursor, CATCH_UP_PAGE) if exists else None
        try:
            while ahead is not None and not self._stopping:
                page = ahead.wait()
                ahead = eventlet.spawn(store.read_all, page.next_cursor, CATCH_UP_PAGE) if page.events else None
                taken = [
                    (self._handlers[(source, record.type)], record)
                    for record in page.events
                    if (source, record.type) in self._handlers
                ]
                if taken:
                    self._handle_now(taken)
                    read += len(taken)
                if not page.events:
                    break
                cursor = page.next_cursor
                subscription.low_water.caught_up_to(cursor)
                # The inbox absorbs what a restart reads again: the cursor need not move with every page.
                if time.monotonic() - moved >= CATCH_UP_MOVE_SECONDS:
                    with database.transaction() as conn:
                        self._book.move(conn, source, cursor)
                    moved = time.monotonic()
        finally:
            if ahead is not None:
                ahead.kill()
        with database.transaction() as conn:
            self._book.move(conn, source, cursor)
            self._book.caught_up(conn, source)
        return read

    def _handle_now(self, taken: list[tuple[Handles, RecordedEvent]]) -> None:
        """Run the handlers for a page of the source's events, in one batch, and wait (raises what made it fail)."""
        done = eventlet.event.Event()

        def finished(worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
            done.send(exc_info)
            return result, exc_info

        entrypoint, record = taken[0]
        self.container.spawn_worker(
            entrypoint,
            (record if len(taken) == 1 else Batch.of(taken),),
            {},
            context_data={"correlation_id": record.correlation_id, "causation_id": record.event_id},
            handle_result=finished,
        )
        exc_info = done.wait()
        if exc_info is not None:
            raise exc_info[1]

    def _keep_low_water(self) -> None:
        """Now and then, save each subscription's low-water mark (where a catch-up would start)."""
        while not self._stopping:
            eventlet.sleep(LOW_WATER_SAVE_SECONDS)
            try:
                self._save_low_water()
            except Exception as error:
                log.debug("could not save the subscriptions' cursors: %s", error)

    def _save_low_water(self) -> None:
        """Write the marks that moved since the last save (an idle service writes nothing)."""
        marks = {
            s.source: s.low_water.mark
            for s in self._subscriptions
            if s.low_water is not None and self._saved.get(s.source) != s.low_water.mark
        }
        if marks:
            with self.pool.database.transaction() as conn:
                for source, mark in marks.items():
                    self._book.move(conn, source, mark)
            self._saved.update(marks)

    def refuse(self, source: str, message: Any, body: Any, rejected: Rejected) -> None:
        """Dead-letter a message no handler can take, as it came, then acknowledge it (in a thread of its own)."""
        if self._stopping:
            return  # left unacknowledged: the next consumer refuses it
        count_rejected(self.container.service_name, "event", rejected)
        entrypoint = self._handlers.get((source, str(message.delivery_info.get("routing_key"))))
        handler, event_type = (entrypoint.method_name, entrypoint.event_type) if entrypoint else ("(none)", "unknown")
        self.container.spawn_managed_thread(
            functools.partial(self._keep_refused, source, message, body, rejected, handler, event_type)
        )

    def _keep_refused(
        self, source: str, message: Any, body: Any, rejected: Rejected, handler: str, event_type: str
    ) -> None:
        settings = settings_of(self.container)
        waited = 0.0
        while True:
            try:
                with self.pool.database.transaction() as conn:
                    DeadLetters(self.container.service_name).add(
                        conn,
                        body if isinstance(body, dict) and rejected.reason not in NOT_REPLAYABLE else None,
                        handler,
                        source,
                        event_type,
                        rejected,
                        1,
                        reason=rejected.reason,
                        body=bytes(message.body) if isinstance(message.body, bytes | bytearray) else None,
                    )
                break
            except Exception as error:
                if not database_gone(error) or waited >= settings.handler_database_wait:
                    log.error("could not keep a refused %s message: %s; handing it back", source, error)
                    self.queue_consumer.requeue_message(message)
                    return
                eventlet.sleep(1.0)
                waited += 1.0
        metrics.DEAD_LETTERS.labels(self.container.service_name, handler).inc()
        self.queue_consumer.ack_message(message)

    def _start_next(self, key: str) -> None:
        """Start the head of the lane, unless one of its events is running already."""
        if key in self._active:
            return
        lane = self._lanes.get(key)
        while lane:
            entrypoint, record, message = lane[0]
            if self._stopping or not message.channel.connection:
                lane.popleft()  # stale (its channel is gone) or shutting down: it will be redelivered
                continue
            # What the lane holds of the same source goes in one transaction (``deliver_batch``).
            taken = _same_source(itertools.islice(lane, BATCH_MAX), entrypoint.source)
            context = {"correlation_id": record.correlation_id, "causation_id": record.event_id}
            self._active.add(key)
            if self._idle.ready():
                self._idle.reset()
            try:
                self.container.spawn_worker(
                    entrypoint,
                    (record if len(taken) == 1 else Batch.of(taken),),
                    {},
                    context_data={k: v for k, v in context.items() if v},
                    handle_result=functools.partial(self._finished, key, taken),
                )
            except ContainerBeingKilled:
                self._active.discard(key)
                lane.clear()
            return
        self._lanes.pop(key, None)
        if not self._active and not self._idle.ready():
            self._idle.send(None)

    def _finished(
        self, key: str, taken: list[tuple[Handles, RecordedEvent, Any]], worker_ctx: Any, result: Any, exc_info: Any
    ) -> tuple[Any, Any]:
        lane = self._lanes.get(key)
        for _ in taken:
            if lane:
                lane.popleft()  # the head of the lane is what finished
        if exc_info is None:
            low_water = self._subscription(self._source_of(worker_ctx)).low_water
            for _, record, message in taken:
                self.queue_consumer.ack_message(message)
                if low_water is not None:
                    low_water.finished(record.cursor)
        else:
            # It could not complete (the database stayed away, or we are
            # stopping): give it and everything behind it in its lane back to
            # the broker, in order, so that the stream's order survives.
            if not self._stopping:
                for _, _, message in taken:
                    self.queue_consumer.requeue_message(message)
                for _, _, waiting in lane or ():
                    self.queue_consumer.requeue_message(waiting)
            if lane:
                lane.clear()
        # The lane stays marked active until its next event starts, so that a
        # new delivery cannot start it first. Not started here: this runs
        # inside the finished worker, which still holds its database connection
        # until its teardown; with the worker pool full, eventlet would run the
        # next worker inline, in this greenthread, waiting for a connection
        # this one never gives back.
        eventlet.spawn_n(self._release_and_start, key)
        return result, exc_info

    @staticmethod
    def _source_of(worker_ctx: Any) -> str:
        return str(worker_ctx.entrypoint.source)

    def _release_and_start(self, key: str) -> None:
        self._active.discard(key)
        self._start_next(key)


def _same_source(items: Iterable[tuple[Handles, RecordedEvent, Any]], source: str) -> list[Any]:
    """The leading items whose entrypoint handles ``source``'s events."""
    return list(itertools.takewhile(lambda item: item[0].source == source, items))


class Handles(Entrypoint):
    """Entrypoint of ``@handles``: one per handled (source, event type)."""

    router = InboundRouter()

    def __init__(self, source: str, event_type: str, **kwargs: Any) -> None:
        self.source = source
        self.event_type = event_type
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.router.register_provider(self)

    def stop(self) -> None:
        self.router.unregister_provider(self)


def handles(source: str, event_type: str, payload: type | None = None) -> Callable[[F], F]:
    """Handle ``source``'s ``event_type`` events once in effect (see the module's docs).

    The method is called as ``method(self, event, record)``: ``event`` is the
    payload loaded into the ``payload`` dataclass (or the raw dict), ``record``
    the whole ``RecordedEvent``. Run commands through ``self.uow``: they join
    the transaction that records the event as handled. (The entrypoint itself
    takes the checked record from the router, or an envelope from a replay.)
    """

    def decorate(fn: F) -> F:
        handler = fn.__name__

        @functools.wraps(fn)
        def wrapper(self: Any, event: RecordedEvent | dict[str, Any] | Batch) -> str | list[str]:
            if isinstance(event, Batch):
                return deliver_batch(self.uow, self.settings, event.deliveries(self))
            return deliver(
                self.uow,
                self.settings,
                event,
                source,
                event_type,
                handler,
                lambda record: call_handler(fn, self, record, payload),
            )

        wrapper.handled = Handled(source, event_type, handler, fn, payload)  # type: ignore[attr-defined]
        return Handles.decorator(source, event_type)(wrapper)  # type: ignore[no-any-return]

    return decorate
