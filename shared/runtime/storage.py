"""Each worker's unit of work on its service's store: one connection, its own.

``Storage`` is the dependency every service declares as ``uow``. A worker
gets a ``PostgresUnitOfWork``: it borrows a connection from the service's pool
the first time it needs one and gives it back when the worker ends, so a
connection is never shared between greenthreads. Every worker shares the
container's ``CalendarBook``: the calendar is read from the store once and
kept (``shared.application.calendars``).
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from shared.application.calendars import CalendarBook
from shared.application.postgres import PostgresUnitOfWork
from shared.domain import EventRegistry
from shared.runtime.observability import metrics
from shared.runtime.resources import ServiceClock, ServiceDatabase

_KEY = "orgwork.uow"


class Storage(DependencyProvider):
    """Declare as ``uow = Storage()``; workers use ``self.uow``."""

    pool = ServiceDatabase()
    clocks = ServiceClock()

    def setup(self) -> None:
        self.service = self.container.service_name
        self.registry: EventRegistry = getattr(self.container.service_cls, "events", None) or EventRegistry()
        self._appended = metrics.EVENTS_APPENDED.labels(self.service)
        # the calendar the service counts on, read from its store once and kept for every worker
        self.calendars = CalendarBook()

    def get_dependency(self, worker_ctx: Any) -> PostgresUnitOfWork:
        uow = PostgresUnitOfWork(
            self.pool.database,
            self.service,
            self.registry,
            self.clocks.clock,
            worker_ctx.context_data,
            on_commit=self._appended.inc,
            calendars=self.calendars,
        )
        worker_ctx.data[_KEY] = uow
        return uow

    def worker_teardown(self, worker_ctx: Any) -> None:
        uow = worker_ctx.data.pop(_KEY, None)
        if uow is not None:
            uow.close()
