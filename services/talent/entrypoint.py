"""The talent service on nameko: one line per RPC method, event handler and timer.

Each entrypoint hands its validated request to the service layer with the
worker's unit of work; queries read the read models directly.
"""

from __future__ import annotations

from services.talent import messages as m
from services.talent import read_models
from services.talent.domain.events import registry
from services.talent.domain.platform import TalentNeed, TalentPlatform
from services.talent.domain.program import TalentProgram
from services.talent.domain.talent import TalentRecord
from services.talent.inbound import (
    AppointedCandidate,
    AppointedToPost,
    CaseOutcome,
    ClosedAppraisal,
    CompletedTraining,
    OpenedCase,
    PairedCultivation,
    RegisteredCadre,
)
from services.talent.read_models import needs as need_queries
from services.talent.read_models import pool as pool_queries
from services.talent.read_models import programs as program_queries
from services.talent.read_models.needs import NeedRow, PlatformRow
from services.talent.read_models.pool import EvaluationRow, MovementRow, TalentRow
from services.talent.read_models.programs import ProgramRoster
from services.talent.service_layer import objections as objection_work
from services.talent.service_layer import platforms as platform_work
from services.talent.service_layer import programs as program_work
from services.talent.service_layer import records as record_work
from services.talent.views import ExpiryCount, NeedView, PlatformView, ProgramView, TalentView
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.periodic import every
from shared.runtime.service import ServiceBase


class TalentService(ServiceBase):
    name = "talent"
    events = registry
    aggregates = (TalentRecord, TalentProgram, TalentPlatform, TalentNeed)
    projections = read_models.ALL

    # -- talent records ---------------------------------------------------------------------------

    @rpc_method(request=m.RegisterTalent, response=TalentView)
    def register_talent(self, request: m.RegisterTalent) -> TalentView:
        return record_work.register(request, self.uow)

    @rpc_method(request=m.RecordDeparture, response=TalentView)
    def record_departure(self, request: m.RecordDeparture) -> TalentView:
        return record_work.record_departure(request, self.uow)

    @rpc_method(request=m.OnTalent, response=TalentView)
    def record_return(self, request: m.OnTalent) -> TalentView:
        return record_work.record_return(request, self.uow)

    @rpc_method(request=m.Evaluate, response=TalentView)
    def evaluate(self, request: m.Evaluate) -> TalentView:
        return record_work.evaluate(request, self.uow)

    @rpc_method(request=m.PoolQuery, response=TalentRow, many=True)
    def pool(self, query: m.PoolQuery) -> list[TalentRow]:
        return pool_queries.pool(self.uow, query)

    @rpc_method(request=m.PersonRef, response=EvaluationRow, many=True)
    def evaluations(self, query: m.PersonRef) -> list[EvaluationRow]:
        return pool_queries.evaluations(self.uow, query.person_id)

    @rpc_method(request=m.DepartureQuery, response=MovementRow, many=True)
    def departures(self, query: m.DepartureQuery) -> list[MovementRow]:
        return pool_queries.departures(self.uow, query)

    # -- talent programs ----------------------------------------------------------------------------

    @rpc_method(request=m.LaunchProgram, response=ProgramView)
    def launch_program(self, request: m.LaunchProgram) -> ProgramView:
        return program_work.launch(request, self.uow)

    @rpc_method(request=m.ApplyToProgram, response=ProgramView)
    def apply_to_program(self, request: m.ApplyToProgram) -> ProgramView:
        return program_work.apply(request, self.uow)

    @rpc_method(request=m.SelectCandidates, response=ProgramView)
    def select_candidates(self, request: m.SelectCandidates) -> ProgramView:
        return program_work.select(request, self.uow)

    @rpc_method(request=m.OpenSelectionNotice, response=ProgramView)
    def open_selection_notice(self, request: m.OpenSelectionNotice) -> ProgramView:
        return program_work.open_notice(request, self.uow)

    @rpc_method(request=m.OnProgram, response=ProgramView)
    def confirm_selection(self, request: m.OnProgram) -> ProgramView:
        return program_work.confirm(request, self.uow)

    @rpc_method(request=m.ProgramRef, response=ProgramRoster)
    def program_roster(self, query: m.ProgramRef) -> ProgramRoster:
        return program_queries.roster(self.uow, query.program_id)

    # -- platforms and needs ----------------------------------------------------------------------------

    @rpc_method(request=m.OpenPlatform, response=PlatformView)
    def open_platform(self, request: m.OpenPlatform) -> PlatformView:
        return platform_work.open_platform(request, self.uow)

    @rpc_method(request=m.PlatformTalent, response=PlatformView)
    def attach_talent(self, request: m.PlatformTalent) -> PlatformView:
        return platform_work.attach(request, self.uow)

    @rpc_method(request=m.PlatformTalent, response=PlatformView)
    def detach_talent(self, request: m.PlatformTalent) -> PlatformView:
        return platform_work.detach(request, self.uow)

    @rpc_method(response=PlatformRow, many=True)
    def platforms(self) -> list[PlatformRow]:
        return need_queries.platforms(self.uow)

    @rpc_method(request=m.PostNeed, response=NeedView)
    def post_need(self, request: m.PostNeed) -> NeedView:
        return platform_work.post_need(request, self.uow)

    @rpc_method(request=m.FillNeed, response=NeedView)
    def fill_need(self, request: m.FillNeed) -> NeedView:
        return platform_work.fill_need(request, self.uow)

    @rpc_method(response=NeedRow, many=True)
    def open_needs(self) -> list[NeedRow]:
        return need_queries.open_needs(self.uow)

    @rpc_method(response=ExpiryCount)
    def check_deadlines(self) -> ExpiryCount:
        return platform_work.expire_needs(self.uow)

    @every(lambda settings: settings.talent.deadline_check_seconds)
    def periodic_deadline_check(self) -> None:
        platform_work.expire_needs(self.uow)

    # -- other services' events ------------------------------------------------------------------------

    @handles("cadre", "CadreRegistered", payload=RegisteredCadre)
    def on_cadre_registered(self, cadre: RegisteredCadre, record: RecordedEvent) -> None:
        record_work.cadre_registered(cadre, record, self.uow)

    @handles("cadre", "CandidateAppointed", payload=AppointedCandidate)
    def on_candidate_appointed(self, appointed: AppointedCandidate, record: RecordedEvent) -> None:
        record_work.candidate_appointed(appointed, record, self.uow)

    @handles("cadre", "CadreAppointedToPost", payload=AppointedToPost)
    def on_appointed_to_post(self, appointed: AppointedToPost, record: RecordedEvent) -> None:
        record_work.appointed_to_post(appointed, record, self.uow)

    @handles("cadre", "AppraisalCycleClosed", payload=ClosedAppraisal)
    def on_appraisal_closed(self, closed: ClosedAppraisal, record: RecordedEvent) -> None:
        record_work.appraisal_closed(closed, record, self.uow)

    @handles("training", "TrainingCompleted", payload=CompletedTraining)
    def on_training_completed(self, completed: CompletedTraining, record: RecordedEvent) -> None:
        record_work.training_completed(completed, record, self.uow)

    @handles("grassroots", "DualCultivationPaired", payload=PairedCultivation)
    def on_cultivation_paired(self, paired: PairedCultivation, record: RecordedEvent) -> None:
        record_work.cultivation_paired(paired, record, self.uow)

    @handles("supervision", "CaseOpened", payload=OpenedCase)
    def on_case_opened(self, case: OpenedCase, record: RecordedEvent) -> None:
        objection_work.case_opened(case, record, self.uow)

    @handles("supervision", "SupervisionOutcomeRecorded", payload=CaseOutcome)
    def on_supervision_outcome(self, outcome: CaseOutcome, record: RecordedEvent) -> None:
        objection_work.outcome_recorded(outcome, record, self.uow)
