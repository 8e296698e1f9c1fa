"""Replaying a projection from zero beside the live one, and comparing them.

In one REPEATABLE READ transaction the live rows and the live checkpoint are a
consistent pair. The projection's tables are cloned as temporary tables
(``LIKE ... INCLUDING ALL``), put first on the search path, and the store's
events up to the live checkpoint are applied to them by the projection's own
code. Then rebuilt and live rows are compared both ways. Nothing live is
touched; the temporary tables vanish with the transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg2.extensions

from shared.db.database import Database
from shared.eventstore.records import START, Cursor
from shared.eventstore.store import EventStore
from shared.projections.projection import Projection

PAGE = 2000


@dataclass
class TableDifference:
    table: str
    only_rebuilt: int
    only_live: int
    samples: list[str] = field(default_factory=list)


@dataclass
class ReplayReport:
    service: str
    projection: str
    events: int
    applied: int
    seconds: float
    checkpoint: Cursor
    differences: list[TableDifference]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def identical(self) -> bool:
        return not self.differences


def replay_projection(
    database: Database,
    service: str,
    projection: Projection,
    registry: Any,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    store = EventStore(database, service)
    with database.connection() as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    f'SELECT tx_id, position FROM "{service}".projection_checkpoints WHERE projection = %s',
                    [projection.name],
                )
                row = cur.fetchone()
                checkpoint = Cursor(*row) if row else START
                for table in projection.tables:
                    cur.execute(
                        f'CREATE TEMPORARY TABLE "{table}" (LIKE "{service}"."{table}" INCLUDING ALL) ON COMMIT DROP'
                    )
                cur.execute(f'SET LOCAL search_path TO pg_temp, "{service}", public')
                started, events, applied, cursor = time.perf_counter(), 0, 0, START
                while (cursor.tx_id, cursor.position) < (checkpoint.tx_id, checkpoint.position):
                    page = store.read_all(cursor, PAGE, conn=conn)
                    if not page.events:
                        break
                    for record in page.events:
                        if (record.tx_id, record.position) > (checkpoint.tx_id, checkpoint.position):
                            break
                        events += 1
                        if projection.wants(record.type):
                            projection.apply(cur, record, registry)
                            applied += 1
                    cursor = page.next_cursor
                    if progress is not None:
                        progress(len(page.events))
                seconds = time.perf_counter() - started
                differences = [_compare(cur, service, table) for table in projection.tables]
        finally:
            conn.rollback()
            # "DEFAULT", not ISOLATION_LEVEL_DEFAULT: that constant is None, which psycopg2 reads as
            # "leave unchanged", and the pooled connection would stay REPEATABLE READ for its next user.
            conn.set_session(isolation_level="DEFAULT")
    return ReplayReport(
        service,
        projection.name,
        events,
        applied,
        seconds,
        checkpoint,
        [d for d in differences if d.only_live or d.only_rebuilt],
    )


def _compare(cur: Any, service: str, table: str) -> TableDifference:
    rebuilt, live = f'pg_temp."{table}"', f'"{service}"."{table}"'
    cur.execute(f"SELECT count(*) FROM (SELECT * FROM {rebuilt} EXCEPT ALL SELECT * FROM {live}) d")
    only_rebuilt = cur.fetchone()[0]
    cur.execute(f"SELECT count(*) FROM (SELECT * FROM {live} EXCEPT ALL SELECT * FROM {rebuilt}) d")
    only_live = cur.fetchone()[0]
    samples: list[str] = []
    if only_rebuilt or only_live:
        cur.execute(
            f"SELECT 'live: ' || d::text FROM (SELECT * FROM {live} EXCEPT ALL SELECT * FROM {rebuilt}) d LIMIT 3"
        )
        samples += [r[0] for r in cur.fetchall()]
        cur.execute(
            f"SELECT 'rebuilt: ' || d::text FROM (SELECT * FROM {rebuilt} EXCEPT ALL SELECT * FROM {live}) d LIMIT 3"
        )
        samples += [r[0] for r in cur.fetchall()]
    return TableDifference(table, only_rebuilt, only_live, samples)
