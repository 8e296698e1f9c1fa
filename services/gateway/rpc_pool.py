"""Calling the services for the gateway: a small pool of started RPC proxies.

A nameko cluster proxy serves one greenthread at a time (it polls its reply
queue in the caller's thread), so concurrent requests each lease a proxy of
their own from the pool, up to ``size``, and wait briefly for one beyond
that. Every call carries a fresh identity assertion for the one service it
is addressed to, signed as ``gateway`` (``shared.runtime.messaging.client``),
the request's correlation id, and a timeout.

What can go wrong on the way is said as a problem: no answer in time is 504;
a service nobody serves (its queue unbound), a broker that cannot be reached,
or a pool with no proxy free is 503. A proxy that timed out or lost its
connection is thrown away rather than reused (a late reply would otherwise
wait in it forever).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy

from services.gateway.problems import INTERNAL, TIMEOUT, UNAVAILABLE, Problem
from shared.runtime.messaging.client import IdentifiedProxy, proxy_config
from shared.security.assertions import AssertionSigner, Identity

log = logging.getLogger(__name__)

#: How long a request waits for a free proxy before it is told to come back.
LEASE_WAIT = 5.0
_CONNECTION_ERRORS = (OSError, socket.error, AMQPError, OperationalError, ConnectionError)


class Caller(Protocol):
    """What the gateway needs from the platform: one call, as someone, answered with JSON values."""

    def call(
        self, service: str, method: str, arguments: Mapping[str, Any], identity: Identity, correlation_id: str
    ) -> Any: ...


class _Slot:
    """One started cluster proxy."""

    def __init__(self, config: dict[str, Any], timeout: float) -> None:
        self.standalone = ClusterRpcProxy(config, timeout=timeout, context_data={})
        self.cluster: ClusterProxy = self.standalone.start()
        self.discarded = False

    def close(self) -> None:
        try:
            self.standalone.stop()
        except Exception as error:  # it is being thrown away; a failure to stop changes nothing
            log.debug("stopping an RPC proxy: %s", error)


class RpcPool:
    """Up to ``size`` started proxies, created when first needed and kept for the next request."""

    def __init__(
        self,
        amqp_uri: str,
        signer: AssertionSigner,
        *,
        size: int = 8,
        timeout: float = 10.0,
        ssl: dict[str, Any] | None = None,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.config = proxy_config(amqp_uri, ssl)
        self.signer = signer
        self.size = max(1, size)
        self.timeout = timeout
        self._idle: queue.LifoQueue[_Slot] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._created = 0
        self._closed = False

    def call(
        self, service: str, method: str, arguments: Mapping[str, Any], identity: Identity, correlation_id: str
    ) -> Any:
        """``service.method(**arguments)`` as ``identity``; the platform's errors pass through as they are."""
        with self._lease() as slot:
            slot.cluster._worker_ctx.data["correlation_id"] = correlation_id
            proxy = IdentifiedProxy(slot.cluster, self.signer, identity)
            try:
                return proxy.method(service, method)(**arguments)
            except RpcTimeout:
                self._discard(slot)
                raise Problem(TIMEOUT, f"{service} did not answer within {self.timeout:g} s") from None
            except UnknownService:
                raise Problem(UNAVAILABLE, f"{service} is not running") from None
            except RemoteError as error:
                log.error("%s.%s answered with an error the platform does not know: %s", service, method, error)
                raise Problem(INTERNAL, f"{service} could not take the call") from None
            except (*_CONNECTION_ERRORS, RuntimeError) as error:
                log.warning("RPC to %s.%s failed on the connection: %s", service, method, error)
                self._discard(slot)
                raise Problem(UNAVAILABLE, "the message broker cannot be reached") from None

    @property
    def closed(self) -> bool:
        """Whether the pool was closed (the gateway is stopping): the replica is no longer ready."""
        return self._closed

    def warm(self) -> None:
        """Start one proxy now (so that a broken broker shows at start, not at the first request)."""
        with self._lease():
            pass

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    @contextmanager
    def _lease(self) -> Iterator[_Slot]:
        slot = self._take()
        try:
            yield slot
        finally:
            self._give_back(slot)

    def _take(self) -> _Slot:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            create = self._created < self.size
            if create:
                self._created += 1
        if create:
            try:
                return _Slot(self.config, self.timeout)
            except _CONNECTION_ERRORS as error:
                with self._lock:
                    self._created -= 1
                log.warning("cannot start an RPC proxy: %s", error)
                raise Problem(UNAVAILABLE, "the message broker cannot be reached") from None
        try:
            return self._idle.get(timeout=LEASE_WAIT)
        except queue.Empty:
            raise Problem(UNAVAILABLE, "the gateway is busy; try again shortly", headers={"Retry-After": "1"}) from None

    def _give_back(self, slot: _Slot) -> None:
        if slot.discarded:
            return
        if self._closed:
            slot.close()
            return
        slot.cluster._worker_ctx.data.clear()
        self._idle.put(slot)

    def _discard(self, slot: _Slot) -> None:
        slot.discarded = True
        with self._lock:
            self._created -= 1
        slot.close()
