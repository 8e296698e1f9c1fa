"""Calling the platform's services over RPC, always with a timeout and an identity.

nameko's reply queues expire, and a service that is down never answers: a
caller without a timeout can wait forever. ``rpc_client`` always sets one, and
passes a correlation id along so that everything the call causes, in every
service, can be traced back to it.

Every service refuses a call that carries no identity it can verify
(``shared.security.assertions``). ``rpc_client(identity=..., issuer=...)``
signs, for every call, an assertion addressed to the one service called, with
the issuer's private key from the key directory: the gateway's for people,
a service's own for the service itself, the operator's for ``orgctl``.
Without an identity, calls go out bare (and are refused).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy

from shared.config import Settings
from shared.runtime.messaging import rpc  # noqa: F401  (registers the platform's errors for the caller)
from shared.security.assertions import CONTEXT_KEY, AssertionSigner, Identity
from shared.security.keys import KeyRing


class IdentifiedProxy:
    """``proxy.<service>.<method>(**kwargs)``, each call carrying a fresh assertion for that service."""

    def __init__(self, cluster: Any, signer: AssertionSigner | None, identity: Identity | None) -> None:
        self._cluster = cluster
        self._signer = signer
        self._identity = identity

    def __getattr__(self, service: str) -> _ServiceCaller:
        return _ServiceCaller(self, service)

    def __getitem__(self, service: str) -> _ServiceCaller:
        return _ServiceCaller(self, service)

    def method(self, service: str, method: str) -> Any:
        """nameko's method proxy for ``service.method``, its headers carrying the assertion from now on."""
        data = self._cluster._worker_ctx.data
        if self._signer is not None and self._identity is not None:
            data[CONTEXT_KEY] = self._signer.assertion(self._identity, service)
        else:
            data.pop(CONTEXT_KEY, None)
        return getattr(getattr(self._cluster, service), method)


class _ServiceCaller:
    def __init__(self, proxy: IdentifiedProxy, service: str) -> None:
        self._proxy = proxy
        self._service = service

    def __getattr__(self, method: str) -> _MethodCaller:
        return _MethodCaller(self._proxy, self._service, method)


class _MethodCaller:
    def __init__(self, proxy: IdentifiedProxy, service: str, method: str) -> None:
        self._proxy, self._service, self._method = proxy, service, method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._proxy.method(self._service, self._method)(*args, **kwargs)

    def call_async(self, *args: Any, **kwargs: Any) -> Any:
        return self._proxy.method(self._service, self._method).call_async(*args, **kwargs)


def proxy_config(amqp_uri: str, ssl: dict[str, Any] | None) -> dict[str, Any]:
    """The configuration of a standalone nameko proxy: the broker, and TLS when it is configured."""
    config: dict[str, Any] = {"AMQP_URI": amqp_uri}
    if ssl is not None:
        config["AMQP_SSL"] = ssl
    return config


@contextmanager
def rpc_client(
    amqp_uri: str | None = None,
    timeout: float | None = None,
    correlation_id: str | None = None,
    identity: Identity | None = None,
    issuer: str = "gateway",
    settings: Settings | None = None,
) -> Iterator[IdentifiedProxy]:
    """A proxy to every service: ``with rpc_client(identity=...) as c: c.cadre.create_selection(...)``."""
    settings = settings or Settings.from_env()
    signer = None
    if identity is not None:
        signer = AssertionSigner.from_keys(
            KeyRing(settings.security.keys_dir), issuer, settings.security.assertion_lifetime
        )
    context = {"correlation_id": correlation_id or str(uuid.uuid4())}
    config = proxy_config(amqp_uri or settings.amqp_uri, settings.amqp_ssl())
    with ClusterRpcProxy(config, timeout=timeout or settings.rpc_timeout, context_data=context) as proxy:
        yield IdentifiedProxy(proxy, signer, identity)
