"""A database and a RabbitMQ vhost of one's own, for a test run or a benchmark.

Each gets names of its own, so two runs on one machine never see each other's
data; ``destroy`` removes both. Needs ``rabbitmqctl`` (the broker's own tool).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import quote

from shared.config import DEFAULT_AMQP_URI, DEFAULT_DATABASE_URL
from shared.db.database import drop_database, dsn_for_database, ensure_database


@dataclass(frozen=True)
class Sandbox:
    database_url: str
    amqp_uri: str
    vhost: str

    def export(self) -> None:
        """Point this process (and the ones it starts) at the sandbox."""
        os.environ["DATABASE_URL"] = self.database_url
        os.environ["AMQP_URI"] = self.amqp_uri


def rabbitmqctl(*args: str) -> None:
    tool = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([tool, "-q", *args], check=True, capture_output=True, timeout=60)


def create(name: str) -> Sandbox:
    """A fresh database and vhost, both called ``name`` (a previous one is dropped)."""
    server = os.environ.get("SANDBOX_DATABASE_SERVER_URL", DEFAULT_DATABASE_URL)
    database_url = dsn_for_database(server, name)
    drop_database(database_url)
    ensure_database(database_url)
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    base = os.environ.get("SANDBOX_AMQP_SERVER_URI", DEFAULT_AMQP_URI).rstrip("/")
    return Sandbox(database_url, f"{base}/{quote(name, safe='')}", name)


def destroy(sandbox: Sandbox) -> None:
    try:
        drop_database(sandbox.database_url)
    finally:
        rabbitmqctl("delete_vhost", sandbox.vhost)
