"""The unit of work: what a use case changes, in one transaction, with who and why.

A use case of a service layer is a function that takes a command and a
``UnitOfWork``. Through it, and through nothing else, it loads aggregates,
runs their commands and saves the events they record; every event it saves
carries the metadata the audit trail needs (actor, reason, correlation and
causation; when the cause is another service's event, that event's stored hash
and service too). Nested ``transaction()`` blocks join the outermost one, so a
use case that changes two aggregates commits both or neither, and an event
handler commits its effects with its inbox row.

Two implementations keep this contract: ``shared.application.postgres`` (the
services' own, on their PostgreSQL store) and ``shared.application.memory``
(for unit tests of the service layers, with no database or broker).
``UnitOfWorkBase`` holds everything they share, so that they differ only in
where events are kept and how a transaction begins and ends.
"""

from __future__ import annotations

import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from shared.application.calendars import CalendarBook
from shared.domain import Aggregate, EventRegistry, Repository
from shared.domain.calendar import CalendarYearLoaded, Clock, OrganisationCalendar
from shared.domain.repository import EventLog, Snapshots
from shared.errors import ConcurrencyConflict
from shared.eventstore.records import SERVICE_NAME, Metadata, RecordedEvent

A = TypeVar("A", bound=Aggregate)


#: How many times ``update`` runs a command again after a concurrent change.
UPDATE_ATTEMPTS = 3


class StreamStore(EventLog, Protocol):
    """What a unit of work needs of its event store: streams, their versions, and the story each began."""

    def origin_correlation(self, stream_id: str, *, conn: Any = None) -> str | None: ...

    def stream_version(self, stream_id: str, *, conn: Any = None) -> int: ...


class Authored(Protocol):
    """Anything that says who acts and why: every command request, or an ``Author``."""

    @property
    def actor(self) -> str: ...

    @property
    def reason(self) -> str | None: ...


@dataclass(frozen=True)
class Author:
    """Who acts and why, when no request says it (the service itself, a test)."""

    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class Cause:
    """Another service's event being handled, as what it causes records it: id, stored hash (hex), service."""

    event_id: str
    hash: str | None
    service: str | None

    @classmethod
    def of(cls, record: RecordedEvent) -> "Cause":
        """What ``record`` says of itself, kept only when well formed (a bad value must not fail the handler)."""
        service = record.metadata.get("service")
        named = isinstance(service, str) and SERVICE_NAME.match(service) is not None
        digest = record.hash.hex() if isinstance(record.hash, bytes) and len(record.hash) == 32 else None
        return cls(str(record.event_id), digest, service if named else None)


def system_actor(service: str) -> str:
    """The actor of what a service does by itself (timers, reactions to other services)."""
    return f"service:{service}"


class Reader(Protocol):
    """What a read model's queries need: rows, as dicts (``UnitOfWork`` is one)."""

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]: ...


class Writer(Reader, Protocol):
    """Statements on a service's own tables that are not its event log."""

    def execute(self, statement: str, params: Any = ()) -> None: ...


class UnitOfWork(Protocol):
    """What a use case may do with its service's aggregates and read models."""

    @property
    def service(self) -> str:
        """The service whose store this is."""
        ...

    @property
    def clock(self) -> Clock:
        """The service's clock: use cases take ``now`` from it, and events are recorded at its time."""
        ...

    @property
    def calendar(self) -> OrganisationCalendar:
        """The organisation's working calendar: every deadline a use case sets counts on it.

        The years loaded into the service's store over the shipped ones
        (``shared.application.calendars``).
        """
        ...

    @property
    def calendars(self) -> CalendarBook:
        """Where ``calendar`` comes from: the service's calendar, kept between commands."""
        ...

    @property
    def in_transaction(self) -> bool:
        """Whether a ``transaction()`` block is open."""
        ...

    def after_commit(self, action: Callable[[], object]) -> None:
        """Run ``action`` once the outermost transaction has committed (never if it rolls back); now, outside one."""
        ...

    def transaction(self) -> AbstractContextManager[Any]:
        """Commit at the end of the outermost block; inner blocks join it."""
        ...

    def load(self, aggregate: type[A], aggregate_id: str) -> A:
        """The aggregate as of its last event; ``NotFound`` when it has none."""
        ...

    def load_or_new(self, aggregate: type[A], aggregate_id: str) -> A:
        """The aggregate, or a new one (version 0) when it has no events yet."""
        ...

    def save(
        self, aggregate: Aggregate, by: Authored, *, correlation_id: str | None = None, causation_id: str | None = None
    ) -> list[RecordedEvent]:
        """Store the events the aggregate recorded since it was loaded."""
        ...

    def create(
        self,
        aggregate: type[A],
        aggregate_id: str,
        change: Callable[[A], object],
        by: Authored,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> tuple[A, list[RecordedEvent]]:
        """Run a command on a new aggregate and store its events."""
        ...

    def update(
        self, aggregate: type[A], aggregate_id: str, change: Callable[[A], object], by: Authored
    ) -> tuple[A, list[RecordedEvent]]:
        """Load, run a command, save; on a concurrent change, reload and run it again."""
        ...

    def system(self, reason: str) -> Author:
        """The service itself as the author, for what it does of its own accord."""
        ...

    def origin_correlation(self, stream_id: str) -> str | None:
        """The correlation id a stream began with: the story its aggregate belongs to."""
        ...

    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        """Rows of a read model, as dicts (queries read read models, never the log)."""
        ...

    def execute(self, statement: str, params: Any = ()) -> None:
        """Write to a table of the service's own that is not an event log (a rate limit, say)."""
        ...

    def apart(self) -> AbstractContextManager[Writer]:
        """Statements in a transaction of their own, committed whatever becomes of this unit's.

        For what must count even when the command fails (a rate limit's hit).
        """
        ...


class UnitOfWorkBase(ABC):
    """Aggregates loaded, changed and saved with who and why, over any store.

    A subclass sets ``store`` (its event log) and ``snapshots``, says how a
    transaction begins and ends (``_begin``, ``_commit``, ``_rollback``), and how
    to reach read models (``query``, ``execute``). What ``_begin`` returns is
    handed to the stores untouched as ``conn``: a PostgreSQL connection, or an
    in-memory transaction.

    Inner ``transaction()`` blocks join the outer one, without savepoints: an
    error caught inside leaves what the block wrote in the transaction.
    """

    store: StreamStore
    snapshots: Snapshots

    def __init__(
        self,
        service: str,
        registry: EventRegistry,
        clock: Clock,
        context: dict[str, Any] | None = None,
        calendar: OrganisationCalendar | None = None,
        calendars: CalendarBook | None = None,
    ):
        self.service = service
        self.registry = registry
        if CalendarYearLoaded.type_name() not in registry:
            registry.register(CalendarYearLoaded)  # every service keeps its calendar years
        self.clock = clock
        self._calendar = calendar  # a calendar given (a test's) is counted on as it is
        self.calendars = calendars if calendars is not None else CalendarBook()
        self.context: dict[str, Any] = context if context is not None else {}
        self.command_id: str = self.context.get("causation_id") or str(uuid.uuid4())
        self.handling_event = False  # set while another service's event is being handled
        self.cause: Cause | None = None  # that event, as evidence: its id, stored hash and service
        self._tx: Any = None  # the open transaction, while there is one
        self._depth = 0
        self._after_commit: list[Callable[[], object]] = []

    # -- what an implementation provides ---------------------------------------------

    @abstractmethod
    def _begin(self) -> Any:
        """Begin a transaction; return what the repositories take as ``conn``."""

    @abstractmethod
    def _commit(self, tx: Any) -> None: ...

    @abstractmethod
    def _rollback(self, tx: Any) -> None: ...

    @abstractmethod
    def query(self, statement: str, params: Any = ()) -> list[dict[str, Any]]: ...

    @abstractmethod
    def execute(self, statement: str, params: Any = ()) -> None: ...

    @abstractmethod
    def apart(self) -> AbstractContextManager[Writer]: ...

    def _saved(self, recorded: list[RecordedEvent]) -> None:  # noqa: B027 (a hook, empty by default)
        """Called with what each save stored (the PostgreSQL one counts it for metrics)."""

    @property
    def calendar(self) -> OrganisationCalendar:
        """The calendar this unit counts on: the one it was given, else the service's book's (kept there)."""
        if self._calendar is not None:
            return self._calendar
        return self.calendars.current(self)

    # -- transactions --------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """Commit at the end of the outermost block, roll back if it raises; inner blocks join it."""
        if self._depth == 0:
            self._tx = self._begin()
        tx = self._tx
        self._depth += 1
        try:
            yield tx
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._tx = None
                self._after_commit.clear()
                self._rollback(tx)
            raise
        self._depth -= 1
        if self._depth == 0:
            self._tx = None
            actions, self._after_commit = self._after_commit, []
            self._commit(tx)
            for action in actions:
                action()

    def after_commit(self, action: Callable[[], object]) -> None:
        """Run ``action`` once the outermost transaction has committed (never if it rolls back); now, outside one."""
        if self._depth == 0:
            action()
        else:
            self._after_commit.append(action)

    # -- tracing -----------------------------------------------------------------------

    @property
    def correlation_id(self) -> str:
        cid = self.context.get("correlation_id")
        if not cid:
            cid = self.context["correlation_id"] = str(uuid.uuid4())
        return str(cid)

    def handle_event(self, record: RecordedEvent) -> None:
        """From now on, what this unit causes carries ``record``'s correlation, and ``record`` as its cause.

        The cause is recorded with the hash ``record`` was stored with and the
        service that stored it, so that the link can be checked later against
        the upstream store (``orgctl audit trace``).
        """
        self.context["correlation_id"] = record.correlation_id or self.correlation_id
        self.command_id = record.event_id
        self.cause = Cause.of(record)
        self.handling_event = True

    def metadata(
        self,
        by: Authored,
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
            correlation_id = self.origin_correlation(stream_id)
        causation_id = causation_id or self.command_id
        cause = self.cause if self.handling_event and self.cause and self.cause.event_id == causation_id else None
        return Metadata(
            actor=by.actor,
            correlation_id=correlation_id or self.correlation_id,
            causation_id=causation_id,
            reason=by.reason,
            causation_hash=cause.hash if cause else None,
            causation_service=cause.service if cause else None,
        )

    def system(self, reason: str) -> Author:
        return Author(system_actor(self.service), reason)

    # -- stores ------------------------------------------------------------------------

    def repository(self, aggregate: type[A]) -> Repository[A]:
        return Repository(aggregate, self.store, self.registry, self.snapshots)

    def origin_correlation(self, stream_id: str) -> str | None:
        with self.transaction() as conn:
            return self.store.origin_correlation(stream_id, conn=conn)

    # -- aggregates --------------------------------------------------------------------

    def load(self, aggregate: type[A], aggregate_id: str) -> A:
        with self.transaction() as conn:
            return self.repository(aggregate).load(aggregate_id, conn=conn)

    def load_or_new(self, aggregate: type[A], aggregate_id: str) -> A:
        with self.transaction() as conn:
            return self.repository(aggregate).load_or_new(aggregate_id, conn=conn)

    def save(
        self, aggregate: Aggregate, by: Authored, *, correlation_id: str | None = None, causation_id: str | None = None
    ) -> list[RecordedEvent]:
        if not aggregate.pending_events:
            return []
        stream_id = aggregate.stream_id if aggregate.version > len(aggregate.pending_events) else None
        with self.transaction() as conn:
            metadata = self.metadata(by, stream_id=stream_id, correlation_id=correlation_id, causation_id=causation_id)
            recorded = self.repository(type(aggregate)).save(aggregate, metadata, conn=conn)
            self._saved(recorded)
        return recorded

    def create(
        self,
        aggregate: type[A],
        aggregate_id: str,
        change: Callable[[A], object],
        by: Authored,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> tuple[A, list[RecordedEvent]]:
        instance = aggregate(aggregate_id)
        change(instance)
        recorded = self.save(instance, by, correlation_id=correlation_id, causation_id=causation_id)
        return instance, recorded

    def update(
        self, aggregate: type[A], aggregate_id: str, change: Callable[[A], object], by: Authored
    ) -> tuple[A, list[RecordedEvent]]:
        """Load, run a command, save; on a concurrent change, reload and run it again.

        The command's rules are checked again on the fresh state, so a retry
        never saves what the rules would now refuse. Inside an outer
        transaction a conflict is raised instead: the whole transaction must
        be retried (the event handler runner does that).
        """
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            try:
                with self.transaction():
                    instance = self.load(aggregate, aggregate_id)
                    change(instance)
                    recorded = self.save(instance, by)
                return instance, recorded
            except ConcurrencyConflict:
                if attempt == UPDATE_ATTEMPTS or self.in_transaction:
                    raise
        raise AssertionError("unreachable")
