"""Aggregates, event schemas and upcasting: pure Python, no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.domain import DomainEvent, EventRegistry
from shared.errors import RuleViolation, ValidationFailed
from tests.support.tickets import Phase, Ticket, TicketNoted, TicketOpened, registry


def test_commands_record_events_and_state_changes_only_by_applying_them() -> None:
    ticket = Ticket("1")
    ticket.open("Broken lamp", priority=2)
    ticket.note("seen", "fixed")
    assert [type(e).__name__ for e in ticket.pending_events] == ["TicketOpened", "TicketNoted", "TicketNoted"]
    assert ticket.version == 3
    replayed = Ticket("1")
    for event in ticket.pending_events:
        replayed.apply(event)
    assert replayed == ticket


def test_a_broken_rule_names_the_rule_and_the_state() -> None:
    ticket = Ticket("1")
    with pytest.raises(RuleViolation) as caught:
        ticket.close("done")
    assert caught.value.rule == "ticket.close_when_open"
    assert caught.value.state["phase"] == "new"
    assert "only an open ticket can close" in str(caught.value)


def test_a_failed_command_leaves_the_aggregate_untouched() -> None:
    ticket = Ticket("1")
    ticket.open("Lamp")
    before = (ticket.version, list(ticket.state.notes), len(ticket.pending_events))
    with pytest.raises(RuleViolation):
        ticket.note("first", "", "third")  # the second note breaks a rule half-way
    assert (ticket.version, ticket.state.notes, len(ticket.pending_events)) == before


def test_an_event_that_does_not_validate_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        registry.to_new_event(TicketOpened("", priority=9))
    assert set(caught.value.errors) == {"TicketOpened.title", "TicketOpened.priority"}


def test_an_unregistered_event_is_refused() -> None:
    @dataclass(frozen=True)
    class Stray(DomainEvent):
        x: int

    with pytest.raises(ValidationFailed):
        registry.to_new_event(Stray(1))


def test_events_round_trip_through_their_schema() -> None:
    new = registry.to_new_event(TicketOpened("Lamp", 4))
    assert (new.type, new.schema_version, new.data) == ("TicketOpened", 1, {"title": "Lamp", "priority": 4})
    assert registry.decode(new.type, new.schema_version, dict(new.data)) == TicketOpened("Lamp", 4)


def test_upcasters_bring_old_payloads_to_the_current_version() -> None:
    @dataclass(frozen=True)
    class Renamed(DomainEvent):
        schema_version = 3
        full_name: str
        source: str

    upgraded = EventRegistry([Renamed])

    @upgraded.upcaster("Renamed", from_version=1)
    def v1_to_v2(data: dict) -> dict:
        return {"full_name": f"{data.pop('first')} {data.pop('last')}"}

    @upgraded.upcaster("Renamed", from_version=2)
    def v2_to_v3(data: dict) -> dict:
        return {**data, "source": "unknown"}

    assert upgraded.decode("Renamed", 1, {"first": "Li", "last": "Ming"}) == Renamed("Li Ming", "unknown")
    assert upgraded.decode("Renamed", 3, {"full_name": "Wang Fang", "source": "hr"}) == Renamed("Wang Fang", "hr")


def test_a_stored_payload_that_no_longer_validates_is_reported() -> None:
    with pytest.raises(ValidationFailed) as caught:
        registry.decode("TicketNoted", 1, {"note": "x", "extra": True})
    assert "TicketNoted.extra" in caught.value.errors


def test_snapshot_state_round_trips() -> None:
    ticket = Ticket("9")
    ticket.open("Lamp")
    ticket.note("a", "b")
    copy = Ticket.from_snapshot("9", ticket.version, ticket.snapshot_state())
    assert copy == ticket
    assert copy.state.phase is Phase.OPEN
    assert isinstance(TicketNoted("x"), DomainEvent)
    assert isinstance(TicketOpened("t"), DomainEvent)
