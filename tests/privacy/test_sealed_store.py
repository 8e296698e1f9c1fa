"""Personal fields in the store: sealed at rest, opened on every read, erased by forgetting a key.

Run against both stores (PostgreSQL's and the in-memory one): the in-memory
store must give use-case tests what PostgreSQL's would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.db.database import Database
from shared.domain import DomainEvent, EventRegistry
from shared.domain.personal import Subject, personal
from shared.errors import ValidationFailed
from shared.eventstore.hashing import recompute_hash
from shared.eventstore.memory import InMemoryEventStore
from shared.eventstore.records import ERASED, Metadata, NewEvent, RecordedEvent, record_from_envelope
from shared.eventstore.store import EventStore
from shared.privacy.sealing import envelope_of
from tests.privacy.support import broken_links, keys_held, stored_rows

META = Metadata(actor="clerk-li")


@dataclass(frozen=True)
class PersonNoted(DomainEvent):
    person_id: str
    name: str = field(metadata=personal("person", of="person_id"))
    born: dt.date | None = field(default=None, metadata=personal("person", of="person_id", erased=None))
    unit: str = ""


@dataclass(frozen=True)
class NoteWritten(DomainEvent):
    """Personal of the aggregate's own subject, or of the cadre it names."""

    cadre_id: str | None
    text: str = field(metadata=personal("cadre", of="cadre_id", otherwise=Subject("person")))


REGISTRY = EventRegistry([PersonNoted, NoteWritten])


def noted(person_id: str, name: str, born: dt.date | None = dt.date(1990, 5, 4), unit: str = "Qingshan") -> NewEvent:
    return REGISTRY.to_new_event(PersonNoted(person_id, name, born, unit))


@dataclass
class Under:
    store: Any
    raw: Callable[[], dict[str, dict[str, Any]]]  # event id -> the data as stored
    keys: Callable[[str], int]  # how many keys of a subject the store holds
    transaction: Callable[[], Any]


@pytest.fixture(params=["postgres", "memory"])
def under(request: pytest.FixtureRequest) -> Iterator[Under]:
    if request.param == "memory":
        memory = InMemoryEventStore("people")
        yield Under(
            memory,
            lambda: {r.event_id: r.data for r in memory._committed},
            lambda subject: int(subject in memory.keys),
            memory.transaction,
        )
        return
    database: Database = request.getfixturevalue("database")
    schema: str = request.getfixturevalue("schema")
    yield Under(
        EventStore(database, schema),
        lambda: {event_id: json.loads(row[6]) for event_id, row in stored_rows(database, schema).items()},
        lambda subject: keys_held(database, schema, subject),
        database.transaction,
    )


def test_the_registry_names_each_personal_field_and_its_subject() -> None:
    new = noted("p-7", "Wang Fang")
    assert new.personal == {"name": "person:p-7", "born": "person:p-7"} and new.erased == {"born": None}
    assert REGISTRY.to_new_event(PersonNoted("p-7", "Wang Fang")).personal == {"name": "person:p-7"}, "None: nothing"
    assert REGISTRY.to_new_event(NoteWritten("c-1", "x"), aggregate_id="n-1").personal == {"text": "cadre:c-1"}
    assert REGISTRY.to_new_event(NoteWritten(None, "x"), aggregate_id="p-9").personal == {"text": "person:p-9"}
    with pytest.raises(ValidationFailed, match="names no data subject"):
        REGISTRY.to_new_event(NoteWritten(None, "x"))  # neither a cadre nor the aggregate's id


def test_a_stand_in_the_field_refuses_is_refused_when_the_event_is_registered() -> None:
    @dataclass(frozen=True)
    class Born(DomainEvent):
        person_id: str
        born: dt.date = field(metadata=personal("person", of="person_id"))  # ERASED is no date

    with pytest.raises(ValueError, match="erased stand-in"):
        EventRegistry([Born])


def test_personal_fields_are_sealed_at_rest_and_opened_on_every_read(under: Under) -> None:
    store = under.store
    correlation = str(uuid.uuid4())
    meta = Metadata(actor="clerk-li", correlation_id=correlation)
    (appended,) = store.append("person-p-7", [noted("p-7", "Wang Fang")], 0, meta)
    assert appended.data["name"] == "Wang Fang", "the append answers what a read gives"

    at_rest = under.raw()[appended.event_id]
    assert "Wang Fang" not in json.dumps(at_rest, ensure_ascii=False) and "1990" not in json.dumps(at_rest)
    sealed = envelope_of(at_rest["name"])
    assert sealed is not None and sealed["subject"] == "person:p-7" and sealed["alg"] == "A256GCM"
    assert at_rest["unit"] == "Qingshan", "what is not personal stays in clear"
    assert under.keys("person:p-7") == 1

    expected = {"person_id": "p-7", "name": "Wang Fang", "born": "1990-05-04", "unit": "Qingshan"}
    reads: list[list[RecordedEvent]] = [
        store.read_stream("person-p-7"),
        store.read_all().events,
        store.read_by_position(0, 10),
        store.events_by_id([appended.event_id]),
        store.by_correlation(correlation),
    ]
    for read in reads:
        assert [r.data for r in read] == [expected]
        assert read[0].hash == appended.hash
    assert REGISTRY.from_record(store.read_stream("person-p-7")[0]) == PersonNoted(
        "p-7", "Wang Fang", dt.date(1990, 5, 4), "Qingshan"
    )


def test_the_chain_is_computed_over_the_sealed_text(database: Database, schema: str) -> None:
    store = EventStore(database, schema)
    store.append("person-p-7", [noted("p-7", "Wang Fang"), noted("p-7", "Wang Fang 2")], 0, META)
    store.append("person-p-8", [noted("p-8", "Li Lei")], 0, META)
    assert broken_links(database, schema) == []
    # the relay publishes what is stored: its hash is the hash of what travels
    for record in EventStore(database, schema, open_sealed=False).read_stream("person-p-7"):
        assert envelope_of(record.data["name"]) is not None
        travelled = record_from_envelope(json.loads(json.dumps(record.envelope())))
        assert recompute_hash(travelled) == travelled.hash
        (opened,) = store.open_records([travelled])  # a consumer opens it with this store's keys
        assert opened.data["name"] in ("Wang Fang", "Wang Fang 2")


def test_a_retried_append_is_recognised_though_sealing_is_randomised(under: Under) -> None:
    event = noted("p-7", "Wang Fang")
    first = under.store.append("person-p-7", [event], 0, META)
    again = under.store.append("person-p-7", [event], 0, META)  # a retry after a lost reply
    assert [r.event_id for r in again] == [r.event_id for r in first] and again[0].data["name"] == "Wang Fang"
    assert len(under.raw()) == 1


def test_erasing_a_subject_erases_its_fields_alone_and_changes_no_stored_row(under: Under) -> None:
    store = under.store
    store.append("person-p-7", [noted("p-7", "Wang Fang")], 0, META)
    store.append("person-p-8", [noted("p-8", "Li Lei")], 0, META)
    before = under.raw()

    assert store.forget_subject("person:p-7") is True
    assert store.forget_subject("person:p-7") is False, "nothing left to forget"

    assert under.raw() == before, "the log is untouched"
    assert under.keys("person:p-7") == 0 and under.keys("person:p-8") == 1
    (erased,) = store.read_stream("person-p-7")
    assert erased.data == {"person_id": "p-7", "name": ERASED, "born": None, "unit": "Qingshan"}
    assert REGISTRY.from_record(erased) == PersonNoted("p-7", ERASED, None, "Qingshan"), "an erased event still loads"
    (kept,) = store.read_stream("person-p-8")
    assert kept.data["name"] == "Li Lei", "another subject is untouched"
    assert [r.data["name"] for r in store.read_all().events] == [ERASED, "Li Lei"]


def test_an_erased_value_is_kept_as_it_is_and_makes_no_key_again(under: Under) -> None:
    """What arrives already erased (another service's erased event) keeps nothing personal: no key is made."""
    under.store.append("person-p-7", [noted("p-7", ERASED, None)], 0, META)
    assert under.keys("person:p-7") == 0
    assert under.store.read_stream("person-p-7")[0].data["name"] == ERASED


def test_data_sealed_after_an_erasure_is_new_and_readable(under: Under) -> None:
    store = under.store
    store.append("person-p-7", [noted("p-7", "Wang Fang")], 0, META)
    store.forget_subject("person:p-7")
    store.append("person-p-7", [noted("p-7", "Wang Fang, again")], 1, META)
    assert [r.data["name"] for r in store.read_stream("person-p-7")] == [ERASED, "Wang Fang, again"]


def test_a_key_is_made_in_the_appends_transaction(under: Under) -> None:
    with contextlib.suppress(RuntimeError), under.transaction() as tx:
        under.store.append("person-p-7", [noted("p-7", "Wang Fang")], 0, META, conn=tx)
        assert under.store.read_stream("person-p-7", conn=tx)[0].data["name"] == "Wang Fang"
        raise RuntimeError("rolled back")
    assert under.raw() == {}
    if isinstance(under.store, EventStore):
        assert under.keys("person:p-7") == 0, "the key went with the transaction"


def test_a_malformed_declaration_is_refused_before_anything_is_stored(under: Under) -> None:
    bad = NewEvent("PersonNoted", {"person_id": "p", "name": "x"}, personal={"name": "not a subject"})
    with pytest.raises(ValidationFailed, match="data subject"):
        under.store.append("person-p", [bad], 0, META)
    stray = NewEvent("PersonNoted", {"person_id": "p"}, personal={"name": "person:p"})
    with pytest.raises(ValidationFailed, match="names no field"):
        under.store.append("person-p", [stray], 0, META)
    assert under.raw() == {}
