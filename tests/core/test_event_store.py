"""The PostgreSQL event store: the store contract, and what only a real database shows.

``TestPostgresEventStore`` runs the whole contract (``store_contract``); the
tests below it are PostgreSQL's own: triggers that keep the log append-only,
real concurrent writers and a follower that must never skip, the pool.
"""

from __future__ import annotations

import random
from typing import Any

import eventlet
import psycopg2
import pytest

from shared.db.database import Database, dsn_for_database, fetch_one
from shared.errors import ConcurrencyConflict, ValidationFailed
from shared.eventstore.records import ANY_VERSION, START, Cursor, Metadata, NewEvent
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore
from tests.core.store_contract import EventStoreContract, StoreUnderTest

META = Metadata(actor="tester", reason="test")


@pytest.fixture
def store(database: Database, schema: str) -> EventStore:
    return EventStore(database, schema)


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def subject(self, database: Database, schema: str) -> StoreUnderTest:
        return StoreUnderTest(EventStore(database, schema), SnapshotStore(database, schema), database.transaction)


def test_many_writers_on_one_stream_exactly_one_wins_each_version(store: EventStore) -> None:
    wins: list[int] = []
    conflicts = 0

    def writer(n: int) -> None:
        nonlocal conflicts
        for _ in range(15):
            version = store.stream_version("race-1")
            try:
                store.append("race-1", [NewEvent("Bumped", {"writer": n})], version, META)
                wins.append(version + 1)
            except ConcurrencyConflict:
                conflicts += 1
            eventlet.sleep(0)

    pool = eventlet.GreenPool(8)
    for n in range(8):
        pool.spawn(writer, n)
    pool.waitall()

    stored = store.read_stream("race-1")
    assert sorted(wins) == list(range(1, len(wins) + 1)), "each version won exactly once"
    assert [r.version for r in stored] == list(range(1, len(wins) + 1))
    assert conflicts > 0, "the writers did collide"
    assert conflicts + len(wins) == 8 * 15


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {events} SET data = '{{}}'",
        "DELETE FROM {events}",
        "TRUNCATE {events}",
    ],
)
def test_the_log_refuses_update_delete_and_truncate(
    database: Database, schema: str, store: EventStore, statement: str
) -> None:
    store.append("ticket-1", [NewEvent("Opened", {"a": 1})], 0, META)
    with pytest.raises(psycopg2.Error, match="append-only"), database.transaction() as conn, conn.cursor() as cur:
        cur.execute(statement.format(events=f'"{schema}".events'))
    assert store.read_stream("ticket-1")[0].data == {"a": 1}


def test_metadata_is_validated() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Metadata(actor="", correlation_id="nope")
    assert set(caught.value.errors) == {"metadata.actor", "metadata.correlation_id"}


def test_concurrent_writers_and_a_follower_see_every_event_once_in_the_final_order(
    database: Database, schema: str, store: EventStore
) -> None:
    """Many writers on many streams, holding their transactions open for random
    moments, while a reader follows the global order: it must see every event
    exactly once, in the order a reader starting afresh at the end sees."""
    writers, appends_each = 8, 25
    done = eventlet.event.Event()
    seen: list[tuple[int, int]] = []

    def writer(n: int) -> None:
        rng = random.Random(n)
        for i in range(appends_each):
            with database.transaction() as tx:
                store.append(f"stream-{n}_{i % 3}", [NewEvent("Noted", {"n": n, "i": i})], ANY_VERSION, META, conn=tx)
                eventlet.sleep(rng.uniform(0, 0.02))

    def follower() -> None:
        cursor = START
        while True:
            finished = done.ready()
            page = store.read_all(cursor, limit=7)
            seen.extend((e.tx_id, e.position) for e in page.events)
            cursor = page.next_cursor
            if finished and not page.events:
                return
            eventlet.sleep(0.001)

    reader = eventlet.spawn(follower)
    pool = eventlet.GreenPool(writers)
    for n in range(writers):
        pool.spawn(writer, n)
    pool.waitall()
    done.send()
    reader.wait()

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT tx_id::text::bigint, position FROM "{schema}".events ORDER BY tx_id, position')
        final = [tuple(row) for row in cur.fetchall()]
    assert len(final) == writers * appends_each
    assert len(seen) == len(set(seen)), "no event twice"
    missed = sorted(set(final) - set(seen))
    assert not missed, f"the follower skipped {len(missed)} of {len(final)} events"
    assert seen == final, "every event, in the final order"


def test_cursors_round_trip_as_text() -> None:
    assert Cursor.parse(str(Cursor(12, 34))) == Cursor(12, 34)


def test_the_pool_reuses_its_connections(database: Database) -> None:
    pids = set()
    for _ in range(5):
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pids.add(fetch_one(cur)[0])
    assert len(pids) == 1


def test_unrelated_transactions_anywhere_on_the_server_do_not_hold_back_the_read(
    test_env: Any, database: Database, schema: str, store: EventStore
) -> None:
    """pg_snapshot_xmin is held back by any transaction with an id, in any database; the
    store's horizon waits for event writers only (finding 4 of the hardening issue)."""
    elsewhere = psycopg2.connect(dsn_for_database(test_env.database_url, "postgres"))
    try:
        with elsewhere.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id()")  # another database: an id, held open
        with database.connection() as here, here.cursor() as cur:
            cur.execute(f'INSERT INTO "{schema}".rate_limits (key, window_start, hits) VALUES (%s, now(), 1)', ["k"])
            store.append("ticket-1", [NewEvent("Opened", {})], 0, META)  # committed meanwhile
            assert [e.stream_id for e in store.read_all(START).events] == ["ticket-1"]
            assert store.horizon().events_behind == 0
            here.rollback()
    finally:
        elsewhere.rollback()
        elsewhere.close()


def test_a_transaction_that_wrote_before_it_became_an_event_writer_cannot_append(
    database: Database, schema: str, store: EventStore
) -> None:
    with pytest.raises(psycopg2.Error, match="event writer"), database.transaction() as tx, tx.cursor() as cur:
        cur.execute(f'INSERT INTO "{schema}".rate_limits (key, window_start, hits) VALUES (%s, now(), 1)', ["k"])
        store.append("ticket-1", [NewEvent("Opened", {})], 0, META, conn=tx)
    with database.transaction() as tx, tx.cursor() as cur:
        store.begin_writing(tx)  # the way to do it: become a writer first, then write anything
        cur.execute(f'INSERT INTO "{schema}".rate_limits (key, window_start, hits) VALUES (%s, now(), 1)', ["k"])
        store.append("ticket-1", [NewEvent("Opened", {})], 0, META, conn=tx)
    assert store.stream_version("ticket-1") == 1
