"""The outbox relay: a service's events go to RabbitMQ from its store, never from memory.

A command commits its events to the store and returns; it never publishes.
The relay follows the store in its commit-safe order (``EventStore.read_all``,
which never skips), publishes a batch, waits for the broker to confirm the whole
batch, and only then moves its checkpoint (``relay_checkpoint``). If it crashes,
or the broker goes away, it starts again from the checkpoint: events published
but not yet checkpointed go out a second time, and consumers' inboxes absorb
the duplicates. Nothing is lost, nothing takes effect twice.

One relay per service publishes, however many replicas run: each replica's
relay asks for a PostgreSQL session-level advisory lock and only the holder
publishes. The lock lives as long as the holder's connection, so when that
process dies (even by ``kill -9``) PostgreSQL releases it and another replica,
which retries every ``FOLLOWER_POLL`` seconds, takes over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import eventlet
import psycopg2
from nameko.extensions import DependencyProvider

from shared.db.database import CONNECT_OPTIONS, Database, fetch_one
from shared.eventstore.records import Cursor
from shared.eventstore.store import EventStore
from shared.runtime.messaging.publisher import BatchPublisher, event_message
from shared.runtime.observability import metrics
from shared.runtime.resources import settings_of

log = logging.getLogger(__name__)

RELAY_NAME = "outbox"
FOLLOWER_POLL = 1.0


@dataclass
class RelayStatus:
    leader: bool = False
    published: int = 0
    cursor: Cursor = field(default_factory=Cursor)
    last_error: str | None = None


@dataclass(frozen=True)
class RelayLag:
    events: int
    seconds: float


def relay_lag(database: Database, schema: str) -> RelayLag:
    """Stored events not yet published, and the age of the oldest of them."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f"""SELECT count(*),
                       coalesce(extract(epoch FROM now() - min((e.metadata->>'recorded_at')::timestamptz)), 0)::float8
                  FROM "{schema}".events e, "{schema}".relay_checkpoint c
                 WHERE c.relay = %s AND (e.tx_id, e.position) > (c.tx_id::text::xid8, c.position)""",
            [RELAY_NAME],
        )
        events, seconds = fetch_one(cur)
    return RelayLag(int(events), float(seconds))


class OutboxRelay(DependencyProvider):
    """Declare as ``relay = OutboxRelay()``; workers get its ``RelayStatus``."""

    def setup(self) -> None:
        self.settings = settings_of(self.container)
        self.service = self.container.service_name
        self.status = RelayStatus()
        self._stopping = False
        self._thread: Any = None

    def start(self) -> None:
        self._stopping = False
        self._thread = eventlet.spawn(self._run)

    def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            with eventlet.Timeout(15, False):
                self._thread.wait()
            self._thread.kill()

    def kill(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._thread.kill()

    def get_dependency(self, worker_ctx: Any) -> RelayStatus:
        return self.status

    # -- the loop ----------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                self._follow_or_lead()
                backoff = 0.5
            except Exception as error:  # database or broker trouble: start over
                self.status.last_error = f"{type(error).__name__}: {error}"
                log.warning("relay of %s interrupted: %s; retrying in %.1fs", self.service, error, backoff)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _follow_or_lead(self) -> None:
        conn = psycopg2.connect(self.settings.database_url, application_name=f"{self.service}-relay", **CONNECT_OPTIONS)
        conn.autocommit = True
        publisher = BatchPublisher(self.settings.amqp_uri, self.service, heartbeat=self.settings.amqp_heartbeat)
        try:
            if not self._wait_for_leadership(conn):
                return
            self.status.leader = True
            metrics.RELAY_LEADER.labels(self.service).set(1)
            log.info("relay of %s is now publishing", self.service)
            publisher.connect()
            self._publish_until_stopped(conn, publisher)
        finally:
            if self.status.leader:
                log.info("relay of %s stopped publishing", self.service)
            self.status.leader = False
            metrics.RELAY_LEADER.labels(self.service).set(0)
            publisher.close()
            conn.close()  # releases the advisory lock

    def _wait_for_leadership(self, conn: Any) -> bool:
        with conn.cursor() as cur:
            while not self._stopping:
                cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"orgwork.relay.{self.service}"])
                if fetch_one(cur)[0]:
                    return True
                eventlet.sleep(FOLLOWER_POLL)
        return False

    def _publish_until_stopped(self, conn: Any, publisher: BatchPublisher) -> None:
        store = EventStore(None, self.service)
        checkpoint_table = f'"{self.service}".relay_checkpoint'
        with conn.cursor() as cur:
            cur.execute(f"SELECT tx_id, position FROM {checkpoint_table} WHERE relay = %s", [RELAY_NAME])
            row = cur.fetchone()
        cursor = Cursor(*row) if row else Cursor()
        while not self._stopping:
            page = store.read_all(cursor, self.settings.relay_batch_size, conn=conn)
            if not page.events:
                publisher.keep_alive()
                eventlet.sleep(self.settings.relay_idle_wait)
                continue
            publisher.publish([event_message(event.envelope()) for event in page.events])
            cursor = page.next_cursor
            with conn.cursor() as cur:
                cur.execute(
                    f"UPDATE {checkpoint_table} SET tx_id = %s, position = %s, "
                    "published = published + %s, updated_at = now() WHERE relay = %s",
                    [cursor.tx_id, cursor.position, len(page.events), RELAY_NAME],
                )
            self.status.published += len(page.events)
            self.status.cursor = cursor
            metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(page.events))
