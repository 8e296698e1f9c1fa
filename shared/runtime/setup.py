"""Getting a service's world ready before it starts: database, schema, queues."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import kombu

from shared.config import Settings
from shared.db.database import Database, ensure_database
from shared.db.migrations import migrate
from shared.runtime.inbound import inbound_queue, subscriptions_of

if TYPE_CHECKING:
    from shared.runtime.service import ServiceBase

log = logging.getLogger(__name__)


def migrate_service(settings: Settings, service_cls: type["ServiceBase"]) -> int:
    """Create the database if needed and apply the service's migrations."""
    ensure_database(settings.database_url)
    database = Database(settings.database_url, size=1, application_name=f"{service_cls.name}-migrate")
    try:
        applied = migrate(database, service_cls.name, service_cls.migrations())
    finally:
        database.close()
    return len(applied)


def declare_topology(settings: Settings, service_classes: Iterable[type["ServiceBase"]]) -> int:
    """Declare every consumer's inbound queue and bindings.

    nameko publishes events with ``mandatory=False``: an event sent before its
    consumer's queue exists is dropped without a word. Declaring all queues
    before any service starts (here, from every service's start-up and from
    ``make migrate``) closes that gap.
    """
    declared = 0
    with kombu.Connection(settings.amqp_uri, connect_timeout=10) as connection:
        channel = connection.channel()
        for cls in service_classes:
            for source, types in subscriptions_of(cls).items():
                inbound_queue(cls.name, source, types)(channel).declare()
                declared += 1
    return declared
