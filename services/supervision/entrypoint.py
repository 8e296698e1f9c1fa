"""The supervision service on nameko: one line per RPC method, event handler and timer.

Each entrypoint hands its validated request to the service layer with the
worker's unit of work; queries read the read models directly.
"""

from __future__ import annotations

from services.supervision import messages as m
from services.supervision import read_models
from services.supervision.domain.case import SupervisionCase
from services.supervision.domain.events import registry
from services.supervision.domain.inspection import InspectionTask
from services.supervision.inbound import RoutedComplaint, WeakBranch
from services.supervision.read_models import cases as case_queries
from services.supervision.read_models import inspections as inspection_queries
from services.supervision.read_models.cases import CaseRow
from services.supervision.read_models.inspections import NoticeRow, TaskRow
from services.supervision.service_layer import cases as case_work
from services.supervision.service_layer import inspections as inspection_work
from services.supervision.views import CaseView, EscalationCount, TaskView
from shared.application.privacy import ErasedElsewhere, follow_erasure
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.periodic import every
from shared.runtime.service import ServiceBase


class SupervisionService(ServiceBase):
    name = "supervision"
    events = registry
    aggregates = (SupervisionCase, InspectionTask)
    projections = read_models.ALL

    # -- cases ------------------------------------------------------------------------

    @rpc_method(request=m.OpenCase, response=CaseView)
    def open_case(self, request: m.OpenCase) -> CaseView:
        return case_work.open_case(request, self.uow)

    @rpc_method(request=m.AssignCase, response=CaseView)
    def assign_case(self, request: m.AssignCase) -> CaseView:
        return case_work.assign_case(request, self.uow)

    @rpc_method(request=m.JointMeeting, response=CaseView)
    def hold_joint_meeting(self, request: m.JointMeeting) -> CaseView:
        return case_work.hold_joint_meeting(request, self.uow)

    @rpc_method(request=m.RecordOutcome, response=CaseView)
    def record_outcome(self, request: m.RecordOutcome) -> CaseView:
        return case_work.record_outcome(request, self.uow)

    @rpc_method(request=m.CaseQuery, response=CaseRow, many=True)
    def cases(self, query: m.CaseQuery) -> list[CaseRow]:
        return case_queries.cases(self.uow, query)

    @handles("feedback", "ComplaintRoutedToSupervision", payload=RoutedComplaint)
    def on_routed_complaint(self, complaint: RoutedComplaint, record: RecordedEvent) -> None:
        case_work.open_from_complaint(complaint, record, self.uow)

    @handles("feedback", "PersonalDataErased", payload=ErasedElsewhere)  # a complaint's text is its submitter's
    def on_submitter_erased(self, erased: ErasedElsewhere, record: RecordedEvent) -> None:
        follow_erasure(erased, "feedback", ("submitter",), self.uow)

    # -- inspection tasks ------------------------------------------------------------------

    @rpc_method(request=m.AssignTask, response=TaskView)
    def assign_task(self, request: m.AssignTask) -> TaskView:
        return inspection_work.assign_task(request, self.uow)

    @rpc_method(request=m.ReportProgress, response=TaskView)
    def report_progress(self, request: m.ReportProgress) -> TaskView:
        return inspection_work.report_progress(request, self.uow)

    @rpc_method(request=m.RecordFinding, response=TaskView)
    def record_finding(self, request: m.RecordFinding) -> TaskView:
        return inspection_work.record_finding(request, self.uow)

    @rpc_method(request=m.CompleteTask, response=TaskView)
    def complete_task(self, request: m.CompleteTask) -> TaskView:
        return inspection_work.complete_task(request, self.uow)

    @rpc_method(response=EscalationCount)
    def check_overdue(self) -> EscalationCount:
        return inspection_work.check_overdue(self.uow)

    @every(lambda settings: settings.supervision.overdue_check_seconds)
    def periodic_overdue_check(self) -> None:
        inspection_work.check_overdue(self.uow)

    @rpc_method(request=m.TaskQuery, response=TaskRow, many=True)
    def tasks(self, query: m.TaskQuery) -> list[TaskRow]:
        return inspection_queries.tasks(self.uow, query)

    @rpc_method(response=NoticeRow, many=True)
    def inspection_notices(self) -> list[NoticeRow]:
        return inspection_queries.inspection_notices(self.uow)

    @handles("grassroots", "WeakBranchIdentified", payload=WeakBranch)
    def on_weak_branch(self, weak: WeakBranch, record: RecordedEvent) -> None:
        inspection_work.follow_up_weak_branch(weak, record, self.uow)
