"""Both units of work keep one contract (``uow_contract``): PostgreSQL's and the in-memory one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.application.memory import DEFAULT_START, InMemoryUnitOfWork
from shared.application.postgres import PostgresUnitOfWork
from shared.application.unit_of_work import UnitOfWorkBase
from shared.db.database import Database
from shared.domain.calendar import ManualClock
from shared.eventstore.memory import InMemoryEventStore, InMemorySnapshotStore
from tests.core.uow_contract import MakeUnit, UnitOfWorkContract
from tests.support.tickets import registry


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
