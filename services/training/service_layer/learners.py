"""Learners' ledgers: opened from cadre's registrations and grassroots' designations, or by the department;
induction owed on appointment; the learner's own plan.

What arrives from other services is done as the service itself, in the story
of the event that caused it.
"""

from __future__ import annotations

import datetime as dt
import logging

from services.training import messages as m
from services.training.domain.kinds import EnrolmentSource, ProgramKind
from services.training.domain.ledger import LearnerLedger
from services.training.inbound import AppointedCandidate, AppointedToPost, DesignatedTarget, RegisteredCadre
from services.training.read_models import programs as program_queries
from services.training.service_layer.enrolments import FindOpen, place
from services.training.views import LearnerView, PlanView, learner_view
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)

DEVELOPMENT_TARGET = "development_target"


class NotYetOnRecord(Exception):
    """An appointment arrived before the cadre's registration: retried, and dead-lettered (replayable) if it persists."""


def register_learner(request: m.RegisterLearner, uow: UnitOfWork) -> LearnerView:
    """A learner the department enrols directly (its own staff, an applicant), or a change to a profile."""

    def profile(ledger: LearnerLedger) -> None:
        ledger.profile(
            request.name,
            request.unit,
            request.post_category,
            request.level,
            request.member_stage,
            ledger.state.cadre,
        )

    with uow.transaction():
        ledger = uow.load_or_new(LearnerLedger, request.person_id)
        profile(ledger)
        uow.save(ledger, request)
    return learner_view(ledger)


def cadre_registered(cadre: RegisteredCadre, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A cadre on record: their ledger, and every year's total published again so that cadre has it."""
    cadre_id = record.aggregate_id
    with uow.transaction():
        ledger = uow.load_or_new(LearnerLedger, cadre_id)
        s = ledger.state
        ledger.profile(cadre.name, cadre.unit, cadre.post_category, s.level, s.member_stage, True)
        ledger.publish_totals_again()
        uow.save(ledger, uow.system("cadre registered"))


def _appointed(
    cadre_id: str, post_id: str, appointed_at: dt.datetime, uow: UnitOfWork, find_open: FindOpen
) -> str | None:
    with uow.transaction():
        ledger = uow.load_or_new(LearnerLedger, cadre_id)
        if not ledger.state.profiled:
            raise NotYetOnRecord(f"{cadre_id} was appointed to {post_id} but is not yet a learner on record")
        owed = ledger.owe_induction(post_id, appointed_at)
        uow.save(ledger, uow.system(f"appointed to post {post_id}"))
        if not owed:
            return None
        return place(uow, cadre_id, EnrolmentSource.ON_APPOINTMENT, f"induction for post {post_id}", find_open)


def candidate_appointed(
    appointed: AppointedCandidate,
    record: RecordedEvent,
    uow: UnitOfWork,
    find_open: FindOpen = program_queries.open_of_kind,
) -> str | None:
    """A selection appointed its candidate: induction is owed (once per post), and they are enrolled in it."""
    return _appointed(appointed.cadre_id, appointed.post_id, appointed.appointed_at, uow, find_open)


def appointed_to_post(
    appointed: AppointedToPost,
    record: RecordedEvent,
    uow: UnitOfWork,
    find_open: FindOpen = program_queries.open_of_kind,
) -> str | None:
    """The cadre's record notes the post: the same obligation as the selection's appointment, owed once."""
    return _appointed(record.aggregate_id, appointed.post_id, appointed.appointed_at, uow, find_open)


def development_target_designated(
    target: DesignatedTarget,
    record: RecordedEvent,
    uow: UnitOfWork,
    find_open: FindOpen = program_queries.open_of_kind,
) -> str | None:
    """A development target: on record as one, and enrolled in the short course unless they have done it."""
    with uow.transaction():
        ledger = uow.load_or_new(LearnerLedger, target.person_id)
        s = ledger.state
        if s.profiled:
            ledger.profile(s.name, s.unit, s.post_category, s.level, DEVELOPMENT_TARGET, s.cadre)
        else:
            ledger.profile(target.name, target.branch_id, None, None, DEVELOPMENT_TARGET, False)
        uow.save(ledger, uow.system("designated a development target"))
        if ProgramKind.DEVELOPMENT_TARGET_COURSE in {c.kind for c in ledger.state.completions}:
            log.info("%s has completed the short course already", target.person_id)
            return None
        return place(
            uow, target.person_id, EnrolmentSource.ON_DESIGNATION, "designated a development target", find_open
        )


def set_plan(request: m.SetPlan, uow: UnitOfWork) -> PlanView:
    kinds = sorted(set(request.kinds))
    uow.update(
        LearnerLedger,
        request.person_id,
        lambda ledger: ledger.set_plan(request.year, request.target_hours, kinds, request.note),
        request,
    )
    return PlanView(request.person_id, request.year, request.target_hours, kinds)
