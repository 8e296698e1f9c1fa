"""Versioned SQL migrations, applied in order, recorded, safe to run concurrently.

A migration is a file ``NNNN_what_it_does.sql`` in a component's folder: the
platform's own tables (``shared/migrations``, applied to every service's
schema) and each service's projections (``services/<name>/migrations``).
Files run with ``search_path`` set to the service's schema, so they need not
name it; where a name must be qualified (a function called with another search
path), ``@schema@`` stands for the schema's quoted name. Each applied file is recorded with its checksum in
``<schema>.schema_migrations``; editing an applied file is refused rather than
silently ignored.

Two processes migrating the same schema at once (two replicas starting) take
turns on a transaction-level advisory lock; the second finds everything applied.
Whatever else changes a schema's objects (``shared.db.roles`` granting on them)
takes the same lock (``migration_lock``).

A service that does not migrate at start-up (``MIGRATE_ON_START=false``: its
role may not) asks ``schema_state`` whether its schema has every migration the
code knows, and nothing more, before it starts.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg2 import sql

from shared.db.database import Database

log = logging.getLogger(__name__)

PLATFORM_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class MigrationError(Exception):
    """A migration cannot be applied as asked."""


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str = field(repr=False)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def __str__(self) -> str:
        return f"{self.component}/{self.version:04d}_{self.name}"


def discover(directory: Path, component: str) -> list[Migration]:
    """The migrations in ``directory``, in version order."""
    found: list[Migration] = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: a migration file is named NNNN_what_it_does.sql")
        found.append(Migration(component, int(match.group(1)), match.group(2), path.read_text("utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migrations share a version number")
    return found


def platform_migrations() -> list[Migration]:
    """The platform's own tables; none found is an install without its data files, never "nothing to do"."""
    found = discover(PLATFORM_MIGRATIONS, "platform")
    if not found:
        raise MigrationError(f"no platform migration in {PLATFORM_MIGRATIONS}: the install lacks its .sql files")
    return found


def migration_lock(cur: Any, schema: str) -> None:
    """Take ``schema``'s migration lock until the end of ``cur``'s transaction (the migrator's turn)."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"orgwork.migrate.{schema}"])


@dataclass(frozen=True)
class SchemaState:
    """How a schema's recorded migrations compare with the code's.

    ``missing``: the code's migrations not applied yet (the migrate Job has not
    run, or not finished). ``unknown``: applied migrations the code does not
    have (the schema was migrated by a newer release). ``changed``: applied
    migrations whose file differs from the code's now.
    """

    schema: str
    missing: tuple[Migration, ...] = ()
    unknown: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def current(self) -> bool:
        return not (self.missing or self.unknown or self.changed)

    @property
    def ahead(self) -> bool:
        """Waiting cannot help: the schema has what this code does not know, or other versions of its files."""
        return bool(self.unknown or self.changed)


def schema_state(database: Database, schema: str, migrations: Iterable[Migration]) -> SchemaState:
    """Compare ``schema``'s ``schema_migrations`` with ``migrations``, changing nothing.

    A schema (or a migrations table) that does not exist yet has everything
    missing. Needs only USAGE on the schema and SELECT on the table, which
    every runtime role has (``shared.db.roles``); without them it raises what
    PostgreSQL refuses (``InsufficientPrivilege``).
    """
    if not SCHEMA_NAME.match(schema):
        raise MigrationError(f"schema name {schema!r} must match {SCHEMA_NAME.pattern}")
    known = {(m.component, m.version): m for m in migrations}
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regnamespace(%s) IS NOT NULL", [schema])
        row = cur.fetchone()
        applied: list[tuple[str, int, str, str]] = []
        if row and row[0]:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".schema_migrations'])
            row = cur.fetchone()
            if row and row[0]:
                cur.execute(
                    sql.SQL("SELECT component, version, name, checksum FROM {}.schema_migrations").format(
                        sql.Identifier(schema)
                    )
                )
                applied = list(cur.fetchall())
    done = {(component, version) for component, version, _, _ in applied}
    return SchemaState(
        schema,
        missing=tuple(m for key, m in known.items() if key not in done),
        unknown=tuple(
            f"{component}/{version:04d}_{name}"
            for component, version, name, _ in sorted(applied)
            if (component, version) not in known
        ),
        changed=tuple(
            str(known[(component, version)])
            for component, version, _, checksum in sorted(applied)
            if (component, version) in known and known[(component, version)].checksum != checksum
        ),
    )


def migrate(database: Database, schema: str, migrations: Iterable[Migration]) -> list[Migration]:
    """Apply what is missing to ``schema``; return what was applied this time."""
    if not SCHEMA_NAME.match(schema):
        raise MigrationError(f"schema name {schema!r} must match {SCHEMA_NAME.pattern}")
    ordered: Sequence[Migration] = list(migrations)
    applied_now: list[Migration] = []
    schema_id = sql.Identifier(schema)
    with database.transaction() as conn, conn.cursor() as cur:
        migration_lock(cur, schema)
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema_id))
        cur.execute(
            sql.SQL(
                """CREATE TABLE IF NOT EXISTS {}.schema_migrations (
                       component  text        NOT NULL,
                       version    integer     NOT NULL,
                       name       text        NOT NULL,
                       checksum   text        NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now(),
                       PRIMARY KEY (component, version))"""
            ).format(schema_id)
        )
        cur.execute(sql.SQL("SELECT component, version, checksum FROM {}.schema_migrations").format(schema_id))
        done = {(component, version): checksum for component, version, checksum in cur.fetchall()}
        for migration in ordered:
            key = (migration.component, migration.version)
            if key in done:
                if done[key] != migration.checksum:
                    raise MigrationError(
                        f"{migration} was changed after it was applied to schema {schema!r}; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            cur.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(schema_id))
            cur.execute(migration.sql.replace("@schema@", schema_id.as_string(conn)))
            cur.execute(
                sql.SQL(
                    "INSERT INTO {}.schema_migrations (component, version, name, checksum) VALUES (%s, %s, %s, %s)"
                ).format(schema_id),
                [migration.component, migration.version, migration.name, migration.checksum],
            )
            applied_now.append(migration)
            log.info("applied migration %s to schema %s", migration, schema)
    return applied_now
