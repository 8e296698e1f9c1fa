"""Enrolments: by the department (assigned, 调训), by the learner (self-selected, 自主选学), or by the
service itself on appointment or designation; attendance, assessments, withdrawal.

An enrolment and the seat it takes are saved in one transaction: the
program's version settles a race for its last seat.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable

from services.training import messages as m
from services.training.domain.enrolment import Enrolment, enrolment_id
from services.training.domain.kinds import AUTOMATIC, EnrolmentSource
from services.training.domain.ledger import LearnerLedger
from services.training.domain.program import Learner, TrainingProgram
from services.training.read_models import programs as program_queries
from services.training.views import EnrolmentView, enrolment_view
from shared.application import Authored, UnitOfWork
from shared.errors import RuleViolation

log = logging.getLogger(__name__)

#: Which published programs of a kind have a seat left, earliest first (the read model's answer).
FindOpen = Callable[[UnitOfWork, str], list[str]]


def learner_of(ledger: LearnerLedger) -> Learner:
    s = ledger.state
    return Learner(s.post_category, s.level, s.member_stage)


def _enrol(
    uow: UnitOfWork, program_id: str, person_id: str, source: EnrolmentSource, by: Authored, now: dt.datetime
) -> Enrolment:
    """Take a seat and record the enrolment, in one transaction; the learner must be on record."""
    with uow.transaction():
        ledger = uow.load_or_new(LearnerLedger, person_id)
        ledger.require(ledger.state.profiled, "learner.on_record", f"{person_id} is not a learner on record")
        program = uow.load(TrainingProgram, program_id)
        program.take_seat(person_id, source.value, learner_of(ledger))
        enrolment = Enrolment(enrolment_id(program_id, person_id))
        s = program.state
        enrolment.enrol(
            person_id,
            program_id,
            source.value,
            s.kind,
            s.mode,
            s.required,
            program.session_hours(),
            s.attendance_share,
            s.assessment_required,
            now,
        )
        uow.save(program, by)
        uow.save(enrolment, by)
    return enrolment


def enrol(request: m.Enrol, uow: UnitOfWork) -> EnrolmentView:
    return enrolment_view(_enrol(uow, request.program_id, request.person_id, request.source, request, uow.clock.now()))


def select_course(request: m.SelectCourse, uow: UnitOfWork) -> EnrolmentView:
    """The caller chooses a course for themselves: the learner is who the credentials say."""
    enrolment = _enrol(uow, request.program_id, request.actor, EnrolmentSource.SELF_SELECTED, request, uow.clock.now())
    return enrolment_view(enrolment)


def _in_session(uow: UnitOfWork, program_id: str, doing: str) -> None:
    uow.load(TrainingProgram, program_id).require_running(doing)


def record_attendance(request: m.RecordAttendance, uow: UnitOfWork) -> EnrolmentView:
    now = uow.clock.now()
    with uow.transaction():
        _in_session(uow, request.program_id, "record_attendance")
        enrolment, _ = uow.update(
            Enrolment,
            enrolment_id(request.program_id, request.person_id),
            lambda e: e.record_attendance(request.session_id, request.present, now),
            request,
        )
    return enrolment_view(enrolment)


def record_assessment(request: m.RecordAssessment, uow: UnitOfWork) -> EnrolmentView:
    now = uow.clock.now()
    with uow.transaction():
        _in_session(uow, request.program_id, "record_assessment")
        enrolment, _ = uow.update(
            Enrolment,
            enrolment_id(request.program_id, request.person_id),
            lambda e: e.record_assessment(request.passed, now),
            request,
        )
    return enrolment_view(enrolment)


def withdraw(request: m.Withdraw, uow: UnitOfWork) -> EnrolmentView:
    """The learner leaves the program; their seat is free again while it is open."""
    now = uow.clock.now()
    with uow.transaction():
        enrolment, _ = uow.update(
            Enrolment,
            enrolment_id(request.program_id, request.person_id),
            lambda e: e.withdraw(request.reason, now),
            request,
        )
        uow.update(TrainingProgram, request.program_id, lambda p: p.release_seat(request.person_id), request)
    return enrolment_view(enrolment)


def place(
    uow: UnitOfWork,
    person_id: str,
    source: EnrolmentSource,
    reason: str,
    find_open: FindOpen = program_queries.open_of_kind,
) -> str | None:
    """Enrol the learner in the earliest open program of the kind ``source`` places in; else they await one.

    The program that admits them (audience, a seat) takes them; the program
    id, or None when they now await a program of the kind.
    """
    kind = AUTOMATIC[source]
    now = uow.clock.now()
    by = uow.system(reason)
    for program_id in find_open(uow, kind.value):
        try:
            with uow.transaction():
                _enrol(uow, program_id, person_id, source, by, now)
                placed = functools.partial(LearnerLedger.placed, kind=kind.value, program_id=program_id)
                uow.update(LearnerLedger, person_id, placed, by)
            return program_id
        except RuleViolation as refused:
            log.info("%s not placed in %s: %s", person_id, program_id, refused)
    uow.update(
        LearnerLedger, person_id, lambda ledger: ledger.await_placement(kind.value, source.value, reason, now), by
    )
    return None
