"""The unit of work on a service's PostgreSQL store: one worker, one connection, its own.

It borrows a connection from the service's pool the first time it needs one
and gives it back at ``close`` (the runtime closes it when the worker ends),
so a connection is never shared between greenthreads. Transactions nest: an
event handler opens one (for its inbox record) and the use case it runs joins
it, so effects and the inbox row commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from shared.application.unit_of_work import UnitOfWorkBase
from shared.db.database import Connection, Database
from shared.domain import Aggregate, EventRegistry, Repository
from shared.domain.calendar import Clock
from shared.eventstore.records import RecordedEvent
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore

A = TypeVar("A", bound=Aggregate)


class PostgresUnitOfWork(UnitOfWorkBase):
    """A worker's store, repositories and transactions, on its own connection.

    ``on_commit`` is told how many events each committed transaction appended
    (the runtime counts them in its metrics).
    """

    def __init__(
        self,
        database: Database,
        service: str,
        registry: EventRegistry,
        clock: Clock,
        context: dict[str, Any] | None = None,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(service, registry, clock, context)
        self.database = database
        self.store = EventStore(database, service, clock=clock.now)
        self.snapshots = SnapshotStore(database, service)
        self._on_commit = on_commit
        self._exit = contextlib.ExitStack()
        self._conn: Connection | None = None
        self._appended = 0

    # -- connection and transactions ---------------------------------------------------

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = self._exit.enter_context(self.database.connection())
        return self._conn

    def _begin(self) -> Connection:
        return self.conn

    def _commit(self, conn: Connection) -> None:
        conn.commit()
        if self._appended and self._on_commit is not None:
            self._on_commit(self._appended)
        self._appended = 0

    def _rollback(self, conn: Connection) -> None:
        self._appended = 0
        if not conn.closed:
            conn.rollback()

    def close(self) -> None:
        """Give the connection back (rolled back if a transaction was left open)."""
        if self._conn is not None and not self._conn.closed and self._depth == 0:
            self._conn.rollback()
        self._exit.close()
        self._conn = None

    def _saved(self, recorded: list[RecordedEvent]) -> None:
        self._appended += len(recorded)

    # -- stores ----------------------------------------------------------------------------

    def repository(self, aggregate: type[A]) -> Repository[A]:
        return Repository(aggregate, self.store, self.registry, self.snapshots)

    def origin_correlation(self, stream_id: str) -> str | None:
        return self.store.origin_correlation(stream_id, conn=self.conn)

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.transaction() as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            if cur.description is None:
                return []
            names = [c.name for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def execute(self, statement: str, params: Any = ()) -> None:
        with self.transaction() as conn, conn.cursor() as cur:
            cur.execute(statement, params)
