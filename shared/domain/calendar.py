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

The calendar is data operators load (``orgctl calendar load FILE.toml``):
each service keeps the years it counts on as events in its own store
(``CalendarRecord``, stream ``calendar-organisation``, one
``CalendarYearLoaded`` per year loaded), so that an auditor replaying a
deadline sees which calendar it was counted on. A year loaded replaces the
shipped one for that year; a service that loaded none counts on the shipped
years. ``CalendarYear.from_data`` checks a year before anything is stored and
names every problem it finds.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shared.domain.aggregate import Aggregate, applies, command
from shared.domain.events import DomainEvent
from shared.errors import ValidationFailed

SHIPPED = Path(__file__).resolve().parent / "calendars"
#: The years a calendar may be loaded for.
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: What a calendar year's data holds; anything else is a mistake named as one.
FIELDS = ("year", "source", "provisional", "holidays", "make_up_working_days")


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


def years_after(moment: dt.datetime, years: int) -> dt.datetime:
    """The same date and time ``years`` later (earlier when negative); 29 February becomes the 28th.

    Periods the regulations count in years (a year's probation, induction
    within a year of an appointment) end on the same calendar date, not 365 days on.
    """
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, day=28)


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
        """A year from a TOML file (``calendars/2026.toml`` shows the shape); ``ValidationFailed`` naming each problem."""
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as error:
            raise ValidationFailed({"file": [f"cannot read {path}: {error.strerror or error}"]}, f"{path}") from error
        except tomllib.TOMLDecodeError as error:
            raise ValidationFailed({"file": [f"not TOML: {error}"]}, f"{path} is not a calendar year") from error
        return cls.from_data(data, origin=str(path))

    @classmethod
    def from_data(cls, data: Mapping[str, Any], origin: str = "calendar year") -> CalendarYear:
        """A year from its data (a TOML table, or an RPC request's fields), every problem named at once.

        ``year`` (2000-2100), ``source`` (the notice it comes from), ``holidays``
        and ``make_up_working_days`` (dates of that year, ISO 8601 text or
        dates), ``provisional`` (optional, false). No day may be both a
        holiday and a make-up working day, and a make-up working day is a
        Saturday or a Sunday (a weekday is a working day already).
        """
        problems: dict[str, list[str]] = {}

        def problem(name: str, message: str) -> None:
            problems.setdefault(name, []).append(message)

        for unknown in sorted(set(data) - set(FIELDS)):
            problem(unknown, f"unknown field (a calendar year has {', '.join(FIELDS)})")
        year = data.get("year")
        if isinstance(year, bool) or not isinstance(year, int):
            problem("year", "missing: the year, e.g. year = 2027" if year is None else f"{year!r} is not a year")
            year = None
        elif not FIRST_YEAR <= year <= LAST_YEAR:
            problem("year", f"{year} is outside {FIRST_YEAR}-{LAST_YEAR}")
            year = None
        source = data.get("source")
        if not isinstance(source, str) or not source.strip():
            problem("source", "missing: the notice the dates come from (e.g. the State Council General Office's)")
        elif len(source) > 500:
            problem("source", "at most 500 characters")
        provisional = data.get("provisional", False)
        if not isinstance(provisional, bool):
            problem("provisional", f"{provisional!r} is not true or false")
        days: dict[str, frozenset[dt.date]] = {}
        for name in ("holidays", "make_up_working_days"):
            days[name] = frozenset(_dates(data.get(name), name, year, problem))
        for day in sorted(days["make_up_working_days"]):
            if day.weekday() < 5:
                problem(
                    "make_up_working_days",
                    f"{day.isoformat()} is a {day.strftime('%A')}: a make-up working day (调休) is a Saturday or Sunday",
                )
        for day in sorted(days["holidays"] & days["make_up_working_days"]):
            problem("holidays", f"{day.isoformat()} is both a holiday and a make-up working day")
        if problems or year is None:
            raise ValidationFailed(problems, f"{origin} is not a valid calendar year")
        return cls(year, days["holidays"], days["make_up_working_days"], str(source).strip(), bool(provisional))

    def as_data(self) -> dict[str, Any]:
        """The year as JSON values (what ``from_data`` takes, and an RPC request carries)."""
        return {
            "year": self.year,
            "source": self.source,
            "provisional": self.provisional,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "make_up_working_days": [d.isoformat() for d in sorted(self.make_up_working_days)],
        }


def _dates(value: Any, name: str, year: int | None, problem: Any) -> list[dt.date]:
    """The dates of a list (ISO text or dates), each checked to be in ``year``; problems reported, not raised."""
    if value is None:
        problem(name, "missing: a list of dates (it may be empty: [])")
        return []
    if not isinstance(value, list | tuple):
        problem(name, f"{value!r} is not a list of dates")
        return []
    if len(value) > 366:
        problem(name, f"{len(value)} dates: a year has at most 366")
        return []
    found: list[dt.date] = []
    for item in value:
        if isinstance(item, dt.datetime):
            problem(name, f"{item.isoformat()} is a moment, not a date")
            continue
        if isinstance(item, dt.date):
            day = item
        else:
            try:
                day = dt.date.fromisoformat(str(item))
            except ValueError:
                problem(name, f"{item!r} is not a date (YYYY-MM-DD)")
                continue
        if year is not None and day.year != year:
            problem(name, f"{day.isoformat()} is not in {year}")
            continue
        if day in found:
            problem(name, f"{day.isoformat()} is listed twice")
            continue
        found.append(day)
    return found


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

    def is_holiday(self, day: dt.date) -> bool:
        """An official holiday of a year this calendar knows (weekends are not holidays here)."""
        return day in self._off

    def past_holiday(self, deadline: dt.datetime) -> dt.datetime:
        """When a deadline falls due: as given, unless its day is an official holiday.

        A deadline on an official holiday is met by the end (midnight, in the
        deadline's zone) of the first working day after the holiday, as the
        last day of a period is under the Civil Code (民法典 第二百零三条: a last day
        on a statutory holiday moves to the day after the holiday ends). The day
        is read in the deadline's own zone: give it in the organisation's.

        The day is the one the deadline ends: a deadline at midnight (as
        ``end_of_working_days`` gives) ends the day before it, not the day it
        opens, so the end of 30 September is not moved past National Day.
        """
        ends = (deadline - dt.timedelta(microseconds=1)).date()
        if not self.is_holiday(ends):
            return deadline
        day = ends + dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=deadline.tzinfo)

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


# -- the calendar a service counts on, kept in its store ------------------------------------

#: The one calendar record of a service's store (stream ``calendar-organisation``).
CALENDAR_ID = "organisation"


@dataclass(frozen=True)
class CalendarYearLoaded(DomainEvent):
    """An operator loaded a year of the calendar: from now on the service counts on it for that year."""

    year: int
    holidays: list[dt.date]
    make_up_working_days: list[dt.date]
    source: str
    provisional: bool
    loaded_at: dt.datetime

    def calendar_year(self) -> CalendarYear:
        return CalendarYear(
            self.year,
            frozenset(self.holidays),
            frozenset(self.make_up_working_days),
            self.source,
            self.provisional,
        )


@dataclass
class LoadedYear:
    year: int = 0
    holidays: list[dt.date] = field(default_factory=list)
    make_up_working_days: list[dt.date] = field(default_factory=list)
    source: str = ""
    provisional: bool = False
    loaded_at: dt.datetime | None = None
    version: int = 0  # the record's version when it was loaded


@dataclass
class CalendarState:
    years: list[LoadedYear] = field(default_factory=list)


class CalendarRecord(Aggregate):
    """The calendar years a service counts on, as operators loaded them (over the shipped ones)."""

    category = "calendar"
    State = CalendarState
    state: CalendarState

    def loaded(self, year: int) -> LoadedYear | None:
        return next((y for y in self.state.years if y.year == year), None)

    @command
    def load(self, year: CalendarYear, now: dt.datetime) -> bool:
        """Load ``year`` in place of what the service counted on for it; False when it is loaded already, as is."""
        current = self.loaded(year.year)
        if current is not None and _as_year(current) == year:
            return False
        self.require(
            not (year.provisional and current is not None and not current.provisional),
            "calendar.provisional_over_official",
            f"{year.year} is loaded from an official notice ({current.source if current else ''}); "
            "a provisional year does not replace it",
        )
        self.record(
            CalendarYearLoaded(
                year.year,
                sorted(year.holidays),
                sorted(year.make_up_working_days),
                year.source,
                year.provisional,
                now,
            )
        )
        return True

    def calendar(self, shipped: OrganisationCalendar) -> OrganisationCalendar:
        """``shipped`` with every year loaded here in place of its own."""
        calendar = shipped
        for loaded in self.state.years:
            calendar = calendar.with_year(_as_year(loaded))
        return calendar

    @applies(CalendarYearLoaded)
    def _loaded(self, e: CalendarYearLoaded) -> None:
        years = [y for y in self.state.years if y.year != e.year]
        years.append(
            LoadedYear(
                e.year,
                list(e.holidays),
                list(e.make_up_working_days),
                e.source,
                e.provisional,
                e.loaded_at,
                self.version + 1,
            )
        )
        self.state.years = sorted(years, key=lambda y: y.year)


def _as_year(loaded: LoadedYear) -> CalendarYear:
    return CalendarYear(
        loaded.year,
        frozenset(loaded.holidays),
        frozenset(loaded.make_up_working_days),
        loaded.source,
        loaded.provisional,
    )


def months_after(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (earlier when negative), or the month's last day when it has no such day.

    A talk due a month after an application made on 31 January is due on 28
    (or 29) February: periods the rules count in months end on the same date.
    """
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last))
