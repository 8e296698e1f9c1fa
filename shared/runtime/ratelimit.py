"""Fixed-window rate limits kept in PostgreSQL, so every replica counts together.

Callers count a hit in a transaction of its own, before the request runs, so
that refused and invalid requests count too. Keys should not carry personal
data in clear (HMAC them first); windows long past are purged as hits come in.
"""

from __future__ import annotations

import datetime as dt
import random

from shared.db.database import Connection, fetch_one
from shared.db.migrations import SCHEMA_NAME
from shared.errors import RateLimited


class RateLimiter:
    def __init__(self, schema: str) -> None:
        if not SCHEMA_NAME.match(schema):
            raise ValueError(f"bad schema name {schema!r}")
        self._sql_purge = f'DELETE FROM "{schema}".rate_limits WHERE window_start < %s'
        self._sql_hit = (
            f'INSERT INTO "{schema}".rate_limits (key, window_start, hits) VALUES (%s, %s, 1) '
            "ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits"
        )

    def hit(self, conn: Connection, scope: str, key: str, limit: int, window_seconds: int, now: dt.datetime) -> int:
        """Count one hit; raise ``RateLimited`` (naming ``scope``) beyond ``limit`` per window."""
        epoch = int(now.timestamp())
        start = epoch - epoch % window_seconds
        window_start = dt.datetime.fromtimestamp(start, dt.UTC)
        with conn.cursor() as cur:
            cur.execute(self._sql_hit, [f"{scope}:{key}", window_start])
            hits = int(fetch_one(cur)[0])
            if random.random() < 0.01:  # now and then, forget windows long past
                cur.execute(self._sql_purge, [window_start - dt.timedelta(seconds=2 * window_seconds)])
        if hits > limit:
            raise RateLimited(scope, limit, window_seconds, start + window_seconds - epoch)
        return hits
