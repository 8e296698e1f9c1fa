"""The in-memory event store keeps the same contract as PostgreSQL's (``store_contract``)."""

from __future__ import annotations

import pytest

from shared.eventstore.memory import InMemoryEventStore, InMemorySnapshotStore
from tests.core.store_contract import EventStoreContract, StoreUnderTest


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def subject(self) -> StoreUnderTest:
        store = InMemoryEventStore("tickets")
        return StoreUnderTest(store, InMemorySnapshotStore(), store.transaction)
