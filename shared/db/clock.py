"""The clocks a service can run on, chosen by the ``CLOCK`` setting.

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

from shared.db.database import Database, fetch_one

UTC = dt.UTC

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


def make_clock(kind: str, timezone: str, database: Database) -> OffsetClock | ZonedSystemClock:
    """The clock ``kind`` names (``system`` or ``offset``), in ``timezone``."""
    if kind not in ("system", "offset"):
        raise ValueError(f"CLOCK must be 'system' or 'offset', not {kind!r}")
    zone = zoneinfo.ZoneInfo(timezone)
    if kind == "offset":
        ensure_clock_table(database)
        return OffsetClock(database, zone)
    return ZonedSystemClock(zone)
