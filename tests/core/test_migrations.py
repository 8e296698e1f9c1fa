"""Migrations: in order, recorded, idempotent, safe from two processes at once."""

from __future__ import annotations

import secrets
from pathlib import Path

import eventlet
import pytest

from shared.db.database import Database
from shared.db.migrations import Migration, MigrationError, discover, migrate, platform_migrations
from tests.support.probes import scalar


@pytest.fixture
def fresh_schema(database: Database):
    name = f"m_{secrets.token_hex(4)}"
    yield name
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_applied_in_order_recorded_and_not_applied_twice(database: Database, fresh_schema: str) -> None:
    first = migrate(database, fresh_schema, platform_migrations())
    assert [m.version for m in first] == sorted(m.version for m in first)
    assert migrate(database, fresh_schema, platform_migrations()) == []
    assert scalar(database, f'SELECT count(*) FROM "{fresh_schema}".schema_migrations') == len(first)


def test_two_processes_migrating_at_once_apply_each_migration_once(test_env, fresh_schema: str) -> None:
    pools = [Database(test_env.database_url, size=1) for _ in range(4)]
    results = [eventlet.spawn(migrate, pool, fresh_schema, platform_migrations()) for pool in pools]
    applied = [len(r.wait()) for r in results]
    for pool in pools:
        pool.close()
    assert sorted(applied) == [0, 0, 0, len(platform_migrations())]


def test_an_edited_migration_is_refused(database: Database, fresh_schema: str) -> None:
    migrate(database, fresh_schema, platform_migrations())
    edited = [Migration(m.component, m.version, m.name, m.sql + "\n-- edited") for m in platform_migrations()]
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(database, fresh_schema, edited)


def test_migration_files_must_be_numbered(tmp_path: Path) -> None:
    (tmp_path / "create_things.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="NNNN_"):
        discover(tmp_path, "service")


def test_an_install_without_its_sql_files_is_refused_not_taken_for_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.db import migrations

    monkeypatch.setattr(migrations, "PLATFORM_MIGRATIONS", tmp_path)
    with pytest.raises(migrations.MigrationError, match=r"lacks its \.sql files"):
        migrations.platform_migrations()
