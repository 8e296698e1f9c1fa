"""A process's pool of PostgreSQL connections.

psycopg2's ThreadedConnectionPool keeps the connections; it raises when it is
exhausted, so a bounded semaphore in front makes callers wait for a connection
instead. Under eventlet's monkey patching both the pool's lock and the
semaphore are green, so a waiting worker yields to the others.

A connection is never shared between greenthreads: a worker takes one, uses it
for its transactions, and gives it back (see ``shared.runtime.storage``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.sql
from psycopg2.pool import ThreadedConnectionPool

Connection = psycopg2.extensions.connection

#: Sent with every connection so that a dead peer is noticed in seconds.
CONNECT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


_CONNECTION_LOST = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now


def database_gone(error: BaseException) -> bool:
    """A lost or refused connection: nobody's fault but the network's or the server's
    (unlike a deadlock, a constraint or a bad query)."""
    if isinstance(error, psycopg2.InterfaceError):
        return True
    if not isinstance(error, psycopg2.OperationalError):
        return False
    code = error.pgcode
    return code is None or code.startswith("08") or code in _CONNECTION_LOST


def fetch_one(cursor: Any) -> tuple[Any, ...]:
    """The one row a query must return (aggregates, RETURNING)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return tuple(row)


class Database:
    """Connections to one PostgreSQL database, pooled, with transactions.

    ``transaction()`` is the usual entry: it commits when the block ends and
    rolls back when it raises. A connection that broke (server restart,
    network) is closed instead of going back to the pool.
    """

    def __init__(
        self,
        dsn: str,
        size: int = 10,
        application_name: str = "orgwork",
        search_path: str | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one connection")
        self.dsn = dsn
        self.size = size
        # A transaction left idle, or a query whose client died (kill -9), would
        # hold its locks (an inbox row, say) and the store's read horizon;
        # PostgreSQL ends both instead of waiting for them.
        options = "-c idle_in_transaction_session_timeout=60000 -c client_connection_check_interval=2000"
        if search_path:
            options += f" -c search_path={search_path},public"
        self._pool = ThreadedConnectionPool(
            0, size, dsn, application_name=application_name, options=options, **CONNECT_OPTIONS
        )
        # Open connections on demand (minconn 0 above), but keep up to `size`
        # of them for reuse: psycopg2 closes a returned connection when it
        # already holds `minconn` idle ones.
        self._pool.minconn = size
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """Borrow a connection; wait for one when all are in use."""
        if self._closed:
            raise RuntimeError("the database pool is closed")
        self._slots.acquire()
        try:
            conn = self._pool.getconn()
        except BaseException:
            self._slots.release()
            raise
        broken = False
        try:
            yield conn
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            broken = True
            raise
        finally:
            try:
                self._pool.putconn(conn, close=broken or bool(conn.closed))
            finally:
                self._slots.release()

    @contextmanager
    def transaction(self, conn: Connection | None = None) -> Iterator[Connection]:
        """One transaction: commit at the end of the block, roll back on error.

        When ``conn`` is given, the caller owns that transaction: the block runs
        inside it and neither commits nor rolls back, so several operations
        (an append, an inbox record, a projection row) commit together.
        """
        if conn is not None:
            yield conn
            return
        with self.connection() as own:
            try:
                yield own
            except BaseException:
                if not own.closed:
                    own.rollback()
                raise
            else:
                own.commit()

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection in autocommit mode: each statement its own transaction.

        For single statements that are atomic by themselves (an append is one
        function call): one round trip instead of BEGIN, statement, COMMIT.
        """
        with self.connection() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                if not conn.closed:
                    conn.autocommit = False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.closeall()


def dsn_for_database(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    params = psycopg2.extensions.parse_dsn(dsn)
    params["dbname"] = dbname
    return psycopg2.extensions.make_dsn(**params)


def database_name(dsn: str) -> str:
    return psycopg2.extensions.parse_dsn(dsn).get("dbname", "")


def ensure_database(dsn: str) -> bool:
    """Create the database named in ``dsn`` when it is missing; True if created.

    Connects to the server's ``postgres`` database to do it. Two processes doing
    this at once are fine: the loser sees ``duplicate_database`` and moves on.
    """
    name = database_name(dsn)
    if not name:
        raise ValueError(f"DATABASE_URL names no database: {dsn!r}")
    admin = psycopg2.connect(dsn_for_database(dsn, "postgres"), **CONNECT_OPTIONS)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone():
                return False
            try:
                cur.execute(psycopg2.sql.SQL("CREATE DATABASE {}").format(psycopg2.sql.Identifier(name)))
            except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                return False
            return True
    finally:
        admin.close()


def drop_database(dsn: str) -> None:
    """Drop the database named in ``dsn`` (the tests' own, at the end of a run)."""
    name = database_name(dsn)
    admin = psycopg2.connect(dsn_for_database(dsn, "postgres"), **CONNECT_OPTIONS)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(
                psycopg2.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg2.sql.Identifier(name))
            )
    finally:
        admin.close()
