"""An event store and a snapshot store in memory, behind the same interface as PostgreSQL's.

For fast tests of the service layer: a use case runs against these exactly as
it runs against the real store, with no database. They keep the real store's
contract, checked by the same contract suite (``tests/core/store_contract.py``):

* appends go through the same ``prepare`` (same errors, same canonical text)
  and carry the same hash chain, so ``recompute_hash`` verifies them;
* optimistic concurrency by expected version, idempotency by event id;
* transactions: what a transaction appends is seen by itself only, and by
  everyone at once when it commits; a rollback leaves nothing;
* the global read follows ``(tx_id, position)`` and stops below the oldest
  transaction still writing, like ``pg_snapshot_xmin``: a reader never skips an
  event that commits later with a smaller position.

Positions are taken from a counter when an event is appended, transaction ids
when a transaction first writes: like PostgreSQL's sequence and ``xid8``,
neither is given back by a rollback.

Personal fields are sealed the same way, under keys in an in-memory table
(``shared.privacy.keys.MemoryKeys``): what the store holds is sealed, every
read opens it, and ``forget_subject`` erases, so that use-case tests see what
PostgreSQL's store would give.

Where it differs, knowingly: two open transactions appending to one stream
conflict when the second one commits (PostgreSQL makes the second one wait at
its append, then refuses it); the horizon is held back by this store's open
writers only (PostgreSQL's by any writing transaction on the server); and
``read_by_position`` and ``by_correlation`` read committed events only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ConcurrencyConflict, DuplicateEventId
from shared.eventstore.appending import PreparedEvent, already_stored, prepare, seal_prepared, subjects_of
from shared.eventstore.hashing import event_hash
from shared.eventstore.records import (
    ANY_VERSION,
    START,
    ZERO_HASH,
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
from shared.privacy.keys import MemoryKeys
from shared.privacy.sealing import open_records, seal_fields, sealed_subjects


@dataclass(eq=False)
class MemoryTransaction:
    """One transaction of an in-memory store: pass it as ``conn=`` to join it."""

    store: InMemoryEventStore
    tx_id: int | None = None  # taken at the first write
    started: float = field(default_factory=time.monotonic)
    staged: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    #: What other stores (snapshots) keep for this transaction until it ends.
    local: dict[Any, Any] = field(default_factory=dict)
    on_commit: list[Callable[[], None]] = field(default_factory=list)
    open: bool = True

    def commit(self) -> None:
        self.store._commit(self)

    def rollback(self) -> None:
        self.store._end(self)


class InMemoryEventStore:
    """One service's store, in memory. ``conn`` is a ``MemoryTransaction`` or ``None`` (autocommit)."""

    def __init__(
        self,
        schema: str = "memory",
        service: str | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        *,
        open_sealed: bool = True,
    ):
        self.schema = schema
        self.service = service or schema
        self.clock = clock
        self.open_sealed = open_sealed
        self.keys = MemoryKeys()
        self._lock = threading.RLock()
        self._committed: list[RecordedEvent] = []  # in commit order
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._by_id: dict[str, RecordedEvent] = {}
        self._positions = itertools.count(1)
        self._tx_ids = itertools.count(1)
        self._writing: dict[int, MemoryTransaction] = {}  # open transactions that have written

    # -- transactions ----------------------------------------------------------------

    def begin(self) -> MemoryTransaction:
        return MemoryTransaction(self)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[MemoryTransaction]:
        """Commit at the end of the block, roll back when it raises."""
        tx = self.begin()
        try:
            yield tx
        except BaseException:
            tx.rollback()
            raise
        tx.commit()

    def _commit(self, tx: MemoryTransaction) -> None:
        with self._lock:
            if not tx.open:
                raise RuntimeError("this transaction has ended")
            try:
                for stream_id, records in tx.staged.items():
                    committed = self._streams.get(stream_id, [])
                    if records[0].version != len(committed) + 1:
                        raise ConcurrencyConflict(stream_id, records[0].version - 1, len(committed))
                    for record in records:
                        if record.event_id in self._by_id:
                            raise DuplicateEventId(record.event_id, stream_id)
                for stream_id, records in tx.staged.items():
                    self._streams.setdefault(stream_id, []).extend(records)
                    self._committed.extend(records)
                    self._by_id.update((r.event_id, r) for r in records)
                for action in tx.on_commit:
                    action()
            finally:
                self._end(tx)

    def _end(self, tx: MemoryTransaction) -> None:
        with self._lock:
            tx.open = False
            if tx.tx_id is not None:
                self._writing.pop(tx.tx_id, None)

    def _run(self, conn: MemoryTransaction | None, work: Callable[[MemoryTransaction], Any]) -> Any:
        if conn is not None:
            if not conn.open:
                raise RuntimeError("this transaction has ended")
            return work(conn)
        with self.transaction() as tx:
            return work(tx)

    # -- writing -----------------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int,
        metadata: Metadata,
        *,
        conn: MemoryTransaction | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` to ``stream_id`` if it is at ``expected_version``; see ``EventStore.append``."""
        check_stream_id(stream_id)
        prepared = prepare(
            events, expected_version, metadata, service=self.service, recorded_at=self.clock().isoformat()
        )
        subjects = subjects_of(prepared)
        stored = prepared
        if subjects:
            keys = self.keys.ensure(subjects)
            stored = seal_prepared(prepared, lambda *args: seal_fields(keys, *args))
        try:
            recorded = self._run(conn, lambda tx: self._stage(tx, stream_id, stored, expected_version))
            # What the store holds is sealed; the caller gets what it appended, as a read would give it.
            return [dataclasses.replace(r, data=p.data) for r, p in zip(recorded, prepared, strict=True)]
        except (ConcurrencyConflict, DuplicateEventId):
            if conn is None:
                found = already_stored(prepared, self.events_by_id([p.event_id for p in prepared]), stream_id)
                if found is not None:
                    return found
            raise

    def _stage(
        self, tx: MemoryTransaction, stream_id: str, prepared: list[PreparedEvent], expected: int
    ) -> list[RecordedEvent]:
        with self._lock:
            if tx.tx_id is None:
                tx.tx_id = next(self._tx_ids)
                self._writing[tx.tx_id] = tx
            committed = self._streams.get(stream_id, [])
            own = tx.staged.get(stream_id, [])
            current = [*committed, *own]
            version = len(current)
            if committed and committed[-1].tx_id > tx.tx_id:  # like the SQL's OW002
                raise ConcurrencyConflict(stream_id, expected, version)
            if expected != ANY_VERSION and expected != version:
                raise ConcurrencyConflict(stream_id, expected, version)
            for p in prepared:
                if p.event_id in self._by_id or any(r.event_id == p.event_id for s in tx.staged.values() for r in s):
                    raise DuplicateEventId(p.event_id, stream_id)
            previous = current[-1].hash if current else ZERO_HASH
            recorded = []
            for p in prepared:
                version += 1
                position = next(self._positions)
                digest = event_hash(
                    position=position,
                    stream_id=stream_id,
                    version=version,
                    event_id=p.event_id,
                    type=p.type,
                    schema_version=p.schema_version,
                    data_json=p.data_json,
                    metadata_json=p.metadata_json,
                    prev_hash=previous,
                )
                recorded.append(
                    RecordedEvent(
                        position=position,
                        tx_id=tx.tx_id,
                        stream_id=stream_id,
                        version=version,
                        event_id=p.event_id,
                        type=p.type,
                        schema_version=p.schema_version,
                        data=json.loads(p.data_json),
                        metadata=json.loads(p.metadata_json),
                        prev_hash=previous,
                        hash=digest,
                    )
                )
                previous = digest
            tx.staged.setdefault(stream_id, []).extend(recorded)
            return recorded

    # -- reading -----------------------------------------------------------------------

    def _stream(self, stream_id: str, conn: MemoryTransaction | None) -> list[RecordedEvent]:
        committed = self._streams.get(stream_id, [])
        own = conn.staged.get(stream_id, []) if conn is not None else []
        return [*committed, *own]

    def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        *,
        conn: MemoryTransaction | None = None,
    ) -> list[RecordedEvent]:
        """The events of one stream, by version, ``from_version`` onward."""
        check_stream_id(stream_id)
        upper = to_version if to_version is not None else 2**62
        with self._lock:
            found = [r for r in self._stream(stream_id, conn) if from_version <= r.version <= upper]
        return self._opened(found)

    def stream_version(self, stream_id: str, *, conn: MemoryTransaction | None = None) -> int:
        check_stream_id(stream_id)
        with self._lock:
            return len(self._stream(stream_id, conn))

    def _horizon_tx(self) -> int | None:
        return min(self._writing, default=None)

    def read_all(self, after: Cursor = START, limit: int = 500, *, conn: MemoryTransaction | None = None) -> Page:
        """The next committed events after ``after`` in commit-safe order, below the horizon."""
        with self._lock:
            horizon = self._horizon_tx()
            events = sorted(
                (r for r in self._committed if r.cursor > after and (horizon is None or r.tx_id < horizon)),
                key=lambda r: r.cursor,
            )[:limit]
        return Page(self._opened(events), events[-1].cursor if events else after)

    def iter_all(self, after: Cursor = START, page_size: int = 1000) -> Iterator[RecordedEvent]:
        """Every safely readable event after ``after``, page by page."""
        return every_event(self.read_all, after, page_size)

    def read_by_position(
        self, after_position: int = 0, limit: int = 1000, *, conn: MemoryTransaction | None = None
    ) -> list[RecordedEvent]:
        with self._lock:
            found = sorted((r for r in self._committed if r.position > after_position), key=lambda r: r.position)
        return self._opened(found[:limit])

    def events_by_id(self, event_ids: Sequence[str], *, conn: MemoryTransaction | None = None) -> list[RecordedEvent]:
        with self._lock:
            found = [self._by_id[str(i)] for i in event_ids if str(i) in self._by_id]
            if conn is not None:
                wanted = {str(i) for i in event_ids}
                found += [r for s in conn.staged.values() for r in s if r.event_id in wanted]
        return self._opened(found)

    def origin_correlation(self, stream_id: str, *, conn: MemoryTransaction | None = None) -> str | None:
        with self._lock:
            stream = self._stream(stream_id, conn)
        return stream[0].correlation_id if stream else None

    def by_correlation(self, correlation_id: str, *, conn: MemoryTransaction | None = None) -> list[RecordedEvent]:
        with self._lock:
            found = sorted((r for r in self._committed if r.correlation_id == correlation_id), key=lambda r: r.position)
        return self._opened(found)

    # -- personal data -----------------------------------------------------------------

    def _opened(self, records: list[RecordedEvent]) -> list[RecordedEvent]:
        if not self.open_sealed:
            return records
        subjects = sealed_subjects(records)
        return open_records(records, self.keys.fetch(subjects)) if subjects else records

    def open_records(
        self, records: Sequence[RecordedEvent], *, conn: MemoryTransaction | None = None
    ) -> list[RecordedEvent]:
        """Records of this store that came another way, sealed: opened with its keys."""
        records = list(records)
        subjects = sealed_subjects(records)
        return open_records(records, self.keys.fetch(subjects)) if subjects else records

    def forget_subject(self, subject: str, *, conn: MemoryTransaction | None = None) -> bool:
        """Delete ``subject``'s key: everything sealed under it reads as erased from now on.

        Within a transaction, when it commits (as PostgreSQL's delete would take effect).
        """
        if conn is None:
            return self.keys.delete(subject)

        def forget() -> None:
            self.keys.delete(subject)

        conn.on_commit.append(forget)
        return subject in self.keys

    def horizon(self) -> Horizon:
        with self._lock:
            oldest = self._horizon_tx()
            if oldest is None:
                return Horizon(0, 0.0)
            behind = sum(1 for r in self._committed if r.tx_id >= oldest)
            return Horizon(behind, time.monotonic() - self._writing[oldest].started)


class InMemorySnapshotStore:
    """Snapshots in memory; within a transaction, saved only when it commits."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, int, str], tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def latest(
        self, stream_id: str, state_version: int, fingerprint: str, *, conn: MemoryTransaction | None = None
    ) -> tuple[int, dict[str, Any]] | None:
        key = (stream_id, state_version, fingerprint)
        staged = conn.local.get((self, key)) if conn is not None else None
        with self._lock:
            found = staged or self._rows.get(key)
        return (found[0], json.loads(json.dumps(found[1]))) if found else None

    def save(
        self,
        stream_id: str,
        state_version: int,
        fingerprint: str,
        version: int,
        state: dict[str, Any],
        *,
        conn: MemoryTransaction | None = None,
    ) -> None:
        key = (stream_id, state_version, fingerprint)
        row = (version, json.loads(json.dumps(state)))
        if conn is None:
            self._put(key, row)
            return
        conn.local[(self, key)] = row
        conn.on_commit.append(lambda: self._put(key, row))

    def _put(self, key: tuple[str, int, str], row: tuple[int, dict[str, Any]]) -> None:
        with self._lock:
            current = self._rows.get(key)
            if current is None or current[0] < row[0]:
                self._rows[key] = row
