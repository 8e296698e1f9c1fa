"""Talent programs: launched, applied for, selected, on notice, confirmed with their incentives.

Confirmation grants the program's incentive to each person still selected,
on their talent record, in the same transaction: from the day of
confirmation for the program's months. Someone who already receives an
incentive of the same kind for that time is confirmed without a second one
(the view names them), so that one person cannot hold up everyone's.
"""

from __future__ import annotations

from services.talent import messages as m
from services.talent.domain.events import Eligibility
from services.talent.domain.program import Applicant, TalentProgram
from services.talent.domain.talent import ACTIVE, TalentRecord
from services.talent.views import ProgramView, program_view
from shared.application import UnitOfWork
from shared.domain.calendar import months_after


def launch(request: m.LaunchProgram, uow: UnitOfWork) -> ProgramView:
    now = uow.clock.now()
    rules = Eligibility(
        list(request.eligibility.teams), list(request.eligibility.levels), list(request.eligibility.sources)
    )
    program, _ = uow.create(
        TalentProgram,
        request.program_id,
        lambda p: p.launch(
            request.title,
            request.kind,
            request.retention_way,
            rules,
            request.quota,
            request.opens_at,
            request.closes_at,
            list(request.panel),
            request.incentive,
            request.incentive_months,
            now,
        ),
        request,
    )
    return program_view(program)


def apply(request: m.ApplyToProgram, uow: UnitOfWork) -> ProgramView:
    """An application, from someone with a talent record whom the program's rules admit."""
    now = uow.clock.now()
    with uow.transaction():
        talent = uow.load(TalentRecord, request.person_id)
        s = talent.state
        applicant = Applicant(s.team, s.level, s.source, s.status == ACTIVE)
        program, _ = uow.update(
            TalentProgram,
            request.program_id,
            lambda p: p.take_application(request.person_id, applicant, now),
            request,
        )
    return program_view(program)


def select(request: m.SelectCandidates, uow: UnitOfWork) -> ProgramView:
    now = uow.clock.now()
    program, _ = uow.update(
        TalentProgram, request.program_id, lambda p: p.select(list(request.person_ids), now), request
    )
    return program_view(program)


def open_notice(request: m.OpenSelectionNotice, uow: UnitOfWork) -> ProgramView:
    now, calendar = uow.clock.now(), uow.calendar
    notice_id = f"selection-{request.program_id}"
    program, _ = uow.update(
        TalentProgram,
        request.program_id,
        lambda p: p.open_notice(notice_id, "talent office", request.working_days, calendar, now),
        request,
    )
    return program_view(program)


def confirm(request: m.OnProgram, uow: UnitOfWork) -> ProgramView:
    """The selection stands: each person still selected receives the incentive, in the same transaction."""
    now = uow.clock.now()
    with uow.transaction():
        program = uow.load(TalentProgram, request.program_id)
        kept = program.confirm(now)
        uow.save(program, request)
        s = program.state
        starts, ends = now.date(), months_after(now, s.incentive_months).date()
        granted, already_held = [], []
        for person_id in kept:
            talent = uow.load(TalentRecord, person_id)
            if talent.holds(s.incentive, starts, ends):
                already_held.append(person_id)  # selected, but the same incentive already runs for them
                continue
            talent.grant_incentive(program.id, s.incentive, starts, ends)
            uow.save(talent, request)
            granted.append(person_id)
    return program_view(program, granted, already_held)
