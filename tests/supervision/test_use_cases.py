"""The supervision service layer against the in-memory unit of work: no broker, no database.

A routed complaint opens one case however often it arrives; a finding opens
its follow-up task in the same transaction; the overdue sweep escalates what
its read model finds due, as the service itself, and skips what is no longer due.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import pytest

from services.supervision import messages as m
from services.supervision.domain.inspection import InspectionTask, TaskKind
from services.supervision.entrypoint import SupervisionService
from services.supervision.inbound import RoutedComplaint
from services.supervision.service_layer import cases, inspections
from shared.application import Sweep, UnitOfWork
from shared.application.memory import InMemoryUnitOfWork
from shared.errors import RuleViolation
from shared.eventstore.records import record_from_envelope
from tests.support import foreign
from tests.support.local import memory_uow

OFFICE = "supervision-office"


def task(uow: InMemoryUnitOfWork, task_id: str, days: int = 10) -> None:
    inspections.assign_task(
        m.AssignTask(
            actor=OFFICE,
            task_id=task_id,
            kind=TaskKind.KEY,
            unit="Qingshan township",
            goal="rectify the ledger",
            deadline=uow.clock.now() + dt.timedelta(days=days),
            responsible="Sun",
        ),
        uow,
    )


def sweep_over(ids: Iterable[str]) -> Sweep[InspectionTask]:
    """The overdue sweep, with the read model's answer given (the query itself runs on PostgreSQL)."""

    def due(uow: UnitOfWork, now: dt.datetime) -> list[str]:
        return list(ids)

    return dataclasses.replace(inspections.OVERDUE, due=due)


def test_the_overdue_sweep_escalates_what_is_due_as_the_service_and_skips_the_rest() -> None:
    uow = memory_uow(SupervisionService)
    task(uow, "late", days=2)
    task(uow, "done", days=2)
    task(uow, "early", days=30)
    inspections.complete_task(m.CompleteTask(actor=OFFICE, task_id="done", summary="rectified"), uow)
    uow.clock.advance(dt.timedelta(days=5))

    # The read model may lag behind: it can name tasks completed or not yet due meanwhile.
    result = inspections.check_overdue(uow, sweep_over(["late", "done", "early"]))
    assert result.escalated == 1
    escalated, notice = uow.events_of("inspection-late")[-2:]
    assert (escalated.type, notice.type) == ("InspectionTaskEscalated", "InspectionNoticeIssued")
    assert escalated.metadata["actor"] == "service:supervision"
    assert escalated.metadata["reason"] == "overdue check"
    assert escalated.tx_id == notice.tx_id
    assert [e.type for e in uow.events_of("inspection-done")][-1] == "InspectionTaskCompleted"
    assert len(uow.events_of("inspection-early")) == 1

    assert inspections.check_overdue(uow, sweep_over(["late"])).escalated == 0, "escalated once"


def test_a_finding_with_a_deadline_opens_a_follow_up_task_in_the_same_story() -> None:
    uow = memory_uow(SupervisionService)
    task(uow, "t1")
    view = inspections.record_finding(
        m.RecordFinding(
            actor=OFFICE,
            task_id="t1",
            finding="the ledger is incomplete",
            follow_up_deadline=uow.clock.now() + dt.timedelta(days=20),
        ),
        uow,
    )
    assert view.follow_up_task_id is not None
    finding = uow.events_of("inspection-t1")[-1]
    follow_up = uow.events_of(f"inspection-{view.follow_up_task_id}")
    assert [e.type for e in follow_up] == ["InspectionTaskAssigned"]
    assert follow_up[0].data["kind"] == "follow_up" and follow_up[0].data["parent_task_id"] == "t1"
    assert follow_up[0].metadata["causation_id"] == finding.event_id
    assert follow_up[0].metadata["correlation_id"] == uow.events_of("inspection-t1")[0].metadata["correlation_id"]
    assert follow_up[0].tx_id == finding.tx_id


def test_a_follow_up_deadline_already_past_refuses_the_finding_too() -> None:
    uow = memory_uow(SupervisionService)
    task(uow, "t1")
    before = len(uow.events)
    with pytest.raises(RuleViolation, match=r"inspection\.deadline_ahead"):
        inspections.record_finding(
            m.RecordFinding(
                actor=OFFICE, task_id="t1", finding="x", follow_up_deadline=uow.clock.now() - dt.timedelta(days=1)
            ),
            uow,
        )
    assert len(uow.events) == before, "no finding without its follow-up"


def test_a_routed_complaint_opens_one_case_however_often_it_arrives() -> None:
    uow = memory_uow(SupervisionService)
    complaint = RoutedComplaint("s-1", "c-42", "gifts from a contractor", "proc-9")
    record = record_from_envelope(
        foreign.envelope("feedback", "ComplaintRoutedToSupervision", "submission-s-1", {"submission_id": "s-1"})
    )
    uow.handle_event(record)
    cases.open_from_complaint(complaint, record, uow)
    cases.open_from_complaint(complaint, record, uow)
    opened = uow.events_of("case-complaint-s-1")
    assert [e.type for e in opened] == ["CaseOpened"]
    assert opened[0].data["origin"] == "complaint" and opened[0].data["process_id"] == "proc-9"
    assert opened[0].metadata["actor"] == "service:supervision"
    assert opened[0].metadata["correlation_id"] == record.correlation_id


def test_a_case_is_concluded_with_discipline_inspection_and_its_outcome_published() -> None:
    uow = memory_uow(SupervisionService)
    case = cases.open_case(m.OpenCase(actor=OFFICE, case_id="k1", cadre_id="c-1", summary="a report"), uow)
    assert case.origin == "department" and case.outcome == "open"
    cases.assign_case(m.AssignCase(actor=OFFICE, case_id="k1", investigator="Zhao"), uow)
    with pytest.raises(RuleViolation, match=r"case\.joint_meeting_first"):
        cases.record_outcome(m.RecordOutcome(actor=OFFICE, case_id="k1", substantiated=True, reasons="x"), uow)
    participants = [m.ParticipantInput("Zhao", "organization"), m.ParticipantInput("Qian", "discipline_inspection")]
    cases.hold_joint_meeting(m.JointMeeting(actor=OFFICE, case_id="k1", participants=participants, decision="d"), uow)
    view = cases.record_outcome(m.RecordOutcome(actor=OFFICE, case_id="k1", substantiated=True, reasons="x"), uow)
    assert view.outcome == "substantiated"
    published = uow.events_of("case-k1")[-1]
    assert published.type == "SupervisionOutcomeRecorded"
    assert published.data["cadre_id"] == "c-1" and published.data["substantiated"] is True
