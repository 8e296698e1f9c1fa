"""Stored events read back without validating them again: the same events as the validating load.

``EventRegistry.from_record`` builds an event straight from its stored JSON
(``shared.domain.stored``); ``decode`` loads it through marshmallow. For every
event type of every service (and the platform's own), representative events
are encoded the way the store encodes them and read back both ways.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import json
import pkgutil
import typing
from dataclasses import dataclass, field
from typing import Any

import pytest

import services
from shared.domain import DomainEvent, EventRegistry, schemas
from shared.domain.erasure import PersonalDataErased
from shared.errors import ValidationFailed
from shared.eventstore.appending import prepare
from shared.eventstore.records import Metadata, RecordedEvent
from shared.runtime.service import ServiceBase


def service_registries() -> dict[str, EventRegistry]:
    """Every service's registry, as its service class completes it (platform events included)."""
    for module in pkgutil.iter_modules(services.__path__):
        try:
            importlib.import_module(f"services.{module.name}.entrypoint")
        except ModuleNotFoundError:
            continue  # not a service of the platform (the gateway has no store)
    return {cls.name: cls.events for cls in ServiceBase.__subclasses__() if cls.__module__.startswith("services.")}


REGISTRIES = service_registries()
EVENTS = [(service, cls) for service, registry in REGISTRIES.items() for cls in registry.event_classes()]


def test_every_service_with_a_store_is_covered() -> None:
    assert {"cadre", "feedback", "grassroots", "supervision", "talent", "training"} <= set(REGISTRIES)
    assert len(EVENTS) > 150


# -- representative events, from their type hints ----------------------------------------


def example(hint: Any, name: str, sparse: bool) -> Any:
    """A value of type ``hint``; ``sparse``: optional parts empty."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return None if sparse else example(inner, name, sparse)
    if origin is list:
        return [] if sparse else [example(args[0], name, sparse)]
    if origin is tuple:
        return tuple(example(a, name, sparse) for a in args if a is not Ellipsis)
    if origin in (set, frozenset):
        return origin() if sparse else origin([example(args[0], name, sparse)])
    if origin is dict:
        return {} if sparse else {f"{name}-key": example(args[1], name, sparse)}
    if dataclasses.is_dataclass(hint):
        return instance(typing.cast(type, hint), sparse)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)[-1]
    scalars: dict[Any, Any] = {
        str: f"{name}-1",
        bool: True,
        int: 7,
        float: 2.5,
        # a trailing zero and a moment with an offset and microseconds: what a careless decoder would lose
        decimal.Decimal: decimal.Decimal("12.50"),
        dt.datetime: dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.date: dt.date(2026, 3, 4),
    }
    return scalars[hint]


def instance(cls: type, sparse: bool) -> Any:
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if f.init and not (sparse and has_default):
            values[f.name] = example(hints[f.name], f.name, sparse)
    return cls(**values)


def stored_form(registry: EventRegistry, event: DomainEvent) -> dict[str, Any]:
    """The payload as the store keeps it: validated, serialised to its JSON text, parsed back."""
    new = registry.to_new_event(event, aggregate_id="a-1")
    (prepared,) = prepare([new], 0, Metadata(actor="test"), service="test", recorded_at="2026-01-01T00:00:00+00:00")
    data: dict[str, Any] = json.loads(prepared.data_json)
    return data


def record(type_name: str, data: dict[str, Any], schema_version: int = 1) -> RecordedEvent:
    return RecordedEvent(1, 1, "thing-1", 1, "e-1", type_name, schema_version, data, {}, bytes(32), bytes(32))


@pytest.mark.parametrize(("service", "cls"), EVENTS, ids=[f"{s}.{c.__name__}" for s, c in EVENTS])
@pytest.mark.parametrize("sparse", [False, True], ids=["full", "sparse"])
def test_a_stored_event_reads_back_as_the_validating_load_reads_it(
    service: str, cls: type[DomainEvent], sparse: bool
) -> None:
    registry = REGISTRIES[service]
    event = instance(cls, sparse)
    try:
        data = stored_form(registry, event)
    except ValidationFailed:
        if sparse:
            pytest.skip("an empty personal field's subject: not a storable event")
        raise
    validated = registry.decode(cls.type_name(), cls.schema_version, data)
    trusted = registry.from_record(record(cls.type_name(), data, cls.schema_version))
    assert trusted == validated == event
    assert repr(trusted) == repr(validated)  # the same types too: tuples, offsets, decimal exponents


# -- what the trusted path still does ---------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Part:
    code: str
    weight: decimal.Decimal
    made_on: dt.date | None = None


@dataclass(frozen=True)
class Shipped(DomainEvent):
    schema_version = 2
    parts: list[Part]
    shipped_at: dt.datetime
    colour: Colour = field(metadata={"by_value": True})
    shade: Colour = Colour.RED
    pair: tuple[int, dt.date] = (0, dt.date(2026, 1, 1))
    tags: list[str] = field(default_factory=list)
    prices: dict[str, decimal.Decimal] = field(default_factory=dict)


def shipping_registry() -> EventRegistry:
    registry = EventRegistry([Shipped])

    @registry.upcaster("Shipped", 1)
    def _named_colour(data: dict[str, Any]) -> dict[str, Any]:
        colour = data.pop("color")
        return {**data, "colour": colour}

    return registry


SHIPPED = Shipped(
    parts=[Part("p-1", decimal.Decimal("1.250"), dt.date(2026, 2, 3)), Part("p-2", decimal.Decimal("4"))],
    shipped_at=dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
    colour=Colour.BLUE,
    shade=Colour.BLUE,
    pair=(3, dt.date(2026, 5, 6)),
    tags=["fragile"],
    prices={"p-1": decimal.Decimal("9.90")},
)


def test_nested_dataclasses_enums_tuples_and_mappings_are_rebuilt() -> None:
    registry = shipping_registry()
    data = stored_form(registry, SHIPPED)
    trusted = registry.from_record(record("Shipped", data, 2))
    assert trusted == SHIPPED
    assert repr(trusted) == repr(registry.decode("Shipped", 2, data))


def test_stored_events_are_not_validated_again(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = shipping_registry()
    data = stored_form(registry, SHIPPED)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a stored event went through the validating load")

    monkeypatch.setattr(schemas, "load", refuse)
    assert registry.from_record(record("Shipped", data, 2)) == SHIPPED


def test_upcasters_still_apply() -> None:
    registry = shipping_registry()
    old = {k: v for k, v in stored_form(registry, SHIPPED).items() if k != "colour"} | {"color": "blue"}
    assert registry.from_record(record("Shipped", old, 1)) == SHIPPED


def test_an_upcaster_registered_after_a_read_is_used() -> None:
    registry = EventRegistry([Shipped])
    data = stored_form(registry, SHIPPED)
    registry.from_record(record("Shipped", data, 2))
    with pytest.raises(Exception, match="no upcaster"):
        registry.from_record(record("Shipped", data, 1))

    @registry.upcaster("Shipped", 1)
    def _same(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    assert registry.from_record(record("Shipped", data, 1)) == SHIPPED


@pytest.mark.parametrize(
    ("change", "field_named"),
    [
        ({"shipped_at": "yesterday"}, "Shipped.shipped_at"),
        ({"surprise": 1}, "Shipped.surprise"),
        ({"parts": [{"code": "p-1"}]}, "Shipped.parts"),
        ({"colour": "green"}, "Shipped.colour"),
    ],
)
def test_a_payload_that_does_not_load_names_its_field_as_before(change: dict[str, Any], field_named: str) -> None:
    registry = shipping_registry()
    data = {**stored_form(registry, SHIPPED), **change}
    with pytest.raises(ValidationFailed) as caught:
        registry.from_record(record("Shipped", data, 2))
    assert field_named in caught.value.errors


def test_a_missing_field_is_refused_naming_it() -> None:
    registry = shipping_registry()
    data = {k: v for k, v in stored_form(registry, SHIPPED).items() if k != "shipped_at"}
    with pytest.raises(ValidationFailed) as caught:
        registry.from_record(record("Shipped", data, 2))
    assert "Shipped.shipped_at" in caught.value.errors


def test_the_event_shares_no_list_with_its_record() -> None:
    registry = shipping_registry()
    data = stored_form(registry, SHIPPED)
    event = registry.from_record(record("Shipped", data, 2))
    assert isinstance(event, Shipped)
    assert event.tags == data["tags"] and event.tags is not data["tags"]


def test_the_platforms_own_events_read_back_too() -> None:
    registry = EventRegistry([PersonalDataErased])
    event = instance(PersonalDataErased, sparse=False)
    data = stored_form(registry, event)
    assert registry.from_record(record("PersonalDataErased", data)) == event
