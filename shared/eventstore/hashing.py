"""Canonical JSON and the event hash, so that anyone can recompute the chain.

The store's SQL function ``append_event`` (``append_events`` for several)
computes each event's hash from the canonical JSON text the client sends;
``event_hash`` below is the same formula in Python, which the auditors'
verification uses. The two are tested together.

Canonical JSON: keys sorted, no spaces, UTF-8 (not ``\\u`` escapes), no NaN or
infinity. One more rule makes the text survive a trip through ``jsonb``:
PostgreSQL prints an integral number without an exponent (``1e+16`` comes back
as ``10000000000000000``, which Python reads as an int), so such floats are
written as integers from the start. Then ``canonical_json(json.loads(x))`` of
what ``jsonb`` gives back is the very text that was hashed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import orjson

HASH_DOMAIN = "orgwork-event-v1"


class NotCanonical(ValueError):
    """A value that cannot be stored as canonical JSON."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def normalise(value: Any, path: str) -> Any:
    """``value`` with its floats in canonical form; ``NotCanonical`` names the first bad spot."""
    try:
        return _norm(value)
    except _Problem as problem:
        raise NotCanonical(path + "".join(reversed(problem.where)), problem.problem) from None


class _Problem(Exception):
    """Raised deep inside a value; each level adds where it was (cheaper than paths up front)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.where: list[str] = []


def _norm(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise _Problem("text may not contain the NUL character")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Problem("text is not valid Unicode (lone surrogate)") from None
        return value
    if kind is int or kind is bool or value is None:
        return value
    if kind is dict or isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Problem(f"object keys must be text, got {type(key).__name__}")
            try:
                out[_norm(key)] = _norm(item)
            except _Problem as problem:
                problem.where.append(f".{key}")
                raise
        return out
    if kind is list or kind is tuple:
        items = []
        for i, item in enumerate(value):
            try:
                items.append(_norm(item))
            except _Problem as problem:
                problem.where.append(f"[{i}]")
                raise
        return items
    if kind is float:
        if not math.isfinite(value):
            raise _Problem("NaN and infinity are not JSON")
        if value == 0:
            return 0.0  # PostgreSQL's numeric has no negative zero
        if value.is_integer() and "e" in repr(value):
            return int(value)
        return value
    if isinstance(value, int):  # int subclasses (enums) are JSON numbers
        return int(value)
    if isinstance(value, str):
        return _norm(str(value))
    raise _Problem(f"{type(value).__name__} is not a JSON value")


#: orjson writes what ``json.dumps`` would, in C, except for what it hands back:
#: subclasses, dataclasses and dates go to ``reference_text``, which refuses or
#: writes them as it always did (normalised values have none of them).
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)

#: Where orjson's text may differ from the reference: a float under 1e-4 in
#: size (``1e-05`` is ``0.00001`` to orjson, ``1.5e-07`` is ``1.5e-7``). Text
#: with either mark (a string may have one too) is written again by the reference.
_MAY_DIFFER = (b"e-", b"0.0000")


def reference_text(normalised: Any) -> str:
    """Canonical JSON as the standard library writes it: the definition ``canonical_text`` must match."""
    return json.dumps(normalised, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_text(normalised: Any) -> str:
    """The canonical text of a value ``normalise`` has already checked.

    orjson (C) writes it about ten times faster than the standard library, byte
    for byte the same (tests/core/test_canonical_json.py checks it over arbitrary
    values); where it cannot be trusted to (small floats, integers beyond 64 bits,
    anything unusual) the reference writes it. Only for normalised values: orjson
    would write NaN as ``null`` and a UUID as text, which ``normalise`` refuses.
    """
    try:
        text = orjson.dumps(normalised, option=_ORJSON_OPTIONS)
    except TypeError:  # an integer beyond 64 bits; or what the reference refuses too
        return reference_text(normalised)
    if _MAY_DIFFER[0] in text or _MAY_DIFFER[1] in text:
        return reference_text(normalised)
    return text.decode()


def canonical_json(value: Any, path: str = "data") -> str:
    """The one text form of a JSON value that the hash is computed over."""
    return canonical_text(normalise(value, path))


def event_hash(
    *,
    position: int,
    stream_id: str,
    version: int,
    event_id: str,
    type: str,
    schema_version: int,
    data_json: str,
    metadata_json: str,
    prev_hash: bytes,
) -> bytes:
    """sha256 over the record's fields joined by newlines; mirrors the SQL."""
    text = "\n".join(
        [
            HASH_DOMAIN,
            str(position),
            stream_id,
            str(version),
            str(event_id),
            type,
            str(schema_version),
            data_json,
            metadata_json,
            prev_hash.hex(),
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).digest()


def recompute_hash(record: Any) -> bytes:
    """The hash a stored record should carry, from its own fields."""
    return event_hash(
        position=record.position,
        stream_id=record.stream_id,
        version=record.version,
        event_id=str(record.event_id),
        type=record.type,
        schema_version=record.schema_version,
        data_json=canonical_json(record.data),
        metadata_json=canonical_json(record.metadata, "metadata"),
        prev_hash=record.prev_hash,
    )
