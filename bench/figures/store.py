"""P1, P2, P5, P6, P7: the event store, measured against raw psycopg2 on the same rows."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.apps import Counter, Incremented, registry
from bench.measure import alternate, figure, in_threads, timed
from shared.audit.proofs import raw_public_key
from shared.audit.tree import MerkleLog
from shared.audit.verify import verify
from shared.db.database import CONNECT_OPTIONS, Database, fetch_one
from shared.db.migrations import migrate, platform_migrations
from shared.domain import Repository
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore
from shared.projections import Projection, on
from shared.projections.runner import ProjectionRunner

META = Metadata(actor="bench", reason="benchmark")
WRITERS = 8


@dataclass(frozen=True)
class Sizes:
    p1_events: int  # per round, all writers together
    p1_rounds: int
    p2_events: int
    p5_events: int
    p7_fill: int


FULL = Sizes(p1_events=4000, p1_rounds=3, p2_events=100_000, p5_events=10_000, p7_fill=1_000_000)
QUICK = Sizes(p1_events=1600, p1_rounds=2, p2_events=20_000, p5_events=10_000, p7_fill=100_000)


def _connect(url: str) -> Any:
    conn = psycopg2.connect(url, **CONNECT_OPTIONS)
    conn.autocommit = True
    return conn


def _raw_table(database: Database, schema: str, raw: str) -> None:
    """The same row shape (columns, keys, indexes) as the store's table, without its function."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{raw}"')
        cur.execute(f'CREATE SEQUENCE IF NOT EXISTS "{raw}".event_position')
        cur.execute(f'CREATE TABLE IF NOT EXISTS "{raw}".events (LIKE "{schema}".events INCLUDING ALL)')


# -- P1 and P7 --------------------------------------------------------------------------


class Appends:
    """Single-event appends, 8 writers at once: the store versus raw INSERTs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.database = Database(url, size=WRITERS, application_name="bench-p1")
        migrate(self.database, "p1", platform_migrations())
        _raw_table(self.database, "p1", "p1_raw")
        self.store = EventStore(self.database, "p1")
        self.raw_connections = [_connect(url) for _ in range(WRITERS)]
        self.data = {"by": 1, "note": "benchmark"}
        self.metadata_json = json.dumps({**META.as_dict(), "service": "p1", "recorded_at": "2026-01-01T00:00:00+00:00"})

    def ours(self, events: int) -> float:
        per_writer = events // WRITERS
        tag = uuid.uuid4().hex[:8]

        def writer(i: int) -> None:
            for k in range(per_writer):
                self.store.append(f"p1-{tag}{i}x{k}", [NewEvent("Incremented", self.data)], 0, META)

        return per_writer * WRITERS / in_threads(WRITERS, writer)

    def raw(self, events: int) -> float:
        per_writer = events // WRITERS
        tag = uuid.uuid4().hex[:8]
        data_json = json.dumps(self.data)
        digest = bytes(32)

        def writer(i: int) -> None:
            with self.raw_connections[i].cursor() as cur:
                for k in range(per_writer):
                    cur.execute(
                        "INSERT INTO p1_raw.events (position, stream_id, version, event_id, type, schema_version, "
                        "data, metadata, prev_hash, hash) VALUES (nextval('p1_raw.event_position'), %s, 1, %s, "
                        "'Incremented', 1, %s::jsonb, %s::jsonb, %s, %s)",
                        [f"p1-{tag}{i}x{k}", str(uuid.uuid4()), data_json, self.metadata_json, digest, digest],
                    )

        return per_writer * WRITERS / in_threads(WRITERS, writer)

    def stored(self) -> int:
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM p1.events")
            return int(fetch_one(cur)[0])

    def fill(self, rows: int) -> float:
        """Grow the store to ``rows`` more events (P7), as fast as SQL can."""
        with self.database.transaction() as conn, conn.cursor() as cur:
            started = time.perf_counter()
            cur.execute(
                "INSERT INTO p1.events (position, stream_id, version, event_id, type, schema_version, data, metadata, "
                "prev_hash, hash) SELECT nextval('p1.event_position'), 'fill-' || g, 1, gen_random_uuid(), "
                "'Incremented', 1, '{\"by\": 1}'::jsonb, %s::jsonb, %s, %s FROM generate_series(1, %s) g",
                [self.metadata_json, bytes(32), bytes(32), rows],
            )
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute("ANALYZE p1.events")
        return time.perf_counter() - started

    def close(self) -> None:
        for conn in self.raw_connections:
            conn.close()
        self.database.close()


def p1(appends: Appends, sizes: Sizes, eventsourcing: float | None) -> dict[str, Any]:
    appends.ours(400)  # warm up both paths
    appends.raw(400)
    rates = alternate(
        sizes.p1_rounds,
        {"ours": lambda r: appends.ours(sizes.p1_events), "raw": lambda r: appends.raw(sizes.p1_events)},
    )
    baselines = {"raw_insert": rates["raw"]}
    if eventsourcing is not None:
        baselines["eventsourcing"] = eventsourcing
    met = rates["ours"] >= 0.8 * rates["raw"] and (eventsourcing is None or rates["ours"] >= 4 * eventsourcing)
    return figure(
        rates["ours"],
        "events/s",
        ">= 0.8x raw INSERT (8 connections, one per transaction); >= 4x eventsourcing (one new aggregate per save)",
        met,
        baselines,
        writers=WRITERS,
        events_per_round=sizes.p1_events,
        rounds=sizes.p1_rounds,
    )


def p7(appends: Appends, sizes: Sizes, empty_rate: float) -> dict[str, Any]:
    fill_seconds = appends.fill(sizes.p7_fill)
    stored = appends.stored()
    appends.ours(400)
    rates = [appends.ours(sizes.p1_events) for _ in range(sizes.p1_rounds)]
    grown = statistics.median(rates)
    ratio = grown / empty_rate
    return figure(
        grown,
        "events/s",
        f"P1 after {sizes.p7_fill:,} stored events within 15% of P1 on an empty store",
        ratio >= 0.85,
        {"p1_empty_store": empty_rate},
        stored_events=stored,
        fill_seconds=round(fill_seconds, 1),
    )


# -- P2 and P6 --------------------------------------------------------------------------


class Counts(Projection):
    """Events and total per counter: one upsert per event."""

    name = "counts"
    tables = ("p2_counts",)

    @on(Incremented)
    def _incremented(self, cur: Any, event: Incremented, record: Any) -> None:
        cur.execute(UPSERT.format(table="p2_counts"), [record.stream_id, event.by])


UPSERT = (
    "INSERT INTO {table} (stream_id, events, total) VALUES (%s, 1, %s) ON CONFLICT (stream_id) DO UPDATE "
    "SET events = {table}.events + 1, total = {table}.total + excluded.total"
)


class Rebuild:
    """A projection of ``events`` stored events, rebuilt by the platform and by raw SQL."""

    def __init__(self, url: str, events: int) -> None:
        self.database = Database(url, size=4, application_name="bench-p2")
        migrate(self.database, "p2", platform_migrations())
        with self.database.transaction() as conn, conn.cursor() as cur:
            for table in ("p2_counts", "p2_counts_raw"):
                cur.execute(
                    f"CREATE TABLE IF NOT EXISTS p2.{table} (stream_id text PRIMARY KEY, events int NOT NULL, total bigint NOT NULL)"
                )
            cur.execute("CREATE TABLE IF NOT EXISTS p2.raw_checkpoint (position bigint NOT NULL)")
        store = EventStore(self.database, "p2")
        per_append = 100
        streams = max(1, min(1000, events // per_append))
        rounds = max(1, events // (streams * per_append))
        self.events = streams * per_append * rounds
        for round_ in range(rounds):
            for s in range(streams):
                batch = [NewEvent("Incremented", {"by": 1 + (s % 7)}) for _ in range(per_append)]
                store.append(f"counter-{s}", batch, round_ * per_append, META)
        self.runner = ProjectionRunner(self.database, "p2", Counts(), registry)
        self.url = url

    def ours(self) -> float:
        self.runner.reset()
        return self.events / timed(lambda: self.runner.catch_up(limit=500))

    def raw(self) -> float:
        conn = psycopg2.connect(self.url, **CONNECT_OPTIONS)
        try:
            with conn.cursor() as cur:
                cur.execute("TRUNCATE p2.p2_counts_raw, p2.raw_checkpoint")
                cur.execute("INSERT INTO p2.raw_checkpoint VALUES (0)")
            conn.commit()

            def run() -> None:
                position = 0
                while True:
                    with conn.cursor() as cur:
                        cur.execute("SELECT position FROM p2.raw_checkpoint FOR UPDATE")
                        cur.execute(
                            "SELECT position, stream_id, type, data, metadata FROM p2.events WHERE position > %s "
                            "ORDER BY position LIMIT 500",
                            [position],
                        )
                        rows = cur.fetchall()
                        for row in rows:
                            if row[2] == "Incremented":
                                cur.execute(UPSERT.format(table="p2.p2_counts_raw"), [row[1], row[3]["by"]])
                        if rows:
                            position = rows[-1][0]
                            cur.execute("UPDATE p2.raw_checkpoint SET position = %s", [position])
                    conn.commit()
                    if len(rows) < 500:
                        return

            return self.events / timed(run)
        finally:
            conn.close()

    def decoded_read(self) -> float:
        """Reading and decoding every event, without applying (compared with eventsourcing's read)."""
        store = EventStore(self.database, "p2")

        def run() -> None:
            for record in store.iter_all(page_size=1000):
                registry.from_record(record)

        return self.events / timed(run)

    def identical(self) -> bool:
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM (SELECT * FROM p2.p2_counts EXCEPT SELECT * FROM p2.p2_counts_raw) d")
            return int(fetch_one(cur)[0]) == 0

    def close(self) -> None:
        self.database.close()


def p2(rebuild: Rebuild, eventsourcing: float | None) -> dict[str, Any]:
    rates = alternate(2, {"ours": lambda r: rebuild.ours(), "raw": lambda r: rebuild.raw()})
    decoded = rebuild.decoded_read()
    baselines = {"raw_read_decode_apply": rates["raw"]}
    ratio_of = {}
    if eventsourcing is not None:
        baselines["eventsourcing"] = eventsourcing
        ratio_of["eventsourcing"] = decoded
    met = rates["ours"] >= 0.9 * rates["raw"] and (eventsourcing is None or decoded >= 1.5 * eventsourcing)
    return figure(
        rates["ours"],
        "events/s",
        ">= 0.9x raw paged read with decoding (same rows applied); >= 1.5x eventsourcing's decoded notification read",
        met,
        baselines,
        ratio_of,
        events=rebuild.events,
        decoded_read_events_per_second=round(decoded),
        same_rows_as_raw=rebuild.identical(),
    )


def p6(rebuild: Rebuild) -> dict[str, Any]:
    database = rebuild.database

    def raw_read() -> float:
        conn = psycopg2.connect(rebuild.url, **CONNECT_OPTIONS)
        try:
            with conn.cursor(name="raw_read") as cur:
                cur.itersize = 5000
                cur.execute(
                    "SELECT position, tx_id::text::bigint, stream_id, version, event_id::text, type, schema_version, "
                    "data, metadata, prev_hash, hash FROM p2.events ORDER BY position"
                )
                count = sum(1 for _ in cur)
            conn.rollback()
            return count
        finally:
            conn.close()

    key = Ed25519PrivateKey.generate()
    MerkleLog(database, "p2").sign(key)  # the tree and a head over every event, so verify checks everything

    def verification() -> float:
        report = verify(database, "p2", public_key=raw_public_key(key))
        assert report.ok, report.findings[:3]
        return report.events

    rates = alternate(
        2,
        {
            "ours": lambda r: rebuild.events / timed(verification),
            "raw": lambda r: rebuild.events / timed(raw_read),
        },
    )
    return figure(
        rates["ours"],
        "events/s",
        ">= 0.8x raw read rate",
        rates["ours"] >= 0.8 * rates["raw"],
        {"raw_read": rates["raw"]},
        events=rebuild.events,
    )


# -- P5 ----------------------------------------------------------------------------------


def p5(url: str, sizes: Sizes) -> dict[str, Any]:
    database = Database(url, size=2, application_name="bench-p5")
    try:
        migrate(database, "p5", platform_migrations())
        repository = Repository(Counter, EventStore(database, "p5"), registry, SnapshotStore(database, "p5"))
        counter = Counter("big")
        for _ in range(sizes.p5_events // 1000):
            for _ in range(1000):
                counter.increment(1)
            repository.save(counter, META)
        assert repository.load("big").version == sizes.p5_events

        def load_ms(use_snapshot: bool, times: int) -> float:
            samples = []
            for _ in range(times):
                started = time.perf_counter()
                loaded = repository.load("big", use_snapshot=use_snapshot)
                samples.append((time.perf_counter() - started) * 1000)
                assert loaded.state.total == sizes.p5_events
            return statistics.median(samples)

        with_snapshot = load_ms(True, 30)
        without = load_ms(False, 5)
    finally:
        database.close()
    return figure(
        with_snapshot,
        "ms",
        f"< 5 ms with snapshots (one aggregate of {sizes.p5_events:,} events); without, reported",
        with_snapshot < 5,
        {"without_snapshots": without},
        events=sizes.p5_events,
    )
