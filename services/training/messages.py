"""The training service's RPC requests: commands (who and why) and queries.

Every request is a dataclass whose marshmallow schema (derived from it)
validates the call before anything runs: a bad field gets an error naming it.
Replies are in ``views`` (commands) and ``read_models`` (queries).

A learner choosing a course (``SelectCourse``) or reading their own record
(``MyRecord``) is the verified caller: the person is never a field they fill in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from marshmallow import validate

from services.training.domain.kinds import EnrolmentSource, Mode, ProgramKind, Provider
from shared.application.commands import FROM_CALLER, ID, LONG_TEXT, NAME, Command

#: A program's id has no colon: an enrolment's id is ``<program_id>:<person_id>``.
PROGRAM_ID = {
    "validate": validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", error="a program id is 1-64 letters, digits or _.- (no colon)"
    )
}
YEAR = {"validate": validate.Range(min=2000, max=2100)}
HOURS = {"validate": validate.Range(min=0, max=10000)}
SHARE = {"validate": validate.Range(min=0, max=1)}
NAMES = {"validate": validate.Length(max=50)}
BY_VALUE = {"by_value": True}
KINDS = {
    "validate": validate.And(
        validate.Length(max=len(ProgramKind)),
        validate.ContainsOnly([kind.value for kind in ProgramKind], error="each kind is one of: {choices}"),
    )
}
MEMBER_STAGES = ("applicant", "activist", "development_target", "probationary_member", "full_member")
MEMBER_STAGE = {"validate": validate.OneOf(MEMBER_STAGES)}

# -- programs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceInput:
    post_categories: list[str] = field(default_factory=list, metadata=NAMES)
    levels: list[str] = field(default_factory=list, metadata=NAMES)
    member_stages: list[str] = field(default_factory=list, metadata=NAMES)


@dataclass(frozen=True, kw_only=True)
class PlanProgram(Command):
    title: str = field(metadata=NAME)
    kind: ProgramKind = field(metadata=BY_VALUE)
    mode: Mode = field(metadata=BY_VALUE)
    provider: Provider = field(metadata=BY_VALUE)
    starts_on: dt.date
    ends_on: dt.date
    capacity: int = field(metadata={"validate": validate.Range(min=1, max=100000)})
    audience: AudienceInput = field(default_factory=AudienceInput)
    required: bool = False
    attendance_share: Decimal = field(default=Decimal(1), metadata=SHARE)
    assessment_required: bool = False
    program_id: str | None = field(default=None, metadata=PROGRAM_ID)


@dataclass(frozen=True, kw_only=True)
class OnProgram(Command):
    program_id: str = field(metadata=PROGRAM_ID)


@dataclass(frozen=True, kw_only=True)
class ScheduleSession(OnProgram):
    session_id: str = field(metadata=ID)
    title: str = field(metadata=NAME)
    starts_at: dt.datetime
    hours: Decimal = field(metadata={"validate": validate.Range(min=0, max=24, min_inclusive=False)})


# -- enrolments -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Enrol(OnProgram):
    """The department enrols a learner: assigned (调训), or self-selected on their behalf."""

    person_id: str = field(metadata=ID)
    source: EnrolmentSource = field(
        default=EnrolmentSource.ASSIGNED,
        metadata={
            "by_value": True,
            "validate": validate.OneOf([EnrolmentSource.ASSIGNED, EnrolmentSource.SELF_SELECTED]),
        },
    )


@dataclass(frozen=True, kw_only=True)
class SelectCourse(OnProgram):
    """A learner chooses a published program for themselves (自主选学): the caller is the learner."""


@dataclass(frozen=True, kw_only=True)
class OnEnrolment(OnProgram):
    person_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class RecordAttendance(OnEnrolment):
    session_id: str = field(metadata=ID)
    present: bool = True


@dataclass(frozen=True, kw_only=True)
class RecordAssessment(OnEnrolment):
    passed: bool


@dataclass(frozen=True, kw_only=True)
class Withdraw(OnEnrolment):
    reason: str = field(metadata=LONG_TEXT)


# -- learners and requirements ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterLearner(Command):
    """A learner who is not a cadre on record (department staff, a party applicant), or a profile's change."""

    person_id: str = field(metadata=ID)
    name: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)
    post_category: str | None = field(default=None, metadata=NAME)
    level: str | None = field(default=None, metadata=NAME)
    member_stage: str | None = field(default=None, metadata=MEMBER_STAGE)


@dataclass(frozen=True, kw_only=True)
class SetPlan(Command):
    person_id: str = field(metadata=ID)
    year: int = field(metadata=YEAR)
    target_hours: Decimal = field(metadata=HOURS)
    kinds: list[str] = field(default_factory=list, metadata=KINDS)
    note: str | None = field(default=None, metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class SetRequirement(Command):
    """The department's requirement for a year and post category; without a share, the service's default."""

    year: int = field(metadata=YEAR)
    post_category: str = field(metadata=NAME)
    hours: Decimal = field(metadata=HOURS)
    required_kinds: list[str] = field(default_factory=list, metadata=KINDS)
    online_share: Decimal | None = field(default=None, metadata=SHARE)


# -- suggestions ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AnswerSuggestion(Command):
    submission_id: str = field(metadata=ID)
    adopted: bool
    reasons: str = field(metadata=LONG_TEXT)


# -- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramQuery:
    kind: ProgramKind | None = field(default=None, metadata=BY_VALUE)


@dataclass(frozen=True)
class ProgramRef:
    program_id: str = field(metadata=PROGRAM_ID)


@dataclass(frozen=True)
class LearnerRef:
    person_id: str = field(metadata=ID)


@dataclass(frozen=True)
class MyRecord:
    """The caller's own record."""

    person_id: str = field(default="", metadata=FROM_CALLER)


@dataclass(frozen=True)
class ShortfallQuery:
    year: int | None = field(default=None, metadata=YEAR)
    unit: str | None = field(default=None, metadata=NAME)
    requirement: str | None = field(default=None, metadata={"validate": validate.OneOf(["yearly", "induction"])})


@dataclass(frozen=True)
class InductionQuery:
    status: str | None = field(default=None, metadata={"validate": validate.OneOf(["due", "satisfied", "overdue"])})


@dataclass(frozen=True)
class SuggestionQuery:
    status: str | None = field(default=None, metadata={"validate": validate.OneOf(["received", "answered"])})
