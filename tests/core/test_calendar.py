"""Working days are counted on the organisation's own dates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from shared.domain.calendar import CalendarYear, OrganisationCalendar

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
#: A calendar that knows no year: Monday to Friday.
WEEKDAYS_ONLY = OrganisationCalendar()


def test_five_working_days_from_a_friday_end_the_next_friday() -> None:
    friday = dt.datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI)
    assert WEEKDAYS_ONLY.add_working_days(friday, 5) == dt.datetime(2026, 3, 13, 10, 0, tzinfo=SHANGHAI)


def test_a_monday_morning_in_shanghai_is_a_monday_not_a_utc_sunday() -> None:
    monday_morning = dt.datetime(2026, 3, 2, 7, 0, tzinfo=SHANGHAI)  # Sunday 23:00 UTC
    closes = WEEKDAYS_ONLY.add_working_days(monday_morning, 5)
    assert closes.weekday() == 0 and closes.date() == dt.date(2026, 3, 9)
    as_utc = WEEKDAYS_ONLY.add_working_days(monday_morning.astimezone(dt.UTC), 5)
    assert as_utc.astimezone(SHANGHAI).weekday() == 5, "counted on UTC dates it would end on a Saturday"


def test_holidays_are_skipped() -> None:
    monday = dt.datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)
    national_day = frozenset(dt.date(2026, 10, d) for d in range(1, 8))
    calendar = OrganisationCalendar([CalendarYear(2026, national_day, frozenset(), "test")])
    assert calendar.add_working_days(monday, 5).date() == dt.date(2026, 10, 12)


# -- the organisation's calendar ------------------------------------------------------------


def test_the_shipped_calendar_knows_the_national_day_holiday_and_its_make_up_days() -> None:
    calendar = OrganisationCalendar.shipped()
    assert {2026, 2027} <= set(calendar.years)
    assert not calendar.is_working_day(dt.date(2026, 10, 5)), "a Monday inside the National Day holiday"
    assert calendar.is_working_day(dt.date(2026, 10, 10)), "a Saturday made a working day (调休)"
    assert calendar.years[2027].provisional and not calendar.years[2026].provisional


def test_five_working_days_opened_before_national_day_run_past_it() -> None:
    calendar = OrganisationCalendar.shipped()
    opened = dt.datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    # Sep 30, Oct 8, Oct 9, Oct 10 (a make-up Saturday), Oct 12: the window ends at midnight after the fifth
    assert calendar.end_of_working_days(opened, 5) == dt.datetime(2026, 10, 13, 0, 0, tzinfo=SHANGHAI)
    assert calendar.end_of_working_days(opened, 4) == dt.datetime(2026, 10, 11, 0, 0, tzinfo=SHANGHAI)


def test_a_window_opened_on_a_saturday_still_gives_whole_working_days() -> None:
    calendar = OrganisationCalendar.shipped()
    saturday = dt.datetime(2026, 12, 5, 14, 0, tzinfo=SHANGHAI)
    closes = calendar.end_of_working_days(saturday, 5)
    assert closes == dt.datetime(2026, 12, 12, 0, 0, tzinfo=SHANGHAI)
    assert calendar.working_days_between(saturday.date(), (closes - dt.timedelta(seconds=1)).date()) == 5


def test_a_year_cannot_make_one_day_both_a_holiday_and_a_working_day() -> None:
    day = dt.date(2026, 10, 10)
    with pytest.raises(ValueError, match="both"):
        CalendarYear(2026, frozenset({day}), frozenset({day}), "test")
    with pytest.raises(ValueError, match="not in 2026"):
        CalendarYear(2026, frozenset({dt.date(2027, 1, 1)}), frozenset(), "test")


def test_a_deadline_at_midnight_falls_on_the_day_it_ends_not_the_day_after() -> None:
    calendar = OrganisationCalendar.shipped()
    # Sep 29 and Sep 30: the window ends at the midnight that closes Sep 30, the eve of National Day
    deadline = calendar.end_of_working_days(dt.datetime(2026, 9, 28, 10, 0, tzinfo=SHANGHAI), 2)
    assert deadline == dt.datetime(2026, 10, 1, 0, 0, tzinfo=SHANGHAI)
    assert calendar.past_holiday(deadline) == deadline, "Sep 30 is a working day: not moved past the holiday"
    # a deadline ending on the first day of the holiday (the midnight after Oct 1) is moved past it
    ends_oct_1 = dt.datetime(2026, 10, 2, 0, 0, tzinfo=SHANGHAI)
    assert calendar.past_holiday(ends_oct_1) == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    # one inside the holiday is met by the end of the first working day after it (Oct 8)
    in_holiday = dt.datetime(2026, 10, 3, 12, 0, tzinfo=SHANGHAI)
    assert calendar.past_holiday(in_holiday) == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    # the midnight that ends the last day of the holiday (Oct 7) is moved too; the one ending Oct 8 is not
    assert calendar.past_holiday(dt.datetime(2026, 10, 8, 0, 0, tzinfo=SHANGHAI)) == dt.datetime(
        2026, 10, 9, 0, 0, tzinfo=SHANGHAI
    )
    ends_oct_8 = dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    assert calendar.past_holiday(ends_oct_8) == ends_oct_8
