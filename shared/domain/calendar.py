"""Time in the domain: an injectable clock and working days.

Aggregates never read the wall clock; commands are given ``now``. Use cases
take it from their unit of work's ``Clock``: the system's in production, a
manual one in unit tests, and in a local platform an offset clock that the
demo can move forward (see ``shared.db.clock``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol


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
