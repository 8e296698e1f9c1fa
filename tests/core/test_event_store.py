"""The event store against a real PostgreSQL: appends, reads, concurrency, integrity."""

from __future__ import annotations

import itertools
import random
import uuid

import eventlet
import psycopg2
import pytest

from shared.db.database import Database
from shared.errors import ConcurrencyConflict, DuplicateEventId, ValidationFailed
from shared.eventstore.hashing import recompute_hash
from shared.eventstore.records import ANY_VERSION, START, ZERO_HASH, Cursor, Metadata, NewEvent
from shared.eventstore.store import EventStore

META = Metadata(actor="tester", reason="test")


@pytest.fixture
def store(database: Database, schema: str) -> EventStore:
    return EventStore(database, schema)


def count_events(database: Database, schema: str) -> int:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{schema}".events')
        return cur.fetchone()[0]


def test_append_and_read_a_stream(store: EventStore) -> None:
    recorded = store.append(
        "ticket-1", [NewEvent("Opened", {"title": "x"}), NewEvent("Closed", {"why": "done"})], 0, META
    )
    assert [r.version for r in recorded] == [1, 2]
    assert recorded[0].position < recorded[1].position
    assert recorded[0].tx_id == recorded[1].tx_id

    read = store.read_stream("ticket-1")
    assert [(r.type, r.data) for r in read] == [("Opened", {"title": "x"}), ("Closed", {"why": "done"})]
    assert read[0].metadata["actor"] == "tester"
    assert read[0].metadata["service"] == store.service
    assert "recorded_at" in read[0].metadata
    assert store.read_stream("ticket-1", from_version=2)[0].type == "Closed"
    assert store.stream_version("ticket-1") == 2
    assert store.stream_version("ticket-2") == 0


def test_a_conflict_names_the_stream_and_both_versions(store: EventStore) -> None:
    store.append("ticket-1", [NewEvent("Opened", {})], 0, META)
    with pytest.raises(ConcurrencyConflict) as caught:
        store.append("ticket-1", [NewEvent("Opened", {})], 0, META)
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("ticket-1", 0, 1)
    assert "ticket-1" in str(caught.value) and "expected version 0" in str(caught.value)


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


def test_appending_the_same_events_again_is_idempotent(database: Database, schema: str, store: EventStore) -> None:
    events = [NewEvent("Opened", {"a": 1}), NewEvent("Noted", {"b": 2})]
    first = store.append("ticket-1", events, 0, META)
    again = store.append("ticket-1", events, 0, META)  # a retry after a lost reply
    assert [r.event_id for r in again] == [r.event_id for r in first]
    assert [r.position for r in again] == [r.position for r in first]
    assert count_events(database, schema) == 2


def test_the_same_event_id_with_other_content_is_refused(database: Database, schema: str, store: EventStore) -> None:
    event = NewEvent("Opened", {"a": 1})
    store.append("ticket-1", [event], 0, META)
    forged = NewEvent("Opened", {"a": 2}, event_id=event.event_id)
    with pytest.raises(DuplicateEventId) as caught:
        store.append("ticket-1", [forged], 0, META)
    assert caught.value.event_id == str(event.event_id)
    with pytest.raises(DuplicateEventId):
        store.append("ticket-2", [forged], 0, META)
    assert count_events(database, schema) == 1


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


def test_the_hash_chain_is_continuous_from_the_first_event(store: EventStore) -> None:
    for i in range(3):
        store.append("ticket-1", [NewEvent("Noted", {"i": i}), NewEvent("Noted", {"i": -i})], ANY_VERSION, META)
    store.append("ticket-2", [NewEvent("Opened", {"x": 1.5, "big": 1e16, "text": "公示 ✓"})], 0, META)

    for stream in ("ticket-1", "ticket-2"):
        records = store.read_stream(stream)
        assert records[0].prev_hash == ZERO_HASH
        for previous, record in itertools.pairwise(records):
            assert record.prev_hash == previous.hash
        for record in records:
            assert recompute_hash(record) == record.hash, f"{stream} v{record.version}"


@pytest.mark.parametrize(
    ("stream_id", "events", "field"),
    [
        ("no category", [NewEvent("Opened", {})], "stream_id"),
        ("Ticket-1", [NewEvent("Opened", {})], "stream_id"),
        ("ticket-", [NewEvent("Opened", {})], "stream_id"),
        ("ticket-1", [], "events"),
        ("ticket-1", [NewEvent("opened", {})], "events[0].type"),
        ("ticket-1", [NewEvent("Opened", {"x": float("nan")})], "events[0].data.x"),
        ("ticket-1", [NewEvent("Opened", {"x": "a\x00b"})], "events[0].data.x"),
        ("ticket-1", [NewEvent("Opened", {"x": {"y": object()}})], "events[0].data.x.y"),
        ("ticket-1", [NewEvent("Opened", ["not", "an", "object"])], "events[0].data"),  # type: ignore[arg-type]
        ("ticket-1", [NewEvent("Opened", {}, event_id="not-a-uuid")], "events[0].event_id"),
        (
            "ticket-1",
            [NewEvent("Opened", {}), NewEvent("Noted", {"ok": 1}, schema_version=0)],
            "events[1].schema_version",
        ),
    ],
)
def test_malformed_input_gets_a_clear_error_and_nothing_is_written(
    database: Database, schema: str, store: EventStore, stream_id: str, events: list[NewEvent], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        store.append(stream_id, events, 0, META)
    assert field in caught.value.errors, caught.value.errors
    assert count_events(database, schema) == 0


def test_an_event_id_repeated_within_one_append_is_refused(database: Database, schema: str, store: EventStore) -> None:
    event_id = uuid.uuid4()
    with pytest.raises(ValidationFailed) as caught:
        store.append("ticket-1", [NewEvent("A", {}, event_id=event_id), NewEvent("B", {}, event_id=event_id)], 0, META)
    assert "events[1].event_id" in caught.value.errors
    assert count_events(database, schema) == 0


def test_metadata_is_validated() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Metadata(actor="", correlation_id="nope")
    assert set(caught.value.errors) == {"metadata.actor", "metadata.correlation_id"}


def test_reading_everything_in_pages(store: EventStore) -> None:
    for i in range(7):
        store.append(f"ticket-{i}", [NewEvent("Opened", {"i": i})], 0, META)
    page = store.read_all(START, limit=3)
    assert [e.data["i"] for e in page.events] == [0, 1, 2]
    page = store.read_all(page.next_cursor, limit=3)
    assert [e.data["i"] for e in page.events] == [3, 4, 5]
    page = store.read_all(page.next_cursor, limit=3)
    assert [e.data["i"] for e in page.events] == [6]
    assert store.read_all(page.next_cursor).events == []
    assert [e.data["i"] for e in store.iter_all(page_size=2)] == list(range(7))


def test_an_open_transaction_holds_back_the_horizon_and_the_skip_it_would_cause(
    database: Database, store: EventStore
) -> None:
    """The classic skipped-event bug, step by step, and why the store does not have it.

    T1 takes position 1 and stays open; T2 takes position 2 and commits. A reader
    that follows positions sees 2, moves on, and never sees 1. The store's reader
    sees nothing until T1 ends, then 1 and 2 in order.
    """
    with database.connection() as t1:
        store.append("slow-1", [NewEvent("Opened", {})], 0, META, conn=t1)  # T1: open
        store.append("fast-1", [NewEvent("Opened", {})], 0, META)  # T2: committed

        naive = store.read_by_position(0)
        assert [e.stream_id for e in naive] == ["fast-1"]
        naive_checkpoint = naive[-1].position

        assert store.read_all(START).events == [], "T2 waits behind T1's horizon"
        horizon = store.horizon()
        assert horizon.events_behind == 1
        assert horizon.oldest_writer_seconds >= 0
        t1.commit()

    assert store.read_by_position(naive_checkpoint) == [], "the naive reader skipped slow-1 for good"
    assert [e.stream_id for e in store.read_all(START).events] == ["slow-1", "fast-1"]
    assert store.horizon().events_behind == 0


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


def test_a_stream_keeps_version_order_in_the_commit_safe_order(database: Database, store: EventStore) -> None:
    """B takes its transaction id first; A appends v2 and commits; B's v3 would
    then sort before v2 in (tx_id, position) order. The store refuses it, and
    the retry, in a newer transaction, lands after v2."""
    store.append("order-1", [NewEvent("Opened", {})], 0, META)
    with database.connection() as b:
        store.append("other-1", [NewEvent("Opened", {})], 0, META, conn=b)  # B now has its id
        store.append("order-1", [NewEvent("Noted", {"by": "A"})], 1, META)  # A: newer id, commits first
        with pytest.raises(ConcurrencyConflict):
            store.append("order-1", [NewEvent("Noted", {"by": "B"})], 2, META, conn=b)
        b.rollback()
    store.append("order-1", [NewEvent("Noted", {"by": "B"})], 2, META)  # the retry
    in_order = [e.version for e in store.iter_all() if e.stream_id == "order-1"]
    assert in_order == [1, 2, 3]


def test_the_pool_reuses_its_connections(database: Database) -> None:
    pids = set()
    for _ in range(5):
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pids.add(cur.fetchone()[0])
    assert len(pids) == 1
