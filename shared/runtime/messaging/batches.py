"""A batch of delivered events, and what each ``@handles`` method keeps so that a batch can run it.

The router (``inbound``) gives one worker every event a lane has queued; the
worker is spawned for the first event's entrypoint and runs each event's own
handler through ``deliver_batch``, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.domain import schemas
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.delivery import Delivery


@dataclass(frozen=True)
class Handled:
    """What a ``@handles`` method handles, and how: kept on it so that a batch can run it for its events."""

    source: str
    event_type: str
    handler: str
    fn: Callable[..., Any]
    payload: type | None

    def delivery(self, service: Any, record: RecordedEvent) -> Delivery:
        return Delivery(
            record,
            self.source,
            self.event_type,
            self.handler,
            lambda r: call_handler(self.fn, service, r, self.payload),
        )


@dataclass(frozen=True)
class Batch:
    """Events of one source for the service's handlers, in order: one worker and one transaction takes them all.

    Each event names its handler method; the worker is spawned for the first
    one's entrypoint and runs every event's own handler.
    """

    items: tuple[tuple[str, RecordedEvent], ...]

    @classmethod
    def of(cls, taken: Sequence[tuple[Any, ...]]) -> Batch:
        """From ``(entrypoint, record, ...)`` tuples, as a lane or a page holds them."""
        return cls(tuple((item[0].method_name, item[1]) for item in taken))

    def deliveries(self, service: Any) -> list[Delivery]:
        return [getattr(type(service), method).handled.delivery(service, record) for method, record in self.items]


def call_handler(fn: Callable[..., Any], service: Any, record: RecordedEvent, payload: type | None) -> Any:
    """Call a ``@handles`` method with the payload loaded into its dataclass (another service's data: validated)."""
    event = record.data
    if payload is not None:
        event = schemas.load(
            payload, record.data, prefix=f"{record.type}.", message=f"invalid {record.type} payload", tolerant=True
        )
    return fn(service, event, record)
