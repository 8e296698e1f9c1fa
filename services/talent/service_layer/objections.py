"""Objections on a program's selection notice, as supervision's cases: they hold the confirmation.

feedback routes an objection about someone selected to supervision, naming
the decision the notice holds (``program:<id>``); the program waits for the
case, and a substantiated outcome withdraws that person's selection.
"""

from __future__ import annotations

from services.talent.domain.program import TalentProgram
from services.talent.inbound import CaseOutcome, OpenedCase
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

PREFIX = "program:"


def _program(uow: UnitOfWork, process_id: str | None) -> TalentProgram | None:
    if not process_id or not process_id.startswith(PREFIX):
        return None
    program = uow.load_or_new(TalentProgram, process_id.removeprefix(PREFIX))
    return program if program.version else None


def case_opened(case: OpenedCase, record: RecordedEvent, uow: UnitOfWork) -> None:
    with uow.transaction():
        program = _program(uow, case.process_id)
        if program is not None:
            program.note_case(record.aggregate_id, case.cadre_id, uow.clock.now())
            uow.save(program, uow.system("an objection became a supervision case"))


def outcome_recorded(outcome: CaseOutcome, record: RecordedEvent, uow: UnitOfWork) -> None:
    with uow.transaction():
        program = _program(uow, outcome.process_id)
        if program is not None:
            program.note_outcome(outcome.case_id, outcome.substantiated, uow.clock.now())
            uow.save(program, uow.system("supervision outcome"))
