"""What the supervision service's commands answer, and how each is made from an aggregate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.supervision.domain.case import SupervisionCase
from services.supervision.domain.inspection import InspectionTask


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


def case_view(case: SupervisionCase) -> CaseView:
    s = case.state
    outcome = "open" if s.outcome is None else ("substantiated" if s.outcome else "not_substantiated")
    return CaseView(case.id, case.version, s.cadre_id, s.process_id, s.origin, s.investigator, s.meetings, outcome)


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


def task_view(task: InspectionTask, follow_up: str | None = None) -> TaskView:
    s = task.state
    assert s.deadline is not None, "an assigned task has a deadline"
    return TaskView(task.id, task.version, s.kind, s.unit, s.deadline, s.percent, s.completed, s.escalated, follow_up)


@dataclass(frozen=True)
class EscalationCount:
    escalated: int
