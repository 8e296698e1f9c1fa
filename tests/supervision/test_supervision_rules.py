"""The supervision domain's rules: pure Python."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any

import pytest

from services.supervision.domain.case import SupervisionCase
from services.supervision.domain.events import InspectionNoticeIssued, Participant, SupervisionOutcomeRecorded
from services.supervision.domain.inspection import InspectionTask, TaskKind
from shared.errors import RuleViolation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MEETING = [Participant("Zhao", "organization"), Participant("Qian", "discipline_inspection")]


def broken(rule: str) -> AbstractContextManager[Any]:
    return pytest.raises(RuleViolation, match=rf"\[rule: {rule}\]")


def opened() -> SupervisionCase:
    case = SupervisionCase("k1")
    case.open("c1", "proc-1", "complaint", "s1", "gifts", NOW)
    return case


def test_an_outcome_needs_an_investigator_and_a_joint_meeting_with_discipline_inspection() -> None:
    case = opened()
    with broken("case.assigned_first"):
        case.record_outcome(True, "r", NOW)
    case.assign("Zhao", NOW)
    with broken("case.joint_meeting_first"):
        case.record_outcome(True, "r", NOW)
    with broken("case.discipline_inspection"):
        case.hold_joint_meeting([Participant("Zhao", "organization")], "d", NOW)
    case.hold_joint_meeting(MEETING, "d", NOW)
    case.record_outcome(True, "confirmed", NOW)
    outcome = case.pending_events[-1]
    assert isinstance(outcome, SupervisionOutcomeRecorded)
    assert (outcome.case_id, outcome.cadre_id, outcome.process_id, outcome.substantiated) == (
        "k1",
        "c1",
        "proc-1",
        True,
    )
    with broken("case.concluded"):
        case.record_outcome(False, "changed my mind", NOW)


def test_a_case_comes_from_a_complaint_or_the_department() -> None:
    with broken("case.origin"):
        SupervisionCase("k").open("c1", None, "rumour", None, "s", NOW)


def task(deadline_days: int = 10) -> InspectionTask:
    t = InspectionTask("t1")
    t.assign(TaskKind.KEY, "Qingshan", "roads", NOW + dt.timedelta(days=deadline_days), "Sun", NOW)
    return t


def test_progress_goes_forward_and_a_completed_task_takes_no_more() -> None:
    t = task()
    t.report_progress(40, "half way", NOW)
    with broken("inspection.progress_forward"):
        t.report_progress(30, "oops", NOW)
    t.complete("done", NOW)
    with broken("inspection.completed"):
        t.report_progress(100, "late", NOW)


def test_an_overdue_task_is_escalated_once_with_a_notice() -> None:
    t = task(deadline_days=1)
    with broken("inspection.not_overdue"):
        t.escalate(NOW)
    later = NOW + dt.timedelta(days=2)
    t.escalate(later)
    assert isinstance(t.pending_events[-1], InspectionNoticeIssued)
    with broken("inspection.escalated_once"):
        t.escalate(later)


def test_only_a_follow_up_follows_another_task() -> None:
    with broken("inspection.follow_up_parent"):
        InspectionTask("t2").assign(
            TaskKind.SPECIAL, "u", "g", NOW + dt.timedelta(days=1), "r", NOW, parent_task_id="t1"
        )
    InspectionTask("t3").assign(TaskKind.FOLLOW_UP, "u", "g", NOW + dt.timedelta(days=1), "r", NOW, parent_task_id="t1")
    with broken("inspection.deadline_ahead"):
        InspectionTask("t4").assign(TaskKind.KEY, "u", "g", NOW, "r", NOW)


def test_the_domains_import_no_infrastructure() -> None:
    import subprocess
    import sys

    code = (
        "import sys, services.feedback.domain.submission, services.supervision.domain.case, "
        "services.supervision.domain.inspection; "
        "print(sorted(m for m in ('nameko', 'psycopg2', 'kombu', 'eventlet', 'amqp', 'cryptography') if m in sys.modules))"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )
