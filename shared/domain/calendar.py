"""Time in the domain: an injectable clock, and the organisation's working calendar.

Aggregates never read the wall clock; commands are given ``now``. Use cases
take it from their unit of work's ``Clock``: the system's in production, a
manual one in unit tests, and in a local platform an offset clock that the
demo can move forward (see ``shared.db.clock``).

Working days are the organisation's: Monday to Friday, less the official
holidays, plus the make-up working days (调休) that the State Council's notice
moves onto weekends, year by year. ``OrganisationCalendar`` holds those years;
every deadline of every service (notices, reply deadlines, inspections)
counts on it, and aggregates are given it as they are given ``now``. The
years shipped with the platform are in ``calendars/<year>.toml``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SHIPPED = Path(__file__).resolve().parent / "calendars"


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class ManualClock:
    """A clock that moves only when told to: for tests."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock keeps aware times")
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def set(self, moment: dt.datetime) -> None:
        self._now = moment


@dataclass(frozen=True)
class CalendarYear:
    """One year of the organisation's calendar: its holidays and make-up working days, and where they come from."""

    year: int
    holidays: frozenset[dt.date]
    make_up_working_days: frozenset[dt.date]
    source: str
    provisional: bool = False

    def __post_init__(self) -> None:
        for day in (*self.holidays, *self.make_up_working_days):
            if day.year != self.year:
                raise ValueError(f"{day.isoformat()} is not in {self.year}")
        both = self.holidays & self.make_up_working_days
        if both:
            raise ValueError(f"{sorted(d.isoformat() for d in both)} cannot be both a holiday and a working day")

    @classmethod
    def from_toml(cls, path: Path) -> CalendarYear:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        return cls(
            int(data["year"]),
            frozenset(dt.date.fromisoformat(d) for d in data["holidays"]),
            frozenset(dt.date.fromisoformat(d) for d in data["make_up_working_days"]),
            str(data["source"]),
            bool(data.get("provisional", False)),
        )


class OrganisationCalendar:
    """Which days are working days, on the years it knows; outside them, Monday to Friday."""

    def __init__(self, years: Iterable[CalendarYear] = ()) -> None:
        self.years: dict[int, CalendarYear] = {y.year: y for y in years}
        self._off = frozenset(d for y in self.years.values() for d in y.holidays)
        self._on = frozenset(d for y in self.years.values() for d in y.make_up_working_days)

    @classmethod
    def shipped(cls) -> OrganisationCalendar:
        """The years that come with the platform (``calendars/*.toml``)."""
        return cls(CalendarYear.from_toml(path) for path in sorted(SHIPPED.glob("*.toml")))

    def with_year(self, year: CalendarYear) -> OrganisationCalendar:
        """This calendar with ``year`` loaded (replacing what it had for that year)."""
        return OrganisationCalendar([*(y for y in self.years.values() if y.year != year.year), year])

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._on:
            return True
        return day.weekday() < 5 and day not in self._off

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``start`` moved forward by ``days`` working days, at the same time of day."""
        if days < 0:
            raise ValueError("working days are counted forward")
        moment, counted = start, 0
        while counted < days:
            moment += dt.timedelta(days=1)
            if self.is_working_day(moment.date()):
                counted += 1
        return moment

    def end_of_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The end (midnight, in ``start``'s zone) of the ``days``-th whole working day after ``start``'s day.

        A window of N working days opened at any hour gives N whole working
        days: counting starts the day after it opens, so a notice opened on a
        Saturday afternoon, or a Friday at noon, still runs five full days.
        """
        if days < 1:
            raise ValueError("a window is at least one working day")
        day, counted = start.date(), 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=start.tzinfo)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count


def is_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def add_working_days(start: dt.datetime, days: int, holidays: Iterable[dt.date] = ()) -> dt.datetime:
    """``start`` moved forward by ``days`` working days (weekends and holidays skipped).

    A notice opened on a Friday at 10:00 for 5 working days closes the next
    Friday at 10:00; one opened on a Saturday closes on the Friday after.
    """
    if days < 0:
        raise ValueError("working days are counted forward")
    off = set(holidays)
    moment, counted = start, 0
    while counted < days:
        moment += dt.timedelta(days=1)
        if is_working_day(moment.date(), off):
            counted += 1
    return moment
