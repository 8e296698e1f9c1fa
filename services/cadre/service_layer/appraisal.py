"""Appraisal cycles: opened, cadres enrolled, self-reviews and scores in, closed with a grade each.

Closing a cycle puts each grade on the cadre's record in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.cadre import messages as m
from services.cadre.domain.appraisal import AppraisalCycle
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.events import AppraisalCycleClosed, AppraisalResult, Criterion, GradeThresholds, registry
from services.cadre.views import CycleView, cycle_view
from shared.application import Author, UnitOfWork


def open_appraisal_cycle(request: m.OpenAppraisalCycle, uow: UnitOfWork) -> CycleView:
    t = request.thresholds
    criteria = [Criterion(c.name, c.weight) for c in request.criteria]
    thresholds = GradeThresholds(t.excellent, t.competent, t.basically_competent)
    cycle, _ = uow.create(
        AppraisalCycle,
        request.cycle_id or uuid.uuid4().hex,
        lambda c: c.open(request.year, request.post_category, criteria, thresholds),
        request,
    )
    return cycle_view(cycle)


def enrol_for_appraisal(request: m.EnrolForAppraisal, uow: UnitOfWork) -> CycleView:
    uow.load(CadreRecord, request.cadre_id)  # NotFound for a cadre not on record
    cycle, _ = uow.update(AppraisalCycle, request.cycle_id, lambda c: c.enrol(request.cadre_id), request)
    return cycle_view(cycle)


def submit_self_review(request: m.SubmitSelfReview, uow: UnitOfWork) -> CycleView:
    cycle, _ = uow.update(
        AppraisalCycle, request.cycle_id, lambda c: c.submit_self_review(request.cadre_id, request.summary), request
    )
    return cycle_view(cycle)


def submit_review_scores(request: m.SubmitReviewScores, uow: UnitOfWork) -> CycleView:
    cycle, _ = uow.update(
        AppraisalCycle,
        request.cycle_id,
        lambda c: c.submit_scores(request.cadre_id, request.reviewer_id, dict(request.scores)),
        request,
    )
    return cycle_view(cycle)


def _grade(result: AppraisalResult, cycle: AppraisalCycle) -> Callable[[CadreRecord], None]:
    return lambda cadre: cadre.record_appraisal(cycle.id, cycle.state.year, result.grade, result.score)


def close_appraisal_cycle(request: m.OnCycle, uow: UnitOfWork) -> CycleView:
    """Close and lock the cycle and put each grade on the cadre's record, together."""
    now = uow.clock.now()
    with uow.transaction():
        cycle, recorded = uow.update(AppraisalCycle, request.cycle_id, lambda c: c.close(now), request)
        closed = next(e for e in map(registry.from_record, recorded) if isinstance(e, AppraisalCycleClosed))
        for result in closed.results:
            uow.update(
                CadreRecord,
                result.cadre_id,
                _grade(result, cycle),
                Author(request.actor, f"appraisal cycle {cycle.id} closed"),
            )
    return cycle_view(cycle)
