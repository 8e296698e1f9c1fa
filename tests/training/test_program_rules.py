"""A training program's rules, at their boundaries: pure Python, no database, no broker.

Planning (seats, dates, the attendance share), sessions (only while planned,
more than 0 hours, within the program's dates, each once), publishing (a
session first; the development-target short course at least 3 days or 24
hours), seats (only while published, up to capacity, for the audience, once
a person), the phases (start from published, close from running), and a
refused command leaving the program as it was.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.training.domain.events import Audience, ProgramPublished, SeatReleased, SeatTaken, SessionScheduled
from services.training.domain.kinds import EnrolmentSource, Mode, Phase, ProgramKind, Provider
from services.training.domain.program import Learner, TrainingProgram, admits
from shared.errors import RuleViolation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FIRST_DAY = dt.date(2026, 4, 6)  # a Monday
LAST_DAY = dt.date(2026, 4, 10)  # the Friday
SELF = EnrolmentSource.SELF_SELECTED.value
ANYONE = Learner()


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def plan(
    program: TrainingProgram,
    kind: ProgramKind = ProgramKind.THEMATIC,
    audience: Audience | None = None,
    capacity: int = 30,
    starts_on: dt.date = FIRST_DAY,
    ends_on: dt.date = LAST_DAY,
    attendance_share: Decimal = Decimal("0.8"),
) -> TrainingProgram:
    program.plan(
        "Party history",
        kind,
        Mode.CLASSROOM,
        Provider.PARTY_SCHOOL,
        audience or Audience(),
        False,
        capacity,
        starts_on,
        ends_on,
        attendance_share,
        False,
        NOW,
    )
    return program


def planned(**kwargs: Any) -> TrainingProgram:
    return plan(TrainingProgram("p1"), **kwargs)


def published(**kwargs: Any) -> TrainingProgram:
    program = planned(**kwargs)
    program.schedule_session("s1", "Opening", at(FIRST_DAY), Decimal(3))
    program.publish(NOW)
    return program


def running(**kwargs: Any) -> TrainingProgram:
    program = published(**kwargs)
    program.start(at(FIRST_DAY, 8))
    return program


def closed(**kwargs: Any) -> TrainingProgram:
    program = running(**kwargs)
    program.close(at(LAST_DAY, 18))
    return program


def with_sessions(kind: ProgramKind, *sessions: tuple[dt.date, str]) -> TrainingProgram:
    """A planned program with one session per (day, hours) given."""
    program = planned(kind=kind)
    for number, (day, hours) in enumerate(sessions, start=1):
        program.schedule_session(f"s{number}", f"Session {number}", at(day), Decimal(hours))
    return program


# -- planning -------------------------------------------------------------------------------


def test_a_program_has_at_least_one_seat() -> None:
    for capacity in (0, -1):
        program = TrainingProgram("p1")
        with broken("program.capacity"):
            plan(program, capacity=capacity)
        assert program.state.phase is None and program.version == 0 and program.pending_events == []
    program = planned(capacity=1)
    assert program.state.phase is Phase.PLANNED and program.state.capacity == 1 and program.seats_left == 1


def test_a_program_ends_on_or_after_the_day_it_starts() -> None:
    with broken("program.dates"):
        planned(starts_on=FIRST_DAY, ends_on=FIRST_DAY - dt.timedelta(days=1))
    one_day = planned(starts_on=FIRST_DAY, ends_on=FIRST_DAY)
    assert one_day.state.starts_on == one_day.state.ends_on == FIRST_DAY


@pytest.mark.parametrize("share", [Decimal(0), Decimal("-0.1"), Decimal("1.01"), Decimal(2)])
def test_the_attendance_share_above_1_or_not_above_0_is_refused(share: Decimal) -> None:
    with broken("program.attendance_share"):
        planned(attendance_share=share)


@pytest.mark.parametrize("share", [Decimal("0.01"), Decimal("0.8"), Decimal(1)])
def test_an_attendance_share_above_0_and_up_to_1_is_planned(share: Decimal) -> None:
    assert planned(attendance_share=share).state.attendance_share == share


def test_a_program_is_planned_once() -> None:
    program = planned()
    with broken("program.plan_once"):
        plan(program, capacity=5)
    assert program.state.capacity == 30


# -- sessions -------------------------------------------------------------------------------


def test_sessions_are_scheduled_only_while_the_program_is_planned() -> None:
    with broken("program.exists"):
        TrainingProgram("p1").schedule_session("s1", "Opening", at(FIRST_DAY), Decimal(3))
    for program in (published(), running(), closed()):
        with broken("program.schedule_sessions_when_planned"):
            program.schedule_session("s2", "Late", at(FIRST_DAY), Decimal(1))
        assert [s.session_id for s in program.state.sessions] == ["s1"]


@pytest.mark.parametrize("hours", [Decimal(0), Decimal(-1)])
def test_a_session_of_no_hours_is_refused(hours: Decimal) -> None:
    program = planned()
    with broken("program.session_hours"):
        program.schedule_session("s1", "Empty", at(FIRST_DAY), hours)
    assert program.state.sessions == []


def test_a_session_of_a_fraction_of_an_hour_is_scheduled() -> None:
    program = planned()
    program.schedule_session("s1", "Short", at(FIRST_DAY), Decimal("0.5"))
    assert program.pending_events[-1] == SessionScheduled("s1", "Short", at(FIRST_DAY), Decimal("0.5"))
    assert program.total_hours == Decimal("0.5")


def test_sessions_on_the_first_and_the_last_day_of_the_program_are_scheduled() -> None:
    program = planned()
    program.schedule_session("first", "Opening", at(FIRST_DAY, 0, 0), Decimal(2))
    program.schedule_session("last", "Closing", at(LAST_DAY, 23, 59), Decimal(2))
    assert [s.session_id for s in program.state.sessions] == ["first", "last"]


def test_a_session_the_day_before_or_the_day_after_the_program_is_refused() -> None:
    program = planned()
    with broken("program.session_within_dates"):
        program.schedule_session("before", "Too early", at(FIRST_DAY - dt.timedelta(days=1), 23, 59), Decimal(2))
    with broken("program.session_within_dates"):
        program.schedule_session("after", "Too late", at(LAST_DAY + dt.timedelta(days=1), 0, 0), Decimal(2))
    assert program.state.sessions == []


def test_a_session_id_is_scheduled_once() -> None:
    program = planned()
    program.schedule_session("s1", "Opening", at(FIRST_DAY), Decimal(3))
    with broken("program.session_once"):
        program.schedule_session("s1", "Again", at(LAST_DAY), Decimal(2))
    assert len(program.state.sessions) == 1 and program.total_hours == Decimal(3)


# -- publishing -----------------------------------------------------------------------------


def test_a_program_is_published_once_it_has_a_session() -> None:
    program = planned()
    with broken("program.sessions_first"):
        program.publish(NOW)
    assert program.state.phase is Phase.PLANNED
    program.schedule_session("s1", "Opening", at(FIRST_DAY), Decimal(3))
    program.schedule_session("s2", "Closing", at(LAST_DAY), Decimal("1.5"))
    program.publish(NOW)
    assert program.state.phase is Phase.PUBLISHED
    assert program.pending_events[-1] == ProgramPublished(ProgramKind.THEMATIC.value, Decimal("4.5"), NOW)


def test_a_program_is_published_only_while_planned() -> None:
    for program in (published(), running(), closed()):
        with broken("program.publish_when_planned"):
            program.publish(NOW)


DAY_2 = FIRST_DAY + dt.timedelta(days=1)
DAY_3 = FIRST_DAY + dt.timedelta(days=2)


def test_a_short_course_of_2_days_and_23_and_a_half_hours_is_refused() -> None:
    program = with_sessions(ProgramKind.DEVELOPMENT_TARGET_COURSE, (FIRST_DAY, "12"), (DAY_2, "11.5"))
    with broken("program.short_course_length"):
        program.publish(NOW)
    assert program.state.phase is Phase.PLANNED


def test_a_short_course_counts_distinct_days_not_sessions() -> None:
    program = with_sessions(
        ProgramKind.DEVELOPMENT_TARGET_COURSE, (FIRST_DAY, "2"), (FIRST_DAY, "2"), (DAY_2, "2"), (DAY_2, "2")
    )
    with broken("program.short_course_length"):
        program.publish(NOW)


@pytest.mark.parametrize(
    "sessions",
    [
        [(FIRST_DAY, "1"), (DAY_2, "1"), (DAY_3, "1")],  # 3 days of 1 hour
        [(FIRST_DAY, "24")],  # 1 day of 24 hours
        [(FIRST_DAY, "12"), (DAY_2, "12")],  # 2 days of 24 hours
    ],
    ids=["3-days-of-1-hour", "1-day-of-24-hours", "2-days-of-24-hours"],
)
def test_a_short_course_of_3_days_or_24_hours_is_published(sessions: list[tuple[dt.date, str]]) -> None:
    program = with_sessions(ProgramKind.DEVELOPMENT_TARGET_COURSE, *sessions)
    program.publish(NOW)
    assert program.state.phase is Phase.PUBLISHED


def test_other_kinds_of_program_may_be_shorter_than_the_short_course() -> None:
    program = with_sessions(ProgramKind.ACTIVIST_COURSE, (FIRST_DAY, "1"))
    program.publish(NOW)
    assert program.state.phase is Phase.PUBLISHED


# -- seats ----------------------------------------------------------------------------------


def test_a_seat_is_taken_only_while_the_program_is_published() -> None:
    with broken("program.exists"):
        TrainingProgram("p1").take_seat("a", SELF, ANYONE)
    for program in (planned(), running(), closed()):
        with broken("program.enrol_when_published"):
            program.take_seat("a", SELF, ANYONE)
        assert program.state.seats == []
    program = published()
    program.take_seat("a", SELF, ANYONE)
    assert program.state.seats == ["a"] and program.pending_events[-1] == SeatTaken("a", SELF)


def test_the_last_seat_goes_to_the_first_learner_and_the_next_is_refused() -> None:
    program = published(capacity=1)
    program.take_seat("a", SELF, ANYONE)
    assert program.seats_left == 0
    with broken("program.capacity_reached"):
        program.take_seat("b", SELF, ANYONE)
    assert program.state.seats == ["a"]


def test_a_person_takes_one_seat_only() -> None:
    program = published(capacity=5)
    program.take_seat("a", SELF, ANYONE)
    with broken("enrolment.once"):
        program.take_seat("a", EnrolmentSource.ASSIGNED.value, ANYONE)
    assert program.state.seats == ["a"] and program.seats_left == 4


def test_a_released_seat_can_be_taken_again() -> None:
    program = published(capacity=1)
    program.take_seat("a", SELF, ANYONE)
    program.release_seat("a")
    assert program.pending_events[-1] == SeatReleased("a") and program.seats_left == 1
    program.take_seat("b", SELF, ANYONE)
    assert program.state.seats == ["b"]


def test_releasing_a_seat_nobody_holds_records_nothing() -> None:
    program = published()
    version = program.version
    program.release_seat("nobody")
    assert program.version == version


def test_an_empty_audience_admits_anyone() -> None:
    assert admits(Audience(), Learner())
    assert admits(Audience(), Learner("leading", "county", "development_target"))


def test_an_audience_admits_only_a_learner_of_each_count_it_names() -> None:
    audience = Audience(post_categories=["leading", "professional"], levels=["county"])
    assert admits(audience, Learner("leading", "county"))
    assert admits(audience, Learner("professional", "county", "anything"))  # member stages not named
    assert not admits(audience, Learner("clerical", "county"))  # post category not named
    assert not admits(audience, Learner("leading", "township"))  # level not named
    assert not admits(audience, Learner("leading", None))  # level unknown
    assert not admits(audience, Learner())


def test_a_learner_not_of_the_audience_takes_no_seat() -> None:
    program = published(audience=Audience(member_stages=["development_target"]))
    with broken("program.audience"):
        program.take_seat("a", SELF, Learner(member_stage="activist"))
    with broken("program.audience"):
        program.take_seat("a", SELF, ANYONE)
    program.take_seat("b", SELF, Learner(member_stage="development_target"))
    assert program.state.seats == ["b"]


# -- phases ---------------------------------------------------------------------------------


def test_a_program_starts_only_once_published() -> None:
    for program in (planned(), running(), closed()):
        with broken("program.start_when_published"):
            program.start(NOW)
    program = published()
    program.start(NOW)
    assert program.state.phase is Phase.RUNNING


def test_a_program_closes_only_while_running() -> None:
    for program in (planned(), published(), closed()):
        with broken("program.close_when_running"):
            program.close(NOW)
    program = running()
    program.close(NOW)
    assert program.state.phase is Phase.CLOSED


def test_a_refused_command_leaves_the_program_as_it_was() -> None:
    program = published(capacity=1)
    program.take_seat("a", SELF, ANYONE)
    state, version, pending = copy.deepcopy(program.state), program.version, program.pending_events
    with broken("program.capacity_reached"):
        program.take_seat("b", SELF, ANYONE)
    with broken("program.schedule_sessions_when_planned"):
        program.schedule_session("s2", "Late", at(FIRST_DAY), Decimal(1))
    with broken("program.close_when_running"):
        program.close(NOW)
    assert program.state == state and program.version == version and program.pending_events == pending


def test_a_refused_command_is_named_with_the_programs_phase() -> None:
    program = planned()
    with pytest.raises(RuleViolation) as caught:
        program.take_seat("a", SELF, ANYONE)
    assert caught.value.rule == "program.enrol_when_published"
    assert caught.value.state == {"id": "p1", "version": 1, "phase": "planned"}
