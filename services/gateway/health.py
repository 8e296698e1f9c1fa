"""Whether the gateway can do its job: the broker it calls the services through answers.

``/health/live`` answers as long as the process serves; ``/health/ready``
asks this probe, which connects to the broker at most every few seconds (a
probe every second from an orchestrator must not become a connection every
second).
"""

from __future__ import annotations

import threading
import time

import kombu

CHECK_TTL = 2.0


class BrokerProbe:
    """``probe()`` is True when the broker accepted a connection within the last ``ttl`` seconds."""

    def __init__(self, amqp_uri: str, ttl: float = CHECK_TTL) -> None:
        self.amqp_uri = amqp_uri
        self.ttl = ttl
        self._lock = threading.Lock()
        self._checked_at = -ttl
        self._ok = False

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked_at < self.ttl:
                return self._ok
            self._checked_at = time.monotonic()
        try:
            with kombu.Connection(self.amqp_uri, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            ok = True
        except Exception:  # any failure to connect means not ready; the reason is the broker's to log
            ok = False
        self._ok = ok
        return ok
