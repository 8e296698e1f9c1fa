"""A database, a RabbitMQ vhost and a key directory of one's own, for a test run or a benchmark.

Each gets names of its own, so two runs on one machine never see each other's
data or trust each other's keys; ``destroy`` removes all three. Needs
``rabbitmqctl`` (the broker's own tool). Database roles belong to the server,
not to a database: a ``platform migrate`` in the sandbox makes its services'
runtime roles (``shared.db.roles``) under a prefix of the sandbox's own
(``DB_ROLE_PREFIX``), and ``destroy`` drops them too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

from shared.config import DEFAULT_AMQP_URI, DEFAULT_DATABASE_URL
from shared.db.database import CONNECT_OPTIONS, drop_database, dsn_for_database, ensure_database
from shared.runtime.process import broker
from shared.security import keys


@dataclass(frozen=True)
class Sandbox:
    database_url: str
    amqp_uri: str
    vhost: str
    keys_dir: str

    def export(self) -> None:
        """Point this process (and the ones it starts) at the sandbox."""
        os.environ.update(self.environment())

    @property
    def db_role_prefix(self) -> str:
        """The prefix of the database roles a migrate in this sandbox makes: its name's, never ``orgwork_``."""
        return re.sub(r"[^a-z0-9_]", "_", self.vhost.lower()) + "_"

    def environment(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "AMQP_URI": self.amqp_uri,
            "SECURITY_KEYS_DIR": self.keys_dir,
            "DB_ROLE_PREFIX": self.db_role_prefix,
        }


def rabbitmqctl(*args: str) -> None:
    tool = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([tool, "-q", *args], check=True, capture_output=True, timeout=60)


def create(name: str, holders: tuple[str, ...] = ()) -> Sandbox:
    """A fresh database and vhost, both called ``name`` (a previous one is dropped), and a key directory.

    The keys are the platform's (``keys.HOLDERS``) and those of ``holders``
    (applications of the tests' or benchmarks' own).
    """
    server = os.environ.get("SANDBOX_DATABASE_SERVER_URL", DEFAULT_DATABASE_URL)
    database_url = dsn_for_database(server, name)
    drop_database(database_url)
    ensure_database(database_url)
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    base = os.environ.get("SANDBOX_AMQP_SERVER_URI", DEFAULT_AMQP_URI).rstrip("/")
    keys_dir = tempfile.mkdtemp(prefix=f"{name}-keys-")
    keys.generate(keys_dir, [*keys.HOLDERS, *holders])
    return Sandbox(database_url, f"{base}/{quote(name, safe='')}", name, keys_dir)


def drop_roles(dsn: str, prefix: str) -> list[str]:
    """Drop every role whose name starts with ``prefix`` (after its database: nothing is granted to it then)."""
    admin = psycopg2.connect(dsn_for_database(dsn, "postgres"), **CONNECT_OPTIONS)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) ORDER BY 1", [prefix])
            names = [name for (name,) in cur.fetchall()]
            for name in names:
                cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
        return names
    finally:
        admin.close()


def destroy(sandbox: Sandbox) -> None:
    try:
        drop_database(sandbox.database_url)
        drop_roles(sandbox.database_url, sandbox.db_role_prefix)
    finally:
        shutil.rmtree(sandbox.keys_dir, ignore_errors=True)
        try:
            rabbitmqctl("delete_vhost", sandbox.vhost)
        finally:
            broker.forget_local(sandbox.vhost)  # the users a platform run in the sandbox made
