"""The supervision service: cases about cadres, and inspection tasks.

A complaint about a cadre, routed by feedback, opens a case; the department can
open one too. The case's outcome is published for cadre, which withholds an
appointment when a substantiated outcome arrives during its public notice.
Inspection tasks that run past their deadline are escalated (periodically, and
on demand) and an inspection notice is issued.
"""

from __future__ import annotations

import logging
import os
import uuid

from nameko.timer import timer

from services.supervision import messages as m
from services.supervision.domain.case import SupervisionCase
from services.supervision.domain.events import Participant, registry
from services.supervision.domain.inspection import InspectionTask, TaskKind
from services.supervision.inbound import RoutedComplaint
from services.supervision.projections import ALL
from shared.errors import RuleViolation
from shared.eventstore.records import RecordedEvent
from shared.runtime.inbound import handles
from shared.runtime.rpc import rpc_method
from shared.runtime.service import ServiceBase

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "service:supervision"
OVERDUE_CHECK_SECONDS = float(os.environ.get("SUPERVISION_OVERDUE_CHECK_SECONDS", "60"))


def case_view(case: SupervisionCase) -> m.CaseView:
    s = case.state
    outcome = "open" if s.outcome is None else ("substantiated" if s.outcome else "not_substantiated")
    return m.CaseView(case.id, case.version, s.cadre_id, s.process_id, s.origin, s.investigator, s.meetings, outcome)


def task_view(task: InspectionTask, follow_up: str | None = None) -> m.TaskView:
    s = task.state
    assert s.deadline is not None
    return m.TaskView(task.id, task.version, s.kind, s.unit, s.deadline, s.percent, s.completed, s.escalated, follow_up)


class SupervisionService(ServiceBase):
    name = "supervision"
    events = registry
    aggregates = (SupervisionCase, InspectionTask)
    projections = ALL

    # -- cases --------------------------------------------------------------------------

    @rpc_method(request=m.OpenCase, response=m.CaseView)
    def open_case(self, request: m.OpenCase) -> m.CaseView:
        """The department opens a case of its own motion."""
        case, _ = self.storage.create(
            SupervisionCase,
            request.case_id or uuid.uuid4().hex,
            lambda c: c.open(
                request.cadre_id, request.process_id, "department", None, request.summary, self.clock.now()
            ),
            actor=request.actor,
            reason=request.reason,
        )
        return case_view(case)

    @rpc_method(request=m.AssignCase, response=m.CaseView)
    def assign_case(self, request: m.AssignCase) -> m.CaseView:
        case, _ = self.storage.update(
            SupervisionCase,
            request.case_id,
            lambda c: c.assign(request.investigator, self.clock.now()),
            actor=request.actor,
            reason=request.reason,
        )
        return case_view(case)

    @rpc_method(request=m.JointMeeting, response=m.CaseView)
    def hold_joint_meeting(self, request: m.JointMeeting) -> m.CaseView:
        participants = [Participant(p.name, p.role) for p in request.participants]
        case, _ = self.storage.update(
            SupervisionCase,
            request.case_id,
            lambda c: c.hold_joint_meeting(participants, request.decision, self.clock.now()),
            actor=request.actor,
            reason=request.reason,
        )
        return case_view(case)

    @rpc_method(request=m.RecordOutcome, response=m.CaseView)
    def record_outcome(self, request: m.RecordOutcome) -> m.CaseView:
        case, _ = self.storage.update(
            SupervisionCase,
            request.case_id,
            lambda c: c.record_outcome(request.substantiated, request.reasons, self.clock.now()),
            actor=request.actor,
            reason=request.reason,
        )
        return case_view(case)

    @rpc_method(request=m.CaseQuery, response=m.CaseList)
    def cases(self, query: m.CaseQuery) -> m.CaseList:
        rows = self.storage.query(
            "SELECT case_id, cadre_id, process_id, origin, submission_id, status, opened_at, investigator FROM cases "
            "WHERE (%(cadre)s::text IS NULL OR cadre_id = %(cadre)s) AND (%(status)s::text IS NULL OR status = %(status)s) "
            "ORDER BY opened_at",
            {"cadre": query.cadre_id, "status": query.status},
        )
        return m.CaseList([m.CaseRow(**row) for row in rows])

    @handles("feedback", "ComplaintRoutedToSupervision", payload=RoutedComplaint)
    def on_routed_complaint(self, complaint: RoutedComplaint, record: RecordedEvent) -> None:
        """A complaint about a cadre from the public opens a case (one per submission)."""
        case_id = f"complaint-{complaint.submission_id}"
        if self.storage.repository(SupervisionCase).load_or_new(case_id, conn=self.storage.conn).version:
            log.info("case %s exists already", case_id)
            return
        self.storage.create(
            SupervisionCase,
            case_id,
            lambda c: c.open(
                complaint.cadre_id,
                complaint.process_id,
                "complaint",
                complaint.submission_id,
                complaint.text,
                self.clock.now(),
            ),
            actor=SYSTEM_ACTOR,
            reason="complaint routed from feedback",
        )

    # -- inspection tasks ----------------------------------------------------------------

    @rpc_method(request=m.AssignTask, response=m.TaskView)
    def assign_task(self, request: m.AssignTask) -> m.TaskView:
        task, _ = self.storage.create(
            InspectionTask,
            request.task_id or uuid.uuid4().hex,
            lambda t: t.assign(
                request.kind, request.unit, request.goal, request.deadline, request.responsible, self.clock.now()
            ),
            actor=request.actor,
            reason=request.reason,
        )
        return task_view(task)

    @rpc_method(request=m.ReportProgress, response=m.TaskView)
    def report_progress(self, request: m.ReportProgress) -> m.TaskView:
        task, _ = self.storage.update(
            InspectionTask,
            request.task_id,
            lambda t: t.report_progress(request.percent, request.note, self.clock.now()),
            actor=request.actor,
            reason=request.reason,
        )
        return task_view(task)

    @rpc_method(request=m.RecordFinding, response=m.TaskView)
    def record_finding(self, request: m.RecordFinding) -> m.TaskView:
        """A finding; with a follow-up deadline it opens a follow-up task, in the same transaction."""
        now = self.clock.now()
        follow_up = uuid.uuid4().hex if request.follow_up_deadline else None
        with self.storage.transaction():
            task, recorded = self.storage.update(
                InspectionTask,
                request.task_id,
                lambda t: t.record_finding(request.finding, follow_up, now),
                actor=request.actor,
                reason=request.reason,
            )
            if follow_up is not None and request.follow_up_deadline is not None:
                self.storage.create(
                    InspectionTask,
                    follow_up,
                    lambda t: t.assign(
                        TaskKind.FOLLOW_UP,
                        task.state.unit,
                        f"follow up: {request.finding}",
                        request.follow_up_deadline,
                        task.state.responsible,
                        now,
                        parent_task_id=task.id,
                    ),
                    actor=request.actor,
                    reason=f"finding on task {task.id}",
                    # the follow-up continues the parent task's story, caused by the finding
                    correlation_id=self.storage.store.origin_correlation(task.stream_id, conn=self.storage.conn),
                    causation_id=recorded[-1].event_id,
                )
        return task_view(task, follow_up)

    @rpc_method(request=m.CompleteTask, response=m.TaskView)
    def complete_task(self, request: m.CompleteTask) -> m.TaskView:
        task, _ = self.storage.update(
            InspectionTask,
            request.task_id,
            lambda t: t.complete(request.summary, self.clock.now()),
            actor=request.actor,
            reason=request.reason,
        )
        return task_view(task)

    @rpc_method(response=m.EscalationCount)
    def check_overdue(self) -> m.EscalationCount:
        """Escalate every overdue task and issue its notice (also run periodically)."""
        return m.EscalationCount(self._escalate_overdue())

    @timer(interval=OVERDUE_CHECK_SECONDS)
    def periodic_overdue_check(self) -> None:
        escalated = self._escalate_overdue()
        if escalated:
            log.info("overdue check escalated %d task(s)", escalated)

    def _escalate_overdue(self) -> int:
        now = self.clock.now()
        rows = self.storage.query(
            "SELECT task_id FROM inspection_tasks WHERE status = 'active' AND deadline < %s", [now]
        )
        escalated = 0
        for row in rows:
            try:
                self.storage.update(
                    InspectionTask,
                    row["task_id"],
                    lambda t: t.escalate(now),
                    actor=SYSTEM_ACTOR,
                    reason="overdue check",
                )
                escalated += 1
            except RuleViolation as error:  # completed or escalated meanwhile
                log.info("task %s not escalated: %s", row["task_id"], error)
        return escalated

    @rpc_method(request=m.TaskQuery, response=m.TaskList)
    def tasks(self, query: m.TaskQuery) -> m.TaskList:
        rows = self.storage.query(
            "SELECT task_id, kind, unit, goal, responsible, deadline, percent, status, parent_task_id "
            "FROM inspection_tasks WHERE %(status)s::text IS NULL OR status = %(status)s ORDER BY deadline",
            {"status": query.status},
        )
        return m.TaskList([m.TaskRow(**row) for row in rows])

    @rpc_method(response=m.NoticeList)
    def inspection_notices(self) -> m.NoticeList:
        rows = self.storage.query(
            "SELECT notice_id, task_id, title, body, issued_at FROM inspection_notices ORDER BY issued_at"
        )
        return m.NoticeList([m.NoticeRow(**row) for row in rows])
