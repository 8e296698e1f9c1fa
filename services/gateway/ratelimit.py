"""Rate limits at the door, per client address: one budget for the public, one for staff.

The address is the one werkzeug's ``ProxyFix`` settles on behind the
configured number of trusted proxies: with none, ``X-Forwarded-For`` is
ignored and a client cannot pick a new address per request to escape its
limit. A moving window (the ``limits`` library, in memory: each gateway
replica counts its own) refuses with ``RateLimited``, answered as 429 with
``Retry-After``. Services keep their own limits behind this one (feedback's
per source and per receipt code).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from shared.errors import RateLimited

PUBLIC = "public"
STAFF = "staff"


class RateLimits:
    """``check(scope, address)`` counts a request and raises ``RateLimited`` past the scope's limit."""

    def __init__(self, public: str, staff: str) -> None:
        self.items: dict[str, RateLimitItem] = {PUBLIC: parse(public), STAFF: parse(staff)}
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, scope: str, address: str) -> None:
        item = self.items[scope]
        if self.limiter.hit(item, scope, address):
            return
        reset_at = self.limiter.get_window_stats(item, scope, address).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RateLimited(f"{scope} requests from {address}", item.amount, item.get_expiry(), retry_after)
