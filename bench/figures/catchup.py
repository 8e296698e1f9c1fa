"""P8: a new subscription catching up from a store of a million events, against the raw read.

Live delivery only brings what is published while a subscriber's queue
exists; a service that starts after its source reads the source's store from
its subscription's cursor first (``shared.runtime.messaging.inbound``, "Late
subscribers"). Here ``bench_follower``, in a process of its own, subscribes to
the ``Incremented`` events of ``p1`` (the store P7 filled) with no cursor yet:
it reads every event in commit-safe order, decodes each into its payload
dataclass and takes it once in effect (its inbox row and one upsert), page by
page. Timed from the subscription's first row (written as the catch-up
starts) to its ``caught_up_at``: the process's start-up is not counted.

Baseline, in the same run: the raw keyset-paged read of the same rows with
psycopg2's JSON decoding, nothing applied.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from typing import Any

import psycopg2

from bench.apps import Incremented
from bench.environment import BenchEnvironment
from bench.measure import figure, timed
from shared.config import Settings
from shared.db.database import CONNECT_OPTIONS, Database, fetch_one
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.process.control import free_port, launch, wait_ready
from shared.runtime.process.provisioning import declare_queues, migrate_service
from shared.runtime.service import ServiceBase
from shared.security import keys

SOURCE = "p1"
PAGE = 1000
TOTALS = "CREATE TABLE IF NOT EXISTS bench_follower.totals (stream_id text PRIMARY KEY, total bigint NOT NULL)"
UPSERT = (
    "INSERT INTO bench_follower.totals (stream_id, total) VALUES (%s, %s) ON CONFLICT (stream_id) DO UPDATE "
    "SET total = bench_follower.totals.total + excluded.total"
)


class BenchFollower(ServiceBase):
    """Follows ``p1``'s counters: a late subscriber with everything still to catch up."""

    name = "bench_follower"

    @handles(SOURCE, "Incremented", payload=Incremented)
    def on_incremented(self, event: Incremented, record: RecordedEvent) -> None:
        self.uow.execute(UPSERT, [record.stream_id, event.by])


def raw_read(url: str) -> int:
    """Every row of the source's store, keyset-paged by position, JSON decoded by psycopg2: how many."""
    conn = psycopg2.connect(url, **CONNECT_OPTIONS)
    try:
        position, count = 0, 0
        while True:
            with conn.cursor() as cur:
                cur.execute(
                    f"SELECT position, stream_id, type, data, metadata FROM {SOURCE}.events WHERE position > %s "
                    "ORDER BY position LIMIT %s",
                    [position, PAGE],
                )
                rows = cur.fetchall()
            conn.commit()
            count += len(rows)
            if len(rows) < PAGE:
                return count
            position = rows[-1][0]
    finally:
        conn.close()


def _subscription(database: Database) -> tuple[bool, dt.datetime | None]:
    """Whether the follower's subscription to the source exists yet, and when it caught up."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT caught_up_at FROM bench_follower.subscriptions WHERE source = %s", [SOURCE])
        row = cur.fetchone()
    return (row is not None, row[0] if row else None)


def _catch_up(env: BenchEnvironment, database: Database, timeout: float) -> float:
    """Start the follower and time its catch-up, in seconds."""
    settings = Settings.from_env()
    keys.generate(env.keys_dir, [BenchFollower.name])
    migrate_service(settings, BenchFollower)
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(TOTALS)
    declare_queues(settings, [BenchFollower])
    port = free_port()
    target = f"{__name__}:{BenchFollower.__name__}"
    env_vars = {**os.environ, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "json"}
    with open(os.environ.get("BENCH_SERVICE_LOG", os.devnull), "ab") as log:
        process = launch(target, health_port=port, metrics_port=free_port(), env=env_vars, stdout=log, stderr=log)
        try:
            seconds = _until_caught_up(database, process, timeout)
            wait_ready({target: port}, 60)  # it did start properly, and answers
            return seconds
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _until_caught_up(database: Database, process: subprocess.Popen[bytes], timeout: float) -> float:
    """Seconds from the subscription's first row to its ``caught_up_at``, as polled."""
    deadline = time.monotonic() + timeout
    started = None
    while True:
        exists, caught_up_at = _subscription(database)
        now = time.perf_counter()
        if exists and started is None:
            started = now
        if caught_up_at is not None and started is not None:
            return now - started
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"bench_follower did not catch up (exit code {process.poll()})")
        time.sleep(0.05)


def p8(env: BenchEnvironment, database: Database, timeout: float = 3600) -> dict[str, Any]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {SOURCE}.events")
        stored = int(fetch_one(cur)[0])
    raw_before = stored / timed(lambda: raw_read(env.database_url))
    seconds = _catch_up(env, database, timeout)
    raw_after = stored / timed(lambda: raw_read(env.database_url))
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), coalesce(sum(total), 0) FROM bench_follower.totals")
        streams, total = fetch_one(cur)
    rate = stored / seconds
    raw = (raw_before + raw_after) / 2  # before and after: the catch-up is one long run
    return figure(
        rate,
        "events/s",
        f"a new subscription catching up from {stored:,} stored events: >= 0.5x the raw paged read "
        "(decoded into the payload and applied once in effect)",
        rate >= 0.5 * raw,
        {"raw_read": raw},
        stored_events=stored,
        seconds=round(seconds, 1),
        applied_total=int(total),
        every_event_applied=int(total) == stored,
        streams=int(streams),
    )
