"""A service's store as it was before one of its migrations, to test what that migration does to old rows.

``store_before(database, CadreService, 3)`` is a scratch schema with the
platform's migrations and the service's own below version 3; the test writes
events and read-model rows as the older code did, then ``migrate_the_rest``
applies the migration under test (and any after it), as a deploy would.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from shared.db.database import Database
from shared.db.migrations import Migration, migrate
from shared.runtime.service import ServiceBase


def _before(migrations: list[Migration], version: int) -> list[Migration]:
    return [m for m in migrations if m.component != "service" or m.version < version]


@contextmanager
def store_before(database: Database, service_cls: type[ServiceBase], version: int) -> Iterator[str]:
    """A scratch schema migrated up to (not including) the service's migration ``version``; dropped after."""
    name = f"t_{secrets.token_hex(4)}"
    migrate(database, name, _before(service_cls.migrations(), version))
    try:
        yield name
    finally:
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{name}" CASCADE')


def migrate_the_rest(database: Database, schema: str, service_cls: type[ServiceBase]) -> list[str]:
    """Apply the service's migrations the schema lacks; the names of those applied."""
    return [str(m) for m in migrate(database, schema, service_cls.migrations())]
