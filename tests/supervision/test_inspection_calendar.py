"""Inspection deadlines on the organisation's calendar: a deadline on an official holiday is met by the end of the next working day.

The overdue check counts on the calendar the service's store holds (the
shipped years until an operator loads one): in memory, then on PostgreSQL
with the year loaded through the service's own method.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from services.supervision import messages as m
from services.supervision.domain.inspection import InspectionTask, TaskKind
from services.supervision.entrypoint import SupervisionService
from services.supervision.service_layer import inspections
from shared.application import Sweep, UnitOfWork
from shared.application.calendar_years import LoadCalendarYear, load_calendar_year
from shared.application.memory import InMemoryUnitOfWork
from shared.domain.calendar import ManualClock, OrganisationCalendar
from shared.errors import RuleViolation
from shared.security.assertions import Identity
from tests.support.environment import RunEnvironment
from tests.support.local import OnPostgres, memory_uow
from tests.support.platform import settings_for_tests

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OFFICE = "supervision-office"
OPERATOR = Identity("operator:ops-1", ("operator",), "operator")

#: 2 October 2026, inside the National Day holiday (1-7 October); the first working day after it is Thursday 8 October.
IN_THE_HOLIDAY = dt.datetime(2026, 10, 2, 17, 0, tzinfo=SHANGHAI)
END_OF_THE_FIRST_WORKING_DAY_AFTER = dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)

NOTICE_2027: dict[str, Any] = {
    "year": 2027,
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [dt.date(2027, 10, d) for d in range(1, 8)],
    "make_up_working_days": [dt.date(2027, 9, 26), dt.date(2027, 10, 9)],
}


def sweep_over(ids: Iterable[str]) -> Sweep[InspectionTask]:
    def due(uow: UnitOfWork, now: dt.datetime) -> list[str]:
        return list(ids)

    return dataclasses.replace(inspections.OVERDUE, due=due)


def assign(uow: UnitOfWork, task_id: str, deadline: dt.datetime) -> None:
    inspections.assign_task(
        m.AssignTask(
            actor=OFFICE,
            task_id=task_id,
            kind=TaskKind.KEY,
            unit="Qingshan township",
            goal="rectify the ledger",
            deadline=deadline,
            responsible="Sun",
        ),
        uow,
    )


def task_due(deadline: dt.datetime) -> InspectionTask:
    task = InspectionTask("t1")
    task.assign(TaskKind.KEY, "Qingshan", "roads", deadline, "Sun", deadline - dt.timedelta(days=10))
    return task


def test_a_deadline_at_the_midnight_ending_the_eve_of_the_holiday_is_not_moved_past_it() -> None:
    """B2: midnight ending 30 September (a working day) is read as 30 September, not 1 October."""
    calendar = OrganisationCalendar.shipped()
    end_of_30_september = dt.datetime(2026, 10, 1, 0, 0, tzinfo=SHANGHAI)
    task = task_due(end_of_30_september)
    assert task.falls_due(calendar, SHANGHAI) == end_of_30_september
    assert task.is_overdue(dt.datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI), calendar)


def test_a_deadline_on_a_holiday_is_not_overdue_until_the_first_working_day_after_it_has_ended() -> None:
    calendar = OrganisationCalendar.shipped()
    task = task_due(IN_THE_HOLIDAY)
    assert task.falls_due(calendar, SHANGHAI) == END_OF_THE_FIRST_WORKING_DAY_AFTER
    during = dt.datetime(2026, 10, 5, 9, 0, tzinfo=SHANGHAI)
    on_the_first_working_day = dt.datetime(2026, 10, 8, 20, 0, tzinfo=SHANGHAI)
    assert task.is_overdue(during), "without the calendar, the deadline as set"
    assert not task.is_overdue(during, calendar)
    assert not task.is_overdue(on_the_first_working_day, calendar)
    with pytest.raises(RuleViolation) as caught:
        task.escalate(on_the_first_working_day, calendar)
    assert caught.value.rule == "inspection.not_overdue"
    task.escalate(END_OF_THE_FIRST_WORKING_DAY_AFTER + dt.timedelta(minutes=1), calendar)


def test_a_deadline_on_a_working_day_or_a_plain_weekend_is_as_set() -> None:
    calendar = OrganisationCalendar.shipped()
    for deadline in (
        dt.datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI),  # the working day before the holiday
        dt.datetime(2026, 10, 10, 17, 0, tzinfo=SHANGHAI),  # a make-up Saturday (调休)
        dt.datetime(2026, 3, 7, 17, 0, tzinfo=SHANGHAI),  # a Saturday, no holiday: the assigner's choice
    ):
        assert task_due(deadline).falls_due(calendar, SHANGHAI) == deadline


def test_the_day_of_a_deadline_is_the_organisations() -> None:
    calendar = OrganisationCalendar.shipped()
    # 30 September 20:00 UTC is 1 October 04:00 in Shanghai: a holiday there
    deadline = dt.datetime(2026, 9, 30, 20, 0, tzinfo=dt.UTC)
    assert task_due(deadline).falls_due(calendar, SHANGHAI) == END_OF_THE_FIRST_WORKING_DAY_AFTER


def test_the_overdue_check_counts_on_the_calendar() -> None:
    uow = memory_uow(SupervisionService, ManualClock(dt.datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)))
    assign(uow, "in-holiday", IN_THE_HOLIDAY)
    assign(uow, "before", dt.datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI))
    uow.clock.set(dt.datetime(2026, 10, 6, 9, 0, tzinfo=SHANGHAI))
    assert inspections.check_overdue(uow, sweep_over(["in-holiday", "before"])).escalated == 1
    assert uow.events_of("inspection-in-holiday")[-1].type == "InspectionTaskAssigned"
    uow.clock.set(END_OF_THE_FIRST_WORKING_DAY_AFTER + dt.timedelta(hours=9))
    assert inspections.check_overdue(uow, sweep_over(["in-holiday", "before"])).escalated == 1
    assert uow.events_of("inspection-in-holiday")[-1].type == "InspectionNoticeIssued"


def load_2027(uow: InMemoryUnitOfWork) -> None:
    load_calendar_year(LoadCalendarYear(actor="operator:ops-1", **NOTICE_2027), uow)


def test_a_year_loaded_moves_what_is_overdue() -> None:
    """The shipped 2027 is provisional (1-3 October only); the notice loaded makes 4-7 October holidays too."""
    deadline = dt.datetime(2027, 10, 5, 17, 0, tzinfo=SHANGHAI)  # a Tuesday
    check_at = dt.datetime(2027, 10, 6, 9, 0, tzinfo=SHANGHAI)
    for loaded, escalated in ((False, 1), (True, 0)):
        uow = memory_uow(SupervisionService, ManualClock(dt.datetime(2027, 9, 20, 9, 0, tzinfo=SHANGHAI)))
        if loaded:
            load_2027(uow)
        assign(uow, "t", deadline)
        uow.clock.set(check_at)
        assert inspections.check_overdue(uow, sweep_over(["t"])).escalated == escalated


# -- on PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def supervision(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    service = OnPostgres(SupervisionService, settings_for_tests())
    service.clock.set(dt.datetime(2027, 9, 20, 9, 0, tzinfo=SHANGHAI))
    yield service
    service.close()


def test_on_postgres_the_overdue_check_counts_on_the_year_the_operator_loaded(supervision: OnPostgres) -> None:
    deadline = dt.datetime(2027, 10, 5, 17, 0, tzinfo=SHANGHAI)
    supervision.call(
        "assign_task",
        task_id="t",
        kind="key",
        unit="Qingshan",
        goal="repair roads",
        deadline=deadline.isoformat(),
        responsible="Sun",
    )
    reply = supervision.call(
        "load_calendar",
        _as=OPERATOR,
        year=2027,
        source=NOTICE_2027["source"],
        holidays=[d.isoformat() for d in NOTICE_2027["holidays"]],
        make_up_working_days=[d.isoformat() for d in NOTICE_2027["make_up_working_days"]],
    )
    assert (reply["origin"], reply["changed"]) == ("loaded", True)
    supervision.project()
    supervision.clock.set(dt.datetime(2027, 10, 6, 9, 0, tzinfo=SHANGHAI))
    assert supervision.call("check_overdue") == {"escalated": 0}, "5 October is a holiday of the loaded notice"
    supervision.clock.set(dt.datetime(2027, 10, 9, 0, 1, tzinfo=SHANGHAI))  # after the end of Friday 8 October
    assert supervision.call("check_overdue") == {"escalated": 1}
    years = {y["year"]: y["origin"] for y in supervision.call("calendar_years")["items"]}
    assert years == {2026: "shipped", 2027: "loaded"}
