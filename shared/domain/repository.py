"""Loading and saving aggregates: the latest usable snapshot, then later events.

The repository speaks to the store through the two small protocols below, so
that the domain layer never imports a database driver. ``conn`` is passed
through untouched: with it, a load and a save join the caller's transaction
(an event handler commits its effects and its inbox record together).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

from shared.domain.aggregate import Aggregate
from shared.domain.events import EventRegistry
from shared.errors import NotFound
from shared.eventstore.records import Metadata, NewEvent, RecordedEvent

A = TypeVar("A", bound=Aggregate)


class EventLog(Protocol):
    def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int, metadata: Metadata, *, conn: Any = None
    ) -> list[RecordedEvent]: ...

    def read_stream(
        self, stream_id: str, from_version: int = 1, to_version: int | None = None, *, conn: Any = None
    ) -> list[RecordedEvent]: ...


class Snapshots(Protocol):
    def latest(
        self, stream_id: str, state_version: int, fingerprint: str, *, conn: Any = None
    ) -> tuple[int, dict[str, Any]] | None: ...

    def save(
        self,
        stream_id: str,
        state_version: int,
        fingerprint: str,
        version: int,
        state: dict[str, Any],
        *,
        conn: Any = None,
    ) -> None: ...


class Repository(Generic[A]):
    """Aggregates of one type, kept in one service's event log."""

    def __init__(
        self,
        aggregate: type[A],
        log: EventLog,
        registry: EventRegistry,
        snapshots: Snapshots | None = None,
    ) -> None:
        self.aggregate = aggregate
        self.log = log
        self.registry = registry
        self.snapshots = snapshots if aggregate.snapshot_every > 0 else None

    def stream_id(self, aggregate_id: str) -> str:
        return f"{self.aggregate.category}-{aggregate_id}"

    def load(self, aggregate_id: str, *, conn: Any = None, use_snapshot: bool = True) -> A:
        """The aggregate as of its last event; ``NotFound`` when it has none."""
        aggregate = self.load_or_new(aggregate_id, conn=conn, use_snapshot=use_snapshot)
        if aggregate.version == 0:
            raise NotFound(self.aggregate.category, aggregate_id)
        return aggregate

    def load_or_new(self, aggregate_id: str, *, conn: Any = None, use_snapshot: bool = True) -> A:
        stream_id = self.stream_id(aggregate_id)
        aggregate: A = self.aggregate(aggregate_id)
        if self.snapshots is not None and use_snapshot:
            found = self.snapshots.latest(
                stream_id, self.aggregate.state_version, self.aggregate.state_fingerprint(), conn=conn
            )
            if found is not None:
                version, state = found
                aggregate = self.aggregate.from_snapshot(aggregate_id, version, state)  # type: ignore[assignment]
        for record in self.log.read_stream(stream_id, aggregate.version + 1, conn=conn):
            aggregate.apply(self.registry.from_record(record))
        return aggregate

    def save(self, aggregate: A, metadata: Metadata, *, conn: Any = None) -> list[RecordedEvent]:
        """Append the aggregate's new events, expecting nobody appended since it was loaded."""
        pending = aggregate.pending_events
        if not pending:
            return []
        new_events = [self.registry.to_new_event(event, aggregate_id=aggregate.id) for event in pending]
        expected = aggregate.version - len(pending)
        recorded = self.log.append(aggregate.stream_id, new_events, expected, metadata, conn=conn)
        aggregate.mark_saved()
        every = self.aggregate.snapshot_every
        if self.snapshots is not None and aggregate.version // every > expected // every:
            self.snapshots.save(
                aggregate.stream_id,
                self.aggregate.state_version,
                self.aggregate.state_fingerprint(),
                aggregate.version,
                aggregate.snapshot_state(),
                conn=conn,
            )
        return recorded
