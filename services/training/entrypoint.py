"""The training service on nameko: one line per RPC method, event handler and timer.

Each entrypoint hands its validated request to the service layer with the
worker's unit of work; queries read the read models directly.
"""

from __future__ import annotations

from services.training import messages as m
from services.training import read_models
from services.training.domain.enrolment import Enrolment
from services.training.domain.events import registry
from services.training.domain.ledger import LearnerLedger
from services.training.domain.program import TrainingProgram
from services.training.domain.requirement import YearRequirements
from services.training.domain.suggestion import Suggestion
from services.training.inbound import (
    AppointedCandidate,
    AppointedToPost,
    DesignatedTarget,
    RegisteredCadre,
    RoutedSuggestion,
)
from services.training.read_models import learners as learner_queries
from services.training.read_models import programs as program_queries
from services.training.read_models import requirements as requirement_queries
from services.training.read_models import suggestions as suggestion_queries
from services.training.read_models.learners import InductionLine, LearnerRecord, ShortfallLine
from services.training.read_models.programs import ProgramRow, Roster
from services.training.read_models.requirements import RequirementRow
from services.training.read_models.suggestions import SuggestionRow
from services.training.service_layer import enrolments as enrolment_work
from services.training.service_layer import learners as learner_work
from services.training.service_layer import programs as program_work
from services.training.service_layer import requirements as requirement_work
from services.training.service_layer import suggestions as suggestion_work
from services.training.views import (
    ClosedProgram,
    DeadlineCheck,
    EnrolmentView,
    LearnerView,
    PlanView,
    ProgramView,
    RequirementView,
    SuggestionView,
)
from shared.application.privacy import ErasedElsewhere, follow_erasure
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.periodic import every
from shared.runtime.service import ServiceBase

#: The window a learner's record sums hours over: the one cadre's eligibility rule uses.
WINDOW_YEARS = 5


class TrainingService(ServiceBase):
    name = "training"
    events = registry
    aggregates = (TrainingProgram, Enrolment, LearnerLedger, YearRequirements, Suggestion)
    projections = read_models.ALL

    # -- programs ------------------------------------------------------------------------------

    @rpc_method(request=m.PlanProgram, response=ProgramView)
    def plan_program(self, request: m.PlanProgram) -> ProgramView:
        return program_work.plan_program(request, self.uow)

    @rpc_method(request=m.ScheduleSession, response=ProgramView)
    def schedule_session(self, request: m.ScheduleSession) -> ProgramView:
        return program_work.schedule_session(request, self.uow)

    @rpc_method(request=m.OnProgram, response=ProgramView)
    def publish_program(self, request: m.OnProgram) -> ProgramView:
        return program_work.publish_program(request, self.uow)

    @rpc_method(request=m.OnProgram, response=ProgramView)
    def start_program(self, request: m.OnProgram) -> ProgramView:
        return program_work.start_program(request, self.uow)

    @rpc_method(request=m.OnProgram, response=ClosedProgram)
    def close_program(self, request: m.OnProgram) -> ClosedProgram:
        return program_work.close_program(request, self.uow, self.settings.training)

    @rpc_method(request=m.ProgramQuery, response=ProgramRow, many=True)
    def open_programs(self, query: m.ProgramQuery) -> list[ProgramRow]:
        return program_queries.open_programs(self.uow, query)

    @rpc_method(request=m.ProgramRef, response=Roster)
    def roster(self, query: m.ProgramRef) -> Roster:
        return program_queries.roster(self.uow, query.program_id)

    # -- enrolments ------------------------------------------------------------------------------

    @rpc_method(request=m.Enrol, response=EnrolmentView)
    def enrol(self, request: m.Enrol) -> EnrolmentView:
        return enrolment_work.enrol(request, self.uow)

    @rpc_method(request=m.SelectCourse, response=EnrolmentView)
    def select_course(self, request: m.SelectCourse) -> EnrolmentView:
        return enrolment_work.select_course(request, self.uow)

    @rpc_method(request=m.RecordAttendance, response=EnrolmentView)
    def record_attendance(self, request: m.RecordAttendance) -> EnrolmentView:
        return enrolment_work.record_attendance(request, self.uow)

    @rpc_method(request=m.RecordAssessment, response=EnrolmentView)
    def record_assessment(self, request: m.RecordAssessment) -> EnrolmentView:
        return enrolment_work.record_assessment(request, self.uow)

    @rpc_method(request=m.Withdraw, response=EnrolmentView)
    def withdraw(self, request: m.Withdraw) -> EnrolmentView:
        return enrolment_work.withdraw(request, self.uow)

    # -- learners and requirements ---------------------------------------------------------------

    @rpc_method(request=m.RegisterLearner, response=LearnerView)
    def register_learner(self, request: m.RegisterLearner) -> LearnerView:
        return learner_work.register_learner(request, self.uow)

    @rpc_method(request=m.SetPlan, response=PlanView)
    def set_plan(self, request: m.SetPlan) -> PlanView:
        return learner_work.set_plan(request, self.uow)

    @rpc_method(request=m.SetRequirement, response=RequirementView)
    def set_requirement(self, request: m.SetRequirement) -> RequirementView:
        return requirement_work.set_requirement(request, self.uow, self.settings.training)

    @rpc_method(response=RequirementRow, many=True)
    def requirements(self) -> list[RequirementRow]:
        return requirement_queries.requirements(self.uow)

    @rpc_method(request=m.LearnerRef, response=LearnerRecord)
    def learner_record(self, query: m.LearnerRef) -> LearnerRecord:
        return learner_queries.learner_record(self.uow, query.person_id, self.uow.clock.now().year, WINDOW_YEARS)

    @rpc_method(request=m.MyRecord, response=LearnerRecord)
    def my_record(self, query: m.MyRecord) -> LearnerRecord:
        """The caller's own record: the learner is who the credentials say."""
        return learner_queries.learner_record(self.uow, query.person_id, self.uow.clock.now().year, WINDOW_YEARS)

    @rpc_method(request=m.ShortfallQuery, response=ShortfallLine, many=True)
    def shortfalls(self, query: m.ShortfallQuery) -> list[ShortfallLine]:
        return learner_queries.shortfalls(self.uow, query)

    @rpc_method(request=m.InductionQuery, response=InductionLine, many=True)
    def inductions(self, query: m.InductionQuery) -> list[InductionLine]:
        return learner_queries.inductions(self.uow, query)

    @rpc_method(response=DeadlineCheck)
    def check_deadlines(self) -> DeadlineCheck:
        return requirement_work.check_deadlines(self.uow, self.settings.training)

    @every(lambda settings: settings.training.deadline_check_seconds)
    def periodic_deadline_check(self) -> None:
        requirement_work.check_deadlines(self.uow, self.settings.training)

    # -- suggestions from the public ---------------------------------------------------------------

    @rpc_method(request=m.AnswerSuggestion, response=SuggestionView)
    def answer_suggestion(self, request: m.AnswerSuggestion) -> SuggestionView:
        return suggestion_work.answer(request, self.uow)

    @rpc_method(request=m.SuggestionQuery, response=SuggestionRow, many=True)
    def suggestions(self, query: m.SuggestionQuery) -> list[SuggestionRow]:
        return suggestion_queries.suggestions(self.uow, query)

    # -- other services' events -------------------------------------------------------------------

    @handles("cadre", "CadreRegistered", payload=RegisteredCadre)
    def on_cadre_registered(self, cadre: RegisteredCadre, record: RecordedEvent) -> None:
        learner_work.cadre_registered(cadre, record, self.uow)

    @handles("cadre", "CandidateAppointed", payload=AppointedCandidate)
    def on_candidate_appointed(self, appointed: AppointedCandidate, record: RecordedEvent) -> None:
        learner_work.candidate_appointed(appointed, record, self.uow)

    @handles("cadre", "CadreAppointedToPost", payload=AppointedToPost)
    def on_appointed_to_post(self, appointed: AppointedToPost, record: RecordedEvent) -> None:
        learner_work.appointed_to_post(appointed, record, self.uow)

    @handles("grassroots", "DevelopmentTargetDesignated", payload=DesignatedTarget)
    def on_development_target(self, target: DesignatedTarget, record: RecordedEvent) -> None:
        learner_work.development_target_designated(target, record, self.uow)

    @handles("feedback", "SuggestionRoutedToTraining", payload=RoutedSuggestion)
    def on_suggestion(self, suggestion: RoutedSuggestion, record: RecordedEvent) -> None:
        suggestion_work.receive(suggestion, record, self.uow)

    @handles("feedback", "PersonalDataErased", payload=ErasedElsewhere)  # a suggestion's text is its submitter's
    def on_submitter_erased(self, erased: ErasedElsewhere, record: RecordedEvent) -> None:
        follow_erasure(erased, "feedback", ("submitter",), self.uow)
