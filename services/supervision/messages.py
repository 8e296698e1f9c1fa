"""The supervision service's RPC requests and replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from services.supervision.domain.case import ROLES
from services.supervision.domain.inspection import TaskKind
from shared.runtime.requests import ID, LONG_TEXT, NAME, Command

TEXT = LONG_TEXT


@dataclass(frozen=True, kw_only=True)
class OpenCase(Command):
    cadre_id: str = field(metadata=ID)
    summary: str = field(metadata=TEXT)
    process_id: str | None = field(default=None, metadata=ID)
    case_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class OnCase(Command):
    case_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class AssignCase(OnCase):
    investigator: str = field(metadata=NAME)


@dataclass(frozen=True)
class ParticipantInput:
    name: str = field(metadata=NAME)
    role: str = field(metadata={"validate": validate.OneOf(ROLES)})


@dataclass(frozen=True, kw_only=True)
class JointMeeting(OnCase):
    participants: list[ParticipantInput] = field(metadata={"validate": validate.Length(min=2, max=50)})
    decision: str = field(metadata=TEXT)


@dataclass(frozen=True, kw_only=True)
class RecordOutcome(OnCase):
    substantiated: bool
    reasons: str = field(metadata=TEXT)


@dataclass(frozen=True)
class CaseView:
    case_id: str
    version: int
    cadre_id: str
    process_id: str | None
    origin: str
    investigator: str | None
    meetings: int
    outcome: str


@dataclass(frozen=True)
class CaseQuery:
    cadre_id: str | None = field(default=None, metadata=ID)
    status: str | None = field(
        default=None, metadata={"validate": validate.OneOf(["open", "substantiated", "not_substantiated"])}
    )


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    cadre_id: str
    process_id: str | None
    origin: str
    submission_id: str | None
    status: str
    opened_at: dt.datetime
    investigator: str | None


@dataclass(frozen=True)
class CaseList:
    items: list[CaseRow]


@dataclass(frozen=True, kw_only=True)
class AssignTask(Command):
    kind: TaskKind = field(metadata={"by_value": True})
    unit: str = field(metadata=NAME)
    goal: str = field(metadata=TEXT)
    deadline: dt.datetime
    responsible: str = field(metadata=NAME)
    task_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class OnTask(Command):
    task_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class ReportProgress(OnTask):
    percent: int = field(metadata={"validate": validate.Range(min=0, max=100)})
    note: str = field(metadata=TEXT)


@dataclass(frozen=True, kw_only=True)
class RecordFinding(OnTask):
    finding: str = field(metadata=TEXT)
    follow_up_deadline: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CompleteTask(OnTask):
    summary: str = field(metadata=TEXT)


@dataclass(frozen=True)
class TaskView:
    task_id: str
    version: int
    kind: str
    unit: str
    deadline: dt.datetime
    percent: int
    completed: bool
    escalated: bool
    follow_up_task_id: str | None = None


@dataclass(frozen=True)
class EscalationCount:
    escalated: int


@dataclass(frozen=True)
class TaskQuery:
    status: str | None = field(
        default=None, metadata={"validate": validate.OneOf(["active", "completed", "escalated"])}
    )


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    kind: str
    unit: str
    goal: str
    responsible: str
    deadline: dt.datetime
    percent: int
    status: str
    parent_task_id: str | None


@dataclass(frozen=True)
class TaskList:
    items: list[TaskRow]


@dataclass(frozen=True)
class NoticeRow:
    notice_id: str
    task_id: str
    title: str
    body: str
    issued_at: dt.datetime


@dataclass(frozen=True)
class NoticeList:
    items: list[NoticeRow]
