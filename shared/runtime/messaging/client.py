"""Calling the platform's services over RPC, always with a timeout.

nameko's reply queues expire, and a service that is down never answers: a
caller without a timeout can wait forever. ``rpc_client`` always sets one, and
passes a correlation id along so that everything the call causes, in every
service, can be traced back to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy

from shared.config import Settings
from shared.runtime.messaging import rpc  # noqa: F401  (registers the platform's errors for the caller)


@contextmanager
def rpc_client(
    amqp_uri: str | None = None,
    timeout: float | None = None,
    correlation_id: str | None = None,
    actor: str | None = None,
) -> Iterator[Any]:
    """A proxy to every service: ``with rpc_client() as c: c.cadre.create_process(...)``."""
    settings = Settings.from_env()
    context = {"correlation_id": correlation_id or str(uuid.uuid4())}
    if actor:
        context["actor"] = actor
    config = {"AMQP_URI": amqp_uri or settings.amqp_uri}
    with ClusterRpcProxy(config, timeout=timeout or settings.rpc_timeout, context_data=context) as proxy:
        yield proxy
