"""Which stores a database holds, and an event exactly as its store keeps it.

Auditors run ``orgctl audit`` against whatever part of the platform a
database holds: a service whose schema has no store (not migrated here) is
passed over, not an error. Reads for people and for rebuilding state go
through ``EventStore`` (which opens sealed personal fields); ``stored`` reads
the row as it is, sealed, since that is what the hash covers.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.db.database import Database
from shared.db.migrations import SCHEMA_NAME
from shared.eventstore.records import RecordedEvent
from shared.eventstore.store import RECORD_COLUMNS, record_of_row


def events_table(service: str) -> str:
    """The quoted name of a service's events table (the name checked first: it goes into SQL)."""
    if not SCHEMA_NAME.match(service):
        raise ValueError(f"schema name {service!r} must match {SCHEMA_NAME.pattern}")
    return f'"{service}".events'


def present(database: Database, services: Iterable[str]) -> list[str]:
    """Those of ``services`` whose store exists in this database, in the order given."""
    names = list(services)
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(format('%%I.events', n)) IS NOT NULL",
            [names],
        )
        found = {row[0] for row in cur.fetchall()}
    return [name for name in names if name in found]


def stored(database: Database, service: str, event_id: str) -> RecordedEvent | None:
    """The event ``event_id`` of ``service``'s store exactly as stored (personal fields sealed), or None."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {RECORD_COLUMNS} FROM {events_table(service)} WHERE event_id = %s::uuid", [event_id])
        row = cur.fetchone()
    return record_of_row(row) if row else None
