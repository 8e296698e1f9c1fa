"""One moment across every store: ``orgctl audit as-of --all --at TIME`` and the cut it takes.

On a store of its own (tickets), the cut's rules: the cursor is the last event
recorded at or before the moment in commit-safe order; an event before it but
recorded after the moment (a writer's clock out of step) is held back, and
its stream stops there; each stream's state is what ``as_of`` gives. Then
the command over every service's store, with the history the fixtures write.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from shared.application.memory import DEFAULT_START
from shared.audit.cut import take_cut
from shared.audit.history import as_of
from shared.cli.orgctl import app
from shared.db.database import Database
from shared.domain import Repository
from shared.domain.calendar import ManualClock
from shared.eventstore.records import Cursor, Metadata, NewEvent
from shared.eventstore.store import EventStore
from tests.audit.services_history import SERVICES, Platform, platform, write_history
from tests.support.environment import RunEnvironment
from tests.support.tickets import Ticket, registry

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
META = Metadata(actor="clerk")


class Tickets:
    """Stands in for a service class: its name, aggregates and events."""

    name = "tickets"
    aggregates = (Ticket,)
    events = registry


class Desk:
    """Tickets, each command at a time of its own (a writer's clock), each in a transaction of its own."""

    def __init__(self, database: Database, schema: str) -> None:
        self.clock = ManualClock(T0)
        self.store = EventStore(database, schema, clock=self.clock.now)
        self.repository = Repository(Ticket, self.store, registry)

    def at(self, minutes: int, ticket_id: str, change: Any) -> None:
        self.clock.set(T0 + dt.timedelta(minutes=minutes))
        ticket = self.repository.load_or_new(ticket_id)
        change(ticket)
        self.repository.save(ticket, META)


def moment(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def desk(database: Database, schema: str) -> Desk:
    """ticket-a opened at +60, ticket-b opened at +30 by a writer whose clock is behind (committed after a),
    ticket-a noted at +120, ticket-c opened at +180."""
    made = Desk(database, schema)
    made.at(60, "a", lambda t: t.open("Lamp"))
    made.at(30, "b", lambda t: t.open("Desk"))
    made.at(120, "a", lambda t: t.note("electrician called"))
    made.at(180, "c", lambda t: t.open("Chair"))
    return made


def states(cut: Any) -> dict[str, tuple[int, str]]:
    return {s.stream_id: (s.state["version"], s.state["state"]["phase"].lower()) for s in cut.streams if s.state}


def test_the_cursor_is_the_last_event_at_or_before_the_moment_in_commit_order(
    database: Database, schema: str, desk: Desk
) -> None:
    events = desk.store.read_by_position()
    _, b1, a2, c1 = events
    cut = take_cut(database, schema, Tickets, moment(90))
    assert cut.cursor == b1.cursor and cut.recorded_at == moment(30).isoformat()
    assert (cut.events, cut.held_back, states(cut)) == (2, 0, {"ticket-a": (1, "open"), "ticket-b": (1, "open")})
    later = take_cut(database, schema, Tickets, moment(150))
    assert later.cursor == a2.cursor and later.events == 3
    assert states(later) == {"ticket-a": (2, "open"), "ticket-b": (1, "open")}
    everything = take_cut(database, schema, Tickets, moment(600))
    assert everything.cursor == c1.cursor and everything.events == 4 and len(everything.streams) == 3
    before = take_cut(database, schema, Tickets, moment(0))
    assert (before.cursor, before.events, before.streams) == (None, 0, [])


def test_an_event_recorded_after_the_moment_but_committed_before_the_cursor_is_held_back(
    database: Database, schema: str, desk: Desk
) -> None:
    _, b1, *_ = desk.store.read_by_position()
    cut = take_cut(database, schema, Tickets, moment(45))
    assert cut.cursor == b1.cursor, "b, written at +30, committed after a (written at +60)"
    assert (cut.events, cut.held_back) == (1, 1)
    assert states(cut) == {"ticket-b": (1, "open")}, "ticket-a is not in the cut: its first event is after"
    assert cut.summary()["held_back"] == 1 and cut.summary()["cursor"] == str(b1.cursor)


def test_a_stream_stops_at_its_first_event_past_the_moment(database: Database, schema: str, desk: Desk) -> None:
    desk.at(300, "d", lambda t: t.open("Window"))
    desk.at(200, "d", lambda t: t.note("measured"))  # recorded earlier than the event before it
    cut = take_cut(database, schema, Tickets, moment(250))
    assert "ticket-d" not in states(cut), "v2 is before the moment, but v1 is not: nothing of d is in the cut"
    assert cut.held_back == 2


def test_each_streams_state_is_what_as_of_gives(database: Database, schema: str, desk: Desk) -> None:
    at = moment(150)
    cut = take_cut(database, schema, Tickets, at)
    for stream in cut.streams:
        alone = as_of(Tickets, stream.stream_id, desk.store.read_stream(stream.stream_id), at=at)
        assert stream.state == alone


def test_a_stream_that_cannot_be_rebuilt_is_named_and_the_others_are_rebuilt(
    database: Database, schema: str, desk: Desk
) -> None:
    desk.store.append("widget-1", [NewEvent("WidgetMade", {})], 0, META)
    [broken] = desk.store.append("ticket-c", [NewEvent("TicketNoted", {"nothing": "like a note"})], 1, META)
    cut = take_cut(database, schema, Tickets, moment(24 * 60 * 365))
    problems = {s.stream_id: s.problem for s in cut.problems}
    assert "no aggregate for 'widget'" in str(problems["widget-1"])
    assert f"position {broken.position} (TicketNoted v1) does not load" in str(problems["ticket-c"])
    assert states(cut)["ticket-a"] == (2, "open") and cut.events == 6


def test_a_moment_needs_a_timezone(database: Database, schema: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        take_cut(database, schema, Tickets, dt.datetime(2026, 3, 2, 9, 0))


# -- the command, over every service's store -----------------------------------------------------


@pytest.fixture(scope="module")
def history(test_env: RunEnvironment) -> Iterator[Platform]:
    with platform() as made:
        write_history(made)
        yield made


def orgctl(*args: str) -> Any:
    return CliRunner().invoke(app, ["audit", "as-of", *args], env={"COLUMNS": "120"})


def cursor_at(made: Platform, service: str, at: dt.datetime) -> tuple[Cursor | None, int]:
    """Computed apart from the command: the last event at or before ``at`` in commit order, and how many there are."""
    events = EventStore(made[service].database, service).read_by_position(0, 100_000)
    before = [e for e in events if dt.datetime.fromisoformat(e.metadata["recorded_at"]) <= at]
    return (max(e.cursor for e in before) if before else None), len(before)


def test_every_store_at_one_moment_with_the_cut_it_used(history: Platform) -> None:
    at = DEFAULT_START + dt.timedelta(days=2)  # the selection's assessment preview still open
    result = orgctl("--all", "--at", at.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["at"] == at.isoformat()
    by_service = {s["service"]: s for s in document["services"]}
    assert set(by_service) == {cls.name for cls in SERVICES}
    for name, found in by_service.items():
        cursor, count = cursor_at(history, name, at)
        assert found["cursor"] == (str(cursor) if cursor else None), name
        assert (found["events"], found["held_back"]) == (count, 0), name
        assert found["streams"] == len(found["states"]) and sum(s["events"] for s in found["states"]) == count
    cadre = {s["stream_id"]: s for s in by_service["cadre"]["states"]}
    selection = cadre["selection-h-selection"]
    assert selection["state"]["phase"].lower() == "preview"
    alone = json.loads(orgctl("selection-h-selection", "--at", at.isoformat(), "--json").output)
    assert {k: selection[k] for k in ("version", "as_of_position", "as_of_time", "state")} == {
        k: alone[k] for k in ("version", "as_of_position", "as_of_time", "state")
    }
    later = DEFAULT_START + dt.timedelta(days=30)
    closed = json.loads(orgctl("--all", "--at", later.isoformat(), "--service", "cadre", "--json").output)
    [only] = closed["services"]
    assert only["service"] == "cadre" and only["events"] > by_service["cadre"]["events"]
    assert {s["stream_id"]: s for s in only["states"]}["selection-h-selection"]["state"]["phase"].lower() == "closed"


def test_the_cut_is_printed_first_then_the_states(history: Platform) -> None:
    at = (DEFAULT_START + dt.timedelta(days=30)).isoformat()
    result = orgctl("--all", "--at", at, "--service", "supervision")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "the cut at" in lines[0]
    assert any(line.startswith("│ supervision") for line in lines[:8])
    assert any("case-h-case" in line for line in lines), "then each stream's state"


@pytest.mark.parametrize(
    "args",
    [
        ["--all"],  # no moment
        ["--all", "--position", "3"],
        ["--all", "--at", "2026-03-02T09:00:00+00:00", "selection-h-selection"],
        ["--all", "--at", "2026-03-02T09:00:00"],  # no timezone
        ["--at", "2026-03-02T09:00:00+00:00"],  # no stream, no --all
        ["selection-h-selection"],  # neither --at nor --position
        ["--all", "--at", "2026-03-02T09:00:00+00:00", "--service", "nowhere"],
    ],
)
def test_wrong_usage_exits_2(history: Platform, args: list[str]) -> None:
    assert orgctl(*args).exit_code == 2
