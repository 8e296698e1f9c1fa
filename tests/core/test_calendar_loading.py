"""The calendar as data: a year checked before it is stored, kept as events, and the calendar use cases then get.

In memory (no broker, no database): the RPC and orgctl are in
``tests/runtime/test_calendar_loading.py``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from shared.application.calendar_years import LoadCalendarYear, calendar_years
from shared.application.calendar_years import load_calendar_year as load
from shared.application.calendars import CALENDAR_STREAM, CalendarBook
from shared.application.memory import InMemoryUnitOfWork
from shared.domain import EventRegistry
from shared.domain.calendar import SHIPPED, CalendarRecord, CalendarYear, OrganisationCalendar
from shared.errors import RuleViolation, ValidationFailed

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OPERATOR = "operator:ops-1"

#: The 2027 notice as an operator would load it (dates made up for the test: a holiday on a Monday, a make-up Saturday).
NOTICE_2027: dict[str, Any] = {
    "year": 2027,
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "provisional": False,
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-10-01", "2027-10-04"],
    "make_up_working_days": ["2027-02-20", "2027-10-09"],
}


def request(**data: Any) -> LoadCalendarYear:
    fields = {**NOTICE_2027, **data}
    fields["holidays"] = [dt.date.fromisoformat(d) for d in fields["holidays"]]
    fields["make_up_working_days"] = [dt.date.fromisoformat(d) for d in fields["make_up_working_days"]]
    return LoadCalendarYear(actor=OPERATOR, reason="the 2027 notice is out", **fields)


def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork("svc", EventRegistry())


def problems(data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationFailed) as caught:
        CalendarYear.from_data(data, origin="2027.toml")
    assert caught.value.message == "2027.toml is not a valid calendar year"
    return caught.value.errors


# -- the file, checked -------------------------------------------------------------------------


def test_the_shipped_files_are_valid_years_and_round_trip_through_their_data() -> None:
    for path in sorted(SHIPPED.glob("*.toml")):
        year = CalendarYear.from_toml(path)
        assert CalendarYear.from_data(year.as_data()) == year


def test_a_year_with_a_day_outside_it_is_refused_naming_the_day() -> None:
    errors = problems({**NOTICE_2027, "holidays": ["2027-01-01", "2026-12-31"]})
    assert errors == {"holidays": ["2026-12-31 is not in 2027"]}


def test_a_day_both_holiday_and_make_up_day_is_refused_naming_it() -> None:
    errors = problems({**NOTICE_2027, "holidays": ["2027-02-20"], "make_up_working_days": ["2027-02-20"]})
    assert errors == {"holidays": ["2027-02-20 is both a holiday and a make-up working day"]}


def test_a_year_without_a_source_is_refused() -> None:
    data = {k: v for k, v in NOTICE_2027.items() if k != "source"}
    assert list(problems(data)) == ["source"]
    assert list(problems({**NOTICE_2027, "source": "  "})) == ["source"]


def test_every_problem_is_named_at_once() -> None:
    errors = problems(
        {
            "year": 2027,
            "holiday": ["2027-01-01"],  # a typo for holidays
            "holidays": ["2027-13-01", "2027-01-01", "2027-01-01"],
            "make_up_working_days": ["2027-02-22"],  # a Monday
            "provisional": "no",
        }
    )
    assert errors["holiday"] == [
        "unknown field (a calendar year has year, source, provisional, holidays, make_up_working_days)"
    ]
    assert errors["holidays"] == ["'2027-13-01' is not a date (YYYY-MM-DD)", "2027-01-01 is listed twice"]
    assert errors["make_up_working_days"] == [
        "2027-02-22 is a Monday: a make-up working day (调休) is a Saturday or Sunday"
    ]
    assert set(errors) == {"holiday", "holidays", "make_up_working_days", "provisional", "source"}


def test_a_year_out_of_range_or_missing_is_refused() -> None:
    assert problems({**NOTICE_2027, "year": 1900})["year"] == ["1900 is outside 2000-2100"]
    assert problems({**NOTICE_2027, "year": "2027"})["year"] == ["'2027' is not a year"]


def test_a_file_that_is_not_toml_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "2027.toml"
    bad.write_text('year = 2027\nholidays = ["2027-01-01"\n', encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        CalendarYear.from_toml(bad)
    assert list(caught.value.errors) == ["file"] and "not TOML" in caught.value.errors["file"][0]


def test_toml_dates_may_be_written_bare(tmp_path: Path) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(
        'year = 2027\nsource = "notice"\nholidays = [2027-01-01]\nmake_up_working_days = [2027-02-20]\n',
        encoding="utf-8",
    )
    year = CalendarYear.from_toml(path)
    assert year.holidays == {dt.date(2027, 1, 1)} and year.make_up_working_days == {dt.date(2027, 2, 20)}


# -- loaded into a store ---------------------------------------------------------------------


def test_a_year_loaded_is_an_event_in_the_store_with_who_and_why() -> None:
    unit = uow()
    reply = load(request(), unit)
    assert (reply.year, reply.origin, reply.changed) == (2027, "loaded", True)
    [event] = unit.events_of(CALENDAR_STREAM)
    assert event.type == "CalendarYearLoaded"
    assert event.data["year"] == 2027 and event.data["provisional"] is False
    assert event.data["holidays"] == NOTICE_2027["holidays"]
    assert event.data["make_up_working_days"] == NOTICE_2027["make_up_working_days"]
    assert event.data["source"] == NOTICE_2027["source"]
    assert (event.metadata["actor"], event.metadata["reason"]) == (OPERATOR, "the 2027 notice is out")


def test_the_calendar_a_use_case_then_gets_counts_on_the_year_loaded_in_place_of_the_shipped_one() -> None:
    unit = uow()
    assert unit.calendar.years[2027].provisional, "nothing loaded: the shipped, provisional 2027"
    assert unit.calendar.is_working_day(dt.date(2027, 10, 4)), "a Monday the shipped 2027 does not know as a holiday"
    load(request(), unit)
    calendar = unit.calendar
    assert not calendar.years[2027].provisional
    assert not calendar.is_working_day(dt.date(2027, 10, 4)), "a holiday of the loaded 2027"
    assert calendar.is_working_day(dt.date(2027, 10, 9)), "a make-up Saturday of the loaded 2027"
    assert calendar.years[2026] == OrganisationCalendar.shipped().years[2026], "other years as shipped"


def test_what_a_service_counts_on_says_which_years_are_loaded_and_which_shipped() -> None:
    unit = uow()
    assert {(v.year, v.origin) for v in calendar_years(unit)} == {(2026, "shipped"), (2027, "shipped")}
    load(request(), unit)
    views = {v.year: v for v in calendar_years(unit)}
    assert (views[2026].origin, views[2027].origin) == ("shipped", "loaded")
    assert views[2027].loaded_at == unit.clock.now() and views[2027].source == NOTICE_2027["source"]


def test_loading_the_same_year_again_changes_nothing() -> None:
    unit = uow()
    load(request(), unit)
    again = load(request(), unit)
    assert not again.changed
    assert len(unit.events_of(CALENDAR_STREAM)) == 1


def test_a_corrected_year_replaces_the_one_loaded_and_the_log_keeps_both() -> None:
    unit = uow()
    load(request(), unit)
    load(request(holidays=[*NOTICE_2027["holidays"], "2027-10-05"]), unit)
    assert [e.data["holidays"][-1] for e in unit.events_of(CALENDAR_STREAM)] == ["2027-10-04", "2027-10-05"]
    assert not unit.calendar.is_working_day(dt.date(2027, 10, 5))


def test_a_provisional_year_does_not_replace_an_official_one() -> None:
    unit = uow()
    load(request(), unit)
    with pytest.raises(RuleViolation) as caught:
        load(request(provisional=True, source="guesswork"), unit)
    assert caught.value.rule == "calendar.provisional_over_official"
    assert len(unit.events_of(CALENDAR_STREAM)) == 1


def test_a_bad_year_sent_as_a_request_is_refused_before_anything_is_stored() -> None:
    unit = uow()
    with pytest.raises(ValidationFailed) as caught:
        load(request(holidays=["2026-10-01"]), unit)
    assert caught.value.errors == {"holidays": ["2026-10-01 is not in 2027"]}
    assert unit.events == []


def test_the_record_replays_to_the_same_calendar() -> None:
    unit = uow()
    load(request(), unit)
    record = unit.load(CalendarRecord, "organisation")
    assert record.calendar(OrganisationCalendar.shipped()).years[2027] == CalendarYear.from_data(NOTICE_2027)


# -- kept between commands ------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_book_reads_the_store_once_then_only_when_told_or_after_its_recheck_interval() -> None:
    ticks = Ticks()
    book = CalendarBook(recheck_seconds=30, monotonic=ticks)
    first = InMemoryUnitOfWork("svc", EventRegistry(), calendars=book)
    store = first.store

    def worker() -> InMemoryUnitOfWork:  # another command of the same service
        return InMemoryUnitOfWork("svc", EventRegistry(), store=store, calendars=book)

    for _ in range(5):
        assert worker().calendar.years[2027].provisional
    assert book.reads == 1, "read once for five commands"

    load(request(), worker())  # the load tells the book
    assert not worker().calendar.years[2027].provisional
    assert book.reads == 2

    # another process of the service loads a year: this one sees it within the recheck interval
    elsewhere = InMemoryUnitOfWork("svc", EventRegistry(), store=store, calendars=CalendarBook())
    load(request(holidays=[*NOTICE_2027["holidays"], "2027-10-05"]), elsewhere)
    assert worker().calendar.is_working_day(dt.date(2027, 10, 5)), "not yet looked again"
    ticks.now = 31
    assert not worker().calendar.is_working_day(dt.date(2027, 10, 5))
    assert book.reads == 3
    ticks.now = 45
    assert not worker().calendar.is_working_day(dt.date(2027, 10, 5))
    assert book.reads == 3, "an unchanged version is not read again"


def test_a_calendar_given_to_a_unit_is_counted_on_as_it_is() -> None:
    fixed = OrganisationCalendar()
    unit = InMemoryUnitOfWork("svc", EventRegistry(), calendar=fixed)
    load(request(), unit)
    assert unit.calendar is fixed


def test_a_deadline_on_an_official_holiday_falls_due_at_the_end_of_the_first_working_day_after_it() -> None:
    calendar = OrganisationCalendar.shipped()
    in_holiday = dt.datetime(2026, 10, 2, 17, 0, tzinfo=SHANGHAI)
    assert calendar.past_holiday(in_holiday) == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    on_a_weekend = dt.datetime(2026, 3, 7, 17, 0, tzinfo=SHANGHAI)  # a Saturday, no holiday
    assert calendar.past_holiday(on_a_weekend) == on_a_weekend
    before = dt.datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)
    assert calendar.past_holiday(before) == before


def test_the_book_is_told_of_a_load_only_once_it_is_committed() -> None:
    book = CalendarBook(recheck_seconds=30, monotonic=Ticks())
    unit = InMemoryUnitOfWork("svc", EventRegistry(), calendars=book)
    assert unit.calendar.years[2027].provisional
    with pytest.raises(RuntimeError), unit.transaction():
        load(request(), unit)
        raise RuntimeError("the command fails after the load: nothing is committed")
    assert unit.calendar.years[2027].provisional and book.reads == 1, "a load rolled back tells the book nothing"
    with unit.transaction():  # as a command runs, with its idempotency record
        load(request(), unit)
        assert unit.calendar.years[2027].provisional, "not before it is committed"
    assert not unit.calendar.years[2027].provisional
    assert book.reads == 2
