"""Reading the record: a stream's history, its state at a moment, a chain of causes.

Everything here reads the stores directly (one PostgreSQL database, a schema
per service) and rebuilds state from events alone: no projection, no snapshot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.db.database import Database
from shared.domain import schemas
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent, check_stream_id, stream_category
from shared.eventstore.store import EventStore


def find_stream(database: Database, services: Iterable[str], stream_id: str) -> tuple[str, list[RecordedEvent]]:
    """The service whose store holds ``stream_id``, and the stream's events."""
    check_stream_id(stream_id)
    for service in services:
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


def as_of(
    service_cls: Any,
    stream_id: str,
    events: list[RecordedEvent],
    at: dt.datetime | None = None,
    position: int | None = None,
) -> dict[str, Any]:
    """The aggregate's state after the events up to ``at`` or ``position``, from events alone."""
    category = stream_category(stream_id)
    aggregates = {cls.category: cls for cls in getattr(service_cls, "aggregates", ())}
    if category not in aggregates:
        raise NotFound(f"aggregate type in {service_cls.name}", category)
    if at is not None and at.tzinfo is None:
        raise ValueError("give --at with a timezone (e.g. 2026-03-02T09:00:00+08:00)")
    chosen = []
    for e in events:  # in version order: stop at the first one past the moment, skip none
        if (position is not None and e.position > position) or (at is not None and recorded_at(e) > at):
            break
        chosen.append(e)
    aggregate = aggregates[category](stream_id.split("-", 1)[1])
    for event in chosen:
        aggregate.apply(service_cls.events.from_record(event))
    return {
        "stream_id": stream_id,
        "version": aggregate.version,
        "as_of_position": chosen[-1].position if chosen else None,
        "as_of_time": chosen[-1].metadata.get("recorded_at") if chosen else None,
        "state": schemas.dump(aggregate.state),
    }


@dataclass
class Node:
    service: str
    event: RecordedEvent
    children: list["Node"] = field(default_factory=list)

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
            "caused": [child.as_json() for child in self.children],
        }


def trace(database: Database, services: Iterable[str], correlation_id: str) -> list[Node]:
    """Every event of every store with this correlation id, as a tree of causes in time order.

    An event's parent is the event its causation id names; events caused by a
    command (whose id is not an event) are roots. Siblings are in time order.
    """
    found = [
        (service, event)
        for service in services
        for event in EventStore(database, service).by_correlation(correlation_id)
    ]
    found.sort(key=lambda pair: (recorded_at(pair[1]), pair[1].position))
    nodes = {event.event_id: Node(service, event) for service, event in found}
    roots = []
    for _, event in found:
        parent = nodes.get(str(event.metadata.get("causation_id")))
        if parent is not None and parent is not nodes[event.event_id]:
            parent.children.append(nodes[event.event_id])
        else:
            roots.append(nodes[event.event_id])
    return roots
