"""Applying a projection: its pending events, batch by batch, with its checkpoint.

The runner follows the store in its commit-safe order and applies each batch
in one transaction *together with* the projection's checkpoint, so the rows
and the checkpoint never disagree: after a crash it resumes exactly where its
rows are. ``rebuild`` empties the tables and replays from zero.

With several replicas, each batch first locks the projection's checkpoint row,
so replicas take turns and never apply an event twice. An idle runner only
reads (no lock, no transaction id) until there is something to apply.

An event the projection keeps failing on is *parked* (``parked_events``) after
``attempts`` tries, and the checkpoint moves past it: one bad event must not
stop a read model for ever. A lost database is not the event's fault and
never counts as a try. ``retry_parked`` applies a parked event again, once the
projection's code is fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.db.database import Connection, Database, database_gone
from shared.domain import EventRegistry
from shared.eventstore.records import Cursor, RecordedEvent
from shared.eventstore.store import EventStore
from shared.projections.projection import Projection

log = logging.getLogger(__name__)


class ProjectionRunner:
    """Applies a projection's pending events, batch by batch, checkpoint included."""

    def __init__(
        self,
        database: Database,
        schema: str,
        projection: Projection,
        registry: EventRegistry,
        on_applied: Callable[[int], None] | None = None,
        attempts: int = 3,
    ) -> None:
        self.database = database
        self.on_applied = on_applied
        self.attempts = attempts
        self._failures: dict[str, int] = {}  # event id -> failed tries so far
        self._more = False  # the last batch was full: the next one need not look first
        self.schema = schema
        self.projection = projection
        self.registry = registry
        self.store = EventStore(database, schema)
        self._checkpoints = f'"{schema}".projection_checkpoints'
        self._parked = f'"{schema}".parked_events'

    def _checkpoint(self, conn: Connection, lock: bool) -> Cursor:
        """Where the projection stands; ``lock``: and hold its row (made on the first batch) until commit."""
        select = f"SELECT tx_id, position FROM {self._checkpoints} WHERE projection = %s"
        if lock:
            select += " FOR UPDATE"
        with conn.cursor() as cur:
            cur.execute(select, [self.projection.name])
            row = cur.fetchone()
            if row is None and lock:
                cur.execute(
                    f"INSERT INTO {self._checkpoints} (projection) VALUES (%s) ON CONFLICT DO NOTHING",
                    [self.projection.name],
                )
                cur.execute(select, [self.projection.name])
                row = cur.fetchone()
        return Cursor(*row) if row else Cursor()

    def checkpoint(self) -> Cursor:
        with self.database.transaction() as conn:
            return self._checkpoint(conn, lock=False)

    def run_batch(self, limit: int = 500) -> int:
        """Apply up to ``limit`` events; return how many were read (0: caught up).

        When the batch fails, its events are applied one at a time, so that the
        one that fails is found, tried again, and parked after ``attempts``.
        Unless the last batch was full, it first looks without locking
        anything, so that an idle runner holds no lock and no transaction id.
        """
        if not self._more:
            with self.database.transaction() as conn:
                peek = self.store.read_all(self._checkpoint(conn, lock=False), 1, conn=conn)
            if not peek.events:
                return 0
        self._more = False
        try:
            read = self._apply_batch(limit)
        except Exception as error:
            if database_gone(error):
                raise
            return self._apply_one(error)
        self._more = read == limit
        return read

    def _apply_batch(self, limit: int) -> int:
        with self.database.transaction() as conn, conn.cursor() as cur:
            cursor = self._checkpoint(conn, lock=True)
            page = self.store.read_all(cursor, limit, conn=conn)
            cur.execute(f'SET LOCAL search_path TO "{self.schema}", public')
            applied = 0
            for record in page.events:
                if self.projection.wants(record.type):
                    self.projection.apply(cur, record, self.registry)
                    applied += 1
            cur.execute(
                f"UPDATE {self._checkpoints} SET tx_id = %s, position = %s, applied = applied + %s, "
                "updated_at = now() WHERE projection = %s",
                [page.next_cursor.tx_id, page.next_cursor.position, applied, self.projection.name],
            )
        if applied and self.on_applied is not None:
            self.on_applied(applied)
        return len(page.events)

    def _apply_one(self, batch_error: Exception) -> int:
        """Apply the next event alone; park it when it has failed ``attempts`` times."""
        try:
            return self._apply_batch(1)
        except Exception as error:
            if database_gone(error):
                raise
            with self.database.transaction() as conn:
                record = self.store.read_all(self._checkpoint(conn, lock=False), 1, conn=conn).events[0]
            tries = self._failures[record.event_id] = self._failures.get(record.event_id, 0) + 1
            if tries < self.attempts:
                raise
            self._park(record, error, tries)
            self._failures.pop(record.event_id, None)
            return 1

    def _park(self, record: RecordedEvent, error: Exception, attempts: int) -> None:
        with self.database.transaction() as conn, conn.cursor() as cur:
            cursor = self._checkpoint(conn, lock=True)
            if cursor >= record.cursor:
                return  # another replica got past it meanwhile
            cur.execute(
                f"INSERT INTO {self._parked} (projection, event_id, tx_id, position, type, error_type, error, attempts) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (projection, event_id) DO NOTHING",
                [
                    self.projection.name,
                    record.event_id,
                    record.tx_id,
                    record.position,
                    record.type,
                    type(error).__name__,
                    str(error)[:4000],
                    attempts,
                ],
            )
            cur.execute(
                f"UPDATE {self._checkpoints} SET tx_id = %s, position = %s, updated_at = now() WHERE projection = %s",
                [record.tx_id, record.position, self.projection.name],
            )
        log.error(
            "projection %s parked event %s (%s) after %d tries: %s",
            self.projection.name,
            record.event_id,
            record.type,
            attempts,
            error,
        )

    def parked(self) -> list[dict[str, Any]]:
        """The events this projection set aside, oldest first."""
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT id, event_id::text, type, error_type, error, attempts, parked_at::text, status "
                f"FROM {self._parked} WHERE projection = %s ORDER BY id",
                [self.projection.name],
            )
            names = [c.name for c in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def retry_parked(self, parked_id: int) -> None:
        """Apply a parked event again (after the projection's fix); raises what it fails with."""
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT event_id::text FROM {self._parked} WHERE id = %s AND projection = %s AND status = 'parked' "
                "FOR UPDATE",
                [parked_id, self.projection.name],
            )
            row = cur.fetchone()
            if row is None:
                raise LookupError(f"no parked event {parked_id} for projection {self.projection.name}")
            (record,) = self.store.events_by_id([row[0]], conn=conn)
            cur.execute(f'SET LOCAL search_path TO "{self.schema}", public')
            self.projection.apply(cur, record, self.registry)
            cur.execute(f"UPDATE {self._parked} SET status = 'retried', retried_at = now() WHERE id = %s", [parked_id])

    def catch_up(self, limit: int = 500) -> int:
        total = 0
        while True:
            read = self.run_batch(limit)
            total += read
            if read < limit:
                return total

    def reset(self) -> None:
        """Empty the projection's tables and its checkpoint, in one transaction."""
        with self.database.transaction() as conn, conn.cursor() as cur:
            self._checkpoint(conn, lock=True)
            for table in self.projection.tables:
                cur.execute(f'TRUNCATE "{self.schema}"."{table}"')
            cur.execute(
                f"UPDATE {self._checkpoints} SET tx_id = 0, position = 0, applied = 0, updated_at = now() "
                "WHERE projection = %s",
                [self.projection.name],
            )

    def rebuild(self) -> int:
        self.reset()
        return self.catch_up()
