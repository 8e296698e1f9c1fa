"""The clock a service runs on, chosen by the ``CLOCK`` setting.

``system`` (the default, and what Kubernetes runs): the wall clock.
``offset``: the wall clock plus an offset kept in the database table
``public.orgwork_clock``, shared by every service of a local platform (``make
run`` uses it). The demo and the tests move it forward to let a notice period
pass; nothing else writes it. Every reading asks the database, so a move is
seen at once by every service.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from nameko.extensions import DependencyProvider

from shared.config import Settings
from shared.db.database import Database, fetch_one
from shared.domain.calendar import UTC, Clock
from shared.runtime.storage import ServiceDatabase, settings_of

_TABLE = "public.orgwork_clock"


def ensure_clock_table(database: Database) -> None:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('orgwork.clock'))")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {_TABLE} (id boolean PRIMARY KEY DEFAULT true CHECK (id), "
            "offset_seconds double precision NOT NULL DEFAULT 0)"
        )
        cur.execute(f"INSERT INTO {_TABLE} (id) VALUES (true) ON CONFLICT DO NOTHING")


def clock_offset(database: Database) -> float:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT offset_seconds FROM {_TABLE}")
        return float(fetch_one(cur)[0])


def advance_clock(database: Database, delta: dt.timedelta) -> float:
    """Move every offset clock of this database forward; return the new offset."""
    ensure_clock_table(database)
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f"UPDATE {_TABLE} SET offset_seconds = offset_seconds + %s RETURNING offset_seconds",
            [delta.total_seconds()],
        )
        return float(fetch_one(cur)[0])


class OffsetClock:
    """Wall clock plus the database's offset, in the organisation's timezone."""

    def __init__(self, database: Database, zone: dt.tzinfo = UTC) -> None:
        self.database = database
        self.zone = zone

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.zone) + dt.timedelta(seconds=clock_offset(self.database))


class ZonedSystemClock:
    """The wall clock, in the organisation's timezone (so dates are its dates)."""

    def __init__(self, zone: dt.tzinfo = UTC) -> None:
        self.zone = zone

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.zone)


def make_clock(settings: Settings, database: Database) -> Clock:
    """The clock ``settings.clock`` names, in ``settings.timezone``."""
    if settings.clock not in ("system", "offset"):
        raise ValueError(f"CLOCK must be 'system' or 'offset', not {settings.clock!r}")
    zone = zoneinfo.ZoneInfo(settings.timezone)
    if settings.clock == "offset":
        ensure_clock_table(database)
        return OffsetClock(database, zone)
    return ZonedSystemClock(zone)


class ClockProvider(DependencyProvider):
    """Declare as ``clock = ClockProvider()``; workers call ``self.clock.now()``."""

    pool = ServiceDatabase()

    def setup(self) -> None:
        self._clock: Clock | None = None

    def get_dependency(self, worker_ctx: Any) -> Clock:
        # Made on first use, not in start(): nameko starts extensions in
        # parallel, and a worker (a queued RPC call, a timer) may come first.
        if self._clock is None:
            self._clock = make_clock(settings_of(self.container), self.pool.database)
        return self._clock
