"""Everything that happens in cadre education and training, as events.

Published to other services (by the contracts they read):

- ``CreditTotalUpdated {cadre_id, year, total_hours}``: a learner's counted
  hours for a year, absolute (cadre keeps it for the eligibility rule; for a
  cadre, the person id is the cadre id);
- ``TrainingCompleted``: an enrolment completed (grassroots checks the
  development-target short course before admission);
- ``InductionDue``, ``RequirementShortfallFlagged`` and ``RequirementMet``;
- ``SuggestionAnswered``: feedback gives the answer to the submitter.

Personal data (``personal``), sealed under the same subjects as where it came
from, so that one erasure reaches every copy: a learner's name (``cadre:<id>``
for a cadre, else ``person:<id>``) and a suggestion's text (``submitter:<submission id>``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import DomainEvent, EventRegistry
from shared.domain.personal import Subject, personal

# -- programs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who a program is for; an empty list admits anyone on that count."""

    post_categories: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    member_stages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProgramPlanned(DomainEvent):
    title: str
    kind: str
    mode: str
    provider: str
    audience: Audience
    required: bool
    capacity: int
    starts_on: dt.date
    ends_on: dt.date
    attendance_share: Decimal  # the share of the program's hours a learner must attend
    assessment_required: bool
    planned_at: dt.datetime


@dataclass(frozen=True)
class SessionScheduled(DomainEvent):
    session_id: str
    title: str
    starts_at: dt.datetime
    hours: Decimal


@dataclass(frozen=True)
class ProgramPublished(DomainEvent):
    """Open for self-selection (自主选学) and enrolment, up to capacity."""

    kind: str
    total_hours: Decimal
    published_at: dt.datetime


@dataclass(frozen=True)
class SeatTaken(DomainEvent):
    person_id: str
    source: str


@dataclass(frozen=True)
class SeatReleased(DomainEvent):
    person_id: str


@dataclass(frozen=True)
class ProgramStarted(DomainEvent):
    started_at: dt.datetime


@dataclass(frozen=True)
class ProgramClosed(DomainEvent):
    closed_at: dt.datetime


# -- enrolments -------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionHours:
    session_id: str
    hours: Decimal


@dataclass(frozen=True)
class Enrolled(DomainEvent):
    """One learner in one program; the program's sessions and completion rule as they stood."""

    person_id: str
    program_id: str
    source: str
    kind: str
    mode: str
    required: bool
    sessions: list[SessionHours]
    attendance_share: Decimal
    assessment_required: bool
    enrolled_at: dt.datetime


@dataclass(frozen=True)
class AttendanceRecorded(DomainEvent):
    session_id: str
    present: bool
    recorded_at: dt.datetime


@dataclass(frozen=True)
class AssessmentRecorded(DomainEvent):
    passed: bool
    recorded_at: dt.datetime


@dataclass(frozen=True)
class EnrolmentWithdrawn(DomainEvent):
    reason: str
    withdrawn_at: dt.datetime


@dataclass(frozen=True)
class TrainingCompleted(DomainEvent):
    """The enrolment met its program's completion rule: its hours are credited, once."""

    person_id: str
    program_id: str
    kind: str
    hours: Decimal
    completed_at: dt.datetime


@dataclass(frozen=True)
class EnrolmentNotCompleted(DomainEvent):
    """The program closed and the enrolment fell short of its completion rule."""

    attended_share: Decimal
    assessment_passed: bool | None
    concluded_at: dt.datetime


# -- learners' ledgers ------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerProfiled(DomainEvent):
    """Who the learner is, for audiences, requirements and the unit's shortfalls (latest wins)."""

    # a cadre's name is the cadre's (cadre:<id>, as cadre seals it); anyone else's, the person's
    name: str = field(metadata=personal("cadre", when=lambda e: e.cadre, otherwise=Subject("person")))
    unit: str
    post_category: str | None
    level: str | None
    member_stage: str | None
    cadre: bool


@dataclass(frozen=True)
class CreditsAwarded(DomainEvent):
    program_id: str
    kind: str
    online: bool
    required: bool
    year: int
    hours: Decimal
    completed_at: dt.datetime


@dataclass(frozen=True)
class CreditTotalUpdated(DomainEvent):
    """The contract cadre reads: the learner's counted hours of ``year``, online hours capped."""

    cadre_id: str
    year: int
    total_hours: Decimal


@dataclass(frozen=True)
class PlacementAwaited(DomainEvent):
    """An automatic enrolment found no program of its kind open: the next one published takes the learner."""

    kind: str
    source: str
    reason: str
    awaited_at: dt.datetime


@dataclass(frozen=True)
class PlacementMade(DomainEvent):
    kind: str
    program_id: str


@dataclass(frozen=True)
class InductionDue(DomainEvent):
    """任职培训: appointed to a leading post, the cadre completes induction before it or within a year after."""

    person_id: str
    post_id: str
    appointed_at: dt.datetime
    due_by: dt.datetime


@dataclass(frozen=True)
class InductionSatisfied(DomainEvent):
    post_id: str
    program_id: str
    completed_at: dt.datetime


@dataclass(frozen=True)
class RequirementShortfallFlagged(DomainEvent):
    """A requirement not met when its time ran out: the year's hours or required kinds, or an induction."""

    person_id: str
    unit: str
    year: int
    requirement: str  # "yearly" or "induction"
    required_hours: Decimal
    counted_hours: Decimal
    missing_kinds: list[str]
    post_id: str | None
    flagged_at: dt.datetime


@dataclass(frozen=True)
class RequirementMet(DomainEvent):
    """The year reviewed and its requirement met."""

    person_id: str
    year: int
    counted_hours: Decimal
    reviewed_at: dt.datetime


@dataclass(frozen=True)
class IndividualPlanSet(DomainEvent):
    """个性化 training: the learner's own plan for a year (latest wins)."""

    year: int
    target_hours: Decimal
    kinds: list[str]
    note: str | None


# -- requirements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementSet(DomainEvent):
    """The department's requirement for a year and a post category (latest wins)."""

    year: int
    post_category: str
    hours: Decimal
    required_kinds: list[str]
    online_share: Decimal  # at most this share of the year's counted hours may be online
    set_at: dt.datetime


# -- suggestions from the public -----------------------------------------------------------


@dataclass(frozen=True)
class SuggestionReceived(DomainEvent):
    submission_id: str
    text: str = field(metadata=personal("submitter", of="submission_id"))
    received_at: dt.datetime


@dataclass(frozen=True)
class SuggestionAnswered(DomainEvent):
    """The answer feedback gives the submitter: ``text`` says whether it was adopted, and why."""

    submission_id: str
    adopted: bool
    reasons: str
    text: str
    answered_at: dt.datetime


registry = EventRegistry(
    [
        ProgramPlanned,
        SessionScheduled,
        ProgramPublished,
        SeatTaken,
        SeatReleased,
        ProgramStarted,
        ProgramClosed,
        Enrolled,
        AttendanceRecorded,
        AssessmentRecorded,
        EnrolmentWithdrawn,
        TrainingCompleted,
        EnrolmentNotCompleted,
        LearnerProfiled,
        CreditsAwarded,
        CreditTotalUpdated,
        PlacementAwaited,
        PlacementMade,
        InductionDue,
        InductionSatisfied,
        RequirementShortfallFlagged,
        RequirementMet,
        IndividualPlanSet,
        RequirementSet,
        SuggestionReceived,
        SuggestionAnswered,
    ]
)
