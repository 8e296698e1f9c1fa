"""Programs: planned, their sessions scheduled, published, started, closed.

Publishing places the learners awaiting a program of its kind (appointees
owing induction, development targets owing the short course). Closing
concludes every enrolment in the same transaction: each completes or not by
its rule, and each completion is credited to its learner's ledger, whose new
yearly total goes to cadre (``CreditTotalUpdated``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.training import messages as m
from services.training.domain.enrolment import Enrolment, enrolment_id
from services.training.domain.events import Audience
from services.training.domain.kinds import PLACED_BY
from services.training.domain.program import TrainingProgram
from services.training.read_models import learners as learner_queries
from services.training.read_models import programs as program_queries
from services.training.service_layer.credits import credit
from services.training.service_layer.enrolments import FindOpen, place
from services.training.views import ClosedProgram, ProgramView, program_view
from shared.application import UnitOfWork
from shared.config import TrainingSettings

#: Who awaits a placement, as (person, kind), longest waiting first (the read model's answer).
FindAwaiting = Callable[[UnitOfWork], list[tuple[str, str]]]


def plan_program(request: m.PlanProgram, uow: UnitOfWork) -> ProgramView:
    now = uow.clock.now()
    audience = Audience(
        list(request.audience.post_categories), list(request.audience.levels), list(request.audience.member_stages)
    )
    program, _ = uow.create(
        TrainingProgram,
        request.program_id or uuid.uuid4().hex,
        lambda p: p.plan(
            request.title,
            request.kind,
            request.mode,
            request.provider,
            audience,
            request.required,
            request.capacity,
            request.starts_on,
            request.ends_on,
            request.attendance_share,
            request.assessment_required,
            now,
        ),
        request,
    )
    return program_view(program)


def schedule_session(request: m.ScheduleSession, uow: UnitOfWork) -> ProgramView:
    program, _ = uow.update(
        TrainingProgram,
        request.program_id,
        lambda p: p.schedule_session(request.session_id, request.title, request.starts_at, request.hours),
        request,
    )
    return program_view(program)


def publish_program(
    request: m.OnProgram, uow: UnitOfWork, find_awaiting: FindAwaiting = learner_queries.awaiting
) -> ProgramView:
    """Open the program for self-selection, then place in it those awaiting a program of its kind."""
    now = uow.clock.now()
    program, _ = uow.update(TrainingProgram, request.program_id, lambda p: p.publish(now), request)
    kind = program.state.kind
    placed = place_awaiting(uow, find_awaiting, lambda _uow, wanted: [program.id] if wanted == kind else [])
    return program_view(uow.load(TrainingProgram, program.id), placed)


def place_awaiting(
    uow: UnitOfWork, find_awaiting: FindAwaiting, find_open: FindOpen = program_queries.open_of_kind
) -> list[str]:
    """Place each learner awaiting a program of a kind into an open one; who was placed."""
    placed = []
    for person_id, kind in find_awaiting(uow):
        source = PLACED_BY.get(kind)
        if source is not None and place(uow, person_id, source, "placed as a program opened", find_open):
            placed.append(person_id)
    return placed


def start_program(request: m.OnProgram, uow: UnitOfWork) -> ProgramView:
    now = uow.clock.now()
    program, _ = uow.update(TrainingProgram, request.program_id, lambda p: p.start(now), request)
    return program_view(program)


def close_program(request: m.OnProgram, uow: UnitOfWork, settings: TrainingSettings) -> ClosedProgram:
    """Close the program and conclude every enrolment, crediting each completion, all in one transaction."""
    now = uow.clock.now()
    completed: list[str] = []
    not_completed: list[str] = []
    with uow.transaction():
        program, _ = uow.update(TrainingProgram, request.program_id, lambda p: p.close(now), request)
        for person_id in program.state.seats:
            enrolment = uow.load(Enrolment, enrolment_id(program.id, person_id))
            enrolment.conclude(now)
            uow.save(enrolment, request)
            credit(uow, enrolment, now, settings)
            (completed if enrolment.state.status == "completed" else not_completed).append(person_id)
    return ClosedProgram(program.id, program.version, completed, not_completed)
