"""What every service's public board shares: the working days a notice has left, and the archive's query.

A notice's window ends at midnight after its last working day
(``OrganisationCalendar.end_of_working_days``); the days left are the working
days after today up to that last day, so a notice on its last day has 0 left
and still takes comments until midnight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from shared.application.commands import NAME
from shared.domain.calendar import OrganisationCalendar


def days_left(calendar: OrganisationCalendar, now: dt.datetime, closes_at: dt.datetime) -> int:
    """Working days after today up to the window's last day, on ``calendar``."""
    last_day = (closes_at - dt.timedelta(microseconds=1)).astimezone(now.tzinfo).date()
    return calendar.working_days_between(now.date(), last_day)


@dataclass(frozen=True)
class NoticeArchiveQuery:
    """Notices whose window has closed, latest first: of one unit, closed between two dates (inclusive), or all."""

    unit: str | None = field(default=None, metadata=NAME)
    closed_from: dt.date | None = None
    closed_to: dt.date | None = None
    limit: int = field(default=50, metadata={"validate": validate.Range(min=1, max=500)})
