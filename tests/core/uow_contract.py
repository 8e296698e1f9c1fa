"""The unit of work's contract: one suite, run unchanged against both implementations.

``UnitOfWorkContract`` holds the tests; ``TestPostgresUnitOfWork`` and
``TestInMemoryUnitOfWork`` subclass it and give a ``units`` fixture: a
function making a fresh unit of work on one shared store (two of them are two
workers of one service). The service layers' unit tests run on the in-memory
one, so it must behave as the one in production does: what a use case
changes commits together or not at all, a concurrent change is retried with
the rules checked again, and every event says who, why and in which story.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.application import Author
from shared.application.unit_of_work import UnitOfWorkBase
from shared.errors import ConcurrencyConflict, NotFound, RuleViolation
from shared.eventstore.records import record_from_envelope
from tests.support import foreign
from tests.support.tickets import Ticket

MakeUnit = Callable[[], UnitOfWorkBase]
CLERK = Author("clerk Li", "a lamp is broken")


def stored(unit: UnitOfWorkBase, ticket_id: str) -> list[Any]:
    with unit.transaction() as conn:
        return list(unit.repository(Ticket).log.read_stream(f"ticket-{ticket_id}", conn=conn))


class UnitOfWorkContract:
    """Subclass once per implementation, with a ``units`` fixture (see the module's docstring)."""

    def test_a_created_aggregate_loads_back_with_who_and_why_on_its_events(self, units: MakeUnit) -> None:
        unit = units()
        ticket, recorded = unit.create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
        assert [r.type for r in recorded] == ["TicketOpened"] and ticket.pending_events == []
        assert units().load(Ticket, "1") == ticket
        assert (recorded[0].metadata["actor"], recorded[0].metadata["reason"]) == ("clerk Li", "a lamp is broken")
        assert recorded[0].metadata["service"] == unit.service

    def test_a_missing_aggregate_is_not_found_or_new(self, units: MakeUnit) -> None:
        with pytest.raises(NotFound):
            units().load(Ticket, "nope")
        assert units().load_or_new(Ticket, "nope").version == 0

    def test_later_commands_continue_the_story_the_aggregate_began(self, units: MakeUnit) -> None:
        _, opened = units().create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
        _, noted = units().update(Ticket, "1", lambda t: t.note("bulb ordered"), Author("clerk Wang"))
        assert noted[0].metadata["correlation_id"] == opened[0].metadata["correlation_id"]
        assert noted[0].metadata["actor"] == "clerk Wang" and noted[0].metadata["reason"] is None

    def test_a_concurrent_change_is_retried_with_the_rules_checked_again(self, units: MakeUnit) -> None:
        units().create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
        calls = []

        def note_unless_closed(ticket: Ticket) -> None:
            calls.append(ticket.version)
            if len(calls) == 1:  # meanwhile another worker closes the ticket
                units().update(Ticket, "1", lambda t: t.close("fixed"), CLERK)
            ticket.note("bulb ordered")

        with pytest.raises(RuleViolation, match=r"ticket\.note_when_open"):
            units().update(Ticket, "1", note_unless_closed, CLERK)
        assert calls == [1, 2], "run again on the fresh state, where the rule now refuses it"
        assert [r.type for r in stored(units(), "1")] == ["TicketOpened", "TicketClosed"]

    def test_inside_an_outer_transaction_a_conflict_is_raised_not_retried(self, units: MakeUnit) -> None:
        units().create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
        unit = units()
        with pytest.raises(ConcurrencyConflict), unit.transaction():
            ticket = unit.load(Ticket, "1")
            units().update(Ticket, "1", lambda t: t.note("first"), CLERK)
            ticket.note("second")
            unit.save(ticket, CLERK)
        assert [r.data.get("note") for r in stored(units(), "1")] == [None, "first"]

    def test_what_one_transaction_changes_commits_together_or_not_at_all(self, units: MakeUnit) -> None:
        unit = units()
        with pytest.raises(RuntimeError), unit.transaction():
            unit.create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
            unit.create(Ticket, "2", lambda t: t.open("Desk"), CLERK)
            raise RuntimeError("the second half failed")
        assert stored(units(), "1") == [] and stored(units(), "2") == []

        with unit.transaction():
            _, first = unit.create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
            _, second = unit.create(Ticket, "2", lambda t: t.open("Desk"), CLERK)
        assert first[0].tx_id == second[0].tx_id
        assert len(stored(units(), "1")) == 1 and len(stored(units(), "2")) == 1

    def test_a_failed_command_stores_nothing(self, units: MakeUnit) -> None:
        units().create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
        with pytest.raises(RuleViolation):
            units().update(Ticket, "1", lambda t: t.note("ok", ""), CLERK)
        assert len(stored(units(), "1")) == 1
        ticket = units().load(Ticket, "1")
        assert units().save(ticket, CLERK) == [], "nothing new, nothing stored"

    def test_what_a_handled_event_causes_carries_its_story_and_the_service_as_actor(self, units: MakeUnit) -> None:
        record = record_from_envelope(foreign.envelope("desk", "LampReported", "report-1", {"title": "Lamp"}))
        unit = units()
        unit.handle_event(record)
        _, recorded = unit.create(Ticket, "1", lambda t: t.open("Lamp"), unit.system("a lamp was reported"))
        metadata = recorded[0].metadata
        assert metadata["correlation_id"] == record.correlation_id
        assert metadata["causation_id"] == record.event_id
        assert (metadata["actor"], metadata["reason"]) == (f"service:{unit.service}", "a lamp was reported")

    def test_snapshots_are_taken_and_used_without_changing_what_loads(self, units: MakeUnit) -> None:
        units().create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
        for n in range(7):
            units().update(Ticket, "1", lambda t, n=n: t.note(f"note {n}"), CLERK)  # type: ignore[misc]
        unit = units()
        with unit.transaction() as conn:
            snapshot = unit.repository(Ticket).snapshots.latest(  # type: ignore[union-attr]
                "ticket-1", Ticket.state_version, Ticket.state_fingerprint(), conn=conn
            )
        assert snapshot is not None and snapshot[0] == 5
        loaded = units().load(Ticket, "1")
        assert loaded.version == 8 and loaded.state.notes == [f"note {n}" for n in range(7)]
        with unit.transaction() as conn:
            replayed = unit.repository(Ticket).load("1", conn=conn, use_snapshot=False)
        assert replayed == loaded

    def test_what_waits_for_the_commit_runs_after_it_and_never_after_a_rollback(self, units: MakeUnit) -> None:
        unit, ran = units(), []
        with pytest.raises(RuleViolation), unit.transaction():
            unit.after_commit(lambda: ran.append("rolled back"))
            unit.create(Ticket, "1", lambda t: t.open("Lamp"), CLERK)
            unit.update(Ticket, "1", lambda t: t.close("fixed"), CLERK)
            unit.update(Ticket, "1", lambda t: t.close("fixed"), CLERK)  # closed already: the block rolls back
        with unit.transaction():
            unit.after_commit(lambda: ran.append("committed"))
            with unit.transaction():
                unit.create(Ticket, "2", lambda t: t.open("Lamp"), CLERK)
            assert ran == [], "an inner block does not commit"
        assert ran == ["committed"]
        unit.after_commit(lambda: ran.append("at once"))
        assert ran == ["committed", "at once"]

    def test_the_calendar_counts_on_the_years_the_store_holds(self, units: MakeUnit) -> None:
        import datetime as dt

        from shared.application.calendar_years import LoadCalendarYear, load_calendar_year
        from shared.domain.calendar import OrganisationCalendar

        assert units().calendar.years == OrganisationCalendar.shipped().years, "none loaded: the shipped years"
        request = LoadCalendarYear(
            actor="operator:ops-1",
            year=2027,
            source="the 2027 notice",
            holidays=[dt.date(2027, 10, d) for d in range(1, 8)],
            make_up_working_days=[dt.date(2027, 10, 9)],
        )
        load_calendar_year(request, units())
        calendar = units().calendar
        assert not calendar.years[2027].provisional and not calendar.is_working_day(dt.date(2027, 10, 7))
        assert calendar.years[2026] == OrganisationCalendar.shipped().years[2026]
