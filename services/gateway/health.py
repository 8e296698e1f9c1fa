"""The gateway's probes: what Kubernetes and operators ask it, and what each answer means.

All three answer on the gateway's own HTTP port, unthrottled, as JSON:

``/health/live``
    200 ``{"alive": true}`` whenever the process serves HTTP. Checks nothing
    else: a broker outage must not restart the gateway.

``/health/ready`` — this replica only
    200 ``{"ready": true, "rpc_pool": "ok"}`` when it serves, its RPC pool
    exists and is open, and it is not stopping; 503 with ``"ready": false``
    and ``"rpc_pool"`` saying why (``closed``, ``stopping``) otherwise. It
    does not ask the broker: every replica shares it, and a readiness that
    followed it would take them all out together on a short outage (the
    calls then fail with a 503 problem of their own, which says so).
    ``python -m services.gateway`` starts one RPC proxy before the port
    opens, so a broker unreachable at start stops the process instead.

``/health/dependencies`` — what every replica shares
    200 ``{"healthy": true, "broker": "ok"}`` when RabbitMQ accepted a
    connection (asked at most every ``CHECK_TTL`` seconds: a probe every
    second from an orchestrator must not become a connection every second);
    503 with ``"healthy": false`` and ``"broker": "down: <error>"`` otherwise.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import kombu

CHECK_TTL = 2.0


class BrokerProbe:
    """``probe()`` is ``"ok"`` when the broker accepted a connection within the last ``ttl`` seconds, else why not."""

    def __init__(self, amqp_uri: str, ttl: float = CHECK_TTL, ssl: Any = None) -> None:
        self.amqp_uri = amqp_uri
        self.ttl = ttl
        self.ssl = ssl
        self._lock = threading.Lock()
        self._checked_at = -ttl
        self._state = "unknown"

    def __call__(self) -> str:
        with self._lock:
            if time.monotonic() - self._checked_at < self.ttl:
                return self._state
            self._checked_at = time.monotonic()
        try:
            with kombu.Connection(self.amqp_uri, connect_timeout=2, ssl=self.ssl) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
            state = "ok"
        except Exception as error:  # any failure to connect is the answer: the reason is shown, not raised
            state = f"down: {type(error).__name__}: {str(error).strip()[:200]}"
        self._state = state
        return state
