"""A read model's projection: which of its service's events change its tables, and how.

A projection owns some tables in its service's schema (created by the service's
migrations) and says, with ``@on(EventType)``, how each event changes them:
each such method gets a database cursor, the decoded event and its record.
This module only declares; ``shared.projections.runner`` applies them, batch
by batch, with the projection's checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from shared.domain import DomainEvent, EventRegistry
from shared.eventstore.records import RecordedEvent

F = TypeVar("F", bound=Callable[..., Any])
_ON_ATTR = "__projection_on__"


def on(*event_types: type[DomainEvent]) -> Callable[[F], F]:
    """Mark ``method(self, cur, event, record)`` as applying each of ``event_types``."""

    def decorate(fn: F) -> F:
        setattr(fn, _ON_ATTR, (*getattr(fn, _ON_ATTR, ()), *event_types))
        return fn

    return decorate


def jsonb(value: Any) -> str:
    """``value`` as text for a ``jsonb`` column (dates and decimals as their text)."""
    return json.dumps(value, default=str)


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
