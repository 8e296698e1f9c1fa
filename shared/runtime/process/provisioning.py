"""Getting a service's world ready before it starts: database, schema, roles, queues.

Two ways to a migrated schema. A service that may migrate (``MIGRATE_ON_START``,
the default: ``make run``, the tests) applies its own migrations as it starts
(``migrate_service``). Where each service runs as its least-privilege role
(docs/DATABASE.md), which may not, the migrate Job (``platform migrate``)
migrates every schema as the owner and grants each service's runtime role its
rights (``grant_runtime_roles``); the service only waits until its schema is
what its code expects (``wait_for_migrations``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import psycopg2
from nameko.constants import AMQP_SSL_CONFIG_KEY
from nameko.rpc import get_rpc_exchange

from shared.config import Settings
from shared.db.database import Database, ensure_database
from shared.db.migrations import SchemaState, migrate, schema_state
from shared.db.roles import RolesReport, RuntimeRole, ensure_runtime_roles, runtime_role
from shared.runtime.messaging import wire
from shared.runtime.messaging.inbound import subscriptions_of
from shared.runtime.messaging.topology import declare_topology, events_exchange
from shared.runtime.operations import PORTS_KEY
from shared.runtime.resources import SETTINGS_KEY

if TYPE_CHECKING:
    from shared.runtime.service import ServiceBase

log = logging.getLogger(__name__)


def migrate_service(settings: Settings, service_cls: type[ServiceBase]) -> int:
    """Create the database if needed and apply the service's migrations."""
    ensure_database(settings.database_url)
    database = Database(settings.database_url, size=1, application_name=f"{service_cls.name}-migrate")
    try:
        applied = migrate(database, service_cls.name, service_cls.migrations())
    finally:
        database.close()
    return len(applied)


def runtime_roles(settings: Settings, service_classes: Iterable[type[ServiceBase]]) -> list[RuntimeRole]:
    """Each service's runtime role (``DB_ROLE_PREFIX`` + its name), with the sources it catches up from."""
    return [
        RuntimeRole(cls.name, runtime_role(settings.db_role_prefix, cls.name), tuple(sorted(subscriptions_of(cls))))
        for cls in service_classes
    ]


def grant_runtime_roles(settings: Settings, service_classes: Iterable[type[ServiceBase]]) -> RolesReport:
    """Make each service's runtime role exist and hold exactly its rights (``shared.db.roles``), as the owner.

    Run after every migration of every schema (a table added since is granted
    now), by whoever migrates: ``platform migrate``.
    """
    database = Database(settings.database_url, size=1, application_name="orgwork-roles")
    try:
        return ensure_runtime_roles(database, runtime_roles(settings, service_classes))
    finally:
        database.close()


class SchemaNotReady(Exception):
    """The service's schema is not what its code expects, and waiting will not (or did not) change that."""


#: How long ``wait_for_migrations`` waits between looks: doubling from the first, up to the last.
WAIT_BACKOFF = (1.0, 15.0)


def wait_for_migrations(
    settings: Settings,
    service_cls: type[ServiceBase],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SchemaState:
    """Wait until the service's schema has every migration its code knows applied, and no other.

    For ``MIGRATE_ON_START=false``: the migrate Job migrates, this process (as
    its runtime role, which may not) waits for it, saying what it waits for,
    looking again with backoff for ``migrate_wait_seconds``. Raises
    ``SchemaNotReady`` at the deadline, and at once when the schema is ahead of
    the code (migrations this code does not have, or applied files that differ
    from its own): a newer release migrated the database, and no wait fixes that.
    """
    name = service_cls.name
    known = list(service_cls.migrations())
    deadline = clock() + settings.migrate_wait_seconds
    delay = WAIT_BACKOFF[0]
    database = Database(settings.database_url, size=1, application_name=f"{name}-wait")
    try:
        while True:
            try:
                state = schema_state(database, name, known)
            except psycopg2.Error as error:  # not reachable yet, or not granted yet: the Job may be on its way
                why = f"cannot read schema {name!r}'s migrations: {_first_line(error)}"
            else:
                if state.ahead:
                    raise SchemaNotReady(_ahead(state))
                if state.current:
                    log.info("%s: schema %r has its %d migration(s): starting", name, name, len(known))
                    return state
                why = (
                    f"schema {name!r} lacks {len(state.missing)} of its {len(known)} migration(s) "
                    f"({', '.join(map(str, state.missing[:5]))}{', ...' if len(state.missing) > 5 else ''})"
                )
            left = deadline - clock()
            if left <= 0:
                raise SchemaNotReady(
                    f"{why}, still after {settings.migrate_wait_seconds:g} s (MIGRATE_WAIT_SECONDS): "
                    "run the migrate Job (python -m shared.runtime.process.platform migrate, as the owner), "
                    "or set MIGRATE_ON_START=true where the service may migrate its own schema"
                )
            wait = min(delay, left)
            log.warning(
                "%s: waiting for the migrate Job: %s; looking again in %.0f s (giving up in %.0f s)",
                name,
                why,
                wait,
                left,
            )
            sleep(wait)
            delay = min(delay * 2, WAIT_BACKOFF[1])
    finally:
        database.close()


def _ahead(state: SchemaState) -> str:
    parts = []
    if state.unknown:
        parts.append(f"migrations this code does not have: {', '.join(state.unknown)}")
    if state.changed:
        parts.append(f"migrations applied from other versions of this code's files: {', '.join(state.changed)}")
    return (
        f"schema {state.schema!r} is ahead of this code ({'; '.join(parts)}): a newer release migrated it; "
        "run that release, or restore the schema to this release's migrations"
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def declare_queues(settings: Settings, service_classes: Iterable[type[ServiceBase]], skip_refused: bool = False) -> int:
    """Declare the inbound queue of every handler of these services (see ``declare_topology``).

    Their exchanges and nameko's RPC exchange are made too, when missing. With
    ``skip_refused``, what these credentials may not declare (other services'
    queues and exchanges, with a service's own broker user) is left out.
    """
    classes = list(service_classes)
    return declare_topology(
        settings.amqp_uri,
        {cls.name: subscriptions_of(cls) for cls in classes},
        ssl=settings.amqp_ssl(),
        skip_refused=skip_refused,
        exchanges=[get_rpc_exchange({}), *(events_exchange(cls.name) for cls in classes)],
        delivery_limit=settings.inbound_delivery_limit,
    )


def provision(settings: Settings, service_classes: Iterable[type[ServiceBase]]) -> tuple[int, int]:
    """Migrate each service and declare every queue; return (migrations applied, queues declared)."""
    classes = list(service_classes)
    applied = sum(migrate_service(settings, cls) for cls in classes)
    return applied, declare_queues(settings, classes)


def nameko_config(settings: Settings, ports: dict[str, int] | None = None) -> dict[str, Any]:
    """The nameko configuration of a service container (and the process's message size limit)."""
    wire.install(settings.max_message_bytes)
    config: dict[str, Any] = {
        "AMQP_URI": settings.amqp_uri,
        "max_workers": settings.max_workers,
        "HEARTBEAT": settings.amqp_heartbeat,
        "serializer": "json",
        SETTINGS_KEY: settings,
    }
    ssl = settings.amqp_ssl()
    if ssl is not None:
        config[AMQP_SSL_CONFIG_KEY] = ssl
    if ports is not None:
        config[PORTS_KEY] = ports
    return config
