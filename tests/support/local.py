"""A service's code without its transport: its entrypoints called in this process.

``in_memory(CadreService)`` gives the service's entrypoints as methods taking
the same keyword arguments as its RPC methods and answering the same JSON,
validation included, over an ``InMemoryUnitOfWork``: no broker, no database.
nameko's ``worker_factory`` builds the instance; the unit of work and the
settings are ours, the other dependencies are inert.

``on_postgres(CadreService, database)`` does the same over the service's
PostgreSQL store (migrated afresh), with its projections caught up on demand:
for what only PostgreSQL can answer (read models, rate limits), still without
a broker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from nameko.testing.services import worker_factory

from shared.application.memory import DEFAULT_START, InMemoryUnitOfWork
from shared.application.postgres import PostgresUnitOfWork
from shared.config import Settings
from shared.db.database import Database
from shared.domain.calendar import ManualClock
from shared.errors import Forbidden
from shared.eventstore.records import Cursor
from shared.projections.runner import ProjectionRunner
from shared.runtime.process.control import wait_until
from shared.runtime.process.provisioning import migrate_service
from shared.runtime.service import ServiceBase
from shared.security.assertions import Identity
from shared.security.policy import allows
from tests.support.identities import EVERY_ROLE


def memory_uow(service_cls: type[ServiceBase], clock: ManualClock | None = None) -> InMemoryUnitOfWork:
    """An empty in-memory store for the service, on a clock that moves only when told."""
    return InMemoryUnitOfWork(service_cls.name, service_cls.events, clock or ManualClock(DEFAULT_START))


class KnownCaller:
    """The RPC layer's check of the caller, in process: one identity, held to the roles table as over the wire."""

    def __init__(self, identity: Identity, service: str) -> None:
        self.identity = identity
        self.service = service

    def authorize(self, method: str, *, query: bool) -> Identity:
        if not allows(self.identity.roles, self.service, method, query=query):
            raise Forbidden(self.identity.subject, f"{self.service}.{method}")
        return self.identity


def worker(
    service_cls: type[ServiceBase], uow: Any, settings: Settings | None = None, identity: Identity = EVERY_ROLE
) -> Any:
    """The service's entrypoints, called directly with ``uow`` (as nameko would inject it), as ``identity``."""
    return worker_factory(
        service_cls, uow=uow, settings=settings or Settings(), caller=KnownCaller(identity, service_cls.name)
    )


@dataclass
class InMemory:
    """A service in memory: ``call`` its entrypoints, look at ``uow`` and move ``clock``."""

    service: Any
    uow: InMemoryUnitOfWork
    clock: ManualClock

    def move_clock(self, delta: dt.timedelta) -> None:
        self.clock.advance(delta)


def in_memory(service_cls: type[ServiceBase], settings: Settings | None = None) -> InMemory:
    clock = ManualClock(DEFAULT_START)
    uow = memory_uow(service_cls, clock)
    return InMemory(worker(service_cls, uow, settings), uow, clock)


@dataclass
class OnPostgres:
    """A service on its own PostgreSQL schema, migrated afresh, called in this process (no broker).

    Its pool's search path is the service's schema, as in production, so read
    models and rate limits resolve to its tables.
    """

    service_cls: type[ServiceBase]
    settings: Settings
    clock: ManualClock = field(default_factory=lambda: ManualClock(DEFAULT_START))

    def __post_init__(self) -> None:
        name = self.service_cls.name
        admin = Database(self.settings.database_url, size=1, application_name="tests-reset")
        try:
            with admin.transaction() as conn, conn.cursor() as cur:
                cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            admin.close()
        migrate_service(self.settings, self.service_cls)
        self.database = Database(self.settings.database_url, size=4, application_name="tests", search_path=name)

    def close(self) -> None:
        self.database.close()

    def uow(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.database, self.service_cls.name, self.service_cls.events, self.clock)

    def call(self, method: str, _as: Identity = EVERY_ROLE, **kwargs: Any) -> Any:
        """One RPC method as a worker runs it, called by ``_as``: a unit of work of its own, closed at the end."""
        uow = self.uow()
        try:
            return getattr(worker(self.service_cls, uow, self.settings, _as), method)(**kwargs)
        finally:
            uow.close()

    def move_clock(self, delta: dt.timedelta) -> None:
        self.clock.advance(delta)

    @property
    def proxy(self) -> Any:
        """The service's methods as an RPC proxy offers them (``proxy.open_registration(...)``)."""
        service = self

        class Proxy:
            def __getattr__(self, method: str) -> Any:
                return lambda **kwargs: service.call(method, **kwargs)

        return Proxy()

    def project(self, timeout: float = 30.0) -> None:
        """Bring every read model of the service up to date with what is committed now.

        The store's global read stops below the oldest transaction still
        writing anywhere on the server (another test run, a benchmark), so
        this waits until each read model has caught up with the newest event.
        """
        name = self.service_cls.name
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                f'SELECT tx_id::text::bigint, position FROM "{name}".events ORDER BY tx_id DESC, position DESC LIMIT 1'
            )
            row = cur.fetchone()
        newest = Cursor(*row) if row else Cursor()
        for projection in self.service_cls.projections:
            runner = ProjectionRunner(self.database, name, projection(), self.service_cls.events)

            def caught_up(runner: ProjectionRunner = runner) -> bool:
                runner.catch_up()
                return runner.checkpoint() >= newest

            wait_until(caught_up, timeout, 0.05, f"the {projection.name} read model to catch up")
