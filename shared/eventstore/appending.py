"""The Python half of an append: what every store checks and computes before it writes.

Both stores (PostgreSQL and in-memory) take their appends through ``prepare``,
so that one bad field gets the same error, naming it, whichever store is behind
the service, and so that both hash the very same canonical text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.errors import DuplicateEventId, ValidationFailed
from shared.eventstore.hashing import NotCanonical, canonical_text, normalise
from shared.eventstore.records import ANY_VERSION, EVENT_TYPE, Metadata, NewEvent, RecordedEvent

#: The largest payload an event may carry, as canonical JSON. Events travel to
#: other services as one AMQP message each: one too large for the broker or
#: for a consumer's limit (``Settings.max_message_bytes``) would stop the
#: relay, so it is refused here, before it is stored.
MAX_EVENT_DATA_BYTES = 256 * 1024


@dataclass(frozen=True)
class PreparedEvent:
    """An event checked and serialised, ready to be stored and hashed."""

    event_id: str
    type: str
    schema_version: int
    data: dict[str, Any]
    data_json: str
    metadata: dict[str, Any]
    metadata_json: str

    def same_as(self, record: RecordedEvent, stream_id: str) -> bool:
        """Same event, for idempotency: everything but when it was recorded."""

        def caller_part(meta: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in meta.items() if k != "recorded_at"}

        return (
            record.stream_id == stream_id
            and record.type == self.type
            and record.schema_version == self.schema_version
            and record.data == self.data
            and caller_part(record.metadata) == caller_part(self.metadata)
        )


def prepare(
    events: Sequence[NewEvent], expected_version: int, metadata: Metadata, *, service: str, recorded_at: str
) -> list[PreparedEvent]:
    """Check an append and serialise its events; ``ValidationFailed`` names every bad field."""
    problems: dict[str, list[str]] = {}
    if not isinstance(expected_version, int) or isinstance(expected_version, bool) or expected_version < ANY_VERSION:
        problems["expected_version"] = ["must be a version (0 for a new stream) or ANY_VERSION (-1)"]
    if not isinstance(metadata, Metadata):
        problems["metadata"] = ["must be a Metadata"]
    if not events:
        problems["events"] = ["nothing to append"]
    if problems:
        raise ValidationFailed(problems, "invalid append")
    meta = {**metadata.as_dict(), "recorded_at": recorded_at, "service": service}
    metadata_json = (
        f'{metadata.canonical_prefix},"recorded_at":{json.dumps(recorded_at)},'
        f'"service":{json.dumps(service, ensure_ascii=False)}}}'
    )
    prepared: list[PreparedEvent] = []
    seen: set[str] = set()
    for i, event in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(event, NewEvent):
            problems[where] = ["must be a NewEvent"]
            continue
        if not isinstance(event.type, str) or not EVENT_TYPE.match(event.type):
            problems[f"{where}.type"] = [f"must be a PascalCase name ({EVENT_TYPE.pattern}), got {event.type!r}"]
        if not isinstance(event.schema_version, int) or event.schema_version < 1:
            problems[f"{where}.schema_version"] = ["must be a positive integer"]
        try:
            raw_id = event.event_id
            event_id = str(raw_id) if type(raw_id) is uuid.UUID else str(uuid.UUID(str(raw_id)))
        except ValueError:
            problems[f"{where}.event_id"] = [f"must be a UUID, got {event.event_id!r}"]
            continue
        if event_id in seen:
            problems[f"{where}.event_id"] = ["appears twice in one append"]
        seen.add(event_id)
        if not isinstance(event.data, Mapping):
            problems[f"{where}.data"] = ["must be a JSON object"]
            continue
        try:
            data = normalise(event.data, f"{where}.data")
            data_json = canonical_text(data)
        except NotCanonical as exc:
            problems[exc.path] = [exc.problem]
            continue
        if len(data_json.encode("utf-8")) > MAX_EVENT_DATA_BYTES:
            problems[f"{where}.data"] = [f"an event's payload is at most {MAX_EVENT_DATA_BYTES} bytes of JSON"]
            continue
        prepared.append(PreparedEvent(event_id, event.type, event.schema_version, data, data_json, meta, metadata_json))
    if problems:
        raise ValidationFailed(problems, "invalid events; nothing was stored")
    return prepared


def already_stored(
    prepared: Sequence[PreparedEvent], found: Iterable[RecordedEvent], stream_id: str
) -> list[RecordedEvent] | None:
    """After a refused append: the stored records, when every event of it is stored already, identical.

    That is a retry after a lost reply, and it succeeds with what was stored.
    None when none of the events is stored (the refusal stands); an event id
    stored with other content is a ``DuplicateEventId``.
    """
    stored = {record.event_id: record for record in found}
    if not stored:
        return None
    result = []
    for p in prepared:
        record = stored.get(p.event_id)
        if record is None or not p.same_as(record, stream_id):
            raise DuplicateEventId(p.event_id, stream_id)
        result.append(record)
    return result
