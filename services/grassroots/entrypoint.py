"""The grassroots service on nameko: one line per RPC method, event handler and timer.

Each entrypoint hands its validated request to the service layer with the
worker's unit of work; queries read the read models directly.
"""

from __future__ import annotations

from services.grassroots import messages as m
from services.grassroots import read_models
from services.grassroots.domain.affairs import BranchAffairs
from services.grassroots.domain.development import MemberDevelopment
from services.grassroots.domain.election import BranchElection
from services.grassroots.domain.events import registry
from services.grassroots.domain.organisation import PartyOrganisation
from services.grassroots.domain.pairing import Pairing
from services.grassroots.domain.rating import BranchRating
from services.grassroots.inbound import CaseOutcome, CompletedTraining, OpenedCase
from services.grassroots.read_models import affairs as affairs_queries
from services.grassroots.read_models import elections as election_queries
from services.grassroots.read_models import organisations as organisation_queries
from services.grassroots.read_models import pipeline as pipeline_queries
from services.grassroots.read_models import ratings as rating_queries
from services.grassroots.read_models.affairs import BranchAffairsRow, PublicAffairs
from services.grassroots.read_models.elections import ElectionRow, ElectionTally
from services.grassroots.read_models.organisations import OrganisationNode, PairingRow
from services.grassroots.read_models.pipeline import PipelineRow
from services.grassroots.read_models.ratings import RatingRow
from services.grassroots.service_layer import affairs as affairs_work
from services.grassroots.service_layer import cultivation as cultivation_work
from services.grassroots.service_layer import development as development_work
from services.grassroots.service_layer import elections as election_work
from services.grassroots.service_layer import objections as objection_work
from services.grassroots.service_layer import organisations as organisation_work
from services.grassroots.service_layer import ratings as rating_work
from services.grassroots.views import (
    AffairsView,
    DeadlineCheck,
    DevelopmentView,
    ElectionView,
    OrganisationView,
    PairingView,
    RatingView,
)
from shared.eventstore.records import RecordedEvent
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.periodic import every
from shared.runtime.service import ServiceBase


class GrassrootsService(ServiceBase):
    name = "grassroots"
    events = registry
    aggregates = (PartyOrganisation, BranchElection, MemberDevelopment, Pairing, BranchRating, BranchAffairs)
    projections = read_models.ALL

    # -- organisations ----------------------------------------------------------------------------

    @rpc_method(request=m.FoundOrganisation, response=OrganisationView)
    def found_organisation(self, request: m.FoundOrganisation) -> OrganisationView:
        return organisation_work.found_organisation(request, self.uow)

    @rpc_method(request=m.MoveOrganisation, response=OrganisationView)
    def move_organisation(self, request: m.MoveOrganisation) -> OrganisationView:
        return organisation_work.move_organisation(request, self.uow)

    @rpc_method(response=OrganisationNode, many=True)
    def organisation_tree(self) -> list[OrganisationNode]:
        return organisation_queries.tree(self.uow)

    # -- branch elections ---------------------------------------------------------------------------

    @rpc_method(request=m.CallElection, response=ElectionView)
    def call_election(self, request: m.CallElection) -> ElectionView:
        return election_work.call_election(request, self.uow)

    @rpc_method(request=m.Nominate, response=ElectionView)
    def nominate(self, request: m.Nominate) -> ElectionView:
        return election_work.nominate(request, self.uow)

    @rpc_method(request=m.QualifyCandidates, response=ElectionView)
    def qualify_candidates(self, request: m.QualifyCandidates) -> ElectionView:
        return election_work.qualify(request, self.uow)

    @rpc_method(request=m.OpenCandidateNotice, response=ElectionView)
    def open_candidate_notice(self, request: m.OpenCandidateNotice) -> ElectionView:
        return election_work.open_candidate_notice(request, self.uow)

    @rpc_method(request=m.ConveneElection, response=ElectionView)
    def convene_election(self, request: m.ConveneElection) -> ElectionView:
        return election_work.convene(request, self.uow)

    @rpc_method(request=m.TakePart, response=ElectionView)
    def cast_election_vote(self, request: m.TakePart) -> ElectionView:
        return election_work.take_part(request, self.uow)

    @rpc_method(request=m.CountElection, response=ElectionView)
    def count_election(self, request: m.CountElection) -> ElectionView:
        return election_work.count(request, self.uow)

    @rpc_method(request=m.ApproveElection, response=ElectionView)
    def approve_election(self, request: m.ApproveElection) -> ElectionView:
        return election_work.approve(request, self.uow)

    @rpc_method(request=m.ElectionQuery, response=ElectionRow, many=True)
    def elections(self, query: m.ElectionQuery) -> list[ElectionRow]:
        return election_queries.elections(self.uow, query)

    @rpc_method(request=m.ElectionQuery, response=ElectionTally, many=True)
    def published_elections(self, query: m.ElectionQuery) -> list[ElectionTally]:
        """Approved branch elections and their tallies, for the public."""
        return election_queries.published_elections(self.uow, query)

    # -- member development ----------------------------------------------------------------------------

    @rpc_method(request=m.Apply, response=DevelopmentView)
    def apply(self, request: m.Apply) -> DevelopmentView:
        return development_work.apply(request, self.uow)

    @rpc_method(request=m.HoldTalk, response=DevelopmentView)
    def hold_talk(self, request: m.HoldTalk) -> DevelopmentView:
        return development_work.hold_talk(request, self.uow)

    @rpc_method(request=m.DesignateActivist, response=DevelopmentView)
    def designate_activist(self, request: m.DesignateActivist) -> DevelopmentView:
        return development_work.designate_activist(request, self.uow)

    @rpc_method(request=m.ReviewActivist, response=DevelopmentView)
    def review_activist(self, request: m.ReviewActivist) -> DevelopmentView:
        return development_work.review_activist(request, self.uow)

    @rpc_method(request=m.OnPerson, response=DevelopmentView)
    def designate_development_target(self, request: m.OnPerson) -> DevelopmentView:
        return development_work.designate_development_target(request, self.uow)

    @rpc_method(request=m.AssignIntroducers, response=DevelopmentView)
    def assign_introducers(self, request: m.AssignIntroducers) -> DevelopmentView:
        return development_work.assign_introducers(request, self.uow)

    @rpc_method(request=m.Decision, response=DevelopmentView)
    def record_political_review(self, request: m.Decision) -> DevelopmentView:
        return development_work.record_political_review(request, self.uow)

    @rpc_method(request=m.OpenTargetNotice, response=DevelopmentView)
    def open_target_notice(self, request: m.OpenTargetNotice) -> DevelopmentView:
        return development_work.open_target_notice(request, self.uow)

    @rpc_method(request=m.Decision, response=DevelopmentView)
    def pre_review(self, request: m.Decision) -> DevelopmentView:
        return development_work.pre_review(request, self.uow)

    @rpc_method(request=m.BranchMeeting, response=DevelopmentView)
    def hold_branch_meeting(self, request: m.BranchMeeting) -> DevelopmentView:
        return development_work.hold_branch_meeting(request, self.uow)

    @rpc_method(request=m.ApproveAdmission, response=DevelopmentView)
    def approve_admission(self, request: m.ApproveAdmission) -> DevelopmentView:
        return development_work.approve_admission(request, self.uow)

    @rpc_method(request=m.ExtendProbation, response=DevelopmentView)
    def extend_probation(self, request: m.ExtendProbation) -> DevelopmentView:
        return development_work.extend_probation(request, self.uow)

    @rpc_method(request=m.OnPerson, response=DevelopmentView)
    def grant_full_membership(self, request: m.OnPerson) -> DevelopmentView:
        return development_work.grant_full_membership(request, self.uow)

    @rpc_method(request=m.CancelDevelopment, response=DevelopmentView)
    def cancel_development(self, request: m.CancelDevelopment) -> DevelopmentView:
        return development_work.cancel(request, self.uow)

    @rpc_method(request=m.PipelineQuery, response=PipelineRow, many=True)
    def pipeline(self, query: m.PipelineQuery) -> list[PipelineRow]:
        return pipeline_queries.pipeline(self.uow, query)

    # -- dual cultivation, ratings, affairs --------------------------------------------------------------

    @rpc_method(request=m.PairCultivation, response=PairingView)
    def pair_cultivation(self, request: m.PairCultivation) -> PairingView:
        return cultivation_work.pair(request, self.uow)

    @rpc_method(request=m.PairingGoal, response=PairingView)
    def pairing_goal_met(self, request: m.PairingGoal) -> PairingView:
        return cultivation_work.goal_met(request, self.uow)

    @rpc_method(request=m.BranchRef, response=PairingRow, many=True)
    def pairings(self, query: m.BranchRef) -> list[PairingRow]:
        return organisation_queries.pairings(self.uow, query.branch_id)

    @rpc_method(request=m.RateBranch, response=RatingView)
    def rate_branch(self, request: m.RateBranch) -> RatingView:
        return rating_work.rate(request, self.uow)

    @rpc_method(request=m.RatingQuery, response=RatingRow, many=True)
    def ratings(self, query: m.RatingQuery) -> list[RatingRow]:
        return rating_queries.ratings(self.uow, query)

    @rpc_method(request=m.SchedulePublication, response=AffairsView)
    def schedule_publication(self, request: m.SchedulePublication) -> AffairsView:
        return affairs_work.schedule(request, self.uow)

    @rpc_method(request=m.PublishAffairs, response=AffairsView)
    def publish_affairs(self, request: m.PublishAffairs) -> AffairsView:
        return affairs_work.publish(request, self.uow)

    @rpc_method(request=m.BranchRef, response=BranchAffairsRow, many=True)
    def affairs(self, query: m.BranchRef) -> list[BranchAffairsRow]:
        return affairs_queries.affairs(self.uow, query)

    @rpc_method(request=m.BranchRef, response=PublicAffairs, many=True)
    def public_affairs(self, query: m.BranchRef) -> list[PublicAffairs]:
        """What branches published to the public (党务公开), latest first."""
        return affairs_queries.public_affairs(self.uow, query)

    @rpc_method(response=DeadlineCheck)
    def check_deadlines(self) -> DeadlineCheck:
        return affairs_work.check_deadlines(self.uow)

    @every(lambda settings: settings.grassroots.deadline_check_seconds)
    def periodic_deadline_check(self) -> None:
        affairs_work.check_deadlines(self.uow)

    # -- other services' events ---------------------------------------------------------------------------

    @handles("training", "TrainingCompleted", payload=CompletedTraining)
    def on_training_completed(self, completed: CompletedTraining, record: RecordedEvent) -> None:
        development_work.short_course_completed(completed, record, self.uow)

    @handles("supervision", "CaseOpened", payload=OpenedCase)
    def on_case_opened(self, case: OpenedCase, record: RecordedEvent) -> None:
        objection_work.case_opened(case, record, self.uow)

    @handles("supervision", "SupervisionOutcomeRecorded", payload=CaseOutcome)
    def on_supervision_outcome(self, outcome: CaseOutcome, record: RecordedEvent) -> None:
        objection_work.outcome_recorded(outcome, record, self.uow)
