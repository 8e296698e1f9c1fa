"""Inspection tasks: assigned with a deadline, reported on, completed, or escalated when overdue.

A finding with a follow-up deadline opens a follow-up task in the same
transaction, continuing the parent task's story. The overdue sweep escalates
every task still active past its deadline and issues an inspection notice;
past is counted on the service's calendar (``uow.calendar``): a deadline on an
official holiday falls due at the end of the first working day after it.

A branch grassroots rates weak and lax (``WeakBranchIdentified``) gets a
follow-up task of its own, to be rectified within ``RECTIFICATION_WORKING_DAYS``.
"""

from __future__ import annotations

import dataclasses
import uuid

from services.supervision import messages as m
from services.supervision.domain.inspection import InspectionTask, TaskKind
from services.supervision.inbound import WeakBranch
from services.supervision.read_models import inspections
from services.supervision.views import EscalationCount, TaskView, task_view
from shared.application import Author, Sweep, UnitOfWork
from shared.application.commands import TEXT_LIMIT
from shared.eventstore.records import RecordedEvent

#: How long a weak branch has to rectify, in working days on the organisation's calendar (about three months).
RECTIFICATION_WORKING_DAYS = 60


def missed(record: RecordedEvent) -> str | None:
    """An escalation is a task's deadline missed (``inspection_task``: a rectification, a follow-up, any task)."""
    return "inspection_task" if record.type == "InspectionTaskEscalated" else None


OVERDUE = Sweep(
    name="overdue check",
    aggregate=InspectionTask,
    due=inspections.overdue,
    command=InspectionTask.escalate,
    reason="overdue check",
    missed=missed,
)


def assign_task(request: m.AssignTask, uow: UnitOfWork) -> TaskView:
    now = uow.clock.now()
    task, _ = uow.create(
        InspectionTask,
        request.task_id or uuid.uuid4().hex,
        lambda t: t.assign(request.kind, request.unit, request.goal, request.deadline, request.responsible, now),
        request,
    )
    return task_view(task)


def report_progress(request: m.ReportProgress, uow: UnitOfWork) -> TaskView:
    now = uow.clock.now()
    task, _ = uow.update(
        InspectionTask, request.task_id, lambda t: t.report_progress(request.percent, request.note, now), request
    )
    return task_view(task)


def record_finding(request: m.RecordFinding, uow: UnitOfWork) -> TaskView:
    """A finding; with a follow-up deadline it opens a follow-up task, in the same transaction."""
    now = uow.clock.now()
    follow_up = uuid.uuid4().hex if request.follow_up_deadline else None
    with uow.transaction():
        task, recorded = uow.update(
            InspectionTask, request.task_id, lambda t: t.record_finding(request.finding, follow_up, now), request
        )
        if follow_up is not None and request.follow_up_deadline is not None:
            deadline = request.follow_up_deadline
            uow.create(
                InspectionTask,
                follow_up,
                lambda t: t.assign(
                    TaskKind.FOLLOW_UP,
                    task.state.unit,
                    f"follow up: {request.finding}",
                    deadline,
                    task.state.responsible,
                    now,
                    parent_task_id=task.id,
                ),
                Author(request.actor, f"finding on task {task.id}"),
                # the follow-up continues the parent task's story, caused by the finding
                correlation_id=uow.origin_correlation(task.stream_id),
                causation_id=recorded[-1].event_id,
            )
    return task_view(task, follow_up)


def complete_task(request: m.CompleteTask, uow: UnitOfWork) -> TaskView:
    now = uow.clock.now()
    task, _ = uow.update(InspectionTask, request.task_id, lambda t: t.complete(request.summary, now), request)
    return task_view(task)


def check_overdue(uow: UnitOfWork, sweep: Sweep[InspectionTask] = OVERDUE) -> EscalationCount:
    """Escalate every overdue task and issue its notice (the timer runs this too), counted on the calendar.

    The read model names the tasks past their deadline as set; one whose
    deadline fell on a holiday and is not yet due is left for a later check.
    """
    calendar = uow.calendar
    on_calendar = dataclasses.replace(sweep, command=lambda task, now: task.escalate(now, calendar))
    return EscalationCount(on_calendar.run(uow).changed)


def follow_up_weak_branch(weak: WeakBranch, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A weak branch: a follow-up inspection task, once per rating, in the rating's story."""
    task_id = f"weak-branch-{record.event_id}"
    if uow.load_or_new(InspectionTask, task_id).version:
        return
    now = uow.clock.now()
    deadline = uow.calendar.end_of_working_days(now, RECTIFICATION_WORKING_DAYS)
    problems = "; ".join(weak.problems) or "rated weak"
    goal = f"Rectify the weak branch {weak.name} ({weak.year}): {problems}"[:TEXT_LIMIT]
    uow.create(
        InspectionTask,
        task_id,
        lambda t: t.assign(TaskKind.FOLLOW_UP, weak.name, goal, deadline, "the branch's higher party committee", now),
        uow.system(f"branch {weak.branch_id} rated weak for {weak.year}"),
    )
