"""Loading a year of the organisation's calendar into a service's store, and listing what it counts on.

The use cases behind every service's ``load_calendar`` (the operator's) and
``calendar_years`` RPC methods; the calendar itself, and how a service keeps
it between commands, are in ``shared.application.calendars``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from shared.application.commands import Command
from shared.application.unit_of_work import UnitOfWork
from shared.domain.calendar import (
    CALENDAR_ID,
    FIRST_YEAR,
    LAST_YEAR,
    CalendarRecord,
    CalendarYear,
    OrganisationCalendar,
)
from shared.errors import ConcurrencyConflict

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
