"""Where the subjects' keys live: a table beside the log, from which a key may be deleted.

The events table is append-only and its rows are chained by hash, so nothing
in it can ever be removed. ``privacy_keys`` (``shared/migrations/0015_privacy_keys.sql``)
is the one place where personal data can be destroyed: delete a subject's row
and every value sealed under it is unreadable in this store for good.

Reads look keys up once per batch of records, never from a cache that
outlives the call: an erasure takes effect on the very next read.

``PostgresKeys`` works on a cursor the store gives it (inside the store's
transaction: a key is made in the same transaction as the first event sealed
under it); ``MemoryKeys`` is the in-memory store's table.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection
from typing import Any

from shared.privacy.sealing import new_key


class PostgresKeys:
    """The ``privacy_keys`` table of one service's schema."""

    def __init__(self, schema: str) -> None:
        table = f'"{schema}".privacy_keys'  # the schema name was checked by the store
        # Through the table owner's function (``0016_privacy_keys_reader.sql``): a consumer opening
        # another store's events may call it, and has no right on the table itself (docs/DATABASE.md).
        self._sql_fetch = f'SELECT subject, key FROM "{schema}".privacy_keys_of(%s::text[])'
        self._sql_create = (
            f"INSERT INTO {table} (subject, key) SELECT * FROM unnest(%s::text[], %s::bytea[]) "
            "ON CONFLICT (subject) DO NOTHING"
        )
        self._sql_delete = f"DELETE FROM {table} WHERE subject = %s"

    def fetch(self, cur: Any, subjects: Collection[str]) -> dict[str, bytes]:
        """The keys of ``subjects`` that exist (one statement)."""
        if not subjects:
            return {}
        cur.execute(self._sql_fetch, [sorted(subjects)])
        return {subject: bytes(key) for subject, key in cur.fetchall()}

    def ensure(self, cur: Any, subjects: Collection[str]) -> dict[str, bytes]:
        """The keys of ``subjects``, made for those that have none yet (in the caller's transaction).

        Two transactions making one subject's key at once: the second waits on
        the first's row and then reads it. An erasure between the insert and
        the read leaves no key: make it again (the data sealed now is new).
        """
        keys = self.fetch(cur, subjects)
        for _ in range(3):
            missing = sorted(set(subjects) - keys.keys())
            if not missing:
                return keys
            cur.execute(self._sql_create, [missing, [new_key() for _ in missing]])
            keys.update(self.fetch(cur, missing))
        raise RuntimeError(f"could not make the privacy keys of {', '.join(sorted(set(subjects) - keys.keys()))}")

    def delete(self, cur: Any, subject: str) -> bool:
        """Forget ``subject``'s key; True when there was one."""
        cur.execute(self._sql_delete, [subject])
        return bool(cur.rowcount)


class MemoryKeys:
    """The in-memory store's key table: the same contract, for use-case tests."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[bytes, dt.datetime]] = {}
        self._lock = threading.Lock()

    def fetch(self, subjects: Collection[str]) -> dict[str, bytes]:
        with self._lock:
            return {s: self._keys[s][0] for s in subjects if s in self._keys}

    def ensure(self, subjects: Collection[str]) -> dict[str, bytes]:
        with self._lock:
            for subject in subjects:
                if subject not in self._keys:
                    self._keys[subject] = (new_key(), dt.datetime.now(dt.UTC))
            return {s: self._keys[s][0] for s in subjects}

    def delete(self, subject: str) -> bool:
        with self._lock:
            return self._keys.pop(subject, None) is not None

    def __contains__(self, subject: object) -> bool:
        with self._lock:
            return subject in self._keys
