"""Domain events: typed payloads, one schema per type and version, upcasters.

An event is a frozen dataclass whose class name is its type and whose fields
are its payload. Its marshmallow schema is derived from the fields, so an event
that does not validate is refused before anything is stored, with the field
named. When a payload changes shape, bump ``schema_version`` and register an
upcaster from the old version: stored events are never rewritten; they are
upgraded as they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from shared.domain import schemas
from shared.errors import ValidationFailed
from shared.eventstore.records import EVENT_TYPE, NewEvent, RecordedEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class DomainEvent:
    """Base of every domain event; subclasses are frozen dataclasses."""

    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__


class UnknownEvent(Exception):
    """A stored event whose type this registry does not know."""


class EventRegistry:
    """Maps type names to event classes and old versions to the current one."""

    def __init__(self, events: Iterable[type[DomainEvent]] = ()) -> None:
        self._types: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for cls in events:
            self.register(cls)

    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        name = cls.type_name()
        if not EVENT_TYPE.match(name):
            raise ValueError(f"event type {name!r} must match {EVENT_TYPE.pattern}")
        if name in self._types and self._types[name] is not cls:
            raise ValueError(f"event type {name!r} is registered twice")
        schemas.schema_for(cls)  # fail now, not on the first append
        self._types[name] = cls
        return cls

    def upcaster(self, type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register ``fn(data) -> data`` taking ``type_name`` from ``from_version`` to the next."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(type_name, from_version)] = fn
            return fn

        return decorate

    def __contains__(self, type_name: str) -> bool:
        return type_name in self._types

    def event_class(self, type_name: str) -> type[DomainEvent]:
        try:
            return self._types[type_name]
        except KeyError:
            raise UnknownEvent(f"unknown event type {type_name!r}") from None

    def to_new_event(self, event: DomainEvent, event_id: str | None = None) -> NewEvent:
        """Validate and serialise an event for the store."""
        cls = type(event)
        if self._types.get(cls.type_name()) is not cls:
            raise ValidationFailed({"type": [f"{cls.type_name()} is not a registered event"]}, "unknown event")
        data = schemas.dump(event, prefix=f"{cls.type_name()}.", message=f"invalid {cls.type_name()} event")
        if event_id is None:
            return NewEvent(cls.type_name(), data, cls.schema_version)
        return NewEvent(cls.type_name(), data, cls.schema_version, event_id)

    def upcast(self, type_name: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Bring a stored payload up to the current version of its type."""
        current = self.event_class(type_name).schema_version
        version = schema_version
        while version < current:
            step = self._upcasters.get((type_name, version))
            if step is None:
                raise UnknownEvent(f"no upcaster for {type_name} from version {version} to {version + 1}")
            data = step(dict(data))
            version += 1
        if version > current:
            raise UnknownEvent(f"{type_name} version {version} is newer than this code ({current})")
        return data

    def decode(self, type_name: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
        cls = self.event_class(type_name)
        payload = self.upcast(type_name, schema_version, data)
        event: DomainEvent = schemas.load(cls, payload, prefix=f"{type_name}.", message=f"invalid stored {type_name}")
        return event

    def from_record(self, record: RecordedEvent) -> DomainEvent:
        return self.decode(record.type, record.schema_version, record.data)
