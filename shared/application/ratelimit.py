"""Fixed-window rate limits kept in the service's own table, so every replica counts together.

Callers count a hit in a transaction of its own, before the request runs, so
that requests which then fail count too (a hit over the limit is refused and
not kept, so the window's count stops at the limit plus one). Keys should not carry personal data in clear
(HMAC them first); windows long past are purged now and then as hits come in.
The table ``rate_limits`` is the platform's (``shared/migrations``), in every
service's schema.
"""

from __future__ import annotations

import datetime as dt
import random

from shared.application.unit_of_work import UnitOfWork
from shared.errors import RateLimited

_HIT = (
    "INSERT INTO rate_limits (key, window_start, hits) VALUES (%s, %s, 1) "
    "ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits"
)
_PURGE = "DELETE FROM rate_limits WHERE window_start < %s"


def hit(uow: UnitOfWork, scope: str, key: str, limit: int, window_seconds: int, now: dt.datetime) -> int:
    """Count one hit; raise ``RateLimited`` (naming ``scope``) beyond ``limit`` per window."""
    epoch = int(now.timestamp())
    start = epoch - epoch % window_seconds
    window_start = dt.datetime.fromtimestamp(start, dt.UTC)
    with uow.apart() as tx:  # counted whatever becomes of the request
        hits = int(tx.query(_HIT, [f"{scope}:{key}", window_start])[0]["hits"])
        if random.random() < 0.01:  # now and then, forget windows long past
            tx.execute(_PURGE, [window_start - dt.timedelta(seconds=2 * window_seconds)])
        if hits > limit:
            raise RateLimited(scope, limit, window_seconds, start + window_seconds - epoch)
    return hits
