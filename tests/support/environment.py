"""A database and a RabbitMQ vhost of the test run's own.

Each run gets names of its own, so two runs on one machine (a developer's and
CI's) never see each other's data; both are removed when the run ends.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import quote

from shared.config import DEFAULT_AMQP_URI, DEFAULT_DATABASE_URL
from shared.db.database import drop_database, dsn_for_database, ensure_database


@dataclass(frozen=True)
class RunEnvironment:
    database_url: str
    amqp_uri: str
    vhost: str


def _rabbitmqctl(*args: str) -> None:
    tool = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([tool, "-q", *args], check=True, capture_output=True, timeout=60)


def create() -> RunEnvironment:
    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    server_url = os.environ.get("TEST_DATABASE_SERVER_URL", DEFAULT_DATABASE_URL)
    database_url = dsn_for_database(server_url, f"orgwork_test_{suffix}")
    ensure_database(database_url)
    vhost = f"orgwork_test_{suffix}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    base = os.environ.get("TEST_AMQP_SERVER_URI", DEFAULT_AMQP_URI).rstrip("/")
    return RunEnvironment(database_url, f"{base}/{quote(vhost, safe='')}", vhost)


def destroy(env: RunEnvironment) -> None:
    try:
        drop_database(env.database_url)
    finally:
        _rabbitmqctl("delete_vhost", env.vhost)


def close_vhost_connections(env: RunEnvironment, why: str = "test") -> None:
    """Drop every AMQP connection of this run (a broker outage, for this run only)."""
    _rabbitmqctl("close_all_connections", "-p", env.vhost, why)


def set_vhost_max_connections(env: RunEnvironment, limit: int) -> None:
    """-1 lifts the limit; 0 refuses every new connection to this run's vhost."""
    _rabbitmqctl("set_vhost_limits", "-p", env.vhost, f'{{"max-connections": {limit}}}')
