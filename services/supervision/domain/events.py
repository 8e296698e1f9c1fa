"""Everything that happens in supervision, as events.

Personal data (``personal``): a case's summary, the complaint's text of its
submitter (``submitter:<submission id>``, as feedback seals it) or, for a
case the department opened, about the cadre (``cadre:<cadre id>``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared.domain import DomainEvent, EventRegistry
from shared.domain.personal import Subject, personal


@dataclass(frozen=True)
class Participant:
    name: str
    role: str  # "organization" or "discipline_inspection"


@dataclass(frozen=True)
class CaseOpened(DomainEvent):
    cadre_id: str
    process_id: str | None
    origin: str  # "complaint" (routed from feedback) or "department"
    submission_id: str | None
    # a complaint's text is its submitter's; a case the department opened describes the cadre
    summary: str = field(metadata=personal("submitter", of="submission_id", otherwise=Subject("cadre", of="cadre_id")))
    opened_at: dt.datetime


@dataclass(frozen=True)
class CaseAssigned(DomainEvent):
    investigator: str
    assigned_at: dt.datetime


@dataclass(frozen=True)
class JointMeetingHeld(DomainEvent):
    """干部监督联席会议: coordinated with discipline inspection."""

    participants: list[Participant]
    decision: str
    held_at: dt.datetime


@dataclass(frozen=True)
class SupervisionOutcomeRecorded(DomainEvent):
    """The outcome names the cadre and the selection process it concerns.

    ``submission_id`` names the complaint the case came from, so that feedback
    can answer its submitter; events recorded before it existed load without it.
    """

    case_id: str
    cadre_id: str
    process_id: str | None
    substantiated: bool
    reasons: str
    recorded_at: dt.datetime
    submission_id: str | None = None


@dataclass(frozen=True)
class InspectionTaskAssigned(DomainEvent):
    kind: str
    unit: str
    goal: str
    deadline: dt.datetime
    responsible: str
    parent_task_id: str | None
    assigned_at: dt.datetime


@dataclass(frozen=True)
class ProgressReported(DomainEvent):
    percent: int
    note: str
    reported_at: dt.datetime


@dataclass(frozen=True)
class FindingRecorded(DomainEvent):
    finding: str
    follow_up_task_id: str | None
    recorded_at: dt.datetime


@dataclass(frozen=True)
class InspectionTaskCompleted(DomainEvent):
    summary: str
    completed_at: dt.datetime


@dataclass(frozen=True)
class InspectionTaskEscalated(DomainEvent):
    deadline: dt.datetime
    escalated_at: dt.datetime


@dataclass(frozen=True)
class InspectionNoticeIssued(DomainEvent):
    """督查通报: what an overdue task's escalation makes public."""

    notice_id: str
    title: str
    body: str
    issued_at: dt.datetime


registry = EventRegistry(
    [
        CaseOpened,
        CaseAssigned,
        JointMeetingHeld,
        SupervisionOutcomeRecorded,
        InspectionTaskAssigned,
        ProgressReported,
        FindingRecorded,
        InspectionTaskCompleted,
        InspectionTaskEscalated,
        InspectionNoticeIssued,
    ]
)
