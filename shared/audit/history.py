"""Reading the record: a stream's history, its state at a moment, a chain of causes.

Everything here reads the stores directly (one PostgreSQL database, a schema
per service) and rebuilds state from events alone: no projection, no snapshot.
A service whose store is not in the database is passed over.

State at a moment is rebuilt by ``Rebuild``, one event at a time, so that the
same rule serves one stream (``as_of``) and every stream of a store read in a
single pass (``shared.audit.cut``): a stream's events are taken in version
order up to the first one past the moment, and none after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.audit.links import Link, link_of
from shared.audit.stores import present
from shared.db.database import Database
from shared.domain import schemas
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent, check_stream_id, stream_category
from shared.eventstore.store import EventStore


def find_stream(database: Database, services: Iterable[str], stream_id: str) -> tuple[str, list[RecordedEvent]]:
    """The service whose store holds ``stream_id``, and the stream's events."""
    check_stream_id(stream_id)
    for service in present(database, services):
        events = EventStore(database, service).read_stream(stream_id)
        if events:
            return service, events
    raise NotFound("stream", stream_id)


def recorded_at(event: RecordedEvent) -> dt.datetime:
    return dt.datetime.fromisoformat(event.metadata["recorded_at"])


def history_rows(events: Iterable[RecordedEvent]) -> list[dict[str, Any]]:
    return [
        {
            "position": e.position,
            "version": e.version,
            "recorded_at": e.metadata.get("recorded_at"),
            "type": e.type,
            "actor": e.metadata.get("actor"),
            "reason": e.metadata.get("reason"),
            "correlation_id": e.metadata.get("correlation_id"),
            "causation_id": e.metadata.get("causation_id"),
            "event_id": e.event_id,
            "data": e.data,
        }
        for e in events
    ]


class Rebuild:
    """One stream's aggregate rebuilt from its events, up to a moment or a position, fed one event at a time.

    Events come in version order (a store's commit-safe order keeps each
    stream's order). The first event past the moment stops the stream: the
    ones after it are not taken either, even when recorded earlier (a skewed
    clock), since state is only ever the result of a prefix of its events.
    """

    def __init__(
        self, service_cls: Any, stream_id: str, at: dt.datetime | None = None, position: int | None = None
    ) -> None:
        category = stream_category(stream_id)
        aggregates = {cls.category: cls for cls in getattr(service_cls, "aggregates", ())}
        if category not in aggregates:
            raise NotFound(f"aggregate type in {service_cls.name}", category)
        if at is not None and at.tzinfo is None:
            raise ValueError("give --at with a timezone (e.g. 2026-03-02T09:00:00+08:00)")
        self.stream_id = stream_id
        self.registry = service_cls.events
        self.at = at
        self.position = position
        self.aggregate = aggregates[category](stream_id.split("-", 1)[1])
        self.last: RecordedEvent | None = None
        self.taken = 0
        self.stopped = False

    def past(self, event: RecordedEvent) -> bool:
        """Whether ``event`` lies after the moment (or position)."""
        return (self.position is not None and event.position > self.position) or (
            self.at is not None and recorded_at(event) > self.at
        )

    def take(self, event: RecordedEvent) -> bool:
        """Apply ``event`` if the stream has not stopped and it is not past the moment; say whether it was."""
        if self.stopped or self.past(event):
            self.stopped = True
            return False
        self.aggregate.apply(self.registry.from_record(event))
        self.last = event
        self.taken += 1
        return True

    def result(self) -> dict[str, Any]:
        """The state as of the last event taken, as JSON values."""
        return {
            "stream_id": self.stream_id,
            "version": self.aggregate.version,
            "as_of_position": self.last.position if self.last else None,
            "as_of_time": self.last.metadata.get("recorded_at") if self.last else None,
            "state": schemas.dump(self.aggregate.state),
        }


def as_of(
    service_cls: Any,
    stream_id: str,
    events: list[RecordedEvent],
    at: dt.datetime | None = None,
    position: int | None = None,
) -> dict[str, Any]:
    """The aggregate's state after the events up to ``at`` or ``position``, from events alone."""
    rebuild = Rebuild(service_cls, stream_id, at, position)
    for event in events:  # in version order: stop at the first one past the moment, skip none
        if not rebuild.take(event):
            break
    return rebuild.result()


@dataclass
class Node:
    service: str
    event: RecordedEvent
    children: list["Node"] = field(default_factory=list)
    link: Link | None = None  # to the event of another service that caused this one, checked

    def as_json(self) -> dict[str, Any]:
        e = self.event
        return {
            "service": self.service,
            "type": e.type,
            "stream_id": e.stream_id,
            "version": e.version,
            "position": e.position,
            "event_id": e.event_id,
            "recorded_at": e.metadata.get("recorded_at"),
            "actor": e.metadata.get("actor"),
            "causation_id": e.metadata.get("causation_id"),
            "causation_hash": e.metadata.get("causation_hash"),
            "causation_service": e.metadata.get("causation_service"),
            "link": self.link.as_json() if self.link else None,
            "caused": [child.as_json() for child in self.children],
        }


def trace(database: Database, services: Iterable[str], correlation_id: str) -> list[Node]:
    """Every event of every store with this correlation id, as a tree of causes in time order.

    An event's parent is the event its causation id names; events caused by a
    command (whose id is not an event) are roots. Siblings are in time order.
    Each link to another service's event is checked (``shared.audit.links``):
    the node's ``link`` holds the verdict.
    """
    stores = present(database, services)
    found = [
        (service, event) for service in stores for event in EventStore(database, service).by_correlation(correlation_id)
    ]
    found.sort(key=lambda pair: (recorded_at(pair[1]), pair[1].position))
    nodes = {event.event_id: Node(service, event) for service, event in found}
    roots = []
    for service, event in found:
        node = nodes[event.event_id]
        parent = nodes.get(str(event.metadata.get("causation_id")))
        if parent is node:
            parent = None
        node.link = link_of(database, service, event, parent.service if parent else None, stores)
        if parent is not None:
            parent.children.append(node)
        else:
            roots.append(node)
    return roots


def walk(nodes: Iterable[Node]) -> Iterator[Node]:
    """Every node of the trees, depth first."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def links(roots: Iterable[Node]) -> list[Link]:
    """Every checked link of a trace."""
    return [node.link for node in walk(roots) if node.link is not None]
