"""An enrolment's rules, at their boundaries: pure Python, no database, no broker.

Attendance is recorded only on the program's own sessions; completion needs
the attended share of the program's HOURS (not of its sessions) to reach the
rule's share (exactly equal is enough) and, where the program requires an
assessment, a pass. Concluding records the completion, with the program's
total hours, once; a withdrawn enrolment records nothing more.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.training.domain.enrolment import Enrolment, enrolment_id
from services.training.domain.events import (
    AttendanceRecorded,
    EnrolmentNotCompleted,
    EnrolmentWithdrawn,
    SessionHours,
    TrainingCompleted,
)
from services.training.domain.kinds import EnrolmentSource, Mode, ProgramKind
from shared.errors import RuleViolation

NOW = dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC)
CLOSED_AT = dt.datetime(2026, 4, 10, 18, 0, tzinfo=dt.UTC)
#: Two sessions of unequal length: "long" is 3 of the program's 4 hours.
SESSIONS = [SessionHours("long", Decimal(3)), SessionHours("short", Decimal(1))]


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def enrolled(
    share: Decimal = Decimal("0.75"),
    sessions: list[SessionHours] | None = None,
    assessment_required: bool = False,
) -> Enrolment:
    enrolment = Enrolment(enrolment_id("p1", "a"))
    enrolment.enrol(
        "a",
        "p1",
        EnrolmentSource.SELF_SELECTED.value,
        ProgramKind.THEMATIC.value,
        Mode.CLASSROOM.value,
        False,
        SESSIONS if sessions is None else sessions,
        share,
        assessment_required,
        NOW,
    )
    return enrolment


def attending(enrolment: Enrolment, *session_ids: str) -> Enrolment:
    for session_id in session_ids:
        enrolment.record_attendance(session_id, True, NOW)
    return enrolment


def concluded(enrolment: Enrolment) -> Any:
    """Conclude, and give what it recorded (exactly one event)."""
    before = len(enrolment.pending_events)
    enrolment.conclude(CLOSED_AT)
    recorded = enrolment.pending_events[before:]
    assert len(recorded) == 1, recorded
    return recorded[0]


def test_an_enrolment_is_made_once() -> None:
    enrolment = enrolled()
    with broken("enrolment.once"):
        enrolment.enrol("a", "p1", "assigned", "thematic", "classroom", True, SESSIONS, Decimal(1), False, NOW)
    assert enrolment.state.source == EnrolmentSource.SELF_SELECTED.value and enrolment.version == 1


def test_nothing_is_recorded_on_an_enrolment_that_does_not_exist() -> None:
    with broken("enrolment.exists"):
        Enrolment("p1:a").record_attendance("long", True, NOW)


def test_attendance_is_recorded_only_on_the_programs_sessions() -> None:
    enrolment = enrolled()
    with broken("enrolment.session"):
        enrolment.record_attendance("elsewhere", True, NOW)
    assert enrolment.state.present == {}
    enrolment.record_attendance("short", True, NOW)
    assert enrolment.pending_events[-1] == AttendanceRecorded("short", True, NOW)
    assert enrolment.state.present == {"short": True}


def test_the_same_attendance_twice_is_recorded_once() -> None:
    enrolment = attending(enrolled(), "long")
    version = enrolment.version
    enrolment.record_attendance("long", True, NOW)
    assert enrolment.version == version
    enrolment.record_attendance("long", False, NOW)  # corrected: absent after all
    assert enrolment.version == version + 1 and enrolment.attended_share == 0


def test_completion_counts_the_share_of_hours_not_of_sessions() -> None:
    # half the sessions, but a quarter of the hours: short of a rule of one half
    short = attending(enrolled(share=Decimal("0.5")), "short")
    assert short.attended_share == Decimal("0.25")
    event = concluded(short)
    assert isinstance(event, EnrolmentNotCompleted) and event.attended_share == Decimal("0.25")
    assert short.state.status == "not_completed"
    # half the sessions, but three quarters of the hours: above a rule of one half
    long = attending(enrolled(share=Decimal("0.5")), "long")
    assert isinstance(concluded(long), TrainingCompleted)


def test_an_attended_share_exactly_the_rules_completes() -> None:
    enrolment = attending(enrolled(share=Decimal("0.75")), "long")  # 3 of 4 hours
    assert enrolment.attended_share == Decimal("0.75")
    assert isinstance(concluded(enrolment), TrainingCompleted)
    assert enrolment.state.status == "completed"


def test_an_attended_share_just_below_the_rules_does_not_complete() -> None:
    sessions = [SessionHours("long", Decimal("2.99")), SessionHours("short", Decimal("1.01"))]
    enrolment = attending(enrolled(share=Decimal("0.75"), sessions=sessions), "long")  # 0.7475
    event = concluded(enrolment)
    assert isinstance(event, EnrolmentNotCompleted) and event.attended_share == Decimal("0.7475")
    # the same attendance against a rule a hair above it
    stricter = attending(enrolled(share=Decimal("0.7501")), "long")
    assert isinstance(concluded(stricter), EnrolmentNotCompleted)


def test_every_hour_attended_completes_a_rule_of_all_hours() -> None:
    assert isinstance(concluded(attending(enrolled(share=Decimal(1)), "long", "short")), TrainingCompleted)
    assert isinstance(concluded(attending(enrolled(share=Decimal(1)), "long")), EnrolmentNotCompleted)


@pytest.mark.parametrize("passed", [None, False])
def test_a_required_assessment_not_passed_does_not_complete(passed: bool | None) -> None:
    enrolment = attending(enrolled(assessment_required=True), "long", "short")
    if passed is not None:
        enrolment.record_assessment(passed, NOW)
    event = concluded(enrolment)
    assert isinstance(event, EnrolmentNotCompleted)
    assert event.attended_share == 1 and event.assessment_passed is passed


def test_a_required_assessment_passed_completes() -> None:
    enrolment = attending(enrolled(assessment_required=True), "long", "short")
    enrolment.record_assessment(True, NOW)
    assert isinstance(concluded(enrolment), TrainingCompleted)


def test_a_passed_assessment_does_not_make_up_for_too_few_hours() -> None:
    enrolment = attending(enrolled(assessment_required=True), "short")
    enrolment.record_assessment(True, NOW)
    assert isinstance(concluded(enrolment), EnrolmentNotCompleted)


def test_completion_credits_the_programs_total_hours_once() -> None:
    enrolment = attending(enrolled(share=Decimal("0.75")), "long")  # 3 of 4 hours attended
    event = concluded(enrolment)
    assert event == TrainingCompleted("a", "p1", ProgramKind.THEMATIC.value, Decimal(4), CLOSED_AT)
    version, pending = enrolment.version, enrolment.pending_events
    enrolment.conclude(CLOSED_AT + dt.timedelta(days=1))
    assert enrolment.version == version and enrolment.pending_events == pending


def test_an_enrolment_that_fell_short_is_concluded_once() -> None:
    enrolment = enrolled()
    assert isinstance(concluded(enrolment), EnrolmentNotCompleted)
    version = enrolment.version
    enrolment.conclude(CLOSED_AT)
    assert enrolment.version == version and enrolment.state.status == "not_completed"


def test_nothing_more_is_recorded_on_a_concluded_enrolment() -> None:
    enrolment = attending(enrolled(), "long")
    enrolment.conclude(CLOSED_AT)
    with broken("enrolment.active"):
        enrolment.record_attendance("short", True, NOW)
    with broken("enrolment.active"):
        enrolment.withdraw("too late", NOW)


def test_a_withdrawn_enrolment_records_nothing_more() -> None:
    enrolment = attending(enrolled(), "long", "short")
    enrolment.withdraw("moved to another post", NOW)
    assert enrolment.pending_events[-1] == EnrolmentWithdrawn("moved to another post", NOW)
    version, pending = enrolment.version, enrolment.pending_events
    with broken("enrolment.active"):
        enrolment.record_attendance("long", False, NOW)
    with broken("enrolment.active"):
        enrolment.record_assessment(True, NOW)
    with broken("enrolment.active"):
        enrolment.withdraw("again", NOW)
    enrolment.conclude(CLOSED_AT)  # it met the rule before withdrawing: still nothing
    assert enrolment.version == version and enrolment.pending_events == pending
    assert enrolment.state.status == "withdrawn"
