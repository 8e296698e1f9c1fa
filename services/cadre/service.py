"""The cadre service: open selection and appraisal of cadres, every step an event.

RPC methods validate their requests (``messages``), run one command on one
aggregate (``domain``) through ``self.storage``, and answer with a view of the
result; queries read the projections (``projections``). Handlers take
supervision outcomes and training credit totals (``inbound``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import uuid
from decimal import Decimal
from typing import Any

from services.cadre import messages as m
from services.cadre.domain.appraisal import AppraisalCycle
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.events import (
    AppraisalCycleClosed,
    CandidateAppointed,
    Criterion,
    GradeThresholds,
    Post,
    registry,
)
from services.cadre.domain.selection import Eligibility, SelectionProcess
from services.cadre.inbound import CreditTotal, SupervisionOutcome
from services.cadre.projections import ALL
from shared.errors import NotFound, RuleViolation
from shared.eventstore.records import RecordedEvent
from shared.runtime.inbound import handles
from shared.runtime.rpc import rpc_method
from shared.runtime.service import ServiceBase

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "service:cadre"


def default_min_credit_hours() -> Decimal:
    """The yearly training minimum a new selection requires unless it says otherwise."""
    return Decimal(os.environ.get("CADRE_MIN_CREDIT_HOURS", "0"))


def selection_view(process: SelectionProcess) -> m.SelectionView:
    s = process.state
    return m.SelectionView(
        process_id=process.id,
        version=process.version,
        phase=str(s.phase),
        allowed=list(process.describe()["allowed"]),
        title=s.title,
        unit=s.unit,
        kind=str(s.kind),
        variant=str(s.variant),
        posts=[m.PostInput(p.post_id, p.title) for p in s.posts],
        candidates=[
            m.CandidateView(
                c.cadre_id,
                c.name,
                c.shortlisted,
                c.meeting_recommendations + c.talk_recommendations,
                c.weighted_total,
                c.approvals,
                c.nominated_post,
                c.result,
            )
            for c in s.candidates.values()
        ],
        notice_closes_at=s.notice.closes_at if s.notice else None,
    )


def cadre_view(row: dict[str, Any]) -> m.CadreView:
    return m.CadreView(
        cadre_id=row["cadre_id"],
        name=row["name"],
        unit=row["unit"],
        post_category=row["post_category"],
        leadership_team=row["leadership_team"],
        head_of_unit=row["head_of_unit"],
        latest_grade=row["latest_grade"],
        posts=row["posts"],
        commendations=row["commendations"],
        appraisals=row["appraisals"],
        credit_hours={year: Decimal(hours) for year, hours in row["credit_hours"].items()},
    )


class CadreService(ServiceBase):
    name = "cadre"
    events = registry
    aggregates = (SelectionProcess, CadreRecord, AppraisalCycle)
    projections = ALL

    # -- selection process ---------------------------------------------------------

    def _on_selection(self, request: m.OnSelection, change: Any) -> m.SelectionView:
        process, _ = self.storage.update(
            SelectionProcess, request.process_id, change, actor=request.actor, reason=request.reason
        )
        return selection_view(process)

    @rpc_method(request=m.CreateSelection, response=m.SelectionView)
    def create_selection(self, request: m.CreateSelection) -> m.SelectionView:
        process_id = request.process_id or uuid.uuid4().hex
        minimum = request.min_credit_hours if request.min_credit_hours is not None else default_min_credit_hours()
        process, _ = self.storage.create(
            SelectionProcess,
            process_id,
            lambda p: p.announce(
                request.title,
                request.unit,
                request.kind,
                request.variant,
                [Post(p.post_id, p.title) for p in request.posts],
                minimum,
                request.shortlist_ratio,
                self.clock.now(),
            ),
            actor=request.actor,
            reason=request.reason,
        )
        return selection_view(process)

    @rpc_method(request=m.OnSelection, response=m.SelectionView)
    def open_registration(self, request: m.OnSelection) -> m.SelectionView:
        return self._on_selection(request, lambda p: p.open_registration(self.clock.now()))

    @rpc_method(request=m.RegisterCandidate, response=m.SelectionView)
    def register_candidate(self, request: m.RegisterCandidate) -> m.SelectionView:
        now = self.clock.now()
        cadre = self.storage.load(CadreRecord, request.cadre_id)
        eligibility = Eligibility(cadre.state.name, cadre.latest_grade, cadre.credit_hours(now.year))
        return self._on_selection(request, lambda p: p.register_candidate(request.cadre_id, eligibility))

    @rpc_method(request=m.OnSelection, response=m.SelectionView)
    def open_recommendation(self, request: m.OnSelection) -> m.SelectionView:
        return self._on_selection(request, lambda p: p.open_recommendation(self.clock.now()))

    @rpc_method(request=m.CastRecommendation, response=m.SelectionView)
    def cast_recommendation(self, request: m.CastRecommendation) -> m.SelectionView:
        return self._on_selection(
            request, lambda p: p.cast_recommendation(request.voter_id, request.cadre_ids, request.round)
        )

    @rpc_method(request=m.MakeStatement, response=m.SelectionView)
    def make_statement(self, request: m.MakeStatement) -> m.SelectionView:
        return self._on_selection(request, lambda p: p.make_statement(request.cadre_id, request.summary))

    @rpc_method(request=m.DrawShortlist, response=m.SelectionView)
    def draw_shortlist(self, request: m.DrawShortlist) -> m.SelectionView:
        return self._on_selection(request, lambda p: p.draw_shortlist(request.cadre_ids))

    @rpc_method(request=m.PublishPreview, response=m.SelectionView)
    def publish_assessment_preview(self, request: m.PublishPreview) -> m.SelectionView:
        notice_id = f"preview-{request.process_id}"
        return self._on_selection(
            request, lambda p: p.publish_assessment_preview(notice_id, self.clock.now(), request.working_days)
        )

    @rpc_method(request=m.StartAssessment, response=m.SelectionView)
    def start_assessment(self, request: m.StartAssessment) -> m.SelectionView:
        criteria = [Criterion(c.name, c.weight) for c in request.criteria]
        return self._on_selection(request, lambda p: p.start_assessment(criteria, self.clock.now()))

    @rpc_method(request=m.AssessCandidate, response=m.SelectionView)
    def assess_candidate(self, request: m.AssessCandidate) -> m.SelectionView:
        return self._on_selection(
            request,
            lambda p: p.assess_candidate(request.cadre_id, request.qualitative, dict(request.scores), request.actor),
        )

    @rpc_method(request=m.ConveneCommittee, response=m.SelectionView)
    def convene_committee(self, request: m.ConveneCommittee) -> m.SelectionView:
        return self._on_selection(request, lambda p: p.convene_committee(request.members, request.present))

    @rpc_method(request=m.CastCommitteeVote, response=m.SelectionView)
    def cast_committee_vote(self, request: m.CastCommitteeVote) -> m.SelectionView:
        return self._on_selection(
            request, lambda p: p.cast_committee_vote(request.member_id, request.cadre_id, request.approve)
        )

    @rpc_method(request=m.OnSelection, response=m.SelectionView)
    def conclude_committee_vote(self, request: m.OnSelection) -> m.SelectionView:
        return self._on_selection(request, lambda p: p.conclude_committee_vote())

    @rpc_method(request=m.OpenPublicNotice, response=m.SelectionView)
    def open_public_notice(self, request: m.OpenPublicNotice) -> m.SelectionView:
        notice_id = f"notice-{request.process_id}"
        return self._on_selection(
            request, lambda p: p.open_public_notice(notice_id, self.clock.now(), request.working_days)
        )

    @rpc_method(request=m.OnSelection, response=m.SelectionView)
    def close_selection(self, request: m.OnSelection) -> m.SelectionView:
        """Close the process and put each appointment on the cadre's record, together."""
        now = self.clock.now()
        with self.storage.transaction():
            process, recorded = self.storage.update(
                SelectionProcess, request.process_id, lambda p: p.close(now), actor=request.actor, reason=request.reason
            )
            for event in (registry.from_record(r) for r in recorded):
                if isinstance(event, CandidateAppointed):
                    self.storage.update(
                        CadreRecord,
                        event.cadre_id,
                        lambda c, e=event: c.appoint(e.post_id, e.post_title, e.unit, process.id, e.appointed_at),
                        actor=request.actor,
                        reason=f"appointed by selection {process.id}",
                    )
        return selection_view(process)

    # -- cadre records ---------------------------------------------------------------

    @rpc_method(request=m.RegisterCadre, response=m.CadreView)
    def register_cadre(self, request: m.RegisterCadre) -> m.CadreView:
        cadre, _ = self.storage.create(
            CadreRecord,
            request.cadre_id,
            lambda c: c.register(
                request.name, request.unit, request.post_category, request.leadership_team, request.head_of_unit
            ),
            actor=request.actor,
            reason=request.reason,
        )
        return self._record_view(cadre)

    @rpc_method(request=m.ChangeRoles, response=m.CadreView)
    def change_roles(self, request: m.ChangeRoles) -> m.CadreView:
        cadre, _ = self.storage.update(
            CadreRecord,
            request.cadre_id,
            lambda c: c.change_roles(request.leadership_team, request.head_of_unit),
            actor=request.actor,
            reason=request.reason,
        )
        return self._record_view(cadre)

    @rpc_method(request=m.CommendCadre, response=m.CadreView)
    def commend_cadre(self, request: m.CommendCadre) -> m.CadreView:
        cadre, _ = self.storage.update(
            CadreRecord,
            request.cadre_id,
            lambda c: c.commend(request.title, request.year, request.citation),
            actor=request.actor,
            reason=request.reason,
        )
        return self._record_view(cadre)

    @staticmethod
    def _record_view(cadre: CadreRecord) -> m.CadreView:
        s = cadre.state
        return m.CadreView(
            cadre_id=cadre.id,
            name=s.name,
            unit=s.unit,
            post_category=s.post_category,
            leadership_team=s.leadership_team,
            head_of_unit=s.head_of_unit,
            latest_grade=cadre.latest_grade,
            posts=[json.loads(json.dumps(vars(p), default=str)) for p in s.posts],
            commendations=[vars(c) for c in s.commendations],
            appraisals=[json.loads(json.dumps(vars(a), default=str)) for a in s.appraisals],
            credit_hours=dict(s.credit_hours),
        )

    # -- appraisal -----------------------------------------------------------------------

    def _cycle_view(self, cycle: AppraisalCycle) -> m.CycleView:
        s = cycle.state
        return m.CycleView(cycle.id, cycle.version, s.year, s.post_category, s.closed, sorted(s.subjects))

    @rpc_method(request=m.OpenAppraisalCycle, response=m.CycleView)
    def open_appraisal_cycle(self, request: m.OpenAppraisalCycle) -> m.CycleView:
        t = request.thresholds
        cycle, _ = self.storage.create(
            AppraisalCycle,
            request.cycle_id or uuid.uuid4().hex,
            lambda c: c.open(
                request.year,
                request.post_category,
                [Criterion(c.name, c.weight) for c in request.criteria],
                GradeThresholds(t.excellent, t.competent, t.basically_competent),
            ),
            actor=request.actor,
            reason=request.reason,
        )
        return self._cycle_view(cycle)

    @rpc_method(request=m.EnrolForAppraisal, response=m.CycleView)
    def enrol_for_appraisal(self, request: m.EnrolForAppraisal) -> m.CycleView:
        self.storage.load(CadreRecord, request.cadre_id)  # NotFound for a cadre not on record
        cycle, _ = self.storage.update(
            AppraisalCycle,
            request.cycle_id,
            lambda c: c.enrol(request.cadre_id),
            actor=request.actor,
            reason=request.reason,
        )
        return self._cycle_view(cycle)

    @rpc_method(request=m.SubmitSelfReview, response=m.CycleView)
    def submit_self_review(self, request: m.SubmitSelfReview) -> m.CycleView:
        cycle, _ = self.storage.update(
            AppraisalCycle,
            request.cycle_id,
            lambda c: c.submit_self_review(request.cadre_id, request.summary),
            actor=request.actor,
            reason=request.reason,
        )
        return self._cycle_view(cycle)

    @rpc_method(request=m.SubmitReviewScores, response=m.CycleView)
    def submit_review_scores(self, request: m.SubmitReviewScores) -> m.CycleView:
        cycle, _ = self.storage.update(
            AppraisalCycle,
            request.cycle_id,
            lambda c: c.submit_scores(request.cadre_id, request.reviewer_id, dict(request.scores)),
            actor=request.actor,
            reason=request.reason,
        )
        return self._cycle_view(cycle)

    @rpc_method(request=m.OnCycle, response=m.CycleView)
    def close_appraisal_cycle(self, request: m.OnCycle) -> m.CycleView:
        """Close and lock the cycle and put each grade on the cadre's record, together."""
        now = self.clock.now()
        with self.storage.transaction():
            cycle, recorded = self.storage.update(
                AppraisalCycle, request.cycle_id, lambda c: c.close(now), actor=request.actor, reason=request.reason
            )
            closed = next(e for e in map(registry.from_record, recorded) if isinstance(e, AppraisalCycleClosed))
            for result in closed.results:
                self.storage.update(
                    CadreRecord,
                    result.cadre_id,
                    lambda c, r=result: c.record_appraisal(cycle.id, cycle.state.year, r.grade, r.score),
                    actor=request.actor,
                    reason=f"appraisal cycle {cycle.id} closed",
                )
        return self._cycle_view(cycle)

    # -- queries (projections) ----------------------------------------------------------

    @rpc_method(request=m.SelectionQuery, response=m.SelectionList)
    def list_selections(self, query: m.SelectionQuery) -> m.SelectionList:
        rows = self.storage.query(
            "SELECT process_id, title, unit, kind, variant, phase, candidates, updated_at FROM selection_processes "
            "WHERE %(phase)s::text IS NULL OR phase = %(phase)s ORDER BY updated_at DESC",
            {"phase": query.phase},
        )
        return m.SelectionList([m.SelectionSummary(**row) for row in rows])

    @rpc_method(request=m.JourneyQuery, response=m.Journey)
    def candidate_journey(self, query: m.JourneyQuery) -> m.Journey:
        rows = self.storage.query(
            "SELECT step, at, details FROM candidate_journeys WHERE process_id = %s AND cadre_id = %s ORDER BY position",
            [query.process_id, query.cadre_id],
        )
        if not rows:
            raise NotFound("candidate journey", f"{query.process_id}/{query.cadre_id}")
        return m.Journey(query.process_id, query.cadre_id, [m.JourneyStep(**row) for row in rows])

    @rpc_method(response=m.NoticeList)
    def open_notices(self) -> m.NoticeList:
        """Public notices open now: the public may comment on or object to them."""
        rows = self.storage.query(
            "SELECT notice_id, process_id, kind, title, unit, cadre_ids, opens_at, closes_at FROM public_notices "
            "WHERE opens_at <= %(now)s AND closes_at > %(now)s ORDER BY closes_at",
            {"now": self.clock.now()},
        )
        return m.NoticeList([m.NoticeView(**row) for row in rows])

    @rpc_method(request=m.CadreRef, response=m.CadreView)
    def get_cadre(self, query: m.CadreRef) -> m.CadreView:
        rows = self.storage.query("SELECT * FROM cadres WHERE cadre_id = %s", [query.cadre_id])
        if not rows:
            raise NotFound("cadre", query.cadre_id)
        return cadre_view(rows[0])

    @rpc_method(request=m.UnitQuery, response=m.CadreList)
    def cadres_by_unit(self, query: m.UnitQuery) -> m.CadreList:
        rows = self.storage.query("SELECT * FROM cadres WHERE unit = %s ORDER BY cadre_id", [query.unit])
        return m.CadreList([cadre_view(row) for row in rows])

    @rpc_method(request=m.YearQuery, response=m.AppraisalResults)
    def appraisal_results(self, query: m.YearQuery) -> m.AppraisalResults:
        rows = self.storage.query(
            "SELECT cycle_id, year, post_category, cadre_id, score, grade FROM appraisal_results "
            "WHERE year = %s ORDER BY post_category, cadre_id",
            [query.year],
        )
        return m.AppraisalResults(query.year, [m.AppraisalResultView(**row) for row in rows])

    # -- other services' events ----------------------------------------------------------

    @handles("supervision", "SupervisionOutcomeRecorded", payload=SupervisionOutcome)
    def on_supervision_outcome(self, outcome: SupervisionOutcome, record: RecordedEvent) -> None:
        """A concluded case about a candidate on a public notice decides their appointment."""
        if not outcome.process_id:
            return
        repository = self.storage.repository(SelectionProcess)
        with self.storage.transaction() as conn:
            try:
                process = repository.load(outcome.process_id, conn=conn)
            except NotFound:
                log.info("supervision case %s names unknown selection %s", outcome.case_id, outcome.process_id)
                return
            # The outcome counts from when supervision concluded it (its event's
            # time), not from when it reached this service.
            concluded_at = dt.datetime.fromisoformat(record.metadata["recorded_at"])
            if process.missed_outcome(outcome.cadre_id, outcome.substantiated, concluded_at):
                raise RuleViolation(
                    "selection.outcome_after_close",
                    f"substantiated case {outcome.case_id} about {outcome.cadre_id} was concluded during the notice "
                    f"but reached selection {process.id} after it closed: review the appointment",
                    process.describe(),
                )
            if not process.concerns(outcome.cadre_id):
                log.info("supervision case %s does not bear on selection %s now", outcome.case_id, process.id)
                return
            process.note_supervision_outcome(outcome.cadre_id, outcome.case_id, outcome.substantiated, concluded_at)
            repository.save(
                process, self.storage.metadata(SYSTEM_ACTOR, f"supervision case {outcome.case_id} concluded"), conn=conn
            )

    @handles("training", "CreditTotalUpdated", payload=CreditTotal)
    def on_credit_total(self, total: CreditTotal, record: RecordedEvent) -> None:
        """Keep each cadre's yearly training credit hours, which selections check."""
        repository = self.storage.repository(CadreRecord)
        with self.storage.transaction() as conn:
            cadre = repository.load_or_new(total.cadre_id, conn=conn)
            if cadre.version == 0:
                log.info("training credits for %s, who is not a cadre on record", total.cadre_id)
                return
            cadre.note_training_credits(total.year, total.total_hours)
            repository.save(cadre, self.storage.metadata(SYSTEM_ACTOR, "training credit total updated"), conn=conn)
