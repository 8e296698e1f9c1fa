"""The event store's contract: one suite, run unchanged against every store.

``EventStoreContract`` holds the tests; a store's test module subclasses it
once (``TestPostgresEventStore``, ``TestInMemoryEventStore``) and provides the
``subject`` fixture: the store, its snapshots, and how to open a transaction
on it. What the contract covers: appends and their validation, idempotency by
event id, optimistic concurrency, reading a stream, the global read in
commit-safe order (never skipping what an open transaction will commit),
transactions, the hash chain, and snapshots. (Modelled on
``eventsourcing/tests/persistence.py``, which is subclassed once per recorder.)
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from shared.errors import ConcurrencyConflict, DuplicateEventId, ValidationFailed
from shared.eventstore.hashing import event_hash, normalise, recompute_hash, reference_text
from shared.eventstore.records import ANY_VERSION, START, ZERO_HASH, Metadata, NewEvent, RecordedEvent

META = Metadata(actor="tester", reason="test")


@dataclass
class StoreUnderTest:
    """A store, its snapshot store, and a way to run a transaction on them (commit, or roll back on error)."""

    log: Any
    snapshots: Any
    transaction: Callable[[], AbstractContextManager[Any]]

    def count(self) -> int:
        return len(self.log.read_by_position(0, 100_000))


class EventStoreContract:
    """Subclass once per store, with a ``subject`` fixture giving a ``StoreUnderTest`` on an empty store."""

    # -- appending and reading a stream ------------------------------------------------

    def test_append_and_read_a_stream(self, subject: StoreUnderTest) -> None:
        store = subject.log
        recorded = store.append(
            "ticket-1", [NewEvent("Opened", {"title": "x"}), NewEvent("Closed", {"why": "done"})], 0, META
        )
        assert [r.version for r in recorded] == [1, 2]
        assert recorded[0].position < recorded[1].position
        assert recorded[0].tx_id == recorded[1].tx_id

        read = store.read_stream("ticket-1")
        assert [(r.type, r.data) for r in read] == [("Opened", {"title": "x"}), ("Closed", {"why": "done"})]
        assert read[0].metadata["actor"] == "tester" and read[0].metadata["reason"] == "test"
        assert read[0].metadata["service"] == store.service
        assert "recorded_at" in read[0].metadata
        assert [r.type for r in store.read_stream("ticket-1", from_version=2)] == ["Closed"]
        assert [r.type for r in store.read_stream("ticket-1", to_version=1)] == ["Opened"]
        assert store.stream_version("ticket-1") == 2
        assert store.stream_version("ticket-2") == 0
        assert store.read_stream("ticket-2") == []

    def test_any_version_appends_at_the_end(self, subject: StoreUnderTest) -> None:
        store = subject.log
        store.append("ticket-1", [NewEvent("Opened", {})], 0, META)
        recorded = store.append("ticket-1", [NewEvent("Noted", {})], ANY_VERSION, META)
        assert recorded[0].version == 2

    # -- concurrency and idempotency -------------------------------------------------------

    def test_a_conflict_names_the_stream_and_both_versions(self, subject: StoreUnderTest) -> None:
        store = subject.log
        store.append("ticket-1", [NewEvent("Opened", {})], 0, META)
        with pytest.raises(ConcurrencyConflict) as caught:
            store.append("ticket-1", [NewEvent("Opened", {})], 0, META)
        assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("ticket-1", 0, 1)
        with pytest.raises(ConcurrencyConflict) as caught:
            store.append("ticket-1", [NewEvent("Noted", {})], 3, META)
        assert (caught.value.expected, caught.value.actual) == (3, 1)
        assert subject.count() == 1

    def test_appending_the_same_events_again_is_idempotent(self, subject: StoreUnderTest) -> None:
        store = subject.log
        events = [NewEvent("Opened", {"a": 1}), NewEvent("Noted", {"b": 2})]
        first = store.append("ticket-1", events, 0, META)
        again = store.append("ticket-1", events, 0, META)  # a retry after a lost reply
        assert [r.event_id for r in again] == [r.event_id for r in first]
        assert [r.position for r in again] == [r.position for r in first]
        assert subject.count() == 2

    def test_the_same_event_id_with_other_content_is_refused(self, subject: StoreUnderTest) -> None:
        store = subject.log
        event = NewEvent("Opened", {"a": 1})
        store.append("ticket-1", [event], 0, META)
        forged = NewEvent("Opened", {"a": 2}, event_id=event.event_id)
        with pytest.raises(DuplicateEventId) as caught:
            store.append("ticket-1", [forged], 0, META)
        assert caught.value.event_id == str(event.event_id)
        with pytest.raises(DuplicateEventId):
            store.append("ticket-2", [forged], 0, META)
        assert subject.count() == 1

    # -- validation ----------------------------------------------------------------------------

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
            ("ticket-1", [NewEvent("Opened", {"x": "y" * (256 * 1024)})], "events[0].data"),
            (
                "ticket-1",
                [NewEvent("Opened", {}), NewEvent("Noted", {"ok": 1}, schema_version=0)],
                "events[1].schema_version",
            ),
        ],
    )
    def test_malformed_input_gets_a_clear_error_and_nothing_is_written(
        self, subject: StoreUnderTest, stream_id: str, events: list[NewEvent], field: str
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            subject.log.append(stream_id, events, 0, META)
        assert field in caught.value.errors, caught.value.errors
        assert subject.count() == 0

    def test_an_event_id_repeated_within_one_append_is_refused(self, subject: StoreUnderTest) -> None:
        event_id = uuid.uuid4()
        with pytest.raises(ValidationFailed) as caught:
            subject.log.append(
                "ticket-1", [NewEvent("A", {}, event_id=event_id), NewEvent("B", {}, event_id=event_id)], 0, META
            )
        assert "events[1].event_id" in caught.value.errors
        assert subject.count() == 0

    # -- the hash chain ------------------------------------------------------------------------

    def test_the_hash_chain_is_continuous_from_the_first_event(self, subject: StoreUnderTest) -> None:
        store = subject.log
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

    def test_single_and_batched_appends_chain_alike_and_hash_what_is_stored(self, subject: StoreUnderTest) -> None:
        """One event goes through its own path (``append_event``), several through another: one chain.

        The payloads include what the fast canonical encoder hands to the
        standard library (small floats, integers beyond 64 bits): the stored
        hash must be the one the standard library's text gives, from what is read.
        """
        store = subject.log
        small, huge = {"tiny": 1e-05, "tinier": -1.5e-07}, {"huge": 2**70, "text": "re-do \u2028 \x01"}
        store.append("ticket-1", [NewEvent("Opened", small)], 0, META)
        store.append("ticket-1", [NewEvent("Noted", {"i": 2})], 1, META)
        store.append("ticket-1", [NewEvent("Noted", {"i": 3}), NewEvent("Noted", {"i": 4})], 2, META)
        store.append("ticket-1", [NewEvent("Noted", {"i": 5})], ANY_VERSION, META)
        store.append("ticket-2", [NewEvent("Opened", huge), NewEvent("Noted", small)], 0, META)
        with pytest.raises(ConcurrencyConflict):
            store.append("ticket-1", [NewEvent("Noted", {"i": 6})], 4, META)
        for stream, versions in (("ticket-1", [1, 2, 3, 4, 5]), ("ticket-2", [1, 2])):
            records = store.read_stream(stream)
            assert [record.version for record in records] == versions
            assert records[0].prev_hash == ZERO_HASH
            for previous, record in itertools.pairwise(records):
                assert record.prev_hash == previous.hash
            for record in records:
                assert _reference_hash(record) == record.hash, f"{stream} v{record.version}"
        assert [record.data for record in store.read_stream("ticket-2")] == [huge, small]

    # -- transactions ----------------------------------------------------------------------------

    def test_a_transaction_commits_all_its_appends_or_none(self, subject: StoreUnderTest) -> None:
        store = subject.log
        with subject.transaction() as tx:
            store.append("ticket-1", [NewEvent("Opened", {})], 0, META, conn=tx)
            store.append("ticket-2", [NewEvent("Opened", {})], 0, META, conn=tx)
            assert store.stream_version("ticket-1", conn=tx) == 1, "a transaction sees its own appends"
            assert store.stream_version("ticket-1") == 0, "and nobody else does yet"
        assert subject.count() == 2

        with pytest.raises(RuntimeError), subject.transaction() as tx:
            store.append("ticket-1", [NewEvent("Noted", {})], 1, META, conn=tx)
            store.append("ticket-3", [NewEvent("Opened", {})], 0, META, conn=tx)
            raise RuntimeError("the use case failed half-way")
        assert subject.count() == 2
        assert store.stream_version("ticket-1") == 1 and store.stream_version("ticket-3") == 0

    def test_a_stream_keeps_version_order_in_the_commit_safe_order(self, subject: StoreUnderTest) -> None:
        """B writes first; A appends v2 and commits; B's v3 would then sort before v2 in
        (tx_id, position) order. The store refuses it, and the retry lands after v2."""
        store = subject.log
        store.append("order-1", [NewEvent("Opened", {})], 0, META)
        with pytest.raises(ConcurrencyConflict), subject.transaction() as b:
            store.append("other-1", [NewEvent("Opened", {})], 0, META, conn=b)  # B now has its id
            store.append("order-1", [NewEvent("Noted", {"by": "A"})], 1, META)  # A: newer id, commits first
            store.append("order-1", [NewEvent("Noted", {"by": "B"})], 2, META, conn=b)
        store.append("order-1", [NewEvent("Noted", {"by": "B"})], 2, META)  # the retry
        assert [e.version for e in store.iter_all() if e.stream_id == "order-1"] == [1, 2, 3]
        assert store.stream_version("other-1") == 0, "B rolled back"

    # -- the global read -------------------------------------------------------------------------

    def test_reading_everything_in_pages(self, subject: StoreUnderTest) -> None:
        store = subject.log
        for i in range(7):
            store.append(f"ticket-{i}", [NewEvent("Opened", {"i": i})], 0, META)
        page = store.read_all(START, limit=3)
        assert [e.data["i"] for e in page.events] == [0, 1, 2]
        page = store.read_all(page.next_cursor, limit=3)
        assert [e.data["i"] for e in page.events] == [3, 4, 5]
        page = store.read_all(page.next_cursor, limit=3)
        assert [e.data["i"] for e in page.events] == [6]
        assert store.read_all(page.next_cursor).events == []
        assert store.read_all(page.next_cursor).next_cursor == page.next_cursor
        assert [e.data["i"] for e in store.iter_all(page_size=2)] == list(range(7))

    def test_an_open_transaction_holds_back_what_committed_after_it(self, subject: StoreUnderTest) -> None:
        """T1 takes a position and stays open; T2 takes a later one and commits. A reader
        following positions would pass T1's event for good; the global read waits for T1."""
        store = subject.log
        with subject.transaction() as t1:
            store.append("slow-1", [NewEvent("Opened", {})], 0, META, conn=t1)
            store.append("fast-1", [NewEvent("Opened", {})], 0, META)
            assert [e.stream_id for e in store.read_by_position(0)] == ["fast-1"]
            assert store.read_all(START).events == [], "T2 waits behind T1"
            assert store.horizon().events_behind == 1
        assert [e.stream_id for e in store.read_all(START).events] == ["slow-1", "fast-1"]
        assert store.horizon().events_behind == 0

    # -- finding events --------------------------------------------------------------------------

    def test_events_are_found_by_id_and_by_the_story_they_belong_to(self, subject: StoreUnderTest) -> None:
        store = subject.log
        story = Metadata(actor="tester")
        first = store.append("ticket-1", [NewEvent("Opened", {})], 0, story)
        store.append("ticket-1", [NewEvent("Noted", {})], 1, Metadata(actor="other"))
        caused = store.append("ticket-2", [NewEvent("Opened", {})], 0, story.caused_by(first[0].event_id))
        assert [e.event_id for e in store.events_by_id([first[0].event_id, caused[0].event_id])] in (
            [first[0].event_id, caused[0].event_id],
            [caused[0].event_id, first[0].event_id],
        )
        assert store.events_by_id([str(uuid.uuid4())]) == []
        assert store.origin_correlation("ticket-1") == story.correlation_id
        assert store.origin_correlation("ticket-9") is None
        assert [e.event_id for e in store.by_correlation(story.correlation_id)] == [
            first[0].event_id,
            caused[0].event_id,
        ]

    # -- snapshots -------------------------------------------------------------------------------

    def test_snapshots_keep_the_newest_per_state_version_and_shape(self, subject: StoreUnderTest) -> None:
        snapshots = subject.snapshots
        assert snapshots.latest("ticket-1", 1, "shape-a") is None
        snapshots.save("ticket-1", 1, "shape-a", 5, {"count": 5})
        snapshots.save("ticket-1", 1, "shape-a", 3, {"count": 3})  # older: ignored
        assert snapshots.latest("ticket-1", 1, "shape-a") == (5, {"count": 5})
        assert snapshots.latest("ticket-1", 2, "shape-a") is None, "another state version"
        assert snapshots.latest("ticket-1", 1, "shape-b") is None, "another shape"
        snapshots.save("ticket-1", 1, "shape-a", 9, {"count": 9})
        assert snapshots.latest("ticket-1", 1, "shape-a") == (9, {"count": 9})

    def test_a_snapshot_taken_in_a_rolled_back_transaction_is_not_kept(self, subject: StoreUnderTest) -> None:
        with pytest.raises(RuntimeError), subject.transaction() as tx:
            subject.snapshots.save("ticket-1", 1, "shape-a", 5, {"count": 5}, conn=tx)
            assert subject.snapshots.latest("ticket-1", 1, "shape-a", conn=tx) == (5, {"count": 5})
            raise RuntimeError("rolled back")
        assert subject.snapshots.latest("ticket-1", 1, "shape-a") is None


def _reference_hash(record: RecordedEvent) -> bytes:
    """The record's hash over canonical JSON as the standard library writes it, not the store's fast encoder."""
    return event_hash(
        position=record.position,
        stream_id=record.stream_id,
        version=record.version,
        event_id=str(record.event_id),
        type=record.type,
        schema_version=record.schema_version,
        data_json=reference_text(normalise(record.data, "data")),
        metadata_json=reference_text(normalise(record.metadata, "metadata")),
        prev_hash=record.prev_hash,
    )
