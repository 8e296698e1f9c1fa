"""The unit of work on a service's PostgreSQL store: one worker, one connection, its own.

It borrows a connection from the service's pool the first time it needs one
and gives it back at ``close`` (the runtime closes it when the worker ends),
so a connection is never shared between greenthreads. Transactions nest: an
event handler opens one (for its inbox record) and the use case it runs joins
it, so effects and the inbox row commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2.extensions

from shared.application.calendars import CalendarBook
from shared.application.unit_of_work import UnitOfWorkBase
from shared.db.database import Connection, Database
from shared.domain import EventRegistry
from shared.domain.calendar import Clock
from shared.eventstore.records import RecordedEvent
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore


class TransactionAborted(RuntimeError):
    """A transaction cannot commit: a statement in it failed and the error was caught."""


class PostgresUnitOfWork(UnitOfWorkBase):
    """A worker's store, repositories and transactions, on its own connection.

    ``calendars`` is the service's ``CalendarBook`` (one per container, so
    that the calendar is read from the store once, not per command).

    ``on_commit`` is told how many events each committed transaction appended
    (the runtime counts them in its metrics).
    """

    store: EventStore
    snapshots: SnapshotStore

    def __init__(
        self,
        database: Database,
        service: str,
        registry: EventRegistry,
        clock: Clock,
        context: dict[str, Any] | None = None,
        on_commit: Callable[[int], None] | None = None,
        calendars: CalendarBook | None = None,
    ) -> None:
        super().__init__(service, registry, clock, context, calendars=calendars)
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
        """A transaction on the worker's connection, an event writer from its first statement.

        Any transaction of a unit of work may append, and may write something
        else first (an inbox row): it takes the store's writer lock before it
        has a transaction id, so that readers wait for it and for nothing else.
        """
        conn = self.conn
        self.store.begin_writing(conn)
        return conn

    def _commit(self, conn: Connection) -> None:
        appended, self._appended = self._appended, 0
        if conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INERROR:
            # A statement failed inside and the error was caught: PostgreSQL would
            # turn this COMMIT into a ROLLBACK without a word. Say so instead.
            conn.rollback()
            raise TransactionAborted("a statement in this transaction failed; nothing was committed")
        conn.commit()
        if appended and self._on_commit is not None:
            self._on_commit(appended)

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

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.transaction() as conn:
            return Statements(conn).query(statement, params)

    def execute(self, statement: str, params: Any = ()) -> None:
        with self.transaction() as conn, conn.cursor() as cur:
            cur.execute(statement, params)

    @contextlib.contextmanager
    def apart(self) -> Iterator[Statements]:
        """A transaction of its own, on a second connection from the pool.

        The pool must hold more connections than the service has workers
        (``Settings.db_pool_size`` > ``max_workers``), so that a worker holding
        one can always get a second.
        """
        if not self.in_transaction:  # this unit's own connection is free: its next transaction is apart
            with self.transaction() as conn:
                yield Statements(conn)
            return
        with self.database.transaction() as conn:
            yield Statements(conn)


class Statements:
    """Statements on one connection, inside the transaction it is in."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
            if cur.description is None:
                return []
            names = [c.name for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def execute(self, statement: str, params: Any = ()) -> None:
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
