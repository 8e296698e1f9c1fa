"""Getting a service's world ready before it starts: database, schema, queues."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from nameko.constants import AMQP_SSL_CONFIG_KEY
from nameko.rpc import get_rpc_exchange

from shared.config import Settings
from shared.db.database import Database, ensure_database
from shared.db.migrations import migrate
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
