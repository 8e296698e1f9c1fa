"""The test run's own database and RabbitMQ vhost (a sandbox), and ways to upset them."""

from __future__ import annotations

import os
import secrets

from shared.runtime.process import sandbox
from shared.runtime.process.sandbox import Sandbox as RunEnvironment
from shared.runtime.process.sandbox import destroy, rabbitmqctl

#: The tests' own applications (``tests/support/apps``): they sign too.
TEST_APPS = ("ledger", "tally")


def create() -> RunEnvironment:
    return sandbox.create(f"orgwork_test_{os.getpid()}_{secrets.token_hex(3)}", TEST_APPS)


def close_vhost_connections(env: RunEnvironment, why: str = "test") -> None:
    """Drop every AMQP connection of this run (a broker outage, for this run only)."""
    rabbitmqctl("close_all_connections", "-p", env.vhost, why)


def set_vhost_max_connections(env: RunEnvironment, limit: int) -> None:
    """-1 lifts the limit; 0 refuses every new connection to this run's vhost."""
    rabbitmqctl("set_vhost_limits", "-p", env.vhost, f'{{"max-connections": {limit}}}')


__all__ = ["RunEnvironment", "close_vhost_connections", "create", "destroy", "set_vhost_max_connections"]
