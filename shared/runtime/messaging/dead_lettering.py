"""What the broker dead-letters from a service's inbound queues, kept in the service's ``dead_letters``.

An inbound queue hands a message back to the broker when its consumer dies or
loses its connection holding it, and past the queue's delivery limit the
broker dead-letters it into the service's dead-letter queue (``topology``).
Nothing there would be seen, so each service consumes its own dead-letter
queue (``DeadLetterQueue``, attached by the inbound router beside the
subscriptions, so every service that handles events has it) and records each
message in ``dead_letters``, the table ``orgctl dlq`` lists and
``orgwork_dead_letters_total`` counts, then acknowledges it:

* the reason is what the broker says in ``x-first-death-reason`` when it is
  one of ``BROKER_REASONS`` (``delivery_limit`` for the inbound queues, which
  have no TTL and no length limit), else ``dead_lettered``; the error type
  ``DeliveryLimitExceeded`` (else ``DeadLetteredByBroker``);
* the error text names the queue it came from and the limit, and carries its
  headers as they came (``x-death``, ``x-first-death-*``, the signature);
* the source is the one the queue is for, the handler and type those of the
  service that take the type it was routed as (as for every dead letter, never
  what the message claims);
* the content is kept as it came: the envelope, replayable with ``orgctl dlq
  replay``, when it is a well-formed event its source signed (the check every
  live delivery passes); otherwise only the raw body, never replayable.

Recording is idempotent: a message redelivered from the dead-letter queue
(its consumer died after the commit, before the acknowledgement) finds its
letter and is only acknowledged. A letter is the same when it is still open
and is for the same event and handler, or, kept raw, has the same source,
handler and body. The dead-letter queue has one active consumer and the
consumer records one message at a time, so no two recordings race.

A dead-lettered event is also still in its source's store, and the
subscription's cursor moves past an event only once a handler has taken it:
the next catch-up (after a reconnection or a restart) hands it to its handler
again, and a replay after that finds it handled (``duplicate``).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import eventlet
from eventlet.semaphore import Semaphore
from kombu import Queue

from shared.db.database import Connection, database_gone
from shared.runtime.messaging.delivery import checked_record
from shared.runtime.messaging.inbox import DeadLetters
from shared.runtime.messaging.topology import inbound_queue_name
from shared.runtime.messaging.wire import Rejected
from shared.runtime.observability import metrics
from shared.runtime.resources import settings_of


class Router(Protocol):
    """What a dead-letter queue uses of the inbound router it belongs to (``inbound.InboundRouter``).

    A protocol rather than an import: the router attaches this queue, so importing it back would
    make the two modules import each other.
    """

    container: Any
    pool: Any
    queue_consumer: Any
    _stopping: bool
    _handlers: dict[tuple[str, str], Any]

    def _authenticate(self, source: str, record: Any, message: Any) -> None: ...


log = logging.getLogger(__name__)

DELIVERY_LIMIT = "delivery_limit"
#: The reasons the broker gives in ``x-first-death-reason`` (a closed set: what a letter's ``reason`` may be).
BROKER_REASONS = (DELIVERY_LIMIT, "rejected", "expired", "maxlen")
#: A letter's reason when the broker gave none of those.
DEAD_LETTERED = "dead_lettered"
#: How long to wait before handing back a letter that could not be recorded for another reason than the database.
RETRY_PAUSE = 1.0


class DeadLetteredByBroker(Exception):
    """The broker dead-lettered the message (the letter's error type; its text says from where and why)."""


class DeliveryLimitExceeded(DeadLetteredByBroker):
    """The message was handed back to its inbound queue more times than the queue's delivery limit."""


@dataclass(frozen=True)
class BrokerLetter:
    """What a message from the dead-letter queue says of itself."""

    queue: str
    source: str | None  # the source of the inbound queue it came from; None when it is no inbound queue of ours
    routed_as: str
    reason: str
    error: DeadLetteredByBroker
    attempts: int
    body: bytes


def read_letter(service: str, message: Any, delivery_limit: int) -> BrokerLetter:
    """Where ``message`` was dead-lettered from, and why, from its headers (the broker's ``x-death``)."""
    headers = message.headers if isinstance(message.headers, dict) else {}
    deaths = headers.get("x-death")
    first = deaths[-1] if isinstance(deaths, list) and deaths and isinstance(deaths[-1], dict) else {}
    queue = str(headers.get("x-first-death-queue") or first.get("queue") or "")
    said = str(headers.get("x-first-death-reason") or first.get("reason") or "")
    reason = said if said in BROKER_REASONS else DEAD_LETTERED
    prefix = inbound_queue_name(service, "")
    source = queue[len(prefix) :] if queue.startswith(prefix) and len(queue) > len(prefix) else None
    keys = first.get("routing-keys")
    routed_as = str(
        message.delivery_info.get("routing_key") or (keys[0] if isinstance(keys, list) and keys else "") or ""
    )
    as_it_came = json.dumps(headers, sort_keys=True, default=str)
    if reason == DELIVERY_LIMIT:
        error: DeadLetteredByBroker = DeliveryLimitExceeded(
            f"{queue} handed it back more than its delivery limit of {delivery_limit} times "
            f"(its consumer died or gave it back); headers as it came: {as_it_came}"
        )
        attempts = delivery_limit + 1
    else:
        error = DeadLetteredByBroker(
            f"dead-lettered from {queue or 'an unknown queue'} ({said}); headers: {as_it_came}"
        )
        count = first.get("count")
        attempts = count if isinstance(count, int) and count > 0 else 1
    body = bytes(message.body) if isinstance(message.body, bytes | bytearray) else str(message.body).encode()
    return BrokerLetter(queue, source, routed_as, reason, error, attempts, body)


def already_kept(
    conn: Connection, service: str, letter: BrokerLetter, envelope: dict[str, Any] | None, handler: str
) -> bool:
    """Whether an open dead letter of ``service`` already keeps this message (see the module's docs)."""
    table = f'"{service}".dead_letters'
    with conn.cursor() as cur:
        if envelope is not None:
            cur.execute(
                f"SELECT 1 FROM {table} WHERE status = 'dead' AND event_id = %s AND handler = %s",
                [envelope["event_id"], handler],
            )
        else:
            cur.execute(
                f"SELECT 1 FROM {table} WHERE status = 'dead' AND envelope IS NULL AND reason = %s "
                "AND source = %s AND handler = %s AND body = %s",
                [letter.reason, letter.source or letter.queue, handler, letter.body],
            )
        return cur.fetchone() is not None


@dataclass(eq=False)
class DeadLetterQueue:
    """A service's dead-letter queue, as a provider of the inbound queue consumer: each message kept, then acked."""

    router: Router
    queue: Queue
    _one_at_a_time: Semaphore = field(default_factory=lambda: Semaphore(1))

    def handle_message(self, body: Any, message: Any) -> None:
        self._take(body, message)

    def handle_undecodable(self, message: Any, rejected: Rejected) -> None:
        self._take(None, message)

    def _take(self, body: Any, message: Any) -> None:
        """In a thread of its own: the queue consumer calls this in its own, which must not wait."""
        if self.router._stopping:
            return  # left unacknowledged: the broker hands it to the next consumer
        self.router.container.spawn_managed_thread(functools.partial(self._keep, body, message))

    def _keep(self, body: Any, message: Any) -> None:
        router = self.router
        service, settings = router.container.service_name, settings_of(router.container)
        letter = read_letter(service, message, settings.inbound_delivery_limit)
        entrypoint = router._handlers.get((letter.source, letter.routed_as)) if letter.source else None
        handler, event_type = (entrypoint.method_name, entrypoint.event_type) if entrypoint else ("(none)", "unknown")
        envelope = self._authenticated(letter, body, message) if entrypoint else None
        with self._one_at_a_time:
            waited = 0.0
            while True:
                try:
                    with router.pool.database.transaction() as conn:
                        if already_kept(conn, service, letter, envelope, handler):
                            kept = None
                        else:
                            kept = DeadLetters(service).add(
                                conn,
                                envelope,
                                handler,
                                letter.source or letter.queue,
                                event_type,
                                letter.error,
                                letter.attempts,
                                reason=letter.reason,
                                body=letter.body,
                            )
                    break
                except Exception as error:
                    if database_gone(error) and waited < settings.handler_database_wait:
                        eventlet.sleep(1.0)
                        waited += 1.0
                        continue
                    log.error("%s: could not keep a dead-lettered message: %s; handing it back", service, error)
                    eventlet.sleep(RETRY_PAUSE)  # not at once: the same error would come straight back
                    router.queue_consumer.requeue_message(message)
                    return
            if kept is not None:
                log.warning(
                    "%s: the broker dead-lettered a %s event from %s (%s); kept as dead letter %d",
                    service,
                    event_type,
                    letter.queue,
                    letter.reason,
                    kept,
                )
                metrics.DEAD_LETTERS.labels(orgwork_service=service, handler=handler).inc()
            router.queue_consumer.ack_message(message)

    def _authenticated(self, letter: BrokerLetter, body: Any, message: Any) -> dict[str, Any] | None:
        """The envelope, when it is a well-formed event its source signed; None when it is not (kept raw)."""
        if letter.source is None or not isinstance(body, dict):
            return None
        try:
            record = checked_record(body, letter.routed_as)
            self.router._authenticate(letter.source, record, message)
        except Exception as error:
            log.info("a dead-lettered message from %s is kept only as it came: %s", letter.queue, error)
            return None
        return record.envelope()
