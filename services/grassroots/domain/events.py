"""Everything that happens in grassroots party organisations and party-member development, as events.

Published to other services (by the contracts they read):

- ``DevelopmentTargetDesignated {person_id, name, branch_id, designated_at}``:
  training enrols the development target in the short course;
- ``NoticeOpened`` (``shared.domain.notices``): a development target's notice
  and an election's candidate list; feedback takes objections on them;
- ``WeakBranchIdentified``: supervision opens a follow-up inspection task;
- ``DualCultivationPaired``.

Personal data (``personal``), of the data subject ``person:<person id>``:
applicants' names and birth dates, development targets' and entrepreneurs'
names, the reviews and reasons written about a person in their development,
why a member left, and a development target's notice title (which names them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import DomainEvent, EventRegistry
from shared.domain.notices import NoticeOpened
from shared.domain.personal import personal

# -- party organisations ----------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationFounded(DomainEvent):
    kind: str  # county_committee, township_committee, general_branch, branch
    org_type: str  # village, community, non_public_enterprise, association, organ
    name: str
    parent_id: str | None
    founding_members: list[str]  # full members, when founded
    founded_at: dt.datetime


@dataclass(frozen=True)
class OrganisationMoved(DomainEvent):
    parent_id: str
    moved_at: dt.datetime


@dataclass(frozen=True)
class MemberJoined(DomainEvent):
    person_id: str
    full: bool  # a full member, or probationary
    joined_at: dt.datetime


@dataclass(frozen=True)
class MemberMadeFull(DomainEvent):
    person_id: str
    made_full_at: dt.datetime


@dataclass(frozen=True)
class MemberLeft(DomainEvent):
    person_id: str
    full: bool  # a full member, or probationary
    reason: str = field(metadata=personal("person", of="person_id"))
    left_at: dt.datetime


@dataclass(frozen=True)
class LeadershipInstalled(DomainEvent):
    """The approved result of an election takes effect: the secretary, the committee, the term."""

    election_id: str
    secretary_id: str
    committee: list[str]
    term_starts: dt.datetime
    term_ends: dt.datetime


# -- branch elections ---------------------------------------------------------------------


@dataclass(frozen=True)
class ElectionCalled(DomainEvent):
    """换届: the organisation's full members (those entitled to vote) as they stood when it was called."""

    organisation_id: str
    seats: int
    committee: bool  # a branch committee (7 or more full members), else only a secretary
    entitled: list[str]
    called_at: dt.datetime


@dataclass(frozen=True)
class CandidateNominated(DomainEvent):
    """公推: by members, by the public (群众推荐) or by the organisation."""

    candidate_id: str
    source: str
    nominated_at: dt.datetime


@dataclass(frozen=True)
class CandidatesQualified(DomainEvent):
    """The higher committee qualifies the candidates: the list that goes on notice."""

    candidate_ids: list[str]
    qualified_at: dt.datetime


@dataclass(frozen=True)
class ElectionMeetingConvened(DomainEvent):
    present: list[str]  # those entitled who came
    convened_at: dt.datetime


@dataclass(frozen=True)
class VoterTookPart(DomainEvent):
    """A voter received and cast a paper: it names the voter, and nothing they chose."""

    voter_id: str


@dataclass(frozen=True)
class ElectionCounted(DomainEvent):
    """The box counted, ballots entered together with no voter; the elected are those with more than half."""

    cast: int
    void: int
    votes: dict[str, int]
    elected: list[str]
    counted_at: dt.datetime


@dataclass(frozen=True)
class ElectionApproved(DomainEvent):
    """The higher committee approves the result: it takes effect."""

    secretary_id: str
    approved_at: dt.datetime


@dataclass(frozen=True)
class CandidateStruckOff(DomainEvent):
    """A substantiated objection: the candidate leaves the list."""

    candidate_id: str
    case_id: str
    struck_at: dt.datetime


# -- objections held by supervision ---------------------------------------------------------


@dataclass(frozen=True)
class SupervisionCaseNoted(DomainEvent):
    """An objection on a notice became a case about someone under it: the decision waits for its outcome."""

    case_id: str
    person_id: str
    noted_at: dt.datetime


@dataclass(frozen=True)
class SupervisionOutcomeNoted(DomainEvent):
    case_id: str
    person_id: str
    substantiated: bool
    noted_at: dt.datetime


# -- member development ------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationReceived(DomainEvent):
    """入党申请: the applicant, at least 18, to a branch; an entrepreneur of a pairing is tagged as one."""

    person_id: str
    name: str = field(metadata=personal("person", of="person_id"))
    birth_date: dt.date | None = field(metadata=personal("person", of="person_id", erased=None))  # None: erased
    branch_id: str
    entrepreneur: bool
    applied_at: dt.datetime


@dataclass(frozen=True)
class ApplicantTalkHeld(DomainEvent):
    talked_by: str
    held_at: dt.datetime


@dataclass(frozen=True)
class DevelopmentDeadlineMissed(DomainEvent):
    """A step not taken by its date: the talk with the applicant, an activist's half-yearly review."""

    step: str  # "talk" or "activist_review"
    due_by: dt.datetime
    flagged_at: dt.datetime


@dataclass(frozen=True)
class ActivistDesignated(DomainEvent):
    """入党积极分子: recommended, decided by the branch committee, with one or two cultivation contacts."""

    recommended_by: str  # member_recommendation or mass_organisation (群团推优)
    decided_at: dt.datetime
    contacts: list[str]


@dataclass(frozen=True)
class ActivistReviewed(DomainEvent):
    note: str = field(metadata=personal("person"))  # of the development's own id: the person's
    reviewed_at: dt.datetime


@dataclass(frozen=True)
class DevelopmentTargetDesignated(DomainEvent):
    """发展对象: the contract training reads to enrol the person in the short course."""

    person_id: str
    name: str = field(metadata=personal("person", of="person_id"))
    branch_id: str
    designated_at: dt.datetime


@dataclass(frozen=True)
class IntroducersAssigned(DomainEvent):
    introducers: list[str]


@dataclass(frozen=True)
class PoliticalReviewRecorded(DomainEvent):
    passed: bool
    reviewed_at: dt.datetime


@dataclass(frozen=True)
class ShortCourseCompleted(DomainEvent):
    """training's ``TrainingCompleted`` of the development-target short course."""

    program_id: str
    hours: Decimal
    completed_at: dt.datetime


@dataclass(frozen=True)
class AdmissionPreReviewed(DomainEvent):
    """预审 by the higher committee."""

    passed: bool
    reviewed_at: dt.datetime


@dataclass(frozen=True)
class BranchMeetingVoted(DomainEvent):
    """The branch meeting on the admission: those entitled, those present with a vote, the yes votes."""

    entitled: int
    present: int
    yes: int
    admitted: bool
    held_at: dt.datetime


@dataclass(frozen=True)
class AdmissionApproved(DomainEvent):
    """The higher committee approves: probation runs a year from the branch meeting."""

    approved_at: dt.datetime
    probation_ends: dt.datetime


@dataclass(frozen=True)
class ProbationExtended(DomainEvent):
    months: int
    probation_ends: dt.datetime
    extended_at: dt.datetime


@dataclass(frozen=True)
class FullMembershipGranted(DomainEvent):
    """转正."""

    granted_at: dt.datetime


@dataclass(frozen=True)
class DevelopmentCancelled(DomainEvent):
    reason: str = field(metadata=personal("person"))
    cancelled_at: dt.datetime


# -- dual cultivation, ratings, affairs ------------------------------------------------------


@dataclass(frozen=True)
class DualCultivationPaired(DomainEvent):
    """双向培养: a member paired with an entrepreneur, with goals."""

    branch_id: str
    member_id: str
    entrepreneur_id: str
    entrepreneur_name: str = field(metadata=personal("person", of="entrepreneur_id"))
    enterprise: str
    goals: list[str]
    paired_at: dt.datetime


@dataclass(frozen=True)
class PairingGoalMet(DomainEvent):
    goal: str
    met_at: dt.datetime


@dataclass(frozen=True)
class BranchRated(DomainEvent):
    """One rating a year: the higher committee's criteria and the public survey (三级联创, 社会评价)."""

    branch_id: str
    year: int
    criteria_score: int  # 0-100, by the higher committee's criteria
    survey_satisfaction: int  # 0-100, the share of the public survey satisfied
    level: str  # advanced, good, average, weak
    problems: list[str]
    rated_at: dt.datetime


@dataclass(frozen=True)
class WeakBranchIdentified(DomainEvent):
    """软弱涣散: supervision opens a follow-up inspection task for it."""

    branch_id: str
    name: str
    year: int
    problems: list[str]
    identified_at: dt.datetime


@dataclass(frozen=True)
class PublicationScheduled(DomainEvent):
    """党务公开: what the branch publishes, to whom, how often."""

    category: str
    scope: str  # "party" (inside the party) or "public"
    every_days: int
    scheduled_at: dt.datetime


@dataclass(frozen=True)
class AffairsPublished(DomainEvent):
    category: str
    scope: str
    title: str
    body: str
    published_at: dt.datetime


@dataclass(frozen=True)
class PublicationMissed(DomainEvent):
    category: str
    due_by: dt.datetime
    flagged_at: dt.datetime


registry = EventRegistry(
    [
        OrganisationFounded,
        OrganisationMoved,
        MemberJoined,
        MemberMadeFull,
        MemberLeft,
        LeadershipInstalled,
        ElectionCalled,
        CandidateNominated,
        CandidatesQualified,
        NoticeOpened,
        ElectionMeetingConvened,
        VoterTookPart,
        ElectionCounted,
        ElectionApproved,
        CandidateStruckOff,
        SupervisionCaseNoted,
        SupervisionOutcomeNoted,
        ApplicationReceived,
        ApplicantTalkHeld,
        DevelopmentDeadlineMissed,
        ActivistDesignated,
        ActivistReviewed,
        DevelopmentTargetDesignated,
        IntroducersAssigned,
        PoliticalReviewRecorded,
        ShortCourseCompleted,
        AdmissionPreReviewed,
        BranchMeetingVoted,
        AdmissionApproved,
        ProbationExtended,
        FullMembershipGranted,
        DevelopmentCancelled,
        DualCultivationPaired,
        PairingGoalMet,
        BranchRated,
        WeakBranchIdentified,
        PublicationScheduled,
        AffairsPublished,
        PublicationMissed,
    ]
)
