"""Domain events: typed payloads, one schema per type and version, upcasters.

An event is a frozen dataclass whose class name is its type and whose fields
are its payload. Its marshmallow schema is derived from the fields, so an event
that does not validate is refused before anything is stored, with the field
named. When a payload changes shape, bump ``schema_version`` and register an
upcaster from the old version: stored events are never rewritten; they are
upgraded as they are read.

A stored event is read back (``from_record``) without being validated again:
it was valid when it was appended (``shared.domain.stored``). ``decode``
validates, for checking stored history against today's code
(``shared.audit.upcast_check``).

A field may be personal data (``shared.domain.personal``): the registry says
which, and whose, with each new event, for the store to seal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict

import marshmallow

from shared.domain import schemas, stored
from shared.domain.personal import Personal, personal_fields
from shared.errors import ValidationFailed
from shared.eventstore.records import ERASED, EVENT_TYPE, NewEvent, RecordedEvent

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
        self._stored: dict[tuple[str, int], Callable[[dict[str, Any]], DomainEvent]] = {}
        for cls in events:
            self.register(cls)

    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        name = cls.type_name()
        if not EVENT_TYPE.match(name):
            raise ValueError(f"event type {name!r} must match {EVENT_TYPE.pattern}")
        if name in self._types and self._types[name] is not cls:
            raise ValueError(f"event type {name!r} is registered twice")
        schema = schemas.schema_for(cls)  # fail now, not on the first append
        stored.builder(cls)  # nor on the first read
        for field, declared in personal_fields(cls).items():
            _check_stand_in(schema, name, field, declared)
        self._types[name] = cls
        self._stored.clear()
        return cls

    def upcaster(self, type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register ``fn(data) -> data`` taking ``type_name`` from ``from_version`` to the next."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(type_name, from_version)] = fn
            self._stored.clear()
            return fn

        return decorate

    def event_classes(self) -> tuple[type[DomainEvent], ...]:
        """Every registered event class, in the order registered."""
        return tuple(self._types.values())

    def __contains__(self, type_name: str) -> bool:
        return type_name in self._types

    def event_class(self, type_name: str) -> type[DomainEvent]:
        try:
            return self._types[type_name]
        except KeyError:
            raise UnknownEvent(f"unknown event type {type_name!r}") from None

    def to_new_event(
        self, event: DomainEvent, event_id: str | None = None, *, aggregate_id: str | None = None
    ) -> NewEvent:
        """Validate and serialise an event for the store, naming its personal fields and their subjects.

        ``aggregate_id`` is the id of the aggregate that recorded it: the
        subject of a personal field declared without ``of``.
        """
        cls = type(event)
        if self._types.get(cls.type_name()) is not cls:
            raise ValidationFailed({"type": [f"{cls.type_name()} is not a registered event"]}, "unknown event")
        data = schemas.dump(event, prefix=f"{cls.type_name()}.", message=f"invalid {cls.type_name()} event")
        personal, erased = _subjects(event, data, aggregate_id)
        return NewEvent(
            cls.type_name(),
            data,
            cls.schema_version,
            **({"event_id": event_id} if event_id is not None else {}),
            personal=personal,
            erased=erased,
        )

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
        """A stored payload, upcast and *validated* by today's schema: for checking what is stored."""
        cls = self.event_class(type_name)
        payload = self.upcast(type_name, schema_version, data)
        event: DomainEvent = schemas.load(cls, payload, **_load_errors(type_name))
        return event

    def decode_stored(self, type_name: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
        """A payload read from the store, upcast and built without validating it again.

        Equal to what ``decode`` returns; one decoder per type and version,
        made on first use.
        """
        key = (type_name, schema_version)
        decoder = self._stored.get(key)
        if decoder is None:
            decoder = self._stored[key] = self._stored_decoder(type_name, schema_version)
        return decoder(data)

    def _stored_decoder(self, type_name: str, schema_version: int) -> Callable[[dict[str, Any]], DomainEvent]:
        cls = self.event_class(type_name)
        if schema_version > cls.schema_version:
            raise UnknownEvent(f"{type_name} version {schema_version} is newer than this code ({cls.schema_version})")
        load = stored.trusted_loader(cls, **_load_errors(type_name))
        if schema_version == cls.schema_version:
            return load
        return lambda data: load(self.upcast(type_name, schema_version, data))  # type: ignore[no-any-return]

    def from_record(self, record: RecordedEvent) -> DomainEvent:
        """The event a record of this service's store holds (see ``decode_stored``)."""
        return self.decode_stored(record.type, record.schema_version, record.data)


class _LoadErrors(TypedDict):
    prefix: str
    message: str


def _load_errors(type_name: str) -> _LoadErrors:
    """How a stored payload that does not load is reported: the field's path and a message."""
    return {"prefix": f"{type_name}.", "message": f"invalid stored {type_name}"}


def _subjects(
    event: DomainEvent, data: dict[str, Any], aggregate_id: str | None
) -> tuple[dict[str, str], dict[str, Any]]:
    """The event's personal fields with a value, each with its subject, and the stand-ins that are not ``ERASED``."""
    personal: dict[str, str] = {}
    erased: dict[str, Any] = {}
    for field, declared in personal_fields(type(event)).items():
        if data.get(field) is None:
            continue  # nothing kept, nothing to seal
        subject = next((s for rule in declared.rules if (s := rule.subject_of(event, aggregate_id))), None)
        if subject is None:
            if declared.always:
                name = event.type_name()
                raise ValidationFailed(
                    {f"{name}.{field}": ["is personal data, but the event names no data subject for it"]},
                    f"invalid {name} event",
                )
            continue  # no rule holds for this event: the field is not personal here
        personal[field] = subject
        if declared.erased != ERASED:
            erased[field] = declared.erased
    return personal, erased


def _check_stand_in(schema: marshmallow.Schema, type_name: str, field: str, declared: Personal) -> None:
    """An erased field must still load: its stand-in has to pass the field's type and validation."""
    try:
        schema.fields[field].deserialize(declared.erased)
    except marshmallow.ValidationError as exc:
        raise ValueError(
            f"{type_name}.{field} is personal data whose erased stand-in {declared.erased!r} the field refuses "
            f"({exc.messages}); declare one it accepts with personal(..., erased=...)"
        ) from None
