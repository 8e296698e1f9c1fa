"""What the training service's commands answer, and how each is made from an aggregate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from services.training.domain.enrolment import Enrolment
from services.training.domain.ledger import LearnerLedger
from services.training.domain.program import TrainingProgram
from services.training.domain.suggestion import Suggestion


@dataclass(frozen=True)
class ProgramView:
    program_id: str
    version: int
    title: str
    kind: str
    phase: str
    capacity: int
    seats_left: int
    sessions: int
    total_hours: Decimal
    placed: list[str]  # learners the service placed as it was published (awaiting a program of its kind)


def program_view(program: TrainingProgram, placed: list[str] | None = None) -> ProgramView:
    s = program.state
    return ProgramView(
        program.id,
        program.version,
        s.title,
        s.kind,
        str(s.phase),
        s.capacity,
        program.seats_left,
        len(s.sessions),
        program.total_hours,
        placed or [],
    )


@dataclass(frozen=True)
class EnrolmentView:
    program_id: str
    person_id: str
    version: int
    source: str
    status: str
    attended_share: Decimal
    assessment_passed: bool | None


def enrolment_view(enrolment: Enrolment) -> EnrolmentView:
    s = enrolment.state
    return EnrolmentView(
        s.program_id, s.person_id, enrolment.version, s.source, s.status, enrolment.attended_share, s.assessment_passed
    )


@dataclass(frozen=True)
class ClosedProgram:
    program_id: str
    version: int
    completed: list[str]
    not_completed: list[str]


@dataclass(frozen=True)
class LearnerView:
    person_id: str
    version: int
    name: str
    unit: str
    post_category: str | None
    level: str | None
    member_stage: str | None
    cadre: bool


def learner_view(ledger: LearnerLedger) -> LearnerView:
    s = ledger.state
    return LearnerView(ledger.id, ledger.version, s.name, s.unit, s.post_category, s.level, s.member_stage, s.cadre)


@dataclass(frozen=True)
class PlanView:
    person_id: str
    year: int
    target_hours: Decimal
    kinds: list[str]


@dataclass(frozen=True)
class RequirementView:
    year: int
    post_category: str
    hours: Decimal
    required_kinds: list[str]
    online_share: Decimal
    recounted: int  # learners of the category whose year's total changed with the new share


@dataclass(frozen=True)
class SuggestionView:
    submission_id: str
    version: int
    answered: bool


def suggestion_view(suggestion: Suggestion) -> SuggestionView:
    return SuggestionView(suggestion.id, suggestion.version, suggestion.state.answered)


@dataclass(frozen=True)
class DeadlineCheck:
    """What one check of deadlines did."""

    inductions_flagged: int
    years_reviewed: int
    placed: int
    checked_at: dt.datetime
