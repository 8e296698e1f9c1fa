"""Working days are counted on the organisation's own dates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from shared.domain.calendar import add_working_days

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_five_working_days_from_a_friday_end_the_next_friday() -> None:
    friday = dt.datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI)
    assert add_working_days(friday, 5) == dt.datetime(2026, 3, 13, 10, 0, tzinfo=SHANGHAI)


def test_a_monday_morning_in_shanghai_is_a_monday_not_a_utc_sunday() -> None:
    monday_morning = dt.datetime(2026, 3, 2, 7, 0, tzinfo=SHANGHAI)  # Sunday 23:00 UTC
    closes = add_working_days(monday_morning, 5)
    assert closes.weekday() == 0 and closes.date() == dt.date(2026, 3, 9)
    as_utc = add_working_days(monday_morning.astimezone(dt.UTC), 5)
    assert as_utc.astimezone(SHANGHAI).weekday() == 5, "counted on UTC dates it would end on a Saturday"


def test_holidays_are_skipped() -> None:
    monday = dt.datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)
    national_day = [dt.date(2026, 10, d) for d in range(1, 8)]
    assert add_working_days(monday, 5, national_day).date() == dt.date(2026, 10, 12)
