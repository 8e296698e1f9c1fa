"""as-of: what an aggregate's state was at a moment, from its events alone."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.audit.history import as_of, find_stream, history_rows
from shared.db.database import Database
from shared.domain import Repository
from shared.domain.calendar import ManualClock
from shared.eventstore.records import Metadata
from shared.eventstore.store import EventStore
from tests.support.tickets import Ticket, registry

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Tickets:
    """Stands in for a service class: its aggregates and its events."""

    name = "tickets"
    aggregates = (Ticket,)
    events = registry


def test_as_of_several_moments_returns_what_the_state_was_then(database: Database, schema: str) -> None:
    clock = ManualClock(START)
    repository = Repository(Ticket, EventStore(database, schema, clock=clock.now), registry)
    ticket = Ticket("t1")
    ticket.open("Broken lamp", priority=2)
    repository.save(ticket, Metadata(actor="clerk", reason="reported"))
    clock.advance(dt.timedelta(hours=1))
    ticket.note("electrician called")
    repository.save(ticket, Metadata(actor="clerk"))
    clock.advance(dt.timedelta(hours=1))
    ticket.close("fixed")
    repository.save(ticket, Metadata(actor="electrician"))

    service, events = find_stream(database, [schema], "ticket-t1")
    assert service == schema
    moments = {
        START - dt.timedelta(minutes=1): (0, "new", []),
        START + dt.timedelta(minutes=30): (1, "open", []),
        START + dt.timedelta(hours=1, minutes=30): (2, "open", ["electrician called"]),
        START + dt.timedelta(hours=3): (3, "closed", ["electrician called"]),
    }
    for moment, (version, phase, notes) in moments.items():
        state = as_of(Tickets, "ticket-t1", events, at=moment)
        assert (state["version"], state["state"]["phase"].lower(), state["state"]["notes"]) == (
            version,
            phase,
            notes,
        ), moment
    by_position = as_of(Tickets, "ticket-t1", events, position=events[1].position)
    assert by_position["version"] == 2

    rows = history_rows(events)
    assert [(r["type"], r["actor"]) for r in rows] == [
        ("TicketOpened", "clerk"),
        ("TicketNoted", "clerk"),
        ("TicketClosed", "electrician"),
    ]
    assert rows[0]["reason"] == "reported" and rows[0]["recorded_at"] == START.isoformat()


def test_as_of_needs_a_timezone(database: Database, schema: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        as_of(Tickets, "ticket-t1", [], at=dt.datetime(2026, 3, 2, 9, 0))
