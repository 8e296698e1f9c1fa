"""A unit of work in memory: the service layers' use cases, tested with no database or broker.

It keeps the PostgreSQL unit of work's contract (``UnitOfWorkBase`` is shared)
over ``InMemoryEventStore``: transactions that nest and commit or roll back as
a whole, optimistic concurrency, the same metadata on every event. Read models
live in PostgreSQL, so ``query`` and ``execute`` are refused here: a use case
that needs one is given what it would have read (see ``shared.application.sweeps``).
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any

from shared.application.calendars import CalendarBook
from shared.application.unit_of_work import UnitOfWorkBase, Writer
from shared.domain import EventRegistry
from shared.domain.calendar import ManualClock, OrganisationCalendar
from shared.eventstore.memory import InMemoryEventStore, InMemorySnapshotStore, MemoryTransaction
from shared.eventstore.records import RecordedEvent

DEFAULT_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday morning


class InMemoryUnitOfWork(UnitOfWorkBase):
    """One service's aggregates in memory, on a clock that moves only when told.

    ``events`` lists everything committed, in order, for tests to look at.
    Units given the same ``store`` and ``snapshots`` are workers of one service
    (give them the same ``calendars`` too, to share its calendar as a container does).
    """

    clock: ManualClock
    store: InMemoryEventStore
    snapshots: InMemorySnapshotStore

    def __init__(
        self,
        service: str,
        registry: EventRegistry,
        clock: ManualClock | None = None,
        context: dict[str, Any] | None = None,
        store: InMemoryEventStore | None = None,
        snapshots: InMemorySnapshotStore | None = None,
        calendar: OrganisationCalendar | None = None,
        calendars: CalendarBook | None = None,
    ) -> None:
        clock = clock or ManualClock(DEFAULT_START)
        super().__init__(service, registry, clock, context, calendar, calendars)
        self.store = store or InMemoryEventStore(service, clock=clock.now)
        self.snapshots = snapshots or InMemorySnapshotStore()

    @property
    def events(self) -> list[RecordedEvent]:
        return list(self.store.read_by_position(0, 2**31))

    def events_of(self, stream_id: str) -> list[RecordedEvent]:
        return self.store.read_stream(stream_id)

    # -- transactions ------------------------------------------------------------------

    def _begin(self) -> MemoryTransaction:
        return self.store.begin()

    def _commit(self, tx: MemoryTransaction) -> None:
        tx.commit()

    def _rollback(self, tx: MemoryTransaction) -> None:
        tx.rollback()

    # -- stores --------------------------------------------------------------------------

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        raise NotImplementedError("read models live in PostgreSQL: give the use case what it would read")

    def execute(self, statement: str, params: Any = ()) -> None:
        raise NotImplementedError("tables other than the event log live in PostgreSQL")

    def apart(self) -> AbstractContextManager[Writer]:
        raise NotImplementedError("tables other than the event log live in PostgreSQL")
