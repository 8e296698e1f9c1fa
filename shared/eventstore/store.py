"""The append-only event store of one service, in PostgreSQL.

Appending
---------
``append`` calls the SQL function ``append_event`` for one event, or
``append_events`` for several (see ``shared/migrations/0001_event_store.sql``
and ``0017_single_event_append.sql``): one round trip checks the expected
version, chains the hashes and inserts the rows. Optimistic concurrency comes
from the unique ``(stream_id, version)``; nothing global is locked.

Reading everything, without ever skipping an event
--------------------------------------------------
Positions come from a sequence, and concurrent transactions commit out of
sequence order: while transaction A (position 7) is still open, B (position 8)
commits. A reader that takes "everything after position 6" sees 8, moves its
checkpoint there, and never sees 7. Polling harder or waiting a fixed time for
gaps to fill only makes the bug rarer.

Every row records ``tx_id``, the id of the transaction that wrote it
(``pg_current_xact_id()``, a 64-bit ``xid8`` that never wraps). The reader
orders events by ``(tx_id, position)`` — the *commit-safe order* — and reads
only below a *horizon* H: an id such that no event with a smaller ``tx_id``
can commit after the read. The prefix it returns is then final, so a
checkpoint ``Cursor(tx_id, position)`` never skips. The rows of one stream
appear in the same relative order in both orders, because a stream's appends
are serialised by its version check (and OW002 refuses an append that would
break it).

The horizon
-----------
``pg_snapshot_xmin`` would be a correct horizon, but any transaction with an
id, in any database of the server (a migration, a batch job, a client idle in
a transaction), holds it back and with it every service's event flow. So the
horizon waits for *event writers* only:

* A transaction that may append becomes an event writer of the store
  (``begin_writing``) **before it has a transaction id**: it takes the store's
  writer lock, a shared transaction-level advisory lock. ``append_events``
  does it itself when the append is the transaction's first write; a
  transaction that writes something else first (an event handler's inbox row)
  calls it at its start (the unit of work does), and one that did not is
  refused (OW004).
* The reader, in one call (``read_after``, at READ COMMITTED), first computes
  H = the smallest id among the transactions holding the writer lock that
  have an id, capped by the ``xmax`` of its snapshot (the first id not yet
  assigned); then, in a later statement with a newer snapshot, reads the
  events with ``tx_id < H``.

Why nothing below H can appear later. Take an event E committed by T, with id
x < H. Since x < xmax of the first statement's snapshot, x was assigned
before that snapshot, and T, an event writer, took the writer lock before
that. When the first statement read the lock table, either T was still
running, holding the lock with its id x, so H <= x, a contradiction; or T had
ended, so it committed before the second statement's snapshot, and E is
visible to it. Transactions that hold the lock without an id yet get ids at
or above xmax, so at or above H. Transactions that never append never take the
lock and never hold a reader back.

The price is latency, not throughput: an event becomes readable once every
event writer older than it has finished. ``horizon()`` reports that lag
(events committed but held back, and the age of the oldest writer), and the
runtime exports it as a metric.

Personal data
-------------
An event's personal fields (``NewEvent.personal``) are stored sealed under
their data subject's key (``shared.privacy``): the append makes a missing key
in its own transaction, and the hash is computed over the sealed text, so an
erasure (deleting the key) never breaks the chain. Every read opens them
again with one look-up of the keys it needs, or shows the field as erased
when the key is gone. ``open_sealed=False`` reads what is stored, sealed: the
relay publishes that (consumers open it with this store's keys, see
``open_records``), so that the hash and the signature cover what travels.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg2
import psycopg2.errors

from shared.db.database import Connection, Database, fetch_one
from shared.db.migrations import SCHEMA_NAME
from shared.errors import ConcurrencyConflict, DuplicateEventId
from shared.eventstore.appending import PreparedEvent, already_stored, prepare, seal_prepared, subjects_of
from shared.eventstore.jsonb import read_jsonb_quickly
from shared.eventstore.records import (
    START,
    Cursor,
    Horizon,
    Metadata,
    NewEvent,
    Page,
    RecordedEvent,
    check_stream_id,
    every_event,
    utc_now,
)
from shared.privacy.keys import PostgresKeys
from shared.privacy.sealing import open_records, seal_fields, sealed_subjects

_KEY_DETAIL = re.compile(r"=\(([0-9a-f-]{36})\)")

# tx_id is converted for Python under another name: an ORDER BY tx_id must bind to
# the column (and its index), not to an output expression of the same name.
#: An event's columns, in ``record_of_row``'s order.
RECORD_COLUMNS = (
    "position, tx_id::text::bigint AS tx_number, stream_id, version, event_id::text, type, "
    "schema_version, data, metadata, prev_hash, hash"
)


class EventStore:
    """One service's store: the ``events`` table in the schema named after it."""

    def __init__(
        self,
        database: Database | None,
        schema: str,
        service: str | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        *,
        open_sealed: bool = True,
    ) -> None:
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"schema name {schema!r} must match {SCHEMA_NAME.pattern}")
        self.database = database
        self.schema = schema
        self.service = service or schema
        self.clock = clock
        self.open_sealed = open_sealed
        self.keys = PostgresKeys(schema)
        # The schema name matches SCHEMA_NAME, so quoting it by hand is safe,
        # and composing the statements once keeps that work off the hot path.
        events = f'"{schema}".events'
        returned = "SELECT out_position, out_version, out_tx_id, out_prev_hash, out_hash "
        self._sql_append = (
            f'{returned} FROM "{schema}".append_events'
            "(%s, %s, %s::uuid[], %s::text[], %s::integer[], %s::text[], %s::text[])"
        )
        # One event (most appends) takes scalar arguments: arrays cost the server
        # more to parse and take apart than the INSERT itself (0017_single_event_append.sql).
        self._sql_append_one = f'{returned} FROM "{schema}".append_event(%s, %s, %s, %s, %s, %s, %s)'
        self._sql_stream = f"SELECT {RECORD_COLUMNS} FROM {events} WHERE stream_id = %s AND version >= %s AND version <= %s ORDER BY version"
        self._sql_stream_version = f"SELECT coalesce(max(version), 0) FROM {events} WHERE stream_id = %s"
        self._sql_all = f'SELECT * FROM "{schema}".read_after(%s, %s, %s)'
        self.sql_begin_writing = f'SELECT "{schema}".begin_writing()'

        self._sql_by_position = f"SELECT {RECORD_COLUMNS} FROM {events} WHERE position > %s ORDER BY position LIMIT %s"
        self._sql_by_ids = f"SELECT {RECORD_COLUMNS} FROM {events} WHERE event_id = ANY(%s::uuid[])"
        self._sql_origin = f"SELECT metadata->>'correlation_id' FROM {events} WHERE stream_id = %s AND version = 1"
        self._sql_correlated = (
            f"SELECT {RECORD_COLUMNS} FROM {events} WHERE metadata->>'correlation_id' = %s ORDER BY position"
        )
        self._sql_horizon = (
            f'SELECT (SELECT count(*) FROM {events} WHERE tx_id >= "{schema}".read_horizon()), '
            "(SELECT coalesce(extract(epoch FROM now() - min(a.xact_start)), 0)::float8 "
            "   FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 28535 AND l.objsubid = 2 "
            f'    AND l.objid::text::bigint = ("{schema}".writer_lock_key()::bigint & 4294967295) '
            "    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "    AND a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid())"
        )

    def _transaction(self, conn: Connection | None) -> AbstractContextManager[Connection]:
        if conn is not None:
            return contextlib.nullcontext(conn)
        if self.database is None:
            raise RuntimeError("this store has no pool of its own: pass conn=")
        return self.database.transaction()

    # -- writing -----------------------------------------------------------

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        metadata: Metadata,
        *,
        conn: Connection | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` to ``stream_id`` if it is at ``expected_version``.

        All or nothing. Idempotent by event id: appending events that are
        already stored, identical, returns the stored records and stores
        nothing (the way to recover from a lost reply). Raises
        ``ConcurrencyConflict`` when the stream moved on, ``DuplicateEventId``
        when an id is taken by something else, ``ValidationFailed`` for
        malformed input (nothing is written then).

        With ``conn`` the append joins the caller's transaction; the caller
        commits, and on a conflict retries the whole transaction.
        """
        check_stream_id(stream_id)
        prepared = prepare(
            events, expected_version, metadata, service=self.service, recorded_at=self.clock().isoformat()
        )
        subjects = subjects_of(prepared)
        try:
            if subjects:
                # Personal data: the subjects' keys are read (or made) in the
                # append's own transaction, which is an event writer first.
                own = self._transaction(conn)
            else:
                # Alone, the append is one atomic statement: run it in autocommit
                # (one round trip). Within the caller's transaction, join it.
                own = self.database.autocommit() if conn is None and self.database else self._transaction(conn)
            with own as tx, tx.cursor() as cur:
                stored = prepared
                if subjects:
                    cur.execute(self.sql_begin_writing)
                    keys = self.keys.ensure(cur, subjects)
                    stored = seal_prepared(prepared, lambda *args: seal_fields(keys, *args))
                cur.execute(*self._append_call(stream_id, expected_version, stored))
                rows = cur.fetchall()
        except psycopg2.Error as exc:
            error = self._translate(exc, stream_id, expected_version)
            if error is None:
                raise
            if conn is None:
                found = already_stored(prepared, self.events_by_id([p.event_id for p in prepared]), stream_id)
                if found is not None:
                    return found
            raise error from exc
        return [
            RecordedEvent(
                position=position,
                tx_id=tx_id,
                stream_id=stream_id,
                version=version,
                event_id=p.event_id,
                type=p.type,
                schema_version=p.schema_version,
                data=p.data,
                metadata=p.metadata,
                prev_hash=bytes(prev_hash),
                hash=bytes(digest),
            )
            for p, (position, version, tx_id, prev_hash, digest) in zip(prepared, rows, strict=False)
        ]

    def _append_call(
        self, stream_id: str, expected_version: int, prepared: Sequence[PreparedEvent]
    ) -> tuple[str, list[Any]]:
        """The statement and parameters of an append: ``append_event`` for one event, ``append_events`` for more."""
        if len(prepared) == 1:
            p = prepared[0]
            params = [stream_id, expected_version, p.event_id, p.type, p.schema_version, p.data_json, p.metadata_json]
            return self._sql_append_one, params
        return self._sql_append, [
            stream_id,
            expected_version,
            [p.event_id for p in prepared],
            [p.type for p in prepared],
            [p.schema_version for p in prepared],
            [p.data_json for p in prepared],
            [p.metadata_json for p in prepared],
        ]

    def _translate(self, exc: psycopg2.Error, stream_id: str, expected: int) -> Exception | None:
        if exc.pgcode in ("OW001", "OW002"):  # OW002: written meanwhile by a newer transaction
            actual = int(exc.diag.message_detail or 0)
            return ConcurrencyConflict(stream_id, expected, actual)
        if exc.pgcode == "23505":
            constraint = exc.diag.constraint_name
            if constraint == "events_stream_version":
                return ConcurrencyConflict(stream_id, expected, self._version_or(stream_id, expected + 1))
            if constraint == "events_event_id":
                match = _KEY_DETAIL.search(exc.diag.message_detail or "")
                return DuplicateEventId(match.group(1) if match else "?", stream_id)
        return None

    def _version_or(self, stream_id: str, fallback: int) -> int:
        try:
            return self.stream_version(stream_id)
        except psycopg2.Error:
            return fallback

    # -- reading -----------------------------------------------------------

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        *,
        conn: Connection | None = None,
    ) -> list[RecordedEvent]:
        """The events of one stream, by version, ``from_version`` onward."""
        check_stream_id(stream_id)
        upper = to_version if to_version is not None else 2**62
        return self._records(conn, self._sql_stream, [stream_id, from_version, upper])

    def stream_version(self, stream_id: str, *, conn: Connection | None = None) -> int:
        """The stream's current version (0 when it does not exist)."""
        check_stream_id(stream_id)
        with self._transaction(conn) as tx, tx.cursor() as cur:
            cur.execute(self._sql_stream_version, [stream_id])
            return int(fetch_one(cur)[0])

    def read_all(self, after: Cursor = START, limit: int = 500, *, conn: Connection | None = None) -> Page:
        """The next events after ``after`` in commit-safe order, at most ``limit``.

        Never skips: see the module's docstring. An empty page means nothing
        more is safely readable yet; ask again later from ``next_cursor``.
        """
        events = self._records(conn, self._sql_all, [after.tx_id, after.position, limit])
        return Page(events, events[-1].cursor if events else after)

    def iter_all(self, after: Cursor = START, page_size: int = 1000) -> Iterator[RecordedEvent]:
        """Every safely readable event after ``after``, page by page."""
        return every_event(self.read_all, after, page_size)

    def read_by_position(
        self, after_position: int = 0, limit: int = 1000, *, conn: Connection | None = None
    ) -> list[RecordedEvent]:
        """Events by position, for audits of what is stored (not for following)."""
        return self._records(conn, self._sql_by_position, [after_position, limit])

    def events_by_id(self, event_ids: Sequence[str], *, conn: Connection | None = None) -> list[RecordedEvent]:
        return self._records(conn, self._sql_by_ids, [list(event_ids)])

    def origin_correlation(self, stream_id: str, *, conn: Connection | None = None) -> str | None:
        """The correlation id of a stream's first event: the story it belongs to."""
        with self._transaction(conn) as tx, tx.cursor() as cur:
            cur.execute(self._sql_origin, [stream_id])
            row = cur.fetchone()
        return str(row[0]) if row and row[0] else None

    def by_correlation(self, correlation_id: str, *, conn: Connection | None = None) -> list[RecordedEvent]:
        """Every event of the story ``correlation_id`` names, by position."""
        return self._records(conn, self._sql_correlated, [correlation_id])

    def _records(self, conn: Connection | None, sql: str, params: list[Any]) -> list[RecordedEvent]:
        """The events ``sql`` selects (``RECORD_COLUMNS``), their sealed fields opened."""
        with self._transaction(conn) as tx, tx.cursor() as cur:
            read_jsonb_quickly(cur)
            cur.execute(sql, params)
            return self._opened(cur, [record_of_row(row) for row in cur.fetchall()])

    # -- personal data -------------------------------------------------------

    def _opened(self, cur: Any, records: list[RecordedEvent]) -> list[RecordedEvent]:
        """``records`` with their sealed fields opened: one look-up of the keys they need, none when nothing is sealed."""
        if not self.open_sealed:
            return records
        subjects = sealed_subjects(records)
        if not subjects:
            return records
        return open_records(records, self.keys.fetch(cur, subjects))

    def open_records(self, records: Sequence[RecordedEvent], *, conn: Connection | None = None) -> list[RecordedEvent]:
        """Records of this store that came another way (over the broker, sealed): opened with its keys."""
        records = list(records)
        if not sealed_subjects(records):
            return records
        with self._transaction(conn) as tx, tx.cursor() as cur:
            return open_records(records, self.keys.fetch(cur, sealed_subjects(records)))

    def forget_subject(self, subject: str, *, conn: Connection | None = None) -> bool:
        """Delete ``subject``'s key: everything sealed under it reads as erased from now on. True when it had one."""
        with self._transaction(conn) as tx, tx.cursor() as cur:
            return self.keys.delete(cur, subject)

    def begin_writing(self, conn: Connection) -> None:
        """Make ``conn``'s transaction an event writer of this store, before it writes anything.

        An append does it by itself when it is the transaction's first write;
        a transaction that writes something else first (an inbox row, say) must
        call this at its start. See "The horizon" in the module's docstring.
        """
        with conn.cursor() as cur:
            cur.execute(self.sql_begin_writing)

    def horizon(self) -> Horizon:
        """How far the safe horizon lags: committed events held back by event writers, and for how long."""
        with self._transaction(None) as tx, tx.cursor() as cur:
            cur.execute(self._sql_horizon)
            behind, seconds = fetch_one(cur)
        return Horizon(int(behind), float(seconds))


def record_of_row(row: tuple[Any, ...]) -> RecordedEvent:
    """A row read with ``RECORD_COLUMNS``, as a record (as stored: sealed fields still sealed)."""
    position, tx_id, stream_id, version, event_id, type_, schema_version, data, metadata, prev_hash, digest = row
    return RecordedEvent(
        position,
        tx_id,
        stream_id,
        version,
        event_id,
        type_,
        schema_version,
        data,
        metadata,
        bytes(prev_hash),
        bytes(digest),
    )
