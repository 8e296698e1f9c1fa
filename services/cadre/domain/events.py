"""Everything that can happen in cadre work, as events.

Each event is a frozen dataclass; its fields are its payload and its schema
(validated before anything is stored). Times are aware UTC datetimes,
scores and hours are decimals (exact, stored as strings).

Personal data (``personal``): a cadre's name and what they write about
themselves (statements, self-reviews) and their commendations' citations,
each of the data subject ``cadre:<cadre id>``, stored sealed (``shared.privacy``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import DomainEvent, EventRegistry
from shared.domain.notices import NoticeOpened
from shared.domain.personal import personal


@dataclass(frozen=True)
class Post:
    post_id: str
    title: str


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: Decimal


# -- selection process ------------------------------------------------------


@dataclass(frozen=True)
class SelectionAnnounced(DomainEvent):
    title: str
    unit: str
    kind: str
    variant: str
    posts: list[Post]
    min_credit_hours: Decimal
    shortlist_ratio: Decimal | None
    announced_at: dt.datetime


@dataclass(frozen=True)
class RegistrationOpened(DomainEvent):
    opened_at: dt.datetime


@dataclass(frozen=True)
class RegistrationExtended(DomainEvent):
    """Registration (re)opened until ``closes_at``: too few candidates came forward."""

    closes_at: dt.datetime
    extended_at: dt.datetime
    working_days: int


@dataclass(frozen=True)
class SelectionCancelled(DomainEvent):
    """The selection ends without an appointment, for the reason given (kept in the event and its metadata)."""

    reason: str
    phase: str
    cancelled_at: dt.datetime


@dataclass(frozen=True)
class CandidateRegistered(DomainEvent):
    cadre_id: str
    name: str = field(metadata=personal("cadre", of="cadre_id"))
    latest_grade: str | None
    credit_hours: Decimal


@dataclass(frozen=True)
class RecommendationOpened(DomainEvent):
    opened_at: dt.datetime


@dataclass(frozen=True)
class RecommendationBallotCast(DomainEvent):
    """Legacy: a ballot that named its voter. No longer recorded (ballots are secret: ``VoterTookPart``,
    ``BallotCounted``); kept so that the streams that hold it still load."""

    round: str
    voter_id: str
    candidate_ids: list[str]


@dataclass(frozen=True)
class VoterTookPart(DomainEvent):
    """A voter took part in a secret ballot: who, never what they chose (see ``shared.domain.ballot``)."""

    ballot_id: str
    voter_id: str


@dataclass(frozen=True)
class BallotCounted(DomainEvent):
    """A secret ballot closed and counted: the tally, published now, with no voter's id on any ballot."""

    ballot_id: str
    cast: int
    void: int
    votes: dict[str, int]


@dataclass(frozen=True)
class CandidateStatementMade(DomainEvent):
    cadre_id: str
    summary: str = field(metadata=personal("cadre", of="cadre_id"))


@dataclass(frozen=True)
class ShortlistDrawn(DomainEvent):
    cadre_ids: list[str]
    recommendations: dict[str, int]
    posts: int


@dataclass(frozen=True)
class AssessmentPreviewPublished(DomainEvent):
    notice_id: str
    title: str
    unit: str
    cadre_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime


@dataclass(frozen=True)
class AssessmentStarted(DomainEvent):
    criteria: list[Criterion]
    started_at: dt.datetime


@dataclass(frozen=True)
class CandidateAssessed(DomainEvent):
    """The weighted total is kept with the inputs that produced it."""

    cadre_id: str
    qualitative: str
    scores: dict[str, Decimal]
    weights: dict[str, Decimal]
    weighted_total: Decimal
    assessor: str


@dataclass(frozen=True)
class CommitteeConvened(DomainEvent):
    members: list[str]
    present: list[str]


@dataclass(frozen=True)
class CommitteeVoteCast(DomainEvent):
    """Legacy: an open vote that named its member. No longer recorded (``VoterTookPart``, ``BallotCounted``)."""

    member_id: str
    cadre_id: str
    approve: bool


@dataclass(frozen=True)
class CommitteeResult:
    cadre_id: str
    approvals: int
    rejections: int
    approved: bool
    post_id: str | None = None  # the post whose ballot this is (None: recorded before votes were per post)


@dataclass(frozen=True)
class CommitteeVoteConcluded(DomainEvent):
    members_total: int
    results: list[CommitteeResult]
    nominees: dict[str, str] = field(default_factory=dict)  # cadre_id -> post_id


@dataclass(frozen=True)
class PublicNoticeOpened(DomainEvent):
    notice_id: str
    title: str
    unit: str
    cadre_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime
    working_days: int


@dataclass(frozen=True)
class SupervisionCaseNoted(DomainEvent):
    """A supervision case about a candidate opened while the selection runs: it holds their appointment
    until it concludes."""

    cadre_id: str
    case_id: str
    opened_at: dt.datetime
    phase: str


@dataclass(frozen=True)
class SupervisionOutcomeNoted(DomainEvent):
    cadre_id: str
    case_id: str
    substantiated: bool
    received_at: dt.datetime
    during_notice: bool


@dataclass(frozen=True)
class CandidateAppointed(DomainEvent):
    cadre_id: str
    post_id: str
    post_title: str
    unit: str
    appointed_at: dt.datetime
    notice_id: str | None = None  # the notice the appointment followed
    case_ids: list[str] = field(default_factory=list)  # cases that held it, concluded unsubstantiated


@dataclass(frozen=True)
class AppointmentPostponed(DomainEvent):
    """The notice ended with a case about the nominee still open: the appointment waits for its outcome."""

    cadre_id: str
    post_id: str
    case_ids: list[str]
    postponed_at: dt.datetime


@dataclass(frozen=True)
class AppointmentWithheld(DomainEvent):
    cadre_id: str
    post_id: str
    case_ids: list[str]
    withheld_at: dt.datetime


@dataclass(frozen=True)
class OutcomeAfterCloseFlagged(DomainEvent):
    """A substantiated case concluded during the notice reached the selection after it closed: the
    appointment made stands, and a person must review it (the case is on the cadre's record)."""

    cadre_id: str
    case_id: str
    post_id: str
    concluded_at: dt.datetime
    notice_id: str | None


@dataclass(frozen=True)
class SelectionClosed(DomainEvent):
    appointed: list[str]
    withheld: list[str]
    closed_at: dt.datetime


# -- cadre record -------------------------------------------------------------


@dataclass(frozen=True)
class CandidacyRecorded(DomainEvent):
    """The cadre stood in a selection (so that a case naming only the cadre reaches it)."""

    process_id: str
    registered_at: dt.datetime


@dataclass(frozen=True)
class CaseOnRecord(DomainEvent):
    """A supervision case about the cadre opened."""

    case_id: str
    process_id: str | None
    opened_at: dt.datetime


@dataclass(frozen=True)
class CaseConcludedOnRecord(DomainEvent):
    """A supervision case about the cadre concluded; a substantiated one counts against promotion for its period."""

    case_id: str
    substantiated: bool
    concluded_at: dt.datetime


@dataclass(frozen=True)
class CadreRegistered(DomainEvent):
    name: str = field(metadata=personal("cadre"))  # of the cadre record's own id
    unit: str
    post_category: str
    leadership_team: bool
    head_of_unit: bool


@dataclass(frozen=True)
class CadreAppointedToPost(DomainEvent):
    post_id: str
    post_title: str
    unit: str
    process_id: str
    appointed_at: dt.datetime


@dataclass(frozen=True)
class LeadershipRolesChanged(DomainEvent):
    leadership_team: bool
    head_of_unit: bool


@dataclass(frozen=True)
class CadreCommended(DomainEvent):
    title: str
    year: int
    citation: str = field(metadata=personal("cadre"))


@dataclass(frozen=True)
class AppraisalGradeRecorded(DomainEvent):
    cycle_id: str
    year: int
    grade: str
    score: Decimal


@dataclass(frozen=True)
class TrainingCreditsNoted(DomainEvent):
    year: int
    total_hours: Decimal


# -- appraisal cycle ------------------------------------------------------------


@dataclass(frozen=True)
class GradeThresholds:
    excellent: Decimal
    competent: Decimal
    basically_competent: Decimal


@dataclass(frozen=True)
class AppraisalCycleOpened(DomainEvent):
    year: int
    post_category: str
    criteria: list[Criterion]
    thresholds: GradeThresholds


@dataclass(frozen=True)
class CadreEnrolledForAppraisal(DomainEvent):
    cadre_id: str


@dataclass(frozen=True)
class SelfReviewSubmitted(DomainEvent):
    cadre_id: str
    summary: str = field(metadata=personal("cadre", of="cadre_id"))


@dataclass(frozen=True)
class ReviewerScoresSubmitted(DomainEvent):
    cadre_id: str
    reviewer_id: str
    scores: dict[str, Decimal]
    weighted: Decimal


@dataclass(frozen=True)
class AppraisalResult:
    cadre_id: str
    score: Decimal
    grade: str
    reviewers: int


@dataclass(frozen=True)
class AppraisalCycleClosed(DomainEvent):
    results: list[AppraisalResult]
    closed_at: dt.datetime


registry = EventRegistry(
    [
        SelectionAnnounced,
        RegistrationOpened,
        RegistrationExtended,
        SelectionCancelled,
        CandidateRegistered,
        RecommendationOpened,
        RecommendationBallotCast,
        VoterTookPart,
        BallotCounted,
        CandidateStatementMade,
        ShortlistDrawn,
        AssessmentPreviewPublished,
        AssessmentStarted,
        CandidateAssessed,
        CommitteeConvened,
        CommitteeVoteCast,
        CommitteeVoteConcluded,
        PublicNoticeOpened,
        NoticeOpened,
        SupervisionCaseNoted,
        SupervisionOutcomeNoted,
        AppointmentPostponed,
        CandidateAppointed,
        AppointmentWithheld,
        OutcomeAfterCloseFlagged,
        SelectionClosed,
        CadreRegistered,
        CandidacyRecorded,
        CaseOnRecord,
        CaseConcludedOnRecord,
        CadreAppointedToPost,
        LeadershipRolesChanged,
        CadreCommended,
        AppraisalGradeRecorded,
        TrainingCreditsNoted,
        AppraisalCycleOpened,
        CadreEnrolledForAppraisal,
        SelfReviewSubmitted,
        ReviewerScoresSubmitted,
        AppraisalCycleClosed,
    ]
)
