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

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from marshmallow import validate

from shared.application.commands import Command
from shared.domain.calendar import (
    CALENDAR_ID,
    FIRST_YEAR,
    LAST_YEAR,
    CalendarRecord,
    CalendarYear,
    OrganisationCalendar,
)
from shared.errors import ConcurrencyConflict

if TYPE_CHECKING:
    from shared.application.unit_of_work import UnitOfWork, UnitOfWorkBase

#: The longest a process counts on a calendar after another process of its service loaded a year.
RECHECK_SECONDS = 30.0
#: The stream every service keeps its calendar years in.
CALENDAR_STREAM = f"{CalendarRecord.category}-{CALENDAR_ID}"

_DAYS = {"validate": validate.Length(max=366)}


@dataclass(frozen=True, kw_only=True)
class LoadCalendarYear(Command):
    """One year of the calendar, as its TOML file holds it (``CalendarYear.as_data``)."""

    year: int = field(metadata={"validate": validate.Range(min=FIRST_YEAR, max=LAST_YEAR)})
    source: str = field(metadata={"validate": validate.Length(min=1, max=500)})
    holidays: list[dt.date] = field(metadata=_DAYS)
    make_up_working_days: list[dt.date] = field(metadata=_DAYS)
    provisional: bool = False


@dataclass(frozen=True)
class CalendarYearView:
    """A year a service counts on, and where it comes from: ``loaded`` (its store) or ``shipped``."""

    year: int
    origin: str
    source: str
    provisional: bool
    holidays: list[dt.date]
    make_up_working_days: list[dt.date]
    loaded_at: dt.datetime | None = None
    changed: bool = False  # for a load: whether it changed what the service counts on


def view(
    year: CalendarYear, origin: str, loaded_at: dt.datetime | None = None, changed: bool = False
) -> CalendarYearView:
    return CalendarYearView(
        year.year,
        origin,
        year.source,
        year.provisional,
        sorted(year.holidays),
        sorted(year.make_up_working_days),
        loaded_at,
        changed,
    )


def load_calendar_year(request: LoadCalendarYear, uow: UnitOfWork) -> CalendarYearView:
    """Load a year into the service's store (checked first, every problem named); the service counts on it at once.

    Loading the year as it is loaded already changes nothing (no event).
    """
    year = CalendarYear.from_data(
        {
            "year": request.year,
            "source": request.source,
            "provisional": request.provisional,
            "holidays": list(request.holidays),
            "make_up_working_days": list(request.make_up_working_days),
        },
        origin=f"calendar year {request.year}",
    )
    now = uow.clock.now()
    for attempt in (1, 2, 3):
        try:
            with uow.transaction():
                record = uow.load_or_new(CalendarRecord, CALENDAR_ID)
                changed = record.load(year, now)
                uow.save(record, request)
            break
        except ConcurrencyConflict:
            if attempt == 3 or uow.in_transaction:
                raise
    # once it is committed (a command commits with its idempotency record), this process reads it again
    uow.after_commit(uow.calendars.invalidate)
    loaded = record.loaded(year.year)
    return view(year, "loaded", loaded.loaded_at if loaded else None, changed)


def calendar_years(uow: UnitOfWork) -> list[CalendarYearView]:
    """Every year the service counts on, loaded or shipped, as its store says now."""
    with uow.transaction():
        record = uow.load_or_new(CalendarRecord, CALENDAR_ID)
    shipped = uow.calendars.shipped
    rows = {y: view(year, "shipped") for y, year in shipped.years.items()}
    for loaded in record.state.years:
        year = record.calendar(OrganisationCalendar()).years[loaded.year]
        rows[loaded.year] = view(year, "loaded", loaded.loaded_at)
    return [rows[y] for y in sorted(rows)]


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
        if shipped is None:
            from shared.application.unit_of_work import shipped_calendar

            shipped = shipped_calendar()
        self.shipped = shipped
        self.recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._calendar: OrganisationCalendar | None = None
        self._version = -1
        self._next_check = 0.0
        self.loaded_years: tuple[int, ...] = ()
        self.reads = 0  # how many times the record was read (tests count them)

    def current(self, uow: UnitOfWorkBase) -> OrganisationCalendar:
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
