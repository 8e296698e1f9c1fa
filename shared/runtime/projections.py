"""Projections: read models that queries read, built from the service's own events.

A projection owns some tables in its service's schema (created by the service's
migrations) and says, with ``@on(EventType)``, how each event changes them. The
``Projector`` follows the store in its commit-safe order and applies each
batch in one transaction *together with* the projection's checkpoint, so the
rows and the checkpoint never disagree: after a crash it resumes exactly
where its rows are. ``rebuild`` empties the tables and replays from zero.

With several replicas, each batch first locks the projection's checkpoint row,
so replicas take turns and never apply an event twice. An idle projector only
reads (no lock, no transaction id) until there is something to apply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import eventlet
from nameko.extensions import DependencyProvider

from shared.db.database import Connection, Database
from shared.domain import DomainEvent, EventRegistry
from shared.eventstore.records import Cursor, RecordedEvent
from shared.eventstore.store import EventStore
from shared.runtime import metrics
from shared.runtime.storage import ServiceDatabase, settings_of

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
_ON_ATTR = "__projection_on__"


def on(*event_types: type[DomainEvent]) -> Callable[[F], F]:
    """Mark ``method(self, cur, event, record)`` as applying each of ``event_types``."""

    def decorate(fn: F) -> F:
        setattr(fn, _ON_ATTR, (*getattr(fn, _ON_ATTR, ()), *event_types))
        return fn

    return decorate


class Projection:
    """Base of a read model. Set ``name`` and ``tables``; write ``@on`` methods."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]] = ()
    _appliers: ClassVar[dict[str, tuple[type[DomainEvent], Callable[..., None]]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._appliers = {}
        for base in reversed(cls.__mro__):
            for member in vars(base).values():
                for event_type in getattr(member, _ON_ATTR, ()):
                    cls._appliers[event_type.type_name()] = (event_type, member)

    def wants(self, event_type: str) -> bool:
        return event_type in self._appliers

    def apply(self, cur: Any, record: RecordedEvent, registry: EventRegistry) -> None:
        entry = self._appliers.get(record.type)
        if entry is not None:
            entry[1](self, cur, registry.from_record(record), record)


class ProjectionRunner:
    """Applies a projection's pending events, batch by batch, checkpoint included."""

    def __init__(self, database: Database, schema: str, projection: Projection, registry: EventRegistry) -> None:
        self.database = database
        self.schema = schema
        self.projection = projection
        self.registry = registry
        self.store = EventStore(database, schema)
        self._checkpoints = f'"{schema}".projection_checkpoints'

    def _checkpoint(self, conn: Connection, lock: bool) -> Cursor:
        with conn.cursor() as cur:
            if lock:
                cur.execute(
                    f"INSERT INTO {self._checkpoints} (projection) VALUES (%s) ON CONFLICT DO NOTHING",
                    [self.projection.name],
                )
            cur.execute(
                f"SELECT tx_id, position FROM {self._checkpoints} WHERE projection = %s"
                + (" FOR UPDATE" if lock else ""),
                [self.projection.name],
            )
            row = cur.fetchone()
        return Cursor(*row) if row else Cursor()

    def checkpoint(self) -> Cursor:
        with self.database.transaction() as conn:
            return self._checkpoint(conn, lock=False)

    def run_batch(self, limit: int = 500) -> int:
        """Apply up to ``limit`` events; return how many were read (0: caught up)."""
        with self.database.transaction() as conn:
            peek = self.store.read_all(self._checkpoint(conn, lock=False), 1, conn=conn)
        if not peek.events:
            return 0
        with self.database.transaction() as conn, conn.cursor() as cur:
            cursor = self._checkpoint(conn, lock=True)
            page = self.store.read_all(cursor, limit, conn=conn)
            cur.execute(f'SET LOCAL search_path TO "{self.schema}", public')
            applied = 0
            for record in page.events:
                if self.projection.wants(record.type):
                    self.projection.apply(cur, record, self.registry)
                    applied += 1
            cur.execute(
                f"UPDATE {self._checkpoints} SET tx_id = %s, position = %s, applied = applied + %s, "
                "updated_at = now() WHERE projection = %s",
                [page.next_cursor.tx_id, page.next_cursor.position, applied, self.projection.name],
            )
        if applied:
            metrics.PROJECTION_APPLIED.labels(self.schema, self.projection.name).inc(applied)
        return len(page.events)

    def catch_up(self, limit: int = 500) -> int:
        total = 0
        while True:
            read = self.run_batch(limit)
            total += read
            if read < limit:
                return total

    def reset(self) -> None:
        """Empty the projection's tables and its checkpoint, in one transaction."""
        with self.database.transaction() as conn, conn.cursor() as cur:
            self._checkpoint(conn, lock=True)
            for table in self.projection.tables:
                cur.execute(f'TRUNCATE "{self.schema}"."{table}"')
            cur.execute(
                f"UPDATE {self._checkpoints} SET tx_id = 0, position = 0, applied = 0, updated_at = now() "
                "WHERE projection = %s",
                [self.projection.name],
            )

    def rebuild(self) -> int:
        self.reset()
        return self.catch_up()


class Projector(DependencyProvider):
    """Keeps the service's projections up to date; declare as ``projector = Projector()``."""

    pool = ServiceDatabase()

    def setup(self) -> None:
        service_cls = self.container.service_cls
        self.settings = settings_of(self.container)
        self.service = self.container.service_name
        registry: EventRegistry = getattr(service_cls, "events", None) or EventRegistry()
        self.runners = {
            cls.name: ProjectionRunner(self.pool.database, self.service, cls(), registry)
            for cls in getattr(service_cls, "projections", ())
        }
        self._stopping = False
        self._threads: list[Any] = []

    def start(self) -> None:
        self._threads = [eventlet.spawn(self._follow, runner) for runner in self.runners.values()]

    def stop(self) -> None:
        self._stopping = True
        for thread in self._threads:
            with eventlet.Timeout(10, False):
                thread.wait()
            thread.kill()

    def kill(self) -> None:
        self._stopping = True
        for thread in self._threads:
            thread.kill()

    def get_dependency(self, worker_ctx: Any) -> "Projector":
        return self

    def _follow(self, runner: ProjectionRunner) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                if runner.run_batch() == 0:
                    eventlet.sleep(self.settings.relay_idle_wait)
                backoff = 0.5
            except Exception as error:
                metrics.ERRORS.labels(self.service, type(error).__name__).inc()
                log.warning("projection %s failed: %s; retrying in %.1fs", runner.projection.name, error, backoff)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
