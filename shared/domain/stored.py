"""Building a dataclass from a stored payload without validating it again.

A stored event was dumped from its typed dataclass and validated by its schema
before it was appended (``EventRegistry.to_new_event``), and the store never
rewrites it. Loading it back through marshmallow validates it all over again,
and that was most of the Python cost of rebuilding a projection or loading an
aggregate. So a stored payload is turned straight into its dataclass: each
field's JSON value is kept as it is, except what JSON cannot carry (decimals,
moments, dates, enums, UUIDs, nested dataclasses, tuples), which is converted
the way the field's schema would. The plan of what to convert is worked out
once per dataclass, from its own schema (so a field's format, ``by_value`` or
custom field is honoured) and its type hints (for the nested dataclasses).

Nothing here validates, by design: data from outside (commands, other
services' messages) keeps going through ``schemas.load``, and
``shared.audit.upcast_check`` loads every stored event through the validating
path, which is what catches an upcaster's or a tightened schema's mistakes.

A payload that cannot be built this way (a field missing or unknown, a value
of the wrong kind) is loaded through the validating schema instead, so that
the error names the field exactly as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import functools
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import fields

from shared.domain import schemas

#: Turns one JSON value into the field's value; ``None``: keep the value as it is.
Convert = Callable[[Any], Any] | None
Build = Callable[[Mapping[str, Any]], Any]

#: Fields whose JSON value is already the field's value (a bool is an int to JSON, and to Python).
_AS_IS = (fields.String, fields.Integer, fields.Boolean, fields.Raw)
_ISO = (None, "iso", "iso8601")
_PARSED_ISO: dict[type[fields.Field], Callable[[str], Any]] = {
    fields.DateTime: dt.datetime.fromisoformat,
    fields.Date: dt.date.fromisoformat,
    fields.Time: dt.time.fromisoformat,
}


def trusted_loader(cls: type, *, prefix: str, message: str) -> Build:
    """``load(data)``: ``cls`` built from a payload that was valid when stored; validated only when that fails.

    ``prefix`` and ``message`` are those of ``schemas.load``, for the error of
    a payload that does not load either way.
    """
    build = builder(cls)

    def load(data: Mapping[str, Any]) -> Any:
        try:
            return build(data)
        except Exception:
            # Raises ValidationFailed naming the field, as a validating load always did
            # (or, for a payload this plan could not read, builds it the slow way).
            return schemas.load(cls, data, prefix=prefix, message=message)

    return load


_BUILDERS: dict[type, Build] = {}


def builder(cls: type) -> Build:
    """``build(data)``: the dataclass ``cls`` from its JSON form, converting only what JSON cannot carry.

    Raises (``TypeError``, ``ValueError``, ``KeyError``...) when the payload
    does not fit: a field missing or unknown, a value of the wrong kind.
    Made once per class.
    """
    found = _BUILDERS.get(cls)
    if found is None:
        found = _BUILDERS[cls] = _plan(cls)
    return found


def _plan(cls: type) -> Build:
    schema = schemas.schema_for(cls)
    try:
        hints = typing.get_type_hints(cls)
    except NameError:  # a class local to a function: its nested dataclasses are loaded by their fields
        hints = {}
    steps: list[tuple[str, str, Convert]] = []  # (JSON key, attribute, conversion)
    keys = set()
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        keys.add(key)
        convert = _converter(field, hints.get(name))
        if convert is not None or key != name:
            steps.append((key, name, convert))
    init_fields = {f.name for f in dataclasses.fields(cls) if f.init}
    # The dataclass refuses an unknown keyword by itself, unless the schema leaves some of its fields out.
    known = frozenset(keys) if keys != init_fields else None

    if not steps and known is None:
        return lambda data: cls(**data)  # every value as it is: the dataclass checks the names

    def build(data: Mapping[str, Any]) -> Any:
        if known is not None and not known.issuperset(data):
            raise TypeError(f"unknown fields {sorted(set(data) - known)}")
        values = dict(data)
        for key, name, convert in steps:
            if key in values:
                value = values.pop(key) if key != name else values[key]
                values[name] = value if convert is None else convert(value)
        return cls(**values)

    return build


def _converter(field: fields.Field, hint: Any) -> Convert:
    """How one field's JSON value becomes its value, as ``field`` would load it (``hint``: its type)."""
    convert = _converter_of(field, _without_none(hint))
    if convert is None or not field.allow_none:
        return convert  # a None where none is allowed fails in ``convert``, then in the schema
    return functools.partial(_unless_none, convert)


def _converter_of(field: fields.Field, hint: Any) -> Convert:
    kind = type(field)
    if kind in _AS_IS:
        return None
    if kind in _PARSED_ISO and getattr(field, "format", None) in _ISO:
        return _PARSED_ISO[kind]
    if isinstance(field, fields.Decimal) and kind in (fields.Decimal, schemas.DecimalAsString) and field.places is None:
        return _decimal
    if kind is fields.Float:
        return float
    if kind is fields.UUID:
        return uuid.UUID
    if isinstance(field, fields.Enum) and kind is fields.Enum and field.by_value in (True, False):
        enum: Any = field.enum
        return enum if field.by_value else enum.__getitem__
    if isinstance(field, fields.Nested) and kind is fields.Nested and not field.many and dataclasses.is_dataclass(hint):
        return builder(typing.cast(type, hint))
    if isinstance(field, fields.List) and kind is fields.List:
        inner = _converter(field.inner, _argument(hint, 0))
        return list if inner is None else functools.partial(_each, inner)
    if isinstance(field, fields.Tuple) and kind is fields.Tuple:
        parts = [_converter(part, _argument(hint, i)) for i, part in enumerate(field.tuple_fields)]
        return functools.partial(_positions, tuple(parts))
    if isinstance(field, fields.Dict) and kind is fields.Dict:
        key = _converter(field.key_field, _argument(hint, 0)) if field.key_field else None
        value = _converter(field.value_field, _argument(hint, 1)) if field.value_field else None
        return dict if key is None and value is None else functools.partial(_entries, key, value)
    # Anything else (a union, a custom field): the field itself loads it, as the schema would.
    return field.deserialize


def _decimal(value: Any) -> decimal.Decimal:
    return decimal.Decimal(value if type(value) is str else str(value))


def _unless_none(convert: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else convert(value)


def _each(convert: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    return [convert(v) for v in values]


def _positions(converts: tuple[Convert, ...], values: list[Any]) -> tuple[Any, ...]:
    if len(values) != len(converts):
        raise ValueError(f"expected {len(converts)} values, got {len(values)}")
    return tuple(v if c is None else c(v) for c, v in zip(converts, values, strict=True))


def _entries(key: Convert, value: Convert, mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    return {k if key is None else key(k): v if value is None else value(v) for k, v in mapping.items()}


def _without_none(hint: Any) -> Any:
    """``X`` for ``X | None`` (and ``Optional[X]``); the hint itself otherwise."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, _UnionType) and len(args) == 1:
        return args[0]
    return hint


def _argument(hint: Any, index: int) -> Any:
    """The ``index``-th type argument of ``hint`` (``list[X]``, ``dict[K, V]``...), ``Any`` if it has none."""
    args = typing.get_args(_without_none(hint))
    return _without_none(args[index]) if index < len(args) else Any


_UnionType = type(int | None)
