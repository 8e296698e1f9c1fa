"""Upcasters checked against stored history (``shared.audit.upcast_check``), on a store of its own.

A real historic fixture: ``PermitGranted`` was stored at version 1 with
``name`` and ``urgent``; today it is version 2 with ``holder`` and
``priority``, and an upcaster takes the old payload up. Each way it can go
wrong is named with its position: a broken upcaster, a missing one, a payload
today's schema refuses, a type nobody knows any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from marshmallow import validate

from shared.audit.upcast_check import check, check_store, failures, load_error
from shared.db.database import Database
from shared.domain import DomainEvent, EventRegistry
from shared.eventstore.records import Metadata, NewEvent, RecordedEvent
from shared.eventstore.store import EventStore

META = Metadata(actor="clerk")


@dataclass(frozen=True)
class PermitGranted(DomainEvent):
    schema_version: ClassVar[int] = 2

    holder: str = field(metadata={"validate": validate.Length(min=1, max=80)})
    priority: int = field(metadata={"validate": validate.Range(min=1, max=5)})


@dataclass(frozen=True)
class PermitRevoked(DomainEvent):
    reason: str


def registry(upcaster: Any = None) -> EventRegistry:
    """Today's events; ``upcaster`` from version 1 of ``PermitGranted`` (the right one by default, None for none)."""
    events = EventRegistry([PermitGranted, PermitRevoked])

    def right(data: dict[str, Any]) -> dict[str, Any]:
        return {"holder": data["name"], "priority": 1 if data["urgent"] else 3}

    chosen = right if upcaster is None else upcaster
    if chosen is not False:
        events.upcaster("PermitGranted", from_version=1)(chosen)
    return events


def history(database: Database, schema: str) -> dict[str, RecordedEvent]:
    """Two permits granted long ago (version 1), one granted today, one revoked."""
    store = EventStore(database, schema)
    old = store.append("permit-a", [NewEvent("PermitGranted", {"name": "Li", "urgent": True}, 1)], 0, META)
    store.append("permit-b", [NewEvent("PermitGranted", {"name": "Wang", "urgent": False}, 1)], 0, META)
    new = store.append("permit-c", [NewEvent("PermitGranted", {"holder": "Zhao", "priority": 2}, 2)], 0, META)
    revoked = store.append("permit-a", [NewEvent("PermitRevoked", {"reason": "moved away"})], 1, META)
    return {"old": old[0], "new": new[0], "revoked": revoked[0]}


def test_a_version_1_event_loads_through_its_upcaster(database: Database, schema: str) -> None:
    stored = history(database, schema)
    assert load_error(registry(), stored["old"]) is None
    report = check_store(database, schema, registry())
    assert report.ok and report.events == 4
    assert {(p.type, p.schema_version, p.events) for p in report.pairs} == {
        ("PermitGranted", 1, 2),
        ("PermitGranted", 2, 1),
        ("PermitRevoked", 1, 1),
    }


def test_a_broken_upcaster_is_named_with_every_event_it_fails_on(database: Database, schema: str) -> None:
    stored = history(database, schema)

    def forgets_priority(data: dict[str, Any]) -> dict[str, Any]:
        return {"holder": data["name"]}

    report = check_store(database, schema, registry(forgets_priority))
    assert not report.ok
    assert [(f.type, f.schema_version) for f in report.failures] == [("PermitGranted", 1)] * 2
    first = report.failures[0]
    assert (first.service, first.position, first.event_id, first.stream_id) == (
        schema,
        stored["old"].position,
        stored["old"].event_id,
        "permit-a",
    )
    assert "priority" in first.error and first.error.startswith("ValidationFailed")
    [pair] = [p for p in report.pairs if (p.type, p.schema_version) == ("PermitGranted", 1)]
    assert (pair.failed, pair.events) == (2, 2)


def test_an_upcaster_that_raises_is_a_finding_not_a_crash(database: Database, schema: str) -> None:
    history(database, schema)

    def reads_a_field_that_was_never_there(data: dict[str, Any]) -> dict[str, Any]:
        return {"holder": data["holder_name"], "priority": 1}

    report = check_store(database, schema, registry(reads_a_field_that_was_never_there))
    assert [f.error for f in report.failures] == ["KeyError: 'holder_name'"] * 2


def test_a_missing_upcaster_and_an_unknown_type_are_named(database: Database, schema: str) -> None:
    history(database, schema)
    [forgotten] = EventStore(database, schema).append("permit-d", [NewEvent("PermitSuspended", {})], 0, META)
    report = check_store(database, schema, registry(False))
    errors = {(f.type, f.schema_version): f.error for f in report.failures}
    assert errors[("PermitGranted", 1)] == "UnknownEvent: no upcaster for PermitGranted from version 1 to 2"
    assert errors[("PermitSuspended", 1)] == "UnknownEvent: unknown event type 'PermitSuspended'"
    assert [f.position for f in report.failures if f.type == "PermitSuspended"] == [forgotten.position]


def test_a_payload_todays_schema_refuses_is_named_with_its_position(database: Database, schema: str) -> None:
    history(database, schema)
    [bad] = EventStore(database, schema).append(
        "permit-e", [NewEvent("PermitGranted", {"holder": "", "priority": 9}, 2)], 0, META
    )
    [failure] = failures([check_store(database, schema, registry())])
    assert (failure.position, failure.event_id, failure.type, failure.schema_version) == (
        bad.position,
        bad.event_id,
        "PermitGranted",
        2,
    )
    assert "holder" in failure.error and "priority" in failure.error


def test_the_quick_pass_decodes_one_event_of_each_pair(database: Database, schema: str) -> None:
    history(database, schema)
    report = check_store(database, schema, registry(), every_event=False)
    assert report.ok and report.events == 3, "one of each (type, version), not all four events"


def test_a_store_not_in_the_database_is_marked_absent(database: Database, schema: str) -> None:
    history(database, schema)
    reports = check(database, {schema: registry(), "t_nowhere": registry()})
    assert [(r.service, r.present, r.ok) for r in reports] == [(schema, True, True), ("t_nowhere", False, True)]
