"""What goes into the event store and what comes out of it.

Plain data: no database access here, so that the domain, the relay and the
auditors' tools all speak of the same records.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import fastjsonschema
from marshmallow import Schema, ValidationError, fields, validate

from shared.errors import ValidationFailed

#: ``<category>-<id>``: the category names the aggregate type (``selection``,
#: ``cadre``...), the id is the aggregate's own key.
STREAM_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}-[A-Za-z0-9][A-Za-z0-9_.:\-]{0,199}$")

#: Event types are PascalCase names; they are also AMQP routing keys.
EVENT_TYPE = re.compile(r"^[A-Z][A-Za-z0-9]{0,99}$")

#: Version the stream must be at for the append to succeed (or ANY).
ANY_VERSION = -1
NO_STREAM = 0

ZERO_HASH = bytes(32)

#: What a read gives in place of a personal field whose subject's key was erased
#: (``shared.privacy``), unless the field declares a stand-in of its own.
ERASED = "[personal data erased]"

#: A data subject: ``<kind>:<id>`` (``cadre:c-42``, ``person:p-7``, ``submitter:<submission id>``).
SUBJECT = re.compile(r"^[a-z][a-z0-9_]{0,30}:[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


def utc_now() -> dt.datetime:
    """The default clock of a store: when an event is recorded, unless a service says otherwise."""
    return dt.datetime.now(dt.UTC)


def check_stream_id(stream_id: object) -> str:
    """Return ``stream_id`` when well formed, else raise naming the problem."""
    if not isinstance(stream_id, str) or not STREAM_ID.match(stream_id):
        raise ValidationFailed(
            {"stream_id": [f"must look like 'category-id' ({STREAM_ID.pattern}), got {stream_id!r}"]},
            "malformed stream id",
        )
    return stream_id


def stream_category(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]


@dataclass(frozen=True, order=True)
class Cursor:
    """A place in a store's commit-safe global order: (transaction id, position).

    Positions alone do not give an order that readers can follow without
    skipping events (see ``shared.eventstore.store``); this pair does, and
    cursors compare in it.
    """

    tx_id: int = 0
    position: int = 0

    def __str__(self) -> str:
        return f"{self.tx_id}:{self.position}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        tx_id, _, position = text.partition(":")
        return cls(int(tx_id), int(position))


START = Cursor(0, 0)


#: A stored event's hash, as hex: what ``causation_hash`` holds.
HASH_HEX = re.compile(r"^[0-9a-f]{64}$")

#: A service's name as its store's schema has it: what ``causation_service`` holds.
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class MetadataSchema(Schema):
    """Who did it and why: the part of the metadata that the caller gives.

    ``causation_hash`` and ``causation_service`` are optional: only what a
    service does in answer to another service's event carries them, and events
    stored before they existed have neither.
    """

    actor = fields.String(required=True, validate=validate.Length(min=1, max=200))
    correlation_id = fields.UUID(required=True)
    causation_id = fields.UUID(load_default=None, allow_none=True)
    causation_hash = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(HASH_HEX))
    causation_service = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(SERVICE_NAME))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


@dataclass(frozen=True)
class Metadata:
    """Who did it, why, and in answer to what.

    ``correlation_id`` is shared by everything one original request caused, in
    every service; ``causation_id`` is the id of the command or event that
    directly caused this one. The store adds ``service`` and ``recorded_at``.

    When the cause is another service's event, ``causation_hash`` is that
    event's stored hash (hex) and ``causation_service`` its service: the link
    is then evidence, not just a pointer. The upstream event cannot be altered
    afterwards without the recorded hash giving it away (``orgctl audit
    trace`` checks every such link), and this event's own hash covers the
    recorded one.
    """

    actor: str
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    reason: str | None = None
    causation_hash: str | None = None
    causation_service: str | None = None

    def __post_init__(self) -> None:
        try:
            MetadataSchema().load(
                {
                    "actor": self.actor,
                    "correlation_id": self.correlation_id,
                    "causation_id": self.causation_id,
                    "causation_hash": self.causation_hash,
                    "causation_service": self.causation_service,
                    "reason": self.reason,
                }
            )
        except ValidationError as exc:
            raise ValidationFailed(
                {f"metadata.{k}": v for k, v in exc.messages_dict.items()}, "invalid event metadata"
            ) from exc

    def caused_by(
        self,
        causation_id: str,
        actor: str | None = None,
        reason: str | None = None,
        *,
        causation_hash: str | None = None,
        causation_service: str | None = None,
    ) -> "Metadata":
        """Metadata for what this causes next: same correlation, new cause (with its hash, when it is an event)."""
        return Metadata(
            actor=actor or self.actor,
            correlation_id=self.correlation_id,
            causation_id=causation_id,
            reason=reason if reason is not None else self.reason,
            causation_hash=causation_hash,
            causation_service=causation_service,
        )

    def as_dict(self) -> dict[str, Any]:
        """The fields as stored; the causation's hash and service only when there are some.

        Leaving them out (rather than null) keeps every other event's metadata,
        and so its hash and its idempotent retries, exactly as before.
        """
        stored: dict[str, Any] = {
            "actor": self.actor,
            "correlation_id": str(self.correlation_id),
            "causation_id": str(self.causation_id) if self.causation_id else None,
            "reason": self.reason,
        }
        if self.causation_hash is not None:
            stored["causation_hash"] = self.causation_hash
        if self.causation_service is not None:
            stored["causation_service"] = self.causation_service
        return stored

    @functools.cached_property
    def canonical_prefix(self) -> str:
        """The canonical JSON of these fields, without its closing brace.

        The store adds ``recorded_at`` and ``service`` to every append; both
        sort after every key of ``as_dict`` (``actor``, ``causation_*``,
        ``correlation_id``, ``reason``), so the full canonical text is this
        prefix plus those two, with no need to encode the whole again each time.
        """
        from shared.eventstore.hashing import canonical_json

        return canonical_json(self.as_dict(), "metadata")[:-1]


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended. Give a fixed ``event_id`` to make a retry safe.

    ``personal`` names the top-level fields of ``data`` that are personal
    data, each with its data subject (``{"name": "cadre:c-42"}``): the store
    seals them under the subject's key, so that erasing the key erases them
    (``shared.privacy``). ``erased`` gives, for such a field, the stand-in a
    read shows once the key is gone, when ``ERASED`` would not fit the field.
    """

    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    event_id: uuid.UUID | str = field(default_factory=uuid.uuid4)
    personal: Mapping[str, str] = field(default_factory=dict)
    erased: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored: where it is, what it says, and its place in the chain."""

    position: int
    tx_id: int
    stream_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    prev_hash: bytes
    hash: bytes

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.tx_id, self.position)

    @property
    def aggregate_id(self) -> str:
        """The aggregate's own key: the stream id after its category."""
        return self.stream_id.split("-", 1)[1]

    @property
    def correlation_id(self) -> str | None:
        return self.metadata.get("correlation_id")

    def envelope(self) -> dict[str, Any]:
        """The whole record as JSON values: what the relay publishes."""
        return {
            "event_id": str(self.event_id),
            "type": self.type,
            "schema_version": self.schema_version,
            "stream_id": self.stream_id,
            "version": self.version,
            "position": self.position,
            "tx_id": self.tx_id,
            "data": self.data,
            "metadata": self.metadata,
            "hash": self.hash.hex(),
            "prev_hash": self.prev_hash.hex(),
        }


#: An event as it travels between services, as JSON Schema: compiled once into
#: plain Python (``fastjsonschema``), because every delivered event is checked
#: against it on the consumers' hot path (marshmallow took 25 times as long).
ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "event_id",
        "type",
        "schema_version",
        "stream_id",
        "version",
        "position",
        "tx_id",
        "data",
        "metadata",
        "hash",
        "prev_hash",
    ],
    "properties": {
        "event_id": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
        "type": {"type": "string", "pattern": EVENT_TYPE.pattern},
        "schema_version": {"type": "integer", "minimum": 1},
        "stream_id": {"type": "string", "pattern": STREAM_ID.pattern},
        "version": {"type": "integer", "minimum": 1},
        "position": {"type": "integer", "minimum": 1},
        "tx_id": {"type": "integer", "minimum": 0},
        "data": {"type": "object"},
        "metadata": {"type": "object"},
        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "prev_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    },
}

_check_envelope = fastjsonschema.compile(ENVELOPE_SCHEMA)


def record_from_envelope(envelope: Mapping[str, Any]) -> RecordedEvent:
    """Check a received envelope and turn it back into a record (``ValidationFailed`` names the field)."""
    try:
        _check_envelope(envelope)
    except fastjsonschema.JsonSchemaValueException as error:
        raise ValidationFailed(_envelope_errors(envelope, error), "malformed event envelope") from None
    return RecordedEvent(
        position=int(envelope["position"]),
        tx_id=int(envelope["tx_id"]),
        stream_id=envelope["stream_id"],
        version=int(envelope["version"]),
        event_id=envelope["event_id"],
        type=envelope["type"],
        schema_version=int(envelope["schema_version"]),
        data=envelope["data"],
        metadata=envelope["metadata"],
        prev_hash=bytes.fromhex(envelope["prev_hash"]),
        hash=bytes.fromhex(envelope["hash"]),
    )


def _envelope_errors(envelope: Any, error: fastjsonschema.JsonSchemaValueException) -> dict[str, list[str]]:
    """The check's first finding as ``{field: [problem]}``, the shape ``ValidationFailed`` carries everywhere."""
    path = [str(part) for part in (error.path or [])[1:]]  # the first part names the whole document
    if not path and error.rule == "required" and isinstance(envelope, Mapping):
        missing = [name for name in ENVELOPE_SCHEMA["required"] if name not in envelope]
        return {name: ["missing"] for name in missing}
    if not path and error.rule == "additionalProperties" and isinstance(envelope, Mapping):
        unknown = sorted(str(name) for name in envelope if name not in ENVELOPE_SCHEMA["properties"])[:10]
        return {name: ["unknown field"] for name in unknown}
    problem = error.message.removeprefix(str(error.name)).strip()
    return {".".join(path) or "_schema": [problem]}


@dataclass(frozen=True)
class Page:
    """A page of the global read, and where to continue from."""

    events: list[RecordedEvent]
    next_cursor: Cursor

    def __len__(self) -> int:
        return len(self.events)


@dataclass(frozen=True)
class Horizon:
    """How far the safe read horizon lags behind what is committed."""

    events_behind: int
    oldest_writer_seconds: float


def every_event(read_all: Callable[[Cursor, int], Page], after: Cursor, page_size: int) -> Iterator[RecordedEvent]:
    """Every event a store's global read gives after ``after``, page by page (both stores' ``iter_all``)."""
    while True:
        page = read_all(after, page_size)
        yield from page.events
        if len(page) < page_size:
            return
        after = page.next_cursor
