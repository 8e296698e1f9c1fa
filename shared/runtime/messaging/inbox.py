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


@dataclass(frozen=True)
class Claim:
    """What claiming an event found: whether it was new to the handler, and why it breaks its chain, if it does."""

    new: bool
    chain_break: str | None = None


class Inbox:
    def __init__(self, schema: str) -> None:
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"bad schema name {schema!r}")
        table = f'"{schema}".inbox'
        # One round trip: the claim, and the chain's neighbours as this inbox had them before it
        # (a data-modifying CTE's row is not visible to the rest of its statement).
        self._sql_claim = (
            f"WITH claimed AS (INSERT INTO {table} "
            "(event_id, handler, source, type, stream_id, version, hash, prev_hash) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1) "
            "SELECT EXISTS (SELECT 1 FROM claimed), n.version, n.hash, n.prev_hash FROM (SELECT 1) AS one "
            f"LEFT JOIN LATERAL (SELECT DISTINCT version, hash, prev_hash FROM {table} "
            "WHERE source = %s AND stream_id = %s AND version BETWEEN %s AND %s AND event_id <> %s "
            "AND hash IS NOT NULL) AS n ON true"
        )

        # A batch: one INSERT of every row, then what this inbox had already seen around
        # each of its events (the claimed rows themselves are not visible yet, nor wanted).
        self._sql_claim_many = (
            f"WITH claimed AS (INSERT INTO {table} "
            "(event_id, handler, source, type, stream_id, version, hash, prev_hash) "
            "SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], "
            "%s::bytea[], %s::bytea[]) ON CONFLICT DO NOTHING RETURNING event_id::text) "
            "SELECT event_id, NULL, NULL, NULL, NULL FROM claimed UNION ALL "
            "SELECT DISTINCT NULL, i.stream_id, i.version, i.hash, i.prev_hash "
            f"FROM {table} i JOIN unnest(%s::text[], %s::bigint[]) AS b (stream_id, version) "
            "ON i.stream_id = b.stream_id AND i.version BETWEEN b.version - 1 AND b.version + 1 "
            "WHERE i.source = %s AND i.hash IS NOT NULL AND NOT i.event_id = ANY (%s::uuid[])"
        )

    def claim(self, conn: Connection, record: RecordedEvent, handler: str, source: str) -> Claim:
        """Record that ``handler`` handles ``record``: new, or already handled (a redelivery).

        A concurrent claim of the same event (a redelivery to another replica)
        waits on the row lock until the first transaction ends, then sees it.
        A new event is also checked against its stream's chain as this inbox
        has seen it (``chain_break``).
        """
        with conn.cursor() as cur:
            cur.execute(
                self._sql_claim,
                [
                    record.event_id,
                    handler,
                    source,
                    record.type,
                    record.stream_id,
                    record.version,
                    record.hash,
                    record.prev_hash,
                    source,
                    record.stream_id,
                    record.version - 1,
                    record.version + 1,
                    record.event_id,
                ],
            )
            rows = cur.fetchall()
        if not rows[0][0]:
            return Claim(new=False)
        return Claim(new=True, chain_break=chain_break(record, [row[1:] for row in rows if row[1] is not None]))

    def claim_many(self, conn: Connection, claims: list[tuple[RecordedEvent, str]], source: str) -> list[Claim]:
        """``claim`` for several events of ``source`` (each with its handler) in one statement, in their order.

        Each new event is checked against the chain as this inbox had seen it
        and against the other events of the batch, so a batch is refused
        (``chain_break``) exactly where claiming its events one by one would be.
        """
        records = [record for record, _ in claims]
        ids = [record.event_id for record in records]
        with conn.cursor() as cur:
            cur.execute(
                self._sql_claim_many,
                [
                    ids,
                    [handler for _, handler in claims],
                    [source] * len(records),
                    [record.type for record in records],
                    [record.stream_id for record in records],
                    [record.version for record in records],
                    [record.hash for record in records],
                    [record.prev_hash for record in records],
                    [record.stream_id for record in records],
                    [record.version for record in records],
                    source,
                    ids,
                ],
            )
            rows = cur.fetchall()
        new = {row[0] for row in rows if row[0] is not None}
        seen: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            if row[0] is None:
                seen.setdefault(row[1], []).append(tuple(row[2:]))
        by_stream: dict[str, list[RecordedEvent]] = {}
        for record in records:
            by_stream.setdefault(record.stream_id, []).append(record)
        result = []
        for record in records:
            if record.event_id not in new:
                result.append(Claim(new=False))
                continue
            new.discard(record.event_id)  # the same event twice in a batch is new once
            around = seen.get(record.stream_id, []) + [
                (other.version, other.hash, other.prev_hash)
                for other in by_stream[record.stream_id]
                if other.event_id != record.event_id
            ]
            result.append(Claim(new=True, chain_break=chain_break(record, around)))
        return result


def chain_break(record: RecordedEvent, neighbours: list[tuple[Any, ...]]) -> str | None:
    """Why ``record`` does not continue its stream's chain as the inbox has seen it, or None.

    A consumer sees only the event types it handles, so a gap between two
    handled versions is normal; what may never happen is an event whose
    ``prev_hash`` is not the hash of the version before it, a second event
    at a version already handled, or one the next handled version does not
    point back to.
    """
    for version, digest, prev_hash in neighbours:
        if version == record.version - 1 and bytes(digest) != record.prev_hash:
            return f"{record.stream_id} v{record.version} does not follow the v{version} already handled"
        if version == record.version:
            return f"another event is already handled as {record.stream_id} v{version}"
        if version == record.version + 1 and prev_hash is not None and bytes(prev_hash) != record.hash:
            return f"{record.stream_id} v{version}, already handled, does not follow this event"
    return None


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
