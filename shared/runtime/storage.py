"""Each worker's access to its service's store: one connection, its own.

``Storage`` is the dependency every service declares as ``storage``. A worker
gets a ``UnitOfWork``: it borrows a connection from the service's pool the
first time it needs one and gives it back when the worker ends, so a
connection is never shared between greenthreads.

Transactions nest: an event handler opens one (for its inbox record) and the
commands it runs join it, so effects and the inbox row commit together.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from nameko.extensions import DependencyProvider, SharedExtension

from shared.config import Settings
from shared.db.database import Connection, Database
from shared.domain import Aggregate, EventRegistry, Repository
from shared.domain.calendar import Clock
from shared.errors import ConcurrencyConflict
from shared.eventstore.records import Metadata, RecordedEvent
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore
from shared.runtime import metrics

A = TypeVar("A", bound=Aggregate)

SETTINGS_KEY = "ORGWORK_SETTINGS"


def settings_of(container: Any) -> Settings:
    """The platform settings a container was started with."""
    settings = container.config.get(SETTINGS_KEY)
    return settings if isinstance(settings, Settings) else Settings.from_env()


class ServiceDatabase(SharedExtension):
    """The service's pool of connections (one per container)."""

    _database: Database | None = None

    @property
    def database(self) -> Database:
        if self._database is None:
            settings = settings_of(self.container)
            service = self.container.service_name
            self._database = Database(
                settings.database_url, size=settings.db_pool_size, application_name=service, search_path=service
            )
        return self._database

    def stop(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None

    def kill(self) -> None:
        self.stop()


class Storage(DependencyProvider):
    """Declare as ``storage = Storage()``; workers use ``self.storage``."""

    pool = ServiceDatabase()

    def setup(self) -> None:
        service_cls = self.container.service_cls
        self.service = self.container.service_name
        self.registry: EventRegistry = getattr(service_cls, "events", None) or EventRegistry()
        self._clock: Clock | None = None

    @property
    def clock(self) -> Clock:
        """The service's clock: events are recorded at its time."""
        if self._clock is None:
            from shared.runtime.clock import make_clock

            self._clock = make_clock(settings_of(self.container), self.database)
        return self._clock

    @property
    def database(self) -> Database:
        return self.pool.database

    def get_dependency(self, worker_ctx: Any) -> "UnitOfWork":
        uow = UnitOfWork(
            self.database, self.service, self.registry, worker_ctx.context_data, settings_of(self.container), self.clock
        )
        worker_ctx.data["orgwork.uow"] = uow
        return uow

    def worker_teardown(self, worker_ctx: Any) -> None:
        uow = worker_ctx.data.pop("orgwork.uow", None)
        if uow is not None:
            uow.close()


class UnitOfWork:
    """A worker's store, repositories and transactions, on its own connection."""

    def __init__(
        self,
        database: Database,
        service: str,
        registry: EventRegistry,
        context: dict[str, Any],
        settings: Settings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.database = database
        self.settings = settings or Settings.from_env()
        self.service = service
        self.registry = registry
        self.store = EventStore(database, service, clock=clock.now) if clock else EventStore(database, service)
        self.snapshots = SnapshotStore(database, service)
        self.context = context
        self.command_id = context.get("causation_id") or str(uuid.uuid4())
        self.handling_event = False  # set while an inbound event is being handled
        self._exit = contextlib.ExitStack()
        self._conn: Connection | None = None
        self._depth = 0
        self._appended = 0

    # -- connection and transactions ---------------------------------------

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = self._exit.enter_context(self.database.connection())
        return self._conn

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Commit at the end of the outermost block; inner blocks join it."""
        conn = self.conn
        self._depth += 1
        try:
            yield conn
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._appended = 0
                if not conn.closed:
                    conn.rollback()
            raise
        self._depth -= 1
        if self._depth == 0:
            conn.commit()
            if self._appended:
                metrics.EVENTS_APPENDED.labels(self.service).inc(self._appended)
                self._appended = 0

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed and self._depth == 0:
            self._conn.rollback()
        self._exit.close()
        self._conn = None

    # -- tracing -----------------------------------------------------------

    @property
    def correlation_id(self) -> str:
        cid = self.context.get("correlation_id")
        if not cid:
            cid = self.context["correlation_id"] = str(uuid.uuid4())
        return str(cid)

    def metadata(
        self,
        actor: str,
        reason: str | None = None,
        *,
        stream_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Metadata:
        """Who and why, and which story this change belongs to.

        The correlation id is, in order: the one given; while handling another
        service's event, that event's (carried through every hop); for a
        command on an existing aggregate, the one its stream began with (so an
        aggregate's whole life traces from one id); else the request's own.
        """
        if correlation_id is None and not self.handling_event and stream_id is not None:
            correlation_id = self.store.origin_correlation(stream_id, conn=self._conn)
        return Metadata(
            actor=actor,
            correlation_id=correlation_id or self.correlation_id,
            causation_id=causation_id or self.command_id,
            reason=reason,
        )

    # -- aggregates --------------------------------------------------------

    def repository(self, aggregate: type[A]) -> Repository[A]:
        return Repository(aggregate, self.store, self.registry, self.snapshots)

    def load(self, aggregate: type[A], aggregate_id: str) -> A:
        with self.transaction() as conn:
            return self.repository(aggregate).load(aggregate_id, conn=conn)

    def create(
        self,
        aggregate: type[A],
        aggregate_id: str,
        change: Callable[[A], Any],
        *,
        actor: str,
        reason: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> tuple[A, list[RecordedEvent]]:
        """Run a command on a new aggregate and store its events."""
        instance = aggregate(aggregate_id)
        change(instance)
        metadata = self.metadata(actor, reason, correlation_id=correlation_id, causation_id=causation_id)
        with self.transaction() as conn:
            recorded = self.repository(aggregate).save(instance, metadata, conn=conn)
            self._appended += len(recorded)
        return instance, recorded

    def update(
        self,
        aggregate: type[A],
        aggregate_id: str,
        change: Callable[[A], Any],
        *,
        actor: str,
        reason: str | None = None,
        attempts: int = 3,
    ) -> tuple[A, list[RecordedEvent]]:
        """Load, run a command, save; on a concurrent change, reload and run it again.

        The command's rules are checked again on the fresh state, so a retry
        never saves what the rules would now refuse. Inside an outer
        transaction a conflict is raised instead: the whole transaction must
        be retried (the event handler runner does that).
        """
        repository = self.repository(aggregate)
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as conn:
                    instance = repository.load(aggregate_id, conn=conn)
                    change(instance)
                    metadata = self.metadata(actor, reason, stream_id=instance.stream_id)
                    recorded = repository.save(instance, metadata, conn=conn)
                    self._appended += len(recorded)
                return instance, recorded
            except ConcurrencyConflict:
                if attempt == attempts or self.in_transaction:
                    raise
        raise AssertionError("unreachable")

    # -- projections -------------------------------------------------------

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        """Rows of a projection as dicts (queries read projections, never the log)."""
        with self.transaction() as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            names = [c.name for c in cur.description or ()]
            return [dict(zip(names, row, strict=False)) for row in cur.fetchall()]
