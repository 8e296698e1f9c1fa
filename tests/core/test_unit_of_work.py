"""Both units of work keep one contract (``uow_contract``): PostgreSQL's and the in-memory one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2
import pytest

from shared.application import Author
from shared.application.memory import DEFAULT_START, InMemoryUnitOfWork
from shared.application.postgres import PostgresUnitOfWork, TransactionAborted
from shared.application.unit_of_work import UnitOfWorkBase
from shared.db.database import Database
from shared.domain.calendar import ManualClock
from shared.eventstore.memory import InMemoryEventStore, InMemorySnapshotStore
from tests.core.uow_contract import MakeUnit, UnitOfWorkContract
from tests.support.tickets import Ticket, registry


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def units(self) -> MakeUnit:
        store, snapshots = InMemoryEventStore("tickets"), InMemorySnapshotStore()
        return lambda: InMemoryUnitOfWork("tickets", registry, store=store, snapshots=snapshots)


class TestPostgresUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def units(self, database: Database, schema: str) -> Iterator[MakeUnit]:
        made: list[PostgresUnitOfWork] = []
        clock = ManualClock(DEFAULT_START)

        def make() -> UnitOfWorkBase:
            unit = PostgresUnitOfWork(database, schema, registry, clock)
            made.append(unit)
            return unit

        yield make
        for unit in made:
            unit.close()


def test_a_caught_database_error_stops_the_commit_instead_of_losing_the_work_silently(
    database: Database, schema: str
) -> None:
    """PostgreSQL turns a COMMIT after a failed statement into a ROLLBACK; the unit of work says so."""
    unit = PostgresUnitOfWork(database, schema, registry, ManualClock(DEFAULT_START))
    try:
        with pytest.raises(TransactionAborted), unit.transaction():
            unit.create(Ticket, "1", lambda t: t.open("Lamp"), Author("clerk Li"))
            with contextlib.suppress(psycopg2.Error):
                unit.query("SELECT 1 / 0")
        assert unit.load_or_new(Ticket, "1").version == 0, "nothing was committed"
        unit.create(Ticket, "1", lambda t: t.open("Lamp"), Author("clerk Li"))  # and the unit works on
        assert unit.load(Ticket, "1").version == 1
    finally:
        unit.close()
