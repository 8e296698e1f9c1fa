"""Test set-up shared by the whole suite.

eventlet is monkey-patched and psycopg2 made green *first*, exactly as the
service launcher does, so that tests and production behave the same.
"""

from shared.runtime.process.bootstrap import green

green()

import os  # noqa: E402
import secrets  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from shared.db.database import Database  # noqa: E402
from shared.db.migrations import migrate, platform_migrations  # noqa: E402
from shared.runtime.messaging.client import rpc_client  # noqa: E402
from tests.support import environment, identities  # noqa: E402


@pytest.fixture(scope="session")
def test_env() -> Iterator[environment.RunEnvironment]:
    """This run's own database and vhost, exported for child processes too."""
    env = environment.create()
    exported = env.environment()
    saved = {k: os.environ.get(k) for k in exported}
    os.environ.update(exported)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        environment.destroy(env)


@pytest.fixture(scope="session")
def database(test_env: environment.RunEnvironment) -> Iterator[Database]:
    db = Database(test_env.database_url, size=24, application_name="orgwork-tests")
    yield db
    db.close()


@pytest.fixture
def rpc(test_env: environment.RunEnvironment) -> Iterator[Any]:
    """An RPC client to the run's vhost, with a timeout, calling as a member of staff who holds every role."""
    with rpc_client(timeout=20, identity=identities.EVERY_ROLE) as client:
        yield client


@pytest.fixture
def schema(database: Database) -> Iterator[str]:
    """A fresh schema with the platform's tables, dropped after the test."""
    name = f"t_{secrets.token_hex(4)}"
    migrate(database, name, platform_migrations())
    yield name
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA "{name}" CASCADE')
