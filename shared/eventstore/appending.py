"""The Python half of an append: what every store checks and computes before it writes.

Both stores (PostgreSQL and in-memory) take their appends through ``prepare``,
so that one bad field gets the same error, naming it, whichever store is behind
the service, and so that both hash the very same canonical text.

An event with personal fields is prepared twice over: ``data`` is its
plaintext (what reads give back, and what a retry is compared with, since
sealing is randomised), ``data_json`` the text stored and hashed, in which
``seal`` has replaced each personal value by its sealed form.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from shared.errors import DuplicateEventId, ValidationFailed
from shared.eventstore.hashing import NotCanonical, canonical_text, normalise
from shared.eventstore.records import ANY_VERSION, ERASED, EVENT_TYPE, SUBJECT, Metadata, NewEvent, RecordedEvent

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
    personal: Mapping[str, str] = field(default_factory=dict)  # field -> subject
    erased: Mapping[str, Any] = field(default_factory=dict)  # field -> its erased stand-in, when not ERASED

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
        f'{metadata.canonical_prefix},"recorded_at":{canonical_text(recorded_at)},"service":{canonical_text(service)}}}'
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
        personal, erased = _personal(event, data, where, problems)
        prepared.append(
            PreparedEvent(
                event_id, event.type, event.schema_version, data, data_json, meta, metadata_json, personal, erased
            )
        )
    if problems:
        raise ValidationFailed(problems, "invalid events; nothing was stored")
    return prepared


def _personal(
    event: NewEvent, data: dict[str, Any], where: str, problems: dict[str, list[str]]
) -> tuple[dict[str, str], dict[str, Any]]:
    """The event's personal fields and their stand-ins, checked: top-level fields of its data, well-formed subjects."""
    personal: dict[str, str] = {}
    if not isinstance(event.personal, Mapping) or not isinstance(event.erased, Mapping):
        problems[f"{where}.personal"] = ["must map fields of data to their data subjects"]
        return {}, {}
    for name, subject in event.personal.items():
        if name not in data:
            problems[f"{where}.personal.{name}"] = ["names no field of the event's data"]
        elif not isinstance(subject, str) or not SUBJECT.match(subject):
            problems[f"{where}.personal.{name}"] = [f"a data subject looks like 'kind:id' ({SUBJECT.pattern})"]
        else:
            personal[name] = subject
    erased: dict[str, Any] = {}
    for name, stand_in in event.erased.items():
        if name not in personal:
            problems[f"{where}.erased.{name}"] = ["is not a personal field of the event"]
            continue
        try:
            erased[name] = normalise(stand_in, f"{where}.erased.{name}")
        except NotCanonical as exc:
            problems[exc.path] = [exc.problem]
    return personal, erased


#: ``seal(event_id, data, personal, erased) -> data`` with each personal field sealed.
Seal = Callable[[str, Mapping[str, Any], Mapping[str, str], Mapping[str, Any]], dict[str, Any]]


def subjects_of(prepared: Iterable[PreparedEvent]) -> set[str]:
    """The data subjects whose keys sealing these events needs.

    A personal field that is None, or already its erased stand-in (an erased
    value that came from another service), keeps nothing: it needs no key, and
    none is made again for a subject that was erased.
    """
    return {
        subject
        for p in prepared
        for name, subject in p.personal.items()
        if p.data.get(name) is not None and p.data.get(name) != p.erased.get(name, ERASED)
    }


def seal_prepared(prepared: Sequence[PreparedEvent], seal: Seal) -> list[PreparedEvent]:
    """The events with their personal fields sealed in the text that is stored and hashed.

    ``data`` stays the plaintext. The sealed text is checked against the size
    limit again: sealing makes a value about a third larger.
    """
    result = []
    for i, p in enumerate(prepared):
        if not p.personal:
            result.append(p)
            continue
        data_json = canonical_text(seal(p.event_id, p.data, p.personal, p.erased))
        if len(data_json.encode("utf-8")) > MAX_EVENT_DATA_BYTES:
            raise ValidationFailed(
                {f"events[{i}].data": [f"sealed, the payload is over {MAX_EVENT_DATA_BYTES} bytes of JSON"]},
                "invalid events; nothing was stored",
            )
        result.append(replace(p, data_json=data_json))
    return result


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
