"""A small aggregate used to test the domain building blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from marshmallow import validate

from shared.domain import Aggregate, DomainEvent, EventRegistry, applies, command


class Phase(StrEnum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class TicketOpened(DomainEvent):
    title: str = field(metadata={"validate": validate.Length(min=1, max=80)})
    priority: int = field(default=3, metadata={"validate": validate.Range(min=1, max=5)})


@dataclass(frozen=True)
class TicketNoted(DomainEvent):
    note: str


@dataclass(frozen=True)
class TicketClosed(DomainEvent):
    resolution: str


@dataclass
class TicketState:
    phase: Phase = Phase.NEW
    title: str = ""
    priority: int = 0
    notes: list[str] = field(default_factory=list)
    resolution: str | None = None


class Ticket(Aggregate):
    category = "ticket"
    State = TicketState
    snapshot_every = 5

    @command
    def open(self, title: str, priority: int = 3) -> None:
        self.require(self.state.phase is Phase.NEW, "ticket.open_once", "a ticket is opened once")
        self.record(TicketOpened(title, priority))

    @command
    def note(self, *notes: str) -> None:
        self.require(self.state.phase is Phase.OPEN, "ticket.note_when_open", "notes go on open tickets")
        for note in notes:
            self.require(note != "", "ticket.note_not_empty", "a note says something")
            self.record(TicketNoted(note))

    @command
    def close(self, resolution: str) -> None:
        self.require(self.state.phase is Phase.OPEN, "ticket.close_when_open", "only an open ticket can close")
        self.record(TicketClosed(resolution))

    @applies(TicketOpened)
    def _opened(self, event: TicketOpened) -> None:
        self.state.phase = Phase.OPEN
        self.state.title = event.title
        self.state.priority = event.priority

    @applies(TicketNoted)
    def _noted(self, event: TicketNoted) -> None:
        self.state.notes.append(event.note)

    @applies(TicketClosed)
    def _closed(self, event: TicketClosed) -> None:
        self.state.phase = Phase.CLOSED
        self.state.resolution = event.resolution


registry = EventRegistry([TicketOpened, TicketNoted, TicketClosed])
