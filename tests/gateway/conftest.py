"""The gateway in front of the real services, all six of them, running in this process.

``gateway`` is the WSGI application as ``python -m services.gateway`` builds
it (its RPC pool, the run's keys, the local issuer's JWKS), driven by
werkzeug's test ``Client`` (``client``) or served by a real eventlet server
(``live_gateway``, its base URL). Tokens come from the local issuer
(``tokens`` in the run's key directory), as ``orgctl token issue`` makes them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import eventlet
import eventlet.wsgi
import pytest
from werkzeug.test import Client

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.feedback.protection import generate_key
from services.gateway.app import Gateway
from services.gateway.rpc_pool import RpcPool
from services.grassroots.entrypoint import GrassrootsService
from services.supervision.entrypoint import SupervisionService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.config import Settings
from shared.db.database import Database
from shared.security import tokens
from shared.security.keys import KeyRing
from tests.support.environment import RunEnvironment
from tests.support.platform import services_running, settings_for_tests

UNLIMITED = "100000/minute"


def token(*roles: str, subject: str = "staff:test-clerk", **options: Any) -> str:
    """A bearer token from the local issuer, as ``orgctl token issue`` mints it."""
    return tokens.issue(KeyRing(os.environ["SECURITY_KEYS_DIR"]), subject, roles, **options)


def bearer(*roles: str, **options: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles, **options)}"}


@pytest.fixture(scope="package")
def platform_settings(test_env: RunEnvironment) -> Settings:
    return settings_for_tests(
        clock="offset",
        feedback={"identity_key": generate_key(), "source_limit": 1000, "receipt_limit": 1000, "source_key": "k"},
        gateway={"public_rate_limit": UNLIMITED, "staff_rate_limit": UNLIMITED, "rpc_timeout": 20.0},
    )


@pytest.fixture(scope="package")
def services(database: Database, platform_settings: Settings) -> Iterator[None]:
    with services_running(
        database,
        platform_settings,
        CadreService,
        FeedbackService,
        GrassrootsService,
        SupervisionService,
        TalentService,
        TrainingService,
    ):
        yield


@pytest.fixture(scope="package")
def gateway(services: None, platform_settings: Settings) -> Iterator[Gateway]:
    built = Gateway.from_settings(platform_settings)
    try:
        yield built
    finally:
        if isinstance(built.caller, RpcPool):
            built.caller.close()


@pytest.fixture
def client(gateway: Gateway) -> Client:
    return Client(gateway)


@pytest.fixture(scope="package")
def live_gateway(gateway: Gateway) -> Iterator[str]:
    """The gateway served by eventlet's WSGI server on a free port, as in production; its base URL."""
    listener = eventlet.listen(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    quiet = logging.getLogger("tests.gateway.access")
    quiet.setLevel(logging.WARNING)
    server = eventlet.spawn(eventlet.wsgi.server, listener, gateway, log=quiet, log_output=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        listener.close()
