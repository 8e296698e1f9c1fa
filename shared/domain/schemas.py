"""marshmallow schemas derived from dataclasses, so a payload is declared once.

Events, aggregate states and RPC requests are dataclasses; their schemas come
from marshmallow-dataclass with the platform's conventions: decimals travel as
strings (exact, and canonical JSON has no decimal type), unknown fields are
refused, and validation errors name the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from typing import Any

import marshmallow
import marshmallow_dataclass
from marshmallow import fields

from shared.errors import ValidationFailed

#: Decimals are bounded like texts are: at most this many digits, and an exponent within this range.
MAX_DECIMAL_DIGITS = 28
MAX_DECIMAL_EXPONENT = 30


class DecimalAsString(fields.Decimal):
    """A decimal that is dumped as a string: exact, valid JSON, and of a bounded size."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)

    def _validated(self, value: Any) -> Any:
        number = super()._validated(value)
        if isinstance(number, decimal.Decimal) and number.is_finite():
            _, digits, exponent = number.as_tuple()
            assert isinstance(exponent, int)
            if len(digits) > MAX_DECIMAL_DIGITS or not -MAX_DECIMAL_EXPONENT <= exponent <= MAX_DECIMAL_EXPONENT:
                raise self.make_error("invalid")
        return number


class BaseSchema(marshmallow.Schema):
    TYPE_MAPPING = {**marshmallow.Schema.TYPE_MAPPING, decimal.Decimal: DecimalAsString}

    class Meta:
        unknown = marshmallow.RAISE


class RequestSchema(BaseSchema):
    """What a caller sends: every moment says its offset.

    A datetime without one names no instant (nine o'clock where?), and
    compared with the service's clock it could only fail. Stored events and
    snapshots keep ``BaseSchema``: they are written by the services, always aware.
    """

    TYPE_MAPPING = {**BaseSchema.TYPE_MAPPING, dt.datetime: fields.AwareDateTime}


_SCHEMAS: dict[tuple[type, type], marshmallow.Schema] = {}
FILLED_BY_CALLER = "filled_by_caller"


def schema_for(cls: type, base: type[BaseSchema] = BaseSchema) -> marshmallow.Schema:
    """The (cached) schema of a dataclass (``base=RequestSchema`` for what callers send)."""
    schema = _SCHEMAS.get((cls, base))
    if schema is None:
        schema = _SCHEMAS[(cls, base)] = marshmallow_dataclass.class_schema(cls, base_schema=base)(
            exclude=tuple(filled_by_caller(cls))
        )
    return schema


def request_schema_for(cls: type) -> marshmallow.Schema:
    """The schema a request is checked with: its moments must carry their offset."""
    return schema_for(cls, RequestSchema)


def filled_by_caller(cls: type) -> dict[str, str]:
    """Fields no caller may send, and what fills each: ``"subject"`` or ``"client"`` of the verified caller.

    A dataclass field marks itself with ``metadata={"metadata": {FILLED_BY_CALLER: ...}}``
    (``shared.application.commands.FROM_CALLER``); it stays out of the schema,
    so a request that names it is refused as naming an unknown field.
    """
    if not dataclasses.is_dataclass(cls):
        return {}
    found = {}
    for f in dataclasses.fields(cls):
        source = f.metadata.get("metadata", {}).get(FILLED_BY_CALLER)
        if source is not None:
            found[f.name] = source
    return found


def load(
    cls: type,
    data: Any,
    *,
    prefix: str = "",
    message: str = "invalid input",
    tolerant: bool = False,
    request: bool = False,
) -> Any:
    """Validate ``data`` and build the dataclass, or raise ``ValidationFailed``.

    ``tolerant`` ignores fields the dataclass does not know: for reading other
    services' events, which may grow fields this service has no use for.
    ``request``: a caller's request (``RequestSchema``: moments with their offset).
    """
    if not isinstance(data, dict):
        raise ValidationFailed({prefix.rstrip(".") or "_schema": ["must be an object"]}, message)
    try:
        schema = request_schema_for(cls) if request else schema_for(cls)
        return schema.load(data, unknown=marshmallow.EXCLUDE if tolerant else marshmallow.RAISE)
    except marshmallow.ValidationError as exc:
        raise ValidationFailed(_prefixed(exc.messages_dict, prefix), message) from exc


def dump(obj: Any, *, prefix: str = "", message: str = "invalid value") -> dict[str, Any]:
    """The JSON form of a dataclass, checked against its own schema."""
    schema = schema_for(type(obj))
    try:
        data = schema.dump(obj)
    except (AttributeError, TypeError, ValueError, decimal.InvalidOperation) as exc:
        raise ValidationFailed({prefix.rstrip(".") or "_schema": [f"cannot be serialised: {exc}"]}, message) from exc
    errors = schema.validate(data)
    if errors:
        raise ValidationFailed(_prefixed(errors, prefix), message)
    return data


def _prefixed(errors: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {f"{prefix}{key}": value for key, value in errors.items()}
