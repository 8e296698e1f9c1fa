"""What the privacy tests share: the stored rows as they are, and their hash chains recomputed."""

from __future__ import annotations

import json
from typing import Any

from shared.db.database import Database
from shared.eventstore.hashing import canonical_json, event_hash
from shared.eventstore.records import ZERO_HASH
from shared.eventstore.store import EventStore
from tests.support.local import OnPostgres


def stored_rows(database: Database, schema: str) -> dict[str, tuple[Any, ...]]:
    """Every row of the schema's events table, as stored (jsonb as text), by event id."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT event_id::text, position, stream_id, version, type, schema_version, data::text, metadata::text, "
            f'prev_hash, hash FROM "{schema}".events ORDER BY position'
        )
        return {row[0]: tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cur.fetchall()}


def broken_links(database: Database, schema: str) -> list[str]:
    """Each event whose stored hash is not the hash of its stored content, or that does not continue its stream."""
    problems = []
    last: dict[str, bytes] = {}
    rows = sorted(stored_rows(database, schema).values(), key=lambda row: (row[2], row[3]))
    for event_id, position, stream_id, version, type_, schema_version, data, metadata, prev_hash, digest in rows:
        if prev_hash != last.get(stream_id, ZERO_HASH):
            problems.append(f"{stream_id} v{version}: does not continue its stream")
        recomputed = event_hash(
            position=position,
            stream_id=stream_id,
            version=version,
            event_id=event_id,
            type=type_,
            schema_version=schema_version,
            data_json=canonical_json(json.loads(data)),
            metadata_json=canonical_json(json.loads(metadata), "metadata"),
            prev_hash=prev_hash,
        )
        if recomputed != digest:
            problems.append(f"{stream_id} v{version}: hash is not the hash of its content")
        last[stream_id] = digest
    return problems


def keys_held(database: Database, schema: str, subject: str) -> int:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{schema}".privacy_keys WHERE subject = %s', [subject])
        row = cur.fetchone()
    return int(row[0]) if row else 0


def relayed(service: OnPostgres, stream_id: str, version: int = 1) -> dict[str, Any]:
    """The event as the relay publishes it: what is stored, sealed, with its hash."""
    stored = EventStore(service.database, service.service_cls.name, open_sealed=False).read_stream(stream_id)
    return stored[version - 1].envelope()
