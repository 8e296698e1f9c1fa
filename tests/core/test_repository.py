"""Repositories over the real store: load, save, snapshots, and a changed model."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shared.db.database import Database
from shared.domain import Repository
from shared.errors import ConcurrencyConflict, NotFound
from shared.eventstore.records import Metadata
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore
from tests.support.tickets import Ticket, TicketState, registry

META = Metadata(actor="tester")


@pytest.fixture
def repository(database: Database, schema: str) -> Repository[Ticket]:
    return Repository(Ticket, EventStore(database, schema), registry, SnapshotStore(database, schema))


def snapshot_rows(database: Database, schema: str) -> list[tuple]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT stream_id, version, state_version, fingerprint FROM "{schema}".snapshots')
        return cur.fetchall()


def test_save_and_load(repository: Repository[Ticket]) -> None:
    ticket = Ticket("1")
    ticket.open("Lamp")
    recorded = repository.save(ticket, META)
    assert [r.type for r in recorded] == ["TicketOpened"]
    assert ticket.pending_events == []
    loaded = repository.load("1")
    assert loaded == ticket
    with pytest.raises(NotFound):
        repository.load("2")


def test_two_copies_of_one_aggregate_cannot_both_save(repository: Repository[Ticket]) -> None:
    ticket = Ticket("1")
    ticket.open("Lamp")
    repository.save(ticket, META)
    first, second = repository.load("1"), repository.load("1")
    first.note("a")
    second.note("b")
    repository.save(first, META)
    with pytest.raises(ConcurrencyConflict) as caught:
        repository.save(second, META)
    assert (caught.value.expected, caught.value.actual) == (1, 2)


def test_snapshots_are_taken_every_n_events_and_used(
    database: Database, schema: str, repository: Repository[Ticket]
) -> None:
    ticket = Ticket("1")
    ticket.open("Lamp")
    for i in range(11):
        ticket.note(f"n{i}")
        repository.save(ticket, META)
    rows = snapshot_rows(database, schema)
    assert [(r[0], r[1]) for r in rows] == [("ticket-1", 10)]
    assert repository.load("1") == repository.load("1", use_snapshot=False)


def test_a_changed_model_ignores_old_snapshots(database: Database, schema: str) -> None:
    store, snapshots = EventStore(database, schema), SnapshotStore(database, schema)
    repository = Repository(Ticket, store, registry, snapshots)
    ticket = Ticket("1")
    ticket.open("Lamp")
    ticket.note(*[f"n{i}" for i in range(6)])
    repository.save(ticket, META)
    # Corrupt the stored snapshot: if it were used, the loaded state would show it.
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f"""UPDATE "{schema}".snapshots SET state = jsonb_set(state, '{{title}}', '"from snapshot"')""")
    assert repository.load("1").state.title == "from snapshot", "same model: the snapshot is used"

    class TicketV2(Ticket):
        state_version = 2  # same shape, new meaning

    assert Repository(TicketV2, store, registry, snapshots).load("1").state.title == "Lamp"

    @dataclass
    class WiderState(TicketState):
        tags: list[str] = field(default_factory=list)

    class TicketWider(Ticket):
        State = WiderState  # new shape: a new fingerprint

    assert TicketWider.state_fingerprint() != Ticket.state_fingerprint()
    assert Repository(TicketWider, store, registry, snapshots).load("1").state.title == "Lamp"
