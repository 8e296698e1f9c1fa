"""The calendar a service counts on: loaded by operators, kept in its store, cached between commands.

Every service keeps the calendar years it counts on in its own store, as
``CalendarYearLoaded`` events of one ``CalendarRecord`` (stream
``calendar-organisation``): an auditor replaying a deadline reads there which
calendar it was counted on (``orgctl audit as-of calendar-organisation --at``).
A year loaded replaces the shipped one for that year; with none loaded a
service counts on the shipped years (``shared/domain/calendars/*.toml``).

Use cases read ``uow.calendar``. Each unit of work takes it from the
service's ``CalendarBook``, one per service container, which builds it from
the store once and then keeps it: it asks the store again only when it was
told a year was loaded (the load command tells the book of the container
that ran it), and otherwise at most once every ``RECHECK_SECONDS``, with one
indexed look-up of the record's version (so that the other processes of the
same service see a load too). A command never pays a round trip for it
otherwise.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from shared.domain import Aggregate
from shared.domain.calendar import CALENDAR_ID, CalendarRecord, OrganisationCalendar

A = TypeVar("A", bound=Aggregate)

#: The longest a process counts on a calendar after another process of its service loaded a year.
RECHECK_SECONDS = 30.0
#: The stream every service keeps its calendar years in.
CALENDAR_STREAM = f"{CalendarRecord.category}-{CALENDAR_ID}"


@functools.cache
def shipped_calendar() -> OrganisationCalendar:
    """The calendar years that come with the platform, read once per process."""
    return OrganisationCalendar.shipped()


class CalendarSource(Protocol):
    """What the book reads the calendar record through (a unit of work)."""

    store: Any

    def transaction(self) -> AbstractContextManager[Any]: ...

    def load_or_new(self, aggregate: type[A], aggregate_id: str) -> A: ...


class CalendarBook:
    """The calendar one service counts on, built from its store over the shipped years, kept between commands.

    One per service container (``shared.runtime.storage``); an in-memory unit
    of work makes its own. ``loaded_years`` says, without asking the store,
    which years the service last found loaded (its status shows it).
    """

    def __init__(
        self,
        shipped: OrganisationCalendar | None = None,
        recheck_seconds: float = RECHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shipped = shipped if shipped is not None else shipped_calendar()
        self.recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._calendar: OrganisationCalendar | None = None
        self._version = -1
        self._next_check = 0.0
        self.loaded_years: tuple[int, ...] = ()
        self.reads = 0  # how many times the record was read (tests count them)

    def current(self, uow: CalendarSource) -> OrganisationCalendar:
        """The calendar, from the store when it may have changed, else as kept."""
        now = self._monotonic()
        if self._calendar is not None and now < self._next_check:
            return self._calendar
        with uow.transaction() as conn:
            version = uow.store.stream_version(CALENDAR_STREAM, conn=conn)
            if self._calendar is None or version != self._version:
                record = uow.load_or_new(CalendarRecord, CALENDAR_ID)
                self.reads += 1
                self._calendar = record.calendar(self.shipped)
                self._version = record.version
                self.loaded_years = tuple(y.year for y in record.state.years)
        self._next_check = now + self.recheck_seconds
        return self._calendar

    def invalidate(self) -> None:
        """A year was loaded: look at the store again before the next calendar is given."""
        self._next_check = 0.0
