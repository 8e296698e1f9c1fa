"""psycopg2 under eventlet: a slow query must not block the other greenthreads."""

from __future__ import annotations

import time

import eventlet

from shared.db.database import Database
from shared.db.green import is_green
from tests.support.probes import scalar


def test_concurrent_slow_queries_in_one_process_overlap(test_env, database: Database) -> None:
    assert is_green()
    n, seconds = 5, 1.0
    pool = Database(test_env.database_url, size=n, application_name="green-test")
    overlap: list[int] = []

    def slow() -> None:
        with pool.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(%s)", [seconds])

    def watch() -> None:
        eventlet.sleep(seconds / 2)
        overlap.append(
            scalar(
                database,
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'green-test' "
                "AND state = 'active' AND query LIKE 'SELECT pg_sleep%%'",
            )
        )

    started = time.monotonic()
    threads = [eventlet.spawn(slow) for _ in range(n)] + [eventlet.spawn(watch)]
    for thread in threads:
        thread.wait()
    elapsed = time.monotonic() - started
    pool.close()

    assert overlap == [n], "all the queries were running at the same moment"
    assert elapsed < n * seconds / 2, f"{n} queries of {seconds}s took {elapsed:.2f}s: about one, not {n}"
