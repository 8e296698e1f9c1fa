"""What a request carries in: a JSON object, within limits, or a problem saying why not.

The services check every field again; this is the door's own check, so that
what is not JSON, too large, of another media type, or text that cannot be
stored (the NUL character, lone surrogates) never costs a call. The status
tells the caller which: 413 too large, 415 not JSON, 400 not a JSON object,
422 a field that cannot be stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Request

from services.gateway.problems import BAD_REQUEST, TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, Problem, validation_failed

MAX_DEPTH = 32


def json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` (every argument left to its default)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise Problem(TOO_LARGE, f"the body may be at most {max_bytes} bytes")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise Problem(TOO_LARGE, f"the body may be at most {max_bytes} bytes")
    if not raw.strip():
        return {}
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise Problem(UNSUPPORTED_MEDIA_TYPE, "send the arguments as application/json")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise Problem(UNSUPPORTED_MEDIA_TYPE, "JSON is sent in UTF-8")
    value = parse(raw)
    if not isinstance(value, dict):
        raise Problem(BAD_REQUEST, "the body must be a JSON object of arguments")
    check_storable(value)
    return value


def parse(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN or infinity, no repeated keys, not nested too deep."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Problem(BAD_REQUEST, f"the body is not valid JSON: {_short(error)}") from None
    if _depth(value) > MAX_DEPTH:
        raise Problem(BAD_REQUEST, f"the body nests deeper than {MAX_DEPTH} levels")
    return value


def check_storable(value: dict[str, Any]) -> None:
    """Refuse text the platform cannot store, naming the field (422)."""
    errors: dict[str, Any] = {}
    for path, problem in _unstorable(value, ()):
        target = errors
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target.setdefault(path[-1] if path else "_schema", []).append(problem)
    if errors:
        raise validation_failed(errors, "text that cannot be stored")


def _unstorable(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path, "text may not contain the NUL character"
        elif not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                yield path, "text is not valid Unicode (a lone surrogate)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unstorable(key, (*path, "(key)"))
            yield from _unstorable(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable(item, (*path, str(index)))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _short(error: Exception) -> str:
    return str(error)[:200]
