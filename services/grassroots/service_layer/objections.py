"""Objections on grassroots' notices, as supervision's cases: they hold the decision they concern.

feedback routes an objection about someone under one of grassroots' notices
to supervision, naming the decision the notice holds: ``admission:<person>``
(a development target) or ``election:<election>`` (a candidate list). While
the case is open the admission, or the election's vote, waits; a substantiated
outcome cancels the development, or strikes the candidate off.
"""

from __future__ import annotations

import logging

from services.grassroots.domain.development import MemberDevelopment
from services.grassroots.domain.election import BranchElection
from services.grassroots.inbound import CaseOutcome, OpenedCase
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)

ADMISSION, ELECTION = "admission", "election"


def _decision(process_id: str | None) -> tuple[str, str] | None:
    kind, _, key = (process_id or "").partition(":")
    return (kind, key) if kind in (ADMISSION, ELECTION) and key else None


def case_opened(case: OpenedCase, record: RecordedEvent, uow: UnitOfWork) -> None:
    decision = _decision(case.process_id)
    if decision is None:
        return  # a case about something else
    kind, key = decision
    now, case_id, by = uow.clock.now(), record.aggregate_id, uow.system("an objection became a supervision case")
    with uow.transaction():
        if kind == ADMISSION:
            development = uow.load_or_new(MemberDevelopment, key)
            if development.version and case.cadre_id == key:
                development.note_case(case_id, now)
                uow.save(development, by)
        else:
            election = uow.load_or_new(BranchElection, key)
            if election.version:
                election.note_case(case_id, case.cadre_id, now)
                uow.save(election, by)


def outcome_recorded(outcome: CaseOutcome, record: RecordedEvent, uow: UnitOfWork) -> None:
    decision = _decision(outcome.process_id)
    if decision is None:
        return
    kind, key = decision
    now, by = uow.clock.now(), uow.system("supervision outcome")
    with uow.transaction():
        if kind == ADMISSION:
            development = uow.load_or_new(MemberDevelopment, key)
            if development.version:
                development.note_outcome(outcome.case_id, outcome.substantiated, now)
                uow.save(development, by)
        else:
            election = uow.load_or_new(BranchElection, key)
            if election.version:
                election.note_outcome(outcome.case_id, outcome.substantiated, now)
                uow.save(election, by)
