"""The outbox relay: a service's events go to RabbitMQ from its store, never from memory.

A command commits its events to the store and returns; it never publishes.
The relay follows the store in its commit-safe order (``EventStore.read_all``,
which never skips), publishes a batch, waits for the broker to confirm the whole
batch, and only then moves its checkpoint (``relay_checkpoint``). If it crashes,
or the broker goes away, it starts again from the checkpoint: events published
but not yet checkpointed go out a second time, and consumers' inboxes absorb
the duplicates. Nothing is lost, nothing takes effect twice.

One relay per service publishes, however many replicas run: the one holding
the relay's *lease* (``RelayLease``), a row it renews every few seconds. A
leader that dies, whose host vanishes, or that is frozen (SIGSTOP) stops
renewing, and within ``Settings.relay_lease_seconds`` another replica, which
tries every ``FOLLOWER_POLL`` seconds, takes over. The leader checks its lease
right before each publish; each new leader bumps the lease's epoch, and the
checkpoint only moves under the current epoch, so a former leader that wakes
up publishes nothing and moves nothing. (A session advisory lock would
outlive a vanished host for as long as TCP keeps its connection, up to hours.)
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
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
from shared.runtime.trust import Trust

log = logging.getLogger(__name__)

RELAY_NAME = "outbox"
FOLLOWER_POLL = 1.0
#: The server notices a vanished relay in seconds, not after TCP's two hours.
SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 -c tcp_user_timeout=10000"
)


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


class LostLease(Exception):
    """Another replica holds the relay's lease now."""


class RelayLease:
    """The relay's leadership: a row in ``relay_checkpoint``, held until it lapses.

    Times are the database server's, the one clock every replica shares; the
    holder also watches its own monotonic clock, which keeps running while a
    process is frozen, so it renews before it trusts a lease it has not
    renewed for a third of its term.
    """

    def __init__(self, conn: Any, schema: str, holder: str, seconds: float) -> None:
        self.conn, self.holder, self.seconds = conn, holder, seconds
        self.epoch: int | None = None
        self._renewed = 0.0
        table = f'"{schema}".relay_checkpoint'
        self._sql_acquire = (
            f"UPDATE {table} SET leader = %s, epoch = epoch + 1, lease_until = now() + %s * interval '1 second' "
            "WHERE relay = %s AND (lease_until < now() OR leader IS NULL) RETURNING epoch"
        )
        self._sql_renew = (
            f"UPDATE {table} SET lease_until = now() + %s * interval '1 second' "
            "WHERE relay = %s AND leader = %s AND epoch = %s AND lease_until > now() RETURNING epoch"
        )
        self._sql_release = f"UPDATE {table} SET lease_until = now() WHERE relay = %s AND leader = %s AND epoch = %s"
        self.sql_fence = "AND leader = %s AND epoch = %s"

    def acquire(self) -> bool:
        with self.conn.cursor() as cur:
            cur.execute(self._sql_acquire, [self.holder, self.seconds, RELAY_NAME])
            row = cur.fetchone()
        if row is None:
            return False
        self.epoch, self._renewed = int(row[0]), time.monotonic()
        return True

    def hold(self) -> None:
        """Raise ``LostLease`` unless the lease is still this relay's (renewing it when due)."""
        if self.epoch is None:
            raise LostLease("no lease")
        if time.monotonic() - self._renewed < self.seconds / 3:
            return
        with self.conn.cursor() as cur:
            cur.execute(self._sql_renew, [self.seconds, RELAY_NAME, self.holder, self.epoch])
            if cur.fetchone() is None:
                self.epoch = None
                raise LostLease("the lease lapsed or another replica holds it")
        self._renewed = time.monotonic()

    def release(self) -> None:
        if self.epoch is not None:
            with self.conn.cursor() as cur:
                cur.execute(self._sql_release, [RELAY_NAME, self.holder, self.epoch])
            self.epoch = None


class OutboxRelay(DependencyProvider):
    """Declare as ``relay = OutboxRelay()``; workers get its ``RelayStatus``.

    Every event goes out signed with the service's own key (``Trust``), so
    that consumers can tell it from one anybody else put on the exchange.
    """

    trust = Trust()

    def setup(self) -> None:
        self.settings = settings_of(self.container)
        self.service = self.container.service_name
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
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
        conn = psycopg2.connect(
            self.settings.database_url,
            application_name=f"{self.service}-relay",
            options=SERVER_KEEPALIVES,
            **CONNECT_OPTIONS,
        )
        conn.autocommit = True
        publisher = BatchPublisher(
            self.settings.amqp_uri, self.service, heartbeat=self.settings.amqp_heartbeat, ssl=self.settings.amqp_ssl()
        )
        lease = RelayLease(conn, self.service, self.holder, self.settings.relay_lease_seconds)
        try:
            if not self._wait_for_leadership(lease):
                return
            self.status.leader = True
            metrics.RELAY_LEADER.labels(self.service).set(1)
            log.info("relay of %s is now publishing (lease epoch %s)", self.service, lease.epoch)
            publisher.connect()
            self._publish_until_stopped(conn, publisher, lease)
        except LostLease as lost:
            log.warning("relay of %s stops publishing: %s", self.service, lost)
        finally:
            if self.status.leader:
                log.info("relay of %s stopped publishing", self.service)
            self.status.leader = False
            metrics.RELAY_LEADER.labels(self.service).set(0)
            publisher.close()
            try:
                if self._stopping:
                    lease.release()  # a graceful stop hands over at once
            finally:
                conn.close()

    def _wait_for_leadership(self, lease: RelayLease) -> bool:
        while not self._stopping:
            if lease.acquire():
                return True
            eventlet.sleep(FOLLOWER_POLL)
        return False

    def _publish_until_stopped(self, conn: Any, publisher: BatchPublisher, lease: RelayLease) -> None:
        # What is stored, sealed: the hash and the signature cover what is published, and
        # personal data never travels in clear (consumers open it, ``delivery.deliver``).
        store = EventStore(None, self.service, open_sealed=False)
        checkpoint_table = f'"{self.service}".relay_checkpoint'
        with conn.cursor() as cur:
            cur.execute(f"SELECT tx_id, position FROM {checkpoint_table} WHERE relay = %s", [RELAY_NAME])
            row = cur.fetchone()
        cursor = Cursor(*row) if row else Cursor()
        while not self._stopping:
            lease.hold()
            page = store.read_all(cursor, self.settings.relay_batch_size, conn=conn)
            if not page.events:
                publisher.keep_alive()
                eventlet.sleep(self.settings.relay_idle_wait)
                continue
            signer = self.trust.event_signer
            messages = [event_message(event.envelope(), signer.sign(event.hash)) for event in page.events]
            lease.hold()  # right before publishing: a frozen leader that wakes finds it lapsed
            publisher.publish(messages)
            cursor = page.next_cursor
            with conn.cursor() as cur:
                cur.execute(
                    f"UPDATE {checkpoint_table} SET tx_id = %s, position = %s, "
                    "published = published + %s, updated_at = now() WHERE relay = %s " + lease.sql_fence,
                    [cursor.tx_id, cursor.position, len(page.events), RELAY_NAME, lease.holder, lease.epoch],
                )
                if cur.rowcount == 0:
                    raise LostLease("the checkpoint moved on under another leader")
            self.status.published += len(page.events)
            self.status.cursor = cursor
            metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(page.events))
