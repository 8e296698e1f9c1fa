"""Running one delivered event's handler: once in effect, retried, or dead-lettered.

The router (``inbound``) decides *when* an event runs (its lane, in stream
order); this module decides *how*: the inbox claim and the handler's effects
commit in one transaction, a failure is retried with backoff, an event that
cannot succeed is kept in ``dead_letters``, and a lost database is waited out.
A replayed dead letter comes through here too, as an envelope.

Events travel with their personal fields sealed (``shared.privacy``): the
handler gets them opened with the source store's keys, in its transaction,
while the inbox and the dead letters only ever keep the sealed form. A
subject erased at the source reads as erased here too, at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import eventlet

from shared.application.postgres import PostgresUnitOfWork
from shared.config import Settings
from shared.db.database import database_gone
from shared.errors import RuleViolation, ValidationFailed
from shared.eventstore.hashing import NotCanonical, normalise
from shared.eventstore.records import RecordedEvent, record_from_envelope
from shared.eventstore.store import EventStore
from shared.privacy.sealing import is_sealed
from shared.runtime.messaging.inbox import FAILED, DeadLetters, Inbox
from shared.runtime.messaging.wire import Rejected
from shared.runtime.observability import metrics

log = logging.getLogger(__name__)

HANDLED, DUPLICATE, DEAD_LETTERED = "handled", "duplicate", "dead_lettered"

_HOPELESS = (RuleViolation, ValidationFailed)


def checked_record(body: Any, routed_as: str) -> RecordedEvent:
    """The record in a delivered envelope, or ``Rejected``: well formed, storable, and the type it was routed as."""
    if not isinstance(body, dict):
        raise Rejected("malformed", "an event envelope is a JSON object")
    try:
        record = record_from_envelope(body)
    except ValidationFailed as error:
        raise Rejected("malformed", str(error)[:500]) from None
    if record.type != routed_as:
        raise Rejected("malformed", f"an event of type {record.type!r} routed as {routed_as!r}")
    try:
        normalise(record.data, "data")
        normalise(record.metadata, "metadata")
    except NotCanonical as error:
        raise Rejected("unstorable", str(error)[:500]) from None
    return record


def deliver(
    uow: PostgresUnitOfWork,
    settings: Settings,
    event: RecordedEvent | dict[str, Any],
    source: str,
    event_type: str,
    handler: str,
    run: Callable[[RecordedEvent], Any],
) -> str:
    """Run ``run`` once in effect for ``event``; return the outcome.

    ``event`` is a record the router checked, or an envelope (a replayed dead
    letter), checked here. Metrics are labelled with ``event_type``, the type
    the handler takes, never with what a message claims.

    Raises only when the database stayed unreachable for longer than
    ``handler_database_wait`` seconds: the message then goes back to the broker.
    """
    service = uow.service
    inbox, dead_letters = Inbox(service), DeadLetters(service)
    if isinstance(event, RecordedEvent):
        record = event
    else:
        try:
            record = checked_record(event, event_type)
        except Rejected as rejected:
            _dead_letter(uow, dead_letters, event, source, event_type, handler, rejected, 1, rejected.reason)
            return DEAD_LETTERED
    uow.handle_event(record)  # what the handler causes carries the event's correlation, and it as the cause

    attempt, infrastructure_waits, waited = 0, 0, 0.0
    while True:
        attempt += 1
        try:
            with uow.transaction() as conn:
                claim = inbox.claim(conn, record, handler, source)
                if not claim.new:
                    metrics.DUPLICATES_SKIPPED.labels(service, source).inc()
                    metrics.EVENTS_HANDLED.labels(service, source, event_type, DUPLICATE).inc()
                    return DUPLICATE
                if claim.chain_break is not None:
                    raise _OutOfChain(claim.chain_break)
                run(_opened(uow, source, record, conn))
            metrics.EVENTS_HANDLED.labels(service, source, event_type, HANDLED).inc()
            return HANDLED
        except _OutOfChain as error:
            log.error("%s refused event %s: %s", handler, record.event_id, error)
            refusal = Rejected("unauthenticated", f"out of chain: {error}")
            body = json.dumps(record.envelope(), ensure_ascii=False).encode("utf-8")
            _dead_letter(uow, dead_letters, None, source, event_type, handler, refusal, 1, refusal.reason, body)
            return DEAD_LETTERED
        except Exception as error:
            if not database_gone(error):
                metrics.ERRORS.labels(service, type(error).__name__).inc()
                if isinstance(error, _HOPELESS) or attempt >= settings.handler_attempts:
                    log.error(
                        "%s gave up on event %s after %d attempt(s): %s", handler, record.event_id, attempt, error
                    )
                    _dead_letter(uow, dead_letters, record.envelope(), source, event_type, handler, error, attempt)
                    return DEAD_LETTERED
                wait = settings.handler_backoff * 2 ** (attempt - 1)
                log.warning(
                    "%s failed on event %s (attempt %d): %s; retrying in %.2fs",
                    handler,
                    record.event_id,
                    attempt,
                    error,
                    wait,
                )
                eventlet.sleep(wait)
                continue
            # PostgreSQL is gone: not this event's fault. Wait and try again,
            # holding the lane so that order survives the outage.
            attempt -= 1
            infrastructure_waits += 1
            uow.close()
            if waited >= settings.handler_database_wait:
                raise
            wait = min(5.0, settings.handler_backoff * 2 ** min(infrastructure_waits, 5))
            waited += wait
            log.warning("%s: database unavailable (%s); retrying in %.1fs", handler, error, wait)
            eventlet.sleep(wait)


@dataclass(frozen=True)
class Delivery:
    """One checked event for one handler: what ``deliver`` takes, as a value a batch can hold."""

    record: RecordedEvent
    source: str
    event_type: str
    handler: str
    run: Callable[[RecordedEvent], Any]


def deliver_batch(uow: PostgresUnitOfWork, settings: Settings, batch: Sequence[Delivery]) -> list[str]:
    """Deliver events of one source, in order, in one transaction; return each one's outcome.

    One inbox statement claims them all, the handlers run in their order, and
    one commit makes every effect and every inbox row durable together: a
    stream's queued events cost one WAL flush instead of one each. Anything
    unusual (a handler that raises, a chain break, a lost database) rolls the
    whole batch back and delivers its events one by one with ``deliver``,
    which retries, dead-letters and waits exactly as for a single event: a
    batch changes how often we commit, never what takes effect.
    """
    if len(batch) == 1:
        return [_deliver_one(uow, settings, batch[0])]
    service, source = uow.service, batch[0].source
    if any(delivery.source != source for delivery in batch):
        raise ValueError("a batch holds the events of one source")
    outcomes: list[str] = []
    try:
        with uow.transaction() as conn:
            claims = Inbox(service).claim_many(conn, [(d.record, d.handler) for d in batch], source)
            if any(claim.chain_break is not None for claim in claims):
                raise _OutOfChain("a batch's event breaks its chain")
            for delivery, claim in zip(batch, claims, strict=True):
                if not claim.new:
                    outcomes.append(DUPLICATE)
                    continue
                uow.handle_event(delivery.record)
                delivery.run(_opened(uow, source, delivery.record, conn))
                outcomes.append(HANDLED)
    except Exception as error:
        log.debug("a batch of %d %s event(s) goes one by one: %s", len(batch), source, error)
        return [_deliver_one(uow, settings, delivery) for delivery in batch]
    for delivery, outcome in zip(batch, outcomes, strict=True):
        if outcome == DUPLICATE:
            metrics.DUPLICATES_SKIPPED.labels(service, source).inc()
        metrics.EVENTS_HANDLED.labels(service, source, delivery.event_type, outcome).inc()
    return outcomes


def _deliver_one(uow: PostgresUnitOfWork, settings: Settings, delivery: Delivery) -> str:
    return deliver(uow, settings, delivery.record, delivery.source, delivery.event_type, delivery.handler, delivery.run)


def _opened(uow: PostgresUnitOfWork, source: str, record: RecordedEvent, conn: Any) -> RecordedEvent:
    """The record with its personal fields opened with ``source``'s keys (the record itself when none is sealed)."""
    if not is_sealed(record):
        return record
    return EventStore(uow.database, source).open_records([record], conn=conn)[0]


class _OutOfChain(Exception):
    """The event does not continue its stream's chain as this service's inbox has seen it."""


def _dead_letter(
    uow: PostgresUnitOfWork,
    dead_letters: DeadLetters,
    envelope: dict[str, Any] | None,
    source: str,
    event_type: str,
    handler: str,
    error: BaseException,
    attempts: int,
    reason: str = FAILED,
    body: bytes | None = None,
) -> None:
    with uow.transaction() as conn:
        dead_letters.add(conn, envelope, handler, source, event_type, error, attempts, reason=reason, body=body)
    metrics.DEAD_LETTERS.labels(uow.service, handler).inc()
    metrics.EVENTS_HANDLED.labels(uow.service, source, event_type, DEAD_LETTERED).inc()
