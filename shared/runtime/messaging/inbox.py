"""The inbox (events handled) and the dead letters (events a handler gave up on).

Both live in the consuming service's schema. The inbox row is written in the
same transaction as the handler's effects: either both are there or neither,
so a redelivered event finds its row and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.db.database import Connection, fetch_one
from shared.db.migrations import SCHEMA_NAME
from shared.eventstore.hashing import NotCanonical, canonical_json
from shared.eventstore.records import RecordedEvent

FAILED = "failed"  # a dead letter's reason when its handler kept failing


@dataclass(frozen=True)
class DeadLetter:
    """An event a handler gave up on (``envelope``), or a message kept as it came (``body``)."""

    id: int
    event_id: str | None
    handler: str
    source: str
    type: str | None
    envelope: dict[str, Any] | None
    error_type: str
    error: str
    attempts: int
    failed_at: str
    status: str
    reason: str
    body: bytes | None


class Inbox:
    def __init__(self, schema: str) -> None:
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"bad schema name {schema!r}")
        self._sql_claim = (
            f'INSERT INTO "{schema}".inbox (event_id, handler, source, type, stream_id, version) '
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1"
        )
        self._sql_count = f'SELECT count(*) FROM "{schema}".inbox'

    def claim(self, conn: Connection, record: RecordedEvent, handler: str, source: str) -> bool:
        """Record that ``handler`` handles ``record``; False when it already has.

        A concurrent claim of the same event (a redelivery to another replica)
        waits on the row lock until the first transaction ends, then sees it.
        """
        with conn.cursor() as cur:
            cur.execute(
                self._sql_claim,
                [record.event_id, handler, source, record.type, record.stream_id, record.version],
            )
            return cur.fetchone() is not None


class DeadLetters:
    _COLUMNS = (
        "id, event_id::text, handler, source, type, envelope, error_type, error, attempts, failed_at::text, status, "
        "reason, body"
    )

    def __init__(self, schema: str) -> None:
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"bad schema name {schema!r}")
        table = f'"{schema}".dead_letters'
        self._sql_add = (
            f"INSERT INTO {table} (event_id, handler, source, type, envelope, error_type, error, attempts, reason, body) "
            "VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s) "
            "ON CONFLICT (event_id, handler) WHERE status = 'dead' DO UPDATE "
            "SET attempts = dead_letters.attempts + excluded.attempts, error = excluded.error, "
            "error_type = excluded.error_type, failed_at = now() RETURNING id"
        )
        self._sql_list = f"SELECT {self._COLUMNS} FROM {table} WHERE status = %s ORDER BY id LIMIT %s"
        self._sql_get = f"SELECT {self._COLUMNS} FROM {table} WHERE id = %s"
        self._sql_replayed = f"UPDATE {table} SET status = 'replayed', replayed_at = now() WHERE id = %s"
        self._sql_open = f"SELECT count(*) FROM {table} WHERE status = 'dead'"

    def add(
        self,
        conn: Connection,
        envelope: dict[str, Any] | None,
        handler: str,
        source: str,
        event_type: str,
        error: BaseException,
        attempts: int,
        *,
        reason: str = FAILED,
        body: bytes | None = None,
    ) -> int:
        """Keep an envelope that is storable JSON as it is, else the raw ``body`` it came in.

        ``event_type`` is the type the handler takes (not what the message
        claims), so the list of dead letters names only types the service knows.
        """
        stored = _storable(envelope)
        if stored is None and body is None:
            body = repr(envelope).encode("utf-8", "backslashreplace")
        event_id = envelope.get("event_id") if isinstance(envelope, dict) else None
        with conn.cursor() as cur:
            cur.execute(
                self._sql_add,
                [
                    event_id if _is_uuid(event_id) else None,
                    handler,
                    source,
                    event_type,
                    stored,
                    type(error).__name__,
                    str(error)[:4000],
                    attempts,
                    reason,
                    body if stored is None else None,
                ],
            )
            return int(fetch_one(cur)[0])

    def list(self, conn: Connection, status: str = "dead", limit: int = 100) -> list[DeadLetter]:
        with conn.cursor() as cur:
            cur.execute(self._sql_list, [status, limit])
            return [_letter(row) for row in cur.fetchall()]

    def get(self, conn: Connection, dead_letter_id: int) -> DeadLetter | None:
        with conn.cursor() as cur:
            cur.execute(self._sql_get, [dead_letter_id])
            row = cur.fetchone()
        return _letter(row) if row else None

    def mark_replayed(self, conn: Connection, dead_letter_id: int) -> None:
        with conn.cursor() as cur:
            cur.execute(self._sql_replayed, [dead_letter_id])

    def count_open(self, conn: Connection) -> int:
        with conn.cursor() as cur:
            cur.execute(self._sql_open)
            return int(fetch_one(cur)[0])


def _letter(row: tuple[Any, ...]) -> DeadLetter:
    values = list(row)
    if values[-1] is not None:
        values[-1] = bytes(values[-1])  # the raw body, from a memoryview
    return DeadLetter(*values)


def _storable(envelope: Any) -> str | None:
    """The envelope as JSON text PostgreSQL's jsonb takes, or None when it is not (or not an object)."""
    if not isinstance(envelope, dict):
        return None
    try:
        return canonical_json(envelope, "envelope")
    except NotCanonical:
        return None


def _is_uuid(value: Any) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False
