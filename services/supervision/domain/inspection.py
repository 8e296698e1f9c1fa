"""An inspection task (督查): a unit, a goal, a deadline, a responsible person.

Progress is reported as it goes; an overdue task is escalated, once, and an
inspection notice (督查通报) is issued with it; a finding may call for a
follow-up task.

Overdue is counted on the organisation's calendar: a deadline that falls on
an official holiday is met by the end of the first working day after it
(``OrganisationCalendar.past_holiday``), so no task is escalated, and no
notice issued against a unit, for a day the whole organisation was off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from services.supervision.domain.events import (
    FindingRecorded,
    InspectionNoticeIssued,
    InspectionTaskAssigned,
    InspectionTaskCompleted,
    InspectionTaskEscalated,
    ProgressReported,
)
from shared.domain import Aggregate, applies, command
from shared.domain.calendar import OrganisationCalendar


class TaskKind(StrEnum):
    KEY = "key"  # 重点
    SPECIAL = "special"  # 专项
    PROACTIVE = "proactive"  # 主动
    FOLLOW_UP = "follow_up"  # 跟踪


@dataclass
class TaskState:
    assigned: bool = False
    kind: str = ""
    unit: str = ""
    goal: str = ""
    responsible: str = ""
    deadline: dt.datetime | None = None
    percent: int = 0
    completed: bool = False
    escalated: bool = False
    findings: int = 0


class InspectionTask(Aggregate):
    category = "inspection"
    State = TaskState
    state: TaskState

    def _active(self) -> None:
        self.require(self.state.assigned, "inspection.assigned", f"inspection task {self.id} does not exist")
        self.require(not self.state.completed, "inspection.completed", f"inspection task {self.id} is completed")

    def falls_due(
        self, calendar: OrganisationCalendar | None = None, zone: dt.tzinfo | None = None
    ) -> dt.datetime | None:
        """When the deadline is missed: as set, or past the holiday it falls on.

        ``calendar`` is the unit of work's; without one, the deadline as set.
        The deadline's day is read in ``zone``, the organisation's (the zone
        of the service's clock), else in the deadline's own.
        """
        deadline = self.state.deadline
        if deadline is None or calendar is None:
            return deadline
        return calendar.past_holiday(deadline.astimezone(zone) if zone is not None else deadline)

    def is_overdue(self, now: dt.datetime, calendar: OrganisationCalendar | None = None) -> bool:
        due = self.falls_due(calendar, now.tzinfo)
        return self.state.assigned and not self.state.completed and due is not None and now > due

    @command
    def assign(
        self,
        kind: TaskKind,
        unit: str,
        goal: str,
        deadline: dt.datetime,
        responsible: str,
        now: dt.datetime,
        parent_task_id: str | None = None,
    ) -> None:
        self.require(not self.state.assigned, "inspection.assign_once", f"inspection task {self.id} exists already")
        self.require(deadline > now, "inspection.deadline_ahead", "a deadline lies ahead of the assignment")
        self.require(
            parent_task_id is None or kind is TaskKind.FOLLOW_UP,
            "inspection.follow_up_parent",
            "only a follow-up task follows another task",
        )
        self.record(InspectionTaskAssigned(str(kind), unit, goal, deadline, responsible, parent_task_id, now))

    @command
    def report_progress(self, percent: int, note: str, now: dt.datetime) -> None:
        self._active()
        self.require(0 <= percent <= 100, "inspection.percent", "progress runs from 0 to 100 percent")
        self.require(
            percent >= self.state.percent,
            "inspection.progress_forward",
            f"progress was {self.state.percent}%; it does not go back",
        )
        self.record(ProgressReported(percent, note, now))

    @command
    def record_finding(self, finding: str, follow_up_task_id: str | None, now: dt.datetime) -> None:
        self.require(self.state.assigned, "inspection.assigned", f"inspection task {self.id} does not exist")
        self.record(FindingRecorded(finding, follow_up_task_id, now))

    @command
    def complete(self, summary: str, now: dt.datetime) -> None:
        self._active()
        self.record(InspectionTaskCompleted(summary, now))

    @command
    def escalate(self, now: dt.datetime, calendar: OrganisationCalendar | None = None) -> None:
        """An overdue task (counted on ``calendar``) is escalated once, and an inspection notice issued."""
        self._active()
        self.require(self.is_overdue(now, calendar), "inspection.not_overdue", "only an overdue task is escalated")
        self.require(not self.state.escalated, "inspection.escalated_once", f"task {self.id} is escalated already")
        assert self.state.deadline is not None
        self.record(InspectionTaskEscalated(self.state.deadline, now))
        self.record(
            InspectionNoticeIssued(
                f"notice-{self.id}",
                f"Overdue inspection task at {self.state.unit}",
                f"The {self.state.kind} inspection task '{self.state.goal}' assigned to {self.state.responsible} "
                f"was due {self.state.deadline.isoformat()} and is {self.state.percent}% done.",
                now,
            )
        )

    @applies(InspectionTaskAssigned)
    def _assigned(self, e: InspectionTaskAssigned) -> None:
        s = self.state
        s.assigned, s.kind, s.unit, s.goal, s.deadline, s.responsible = (
            True,
            e.kind,
            e.unit,
            e.goal,
            e.deadline,
            e.responsible,
        )

    @applies(ProgressReported)
    def _progress(self, e: ProgressReported) -> None:
        self.state.percent = e.percent

    @applies(FindingRecorded)
    def _finding(self, e: FindingRecorded) -> None:
        self.state.findings += 1

    @applies(InspectionTaskCompleted)
    def _completed(self, e: InspectionTaskCompleted) -> None:
        self.state.completed = True
        self.state.percent = 100

    @applies(InspectionTaskEscalated)
    def _escalated(self, e: InspectionTaskEscalated) -> None:
        self.state.escalated = True

    @applies(InspectionNoticeIssued)
    def _notice(self, e: InspectionNoticeIssued) -> None:
        pass
