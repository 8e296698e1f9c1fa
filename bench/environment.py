"""A database and a RabbitMQ vhost of the benchmark's own, made fresh for each run."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from urllib.parse import quote

from shared.config import DEFAULT_AMQP_URI, DEFAULT_DATABASE_URL
from shared.db.database import drop_database, dsn_for_database, ensure_database


@dataclass(frozen=True)
class BenchEnvironment:
    database_url: str
    amqp_uri: str
    vhost: str

    def export(self) -> None:
        os.environ["DATABASE_URL"] = self.database_url
        os.environ["AMQP_URI"] = self.amqp_uri


def _rabbitmqctl(*args: str) -> None:
    tool = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([tool, "-q", *args], check=True, capture_output=True, timeout=60)


def create() -> BenchEnvironment:
    name = f"orgwork_bench_{os.getpid()}"
    database_url = dsn_for_database(os.environ.get("BENCH_DATABASE_SERVER_URL", DEFAULT_DATABASE_URL), name)
    drop_database(database_url)
    ensure_database(database_url)
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    base = os.environ.get("BENCH_AMQP_SERVER_URI", DEFAULT_AMQP_URI).rstrip("/")
    return BenchEnvironment(database_url, f"{base}/{quote(name, safe='')}", name)


def destroy(env: BenchEnvironment) -> None:
    try:
        drop_database(env.database_url)
    finally:
        _rabbitmqctl("delete_vhost", env.vhost)
