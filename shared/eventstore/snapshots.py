"""Snapshots of aggregate state, kept beside the event log as a cache."""

from __future__ import annotations

import json
from typing import Any

from shared.db.database import Connection, Database
from shared.db.migrations import SCHEMA_NAME


class SnapshotStore:
    """Reads and writes ``<schema>.snapshots``; a snapshot is only ever a shortcut."""

    def __init__(self, database: Database, schema: str) -> None:
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"schema name {schema!r} must match {SCHEMA_NAME.pattern}")
        self.database = database
        table = f'"{schema}".snapshots'
        self._sql_latest = (
            f"SELECT version, state FROM {table} WHERE stream_id = %s AND state_version = %s AND fingerprint = %s"
        )
        self._sql_save = (
            f"INSERT INTO {table} (stream_id, state_version, fingerprint, version, state) "
            "VALUES (%s, %s, %s, %s, %s::jsonb) "
            "ON CONFLICT (stream_id, state_version, fingerprint) DO UPDATE "
            "SET version = excluded.version, state = excluded.state, taken_at = now() "
            f"WHERE {table}.version < excluded.version"
        )

    def latest(
        self, stream_id: str, state_version: int, fingerprint: str, *, conn: Connection | None = None
    ) -> tuple[int, dict[str, Any]] | None:
        with self.database.transaction(conn) as tx, tx.cursor() as cur:
            cur.execute(self._sql_latest, [stream_id, state_version, fingerprint])
            row = cur.fetchone()
        return (int(row[0]), row[1]) if row else None

    def save(
        self,
        stream_id: str,
        state_version: int,
        fingerprint: str,
        version: int,
        state: dict[str, Any],
        *,
        conn: Connection | None = None,
    ) -> None:
        with self.database.transaction(conn) as tx, tx.cursor() as cur:
            cur.execute(self._sql_save, [stream_id, state_version, fingerprint, version, json.dumps(state)])
