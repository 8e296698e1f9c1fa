"""Everything that can happen in cadre work, as events.

Each event is a frozen dataclass; its fields are its payload and its schema
(validated before anything is stored). Times are aware UTC datetimes,
scores and hours are decimals (exact, stored as strings).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import DomainEvent, EventRegistry


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
class CandidateRegistered(DomainEvent):
    cadre_id: str
    name: str
    latest_grade: str | None
    credit_hours: Decimal


@dataclass(frozen=True)
class RecommendationOpened(DomainEvent):
    opened_at: dt.datetime


@dataclass(frozen=True)
class RecommendationBallotCast(DomainEvent):
    round: str
    voter_id: str
    candidate_ids: list[str]


@dataclass(frozen=True)
class CandidateStatementMade(DomainEvent):
    cadre_id: str
    summary: str


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
    member_id: str
    cadre_id: str
    approve: bool


@dataclass(frozen=True)
class CommitteeResult:
    cadre_id: str
    approvals: int
    rejections: int
    approved: bool


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


@dataclass(frozen=True)
class AppointmentWithheld(DomainEvent):
    cadre_id: str
    post_id: str
    case_ids: list[str]
    withheld_at: dt.datetime


@dataclass(frozen=True)
class SelectionClosed(DomainEvent):
    appointed: list[str]
    withheld: list[str]
    closed_at: dt.datetime


# -- cadre record -------------------------------------------------------------


@dataclass(frozen=True)
class CadreRegistered(DomainEvent):
    name: str
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
    citation: str


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
    summary: str


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
        CandidateRegistered,
        RecommendationOpened,
        RecommendationBallotCast,
        CandidateStatementMade,
        ShortlistDrawn,
        AssessmentPreviewPublished,
        AssessmentStarted,
        CandidateAssessed,
        CommitteeConvened,
        CommitteeVoteCast,
        CommitteeVoteConcluded,
        PublicNoticeOpened,
        SupervisionOutcomeNoted,
        CandidateAppointed,
        AppointmentWithheld,
        SelectionClosed,
        CadreRegistered,
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
