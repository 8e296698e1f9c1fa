"""Open selection, step by step: each request one command on one ``SelectionProcess``.

Two steps reach past the process: registering a candidate reads the cadre's
record (name, latest grade, credit hours: their eligibility), and closing
puts each appointment on the appointee's record in the same transaction.
Supervision's outcomes arrive as events: one concluded during the
pre-appointment notice decides the nominee's appointment.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from services.cadre import messages as m
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.events import CandidateAppointed, Criterion, Post, registry
from services.cadre.domain.selection import Eligibility, SelectionProcess
from services.cadre.inbound import SupervisionOutcome
from services.cadre.views import SelectionView, selection_view
from shared.application import Author, UnitOfWork
from shared.config import CadreSettings
from shared.errors import NotFound, RuleViolation
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)


def _change(request: m.OnSelection, uow: UnitOfWork, change: Callable[[SelectionProcess], object]) -> SelectionView:
    process, _ = uow.update(SelectionProcess, request.process_id, change, request)
    return selection_view(process)


def create_selection(request: m.CreateSelection, uow: UnitOfWork, settings: CadreSettings) -> SelectionView:
    """Announce a selection; its training minimum is the service's unless the request sets one."""
    now = uow.clock.now()
    minimum = request.min_credit_hours if request.min_credit_hours is not None else settings.min_credit_hours
    posts = [Post(p.post_id, p.title) for p in request.posts]
    process, _ = uow.create(
        SelectionProcess,
        request.process_id or uuid.uuid4().hex,
        lambda p: p.announce(
            request.title, request.unit, request.kind, request.variant, posts, minimum, request.shortlist_ratio, now
        ),
        request,
    )
    return selection_view(process)


def open_registration(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    return _change(request, uow, lambda p: p.open_registration(now))


def register_candidate(request: m.RegisterCandidate, uow: UnitOfWork) -> SelectionView:
    """A cadre stands; their record decides whether they may (``NotFound`` for one not on record)."""
    now = uow.clock.now()
    cadre = uow.load(CadreRecord, request.cadre_id)
    eligibility = Eligibility(cadre.state.name, cadre.latest_grade, cadre.credit_hours(now.year))
    return _change(request, uow, lambda p: p.register_candidate(request.cadre_id, eligibility))


def open_recommendation(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    return _change(request, uow, lambda p: p.open_recommendation(now))


def cast_recommendation(request: m.CastRecommendation, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.cast_recommendation(request.voter_id, request.cadre_ids, request.round))


def make_statement(request: m.MakeStatement, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.make_statement(request.cadre_id, request.summary))


def draw_shortlist(request: m.DrawShortlist, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.draw_shortlist(request.cadre_ids))


def publish_assessment_preview(request: m.PublishPreview, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    notice_id = f"preview-{request.process_id}"
    return _change(request, uow, lambda p: p.publish_assessment_preview(notice_id, now, request.working_days))


def start_assessment(request: m.StartAssessment, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    criteria = [Criterion(c.name, c.weight) for c in request.criteria]
    return _change(request, uow, lambda p: p.start_assessment(criteria, now))


def assess_candidate(request: m.AssessCandidate, uow: UnitOfWork) -> SelectionView:
    return _change(
        request,
        uow,
        lambda p: p.assess_candidate(request.cadre_id, request.qualitative, dict(request.scores), request.actor),
    )


def convene_committee(request: m.ConveneCommittee, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.convene_committee(request.members, request.present))


def cast_committee_vote(request: m.CastCommitteeVote, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.cast_committee_vote(request.member_id, request.cadre_id, request.approve))


def conclude_committee_vote(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.conclude_committee_vote())


def open_public_notice(request: m.OpenPublicNotice, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    notice_id = f"notice-{request.process_id}"
    return _change(request, uow, lambda p: p.open_public_notice(notice_id, now, request.working_days))


def close_selection(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    """Close the process and put each appointment on the cadre's record, together."""
    now = uow.clock.now()
    with uow.transaction():
        process, recorded = uow.update(SelectionProcess, request.process_id, lambda p: p.close(now), request)
        for event in map(registry.from_record, recorded):
            if isinstance(event, CandidateAppointed):
                uow.update(
                    CadreRecord,
                    event.cadre_id,
                    _appointment(event, process.id),
                    Author(request.actor, f"appointed by selection {process.id}"),
                )
    return selection_view(process)


def _appointment(event: CandidateAppointed, process_id: str) -> Callable[[CadreRecord], None]:
    return lambda cadre: cadre.appoint(event.post_id, event.post_title, event.unit, process_id, event.appointed_at)


def note_supervision_outcome(outcome: SupervisionOutcome, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A concluded case about a candidate on a public notice decides their appointment."""
    if not outcome.process_id:
        return
    with uow.transaction():
        try:
            process = uow.load(SelectionProcess, outcome.process_id)
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
        uow.save(process, uow.system(f"supervision case {outcome.case_id} concluded"))
