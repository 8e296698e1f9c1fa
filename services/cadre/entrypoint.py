"""The cadre service on nameko: one line per RPC method and event handler.

Each entrypoint hands its validated request to the service layer with the
worker's unit of work; queries read the read models directly.
"""

from __future__ import annotations

from services.cadre import messages as m
from services.cadre import read_models
from services.cadre.domain.appraisal import AppraisalCycle
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.events import registry
from services.cadre.domain.selection import SelectionProcess
from services.cadre.inbound import CaseOpened, CreditTotal, SupervisionOutcome
from services.cadre.read_models import appraisals as appraisal_queries
from services.cadre.read_models import cadres as cadre_queries
from services.cadre.read_models import notices as notice_queries
from services.cadre.read_models import selections as selection_queries
from services.cadre.read_models.appraisals import AppraisalResultList
from services.cadre.read_models.notices import NoticeView
from services.cadre.read_models.selections import Journey, PublishedResult, SelectionSummary
from services.cadre.service_layer import appraisal as appraisal_work
from services.cadre.service_layer import records as record_work
from services.cadre.service_layer import selection as selection_work
from services.cadre.views import CadreView, CycleView, SelectionView
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.service import ServiceBase


class CadreService(ServiceBase):
    name = "cadre"
    events = registry
    aggregates = (SelectionProcess, CadreRecord, AppraisalCycle)
    projections = read_models.ALL

    # -- selection process ---------------------------------------------------------------

    @rpc_method(request=m.CreateSelection, response=SelectionView)
    def create_selection(self, request: m.CreateSelection) -> SelectionView:
        return selection_work.create_selection(request, self.uow, self.settings.cadre)

    @rpc_method(request=m.OnSelection, response=SelectionView)
    def open_registration(self, request: m.OnSelection) -> SelectionView:
        return selection_work.open_registration(request, self.uow)

    @rpc_method(request=m.ExtendRegistration, response=SelectionView)
    def extend_registration(self, request: m.ExtendRegistration) -> SelectionView:
        return selection_work.extend_registration(request, self.uow)

    @rpc_method(request=m.CancelSelection, response=SelectionView)
    def cancel_selection(self, request: m.CancelSelection) -> SelectionView:
        return selection_work.cancel_selection(request, self.uow)

    @rpc_method(request=m.RegisterCandidate, response=SelectionView)
    def register_candidate(self, request: m.RegisterCandidate) -> SelectionView:
        return selection_work.register_candidate(request, self.uow)

    @rpc_method(request=m.OnSelection, response=SelectionView)
    def open_recommendation(self, request: m.OnSelection) -> SelectionView:
        return selection_work.open_recommendation(request, self.uow)

    @rpc_method(request=m.CastRecommendation, response=SelectionView)
    def cast_recommendation(self, request: m.CastRecommendation) -> SelectionView:
        return selection_work.cast_recommendation(request, self.uow)

    @rpc_method(request=m.CountRecommendation, response=SelectionView)
    def count_recommendation(self, request: m.CountRecommendation) -> SelectionView:
        return selection_work.count_recommendation(request, self.uow)

    @rpc_method(request=m.MakeStatement, response=SelectionView)
    def make_statement(self, request: m.MakeStatement) -> SelectionView:
        return selection_work.make_statement(request, self.uow)

    @rpc_method(request=m.DrawShortlist, response=SelectionView)
    def draw_shortlist(self, request: m.DrawShortlist) -> SelectionView:
        return selection_work.draw_shortlist(request, self.uow)

    @rpc_method(request=m.PublishPreview, response=SelectionView)
    def publish_assessment_preview(self, request: m.PublishPreview) -> SelectionView:
        return selection_work.publish_assessment_preview(request, self.uow)

    @rpc_method(request=m.StartAssessment, response=SelectionView)
    def start_assessment(self, request: m.StartAssessment) -> SelectionView:
        return selection_work.start_assessment(request, self.uow)

    @rpc_method(request=m.AssessCandidate, response=SelectionView)
    def assess_candidate(self, request: m.AssessCandidate) -> SelectionView:
        return selection_work.assess_candidate(request, self.uow)

    @rpc_method(request=m.ConveneCommittee, response=SelectionView)
    def convene_committee(self, request: m.ConveneCommittee) -> SelectionView:
        return selection_work.convene_committee(request, self.uow)

    @rpc_method(request=m.CastCommitteeVote, response=SelectionView)
    def cast_committee_vote(self, request: m.CastCommitteeVote) -> SelectionView:
        return selection_work.cast_committee_vote(request, self.uow)

    @rpc_method(request=m.CountCommitteeVote, response=SelectionView)
    def count_committee_vote(self, request: m.CountCommitteeVote) -> SelectionView:
        return selection_work.count_committee_vote(request, self.uow)

    @rpc_method(request=m.OnSelection, response=SelectionView)
    def conclude_committee_vote(self, request: m.OnSelection) -> SelectionView:
        return selection_work.conclude_committee_vote(request, self.uow)

    @rpc_method(request=m.OpenPublicNotice, response=SelectionView)
    def open_public_notice(self, request: m.OpenPublicNotice) -> SelectionView:
        return selection_work.open_public_notice(request, self.uow)

    @rpc_method(request=m.OnSelection, response=SelectionView)
    def close_selection(self, request: m.OnSelection) -> SelectionView:
        return selection_work.close_selection(request, self.uow)

    # -- cadre records ---------------------------------------------------------------------

    @rpc_method(request=m.RegisterCadre, response=CadreView)
    def register_cadre(self, request: m.RegisterCadre) -> CadreView:
        return record_work.register_cadre(request, self.uow)

    @rpc_method(request=m.ChangeRoles, response=CadreView)
    def change_roles(self, request: m.ChangeRoles) -> CadreView:
        return record_work.change_roles(request, self.uow)

    @rpc_method(request=m.CommendCadre, response=CadreView)
    def commend_cadre(self, request: m.CommendCadre) -> CadreView:
        return record_work.commend_cadre(request, self.uow)

    # -- appraisal ---------------------------------------------------------------------------

    @rpc_method(request=m.OpenAppraisalCycle, response=CycleView)
    def open_appraisal_cycle(self, request: m.OpenAppraisalCycle) -> CycleView:
        return appraisal_work.open_appraisal_cycle(request, self.uow)

    @rpc_method(request=m.EnrolForAppraisal, response=CycleView)
    def enrol_for_appraisal(self, request: m.EnrolForAppraisal) -> CycleView:
        return appraisal_work.enrol_for_appraisal(request, self.uow)

    @rpc_method(request=m.SubmitSelfReview, response=CycleView)
    def submit_self_review(self, request: m.SubmitSelfReview) -> CycleView:
        return appraisal_work.submit_self_review(request, self.uow)

    @rpc_method(request=m.SubmitReviewScores, response=CycleView)
    def submit_review_scores(self, request: m.SubmitReviewScores) -> CycleView:
        return appraisal_work.submit_review_scores(request, self.uow)

    @rpc_method(request=m.OnCycle, response=CycleView)
    def close_appraisal_cycle(self, request: m.OnCycle) -> CycleView:
        return appraisal_work.close_appraisal_cycle(request, self.uow)

    # -- queries (read models) -----------------------------------------------------------------

    @rpc_method(request=m.SelectionQuery, response=SelectionSummary, many=True)
    def list_selections(self, query: m.SelectionQuery) -> list[SelectionSummary]:
        return selection_queries.list_selections(self.uow, query)

    @rpc_method(request=m.JourneyQuery, response=Journey)
    def candidate_journey(self, query: m.JourneyQuery) -> Journey:
        return selection_queries.candidate_journey(self.uow, query)

    @rpc_method(response=NoticeView, many=True)
    def open_notices(self) -> list[NoticeView]:
        return notice_queries.open_notices(self.uow, self.uow.clock.now(), self.uow.calendar)

    @rpc_method(request=m.ResultsQuery, response=PublishedResult, many=True)
    def published_results(self, query: m.ResultsQuery) -> list[PublishedResult]:
        return selection_queries.published_results(self.uow, query)

    @rpc_method(request=m.CadreRef, response=CadreView)
    def get_cadre(self, query: m.CadreRef) -> CadreView:
        return cadre_queries.get_cadre(self.uow, query)

    @rpc_method(request=m.UnitQuery, response=CadreView, many=True)
    def cadres_by_unit(self, query: m.UnitQuery) -> list[CadreView]:
        return cadre_queries.cadres_by_unit(self.uow, query)

    @rpc_method(request=m.YearQuery, response=AppraisalResultList)
    def appraisal_results(self, query: m.YearQuery) -> AppraisalResultList:
        return appraisal_queries.appraisal_results(self.uow, query)

    # -- other services' events ---------------------------------------------------------------

    @handles("supervision", "CaseOpened", payload=CaseOpened)
    def on_case_opened(self, case: CaseOpened, record: RecordedEvent) -> None:
        selection_work.note_case_opened(case, record, self.uow)

    @handles("supervision", "SupervisionOutcomeRecorded", payload=SupervisionOutcome)
    def on_supervision_outcome(self, outcome: SupervisionOutcome, record: RecordedEvent) -> None:
        selection_work.note_supervision_outcome(outcome, record, self.uow)

    @handles("training", "CreditTotalUpdated", payload=CreditTotal)
    def on_credit_total(self, total: CreditTotal, record: RecordedEvent) -> None:
        record_work.note_credit_total(total, record, self.uow)
