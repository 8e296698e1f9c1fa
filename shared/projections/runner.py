"""Applying a projection: its pending events, batch by batch, with its checkpoint.

The runner follows the store in its commit-safe order and applies each batch
in one transaction *together with* the projection's checkpoint, so the rows
and the checkpoint never disagree: after a crash it resumes exactly where its
rows are. ``rebuild`` empties the tables and replays from zero.

With several replicas, each batch first locks the projection's checkpoint row,
so replicas take turns and never apply an event twice. An idle runner only
reads (no lock, no transaction id) until there is something to apply.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.db.database import Connection, Database
from shared.domain import EventRegistry
from shared.eventstore.records import Cursor
from shared.eventstore.store import EventStore
from shared.projections.projection import Projection


class ProjectionRunner:
    """Applies a projection's pending events, batch by batch, checkpoint included."""

    def __init__(
        self,
        database: Database,
        schema: str,
        projection: Projection,
        registry: EventRegistry,
        on_applied: Callable[[int], None] | None = None,
    ) -> None:
        self.database = database
        self.on_applied = on_applied
        self.schema = schema
        self.projection = projection
        self.registry = registry
        self.store = EventStore(database, schema)
        self._checkpoints = f'"{schema}".projection_checkpoints'

    def _checkpoint(self, conn: Connection, lock: bool) -> Cursor:
        with conn.cursor() as cur:
            if lock:
                cur.execute(
                    f"INSERT INTO {self._checkpoints} (projection) VALUES (%s) ON CONFLICT DO NOTHING",
                    [self.projection.name],
                )
            cur.execute(
                f"SELECT tx_id, position FROM {self._checkpoints} WHERE projection = %s"
                + (" FOR UPDATE" if lock else ""),
                [self.projection.name],
            )
            row = cur.fetchone()
        return Cursor(*row) if row else Cursor()

    def checkpoint(self) -> Cursor:
        with self.database.transaction() as conn:
            return self._checkpoint(conn, lock=False)

    def run_batch(self, limit: int = 500) -> int:
        """Apply up to ``limit`` events; return how many were read (0: caught up)."""
        with self.database.transaction() as conn:
            peek = self.store.read_all(self._checkpoint(conn, lock=False), 1, conn=conn)
        if not peek.events:
            return 0
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
