"""Upcasters checked against real history: does every stored event still load with today's code?

Stored events are never rewritten; they are upgraded as they are read
(``EventRegistry.decode``: upcasters, then today's schema). A change to an
event's shape that forgot an upcaster, an upcaster with a bug, or a schema
tightened past what was once stored breaks nothing until the day a
projection is rebuilt or an aggregate is loaded — and then it breaks in
production. This reads every store and names each event that no longer loads.

Every distinct ``(type, schema_version)`` pair a store holds is counted
(one query). Then, by default, every event is decoded, read a page at a time
by position: an upcaster or a schema can fail on one payload and not on
another. ``--pairs-only`` decodes one event of each pair instead: quick, and
enough to catch a missing upcaster or a type nobody knows any more.

Events are read as the services read them, through ``EventStore``: personal
fields sealed in the store are opened (or shown erased), as an aggregate or
a projection would get them.

Each failure names the service, the position, the event id, the type and
version, and the error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.audit.stores import events_table, present
from shared.db.database import Database
from shared.domain.events import EventRegistry
from shared.eventstore.records import RecordedEvent
from shared.eventstore.store import EventStore

PAGE = 2000


@dataclass(frozen=True)
class Failure:
    """One stored event that does not load with today's upcasters and schemas."""

    service: str
    position: int
    event_id: str
    stream_id: str
    type: str
    schema_version: int
    error: str

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Pair:
    """One ``(type, schema_version)`` a store holds: how many events, how many of them fail to load."""

    service: str
    type: str
    schema_version: int
    events: int
    failed: int = 0
    error: str | None = None  # the first failure's error

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StoreReport:
    service: str
    present: bool = True
    events: int = 0  # events decoded (every event, or one per pair with ``every_event=False``)
    pairs: list[Pair] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "present": self.present,
            "ok": self.ok,
            "events_checked": self.events,
            "pairs": [p.as_json() for p in self.pairs],
            "failures": [f.as_json() for f in self.failures],
        }


def load_error(registry: EventRegistry, event: RecordedEvent) -> str | None:
    """Why ``event`` does not load through ``registry`` today, or None when it does."""
    try:
        registry.decode(event.type, event.schema_version, event.data)
    except Exception as error:  # an upcaster may raise anything: each is a finding, never a crash
        return f"{type(error).__name__}: {error}"
    return None


def check_store(
    database: Database, service: str, registry: EventRegistry, every_event: bool = True, page: int = PAGE
) -> StoreReport:
    """Load ``service``'s stored events through ``registry``: each distinct pair, then (by default) every event.

    Events are read as the service reads them (``EventStore``: sealed personal
    fields opened, or their erased stand-ins), a page at a time by position,
    up to the last position the pairs were counted at.
    """
    report = StoreReport(service)
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT type, schema_version, count(*), min(position), max(position) FROM {events_table(service)} "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        )
        found = cur.fetchall()
    pairs = {(t, v): Pair(service, t, v, n) for t, v, n, _, _ in found}
    report.pairs = list(pairs.values())
    store = EventStore(database, service)
    if every_event:
        last = max((high for *_, high in found), default=0)
        chosen: Iterable[RecordedEvent] = _by_position(store, last, page)
    else:
        chosen = (e for *_, first, _ in found for e in store.read_by_position(first - 1, 1))
    for event in chosen:
        report.events += 1
        error = load_error(registry, event)
        if error is None:
            continue
        pair = pairs.get((event.type, event.schema_version))
        if pair is None:  # committed after the pairs were counted, below the last position
            pair = pairs[(event.type, event.schema_version)] = Pair(service, event.type, event.schema_version, 1)
            report.pairs.append(pair)
        pair.failed += 1
        pair.error = pair.error or error
        report.failures.append(
            Failure(service, event.position, event.event_id, event.stream_id, event.type, event.schema_version, error)
        )
    return report


def _by_position(store: EventStore, last: int, page: int) -> Iterator[RecordedEvent]:
    """Every event of ``store`` up to position ``last``, a page at a time."""
    after = 0
    while after < last:
        events = store.read_by_position(after, page)
        if not events:
            return
        for event in events:
            if event.position > last:
                return
            yield event
        after = events[-1].position


def check(database: Database, registries: Mapping[str, EventRegistry], every_event: bool = True) -> list[StoreReport]:
    """Every store of ``registries`` (service name to its event registry); a store not in this database is marked absent."""
    stores = set(present(database, registries))
    return [
        check_store(database, service, registry, every_event) if service in stores else StoreReport(service, False)
        for service, registry in registries.items()
    ]


def failures(reports: Iterable[StoreReport]) -> list[Failure]:
    return [f for report in reports for f in report.failures]
