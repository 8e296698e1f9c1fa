"""The selection process's vocabulary: kinds, variants, phases, what each phase
allows, and the state its events build (the package holds the commands)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from services.cadre.domain.events import Criterion, Post
from shared.domain.ballot import Ballot


class Kind(StrEnum):
    PUBLIC_SELECTION = "public_selection"  # 公开选拔
    TARGETED_COUNTY_SELECTION = "targeted_county_selection"  # 定向公选县级干部
    COMPETITIVE_APPOINTMENT = "competitive_appointment"  # 竞争上岗


class Variant(StrEnum):
    STANDARD = "standard"
    TWO_RECOMMENDATIONS_ONE_STATEMENT = "two_recommendations_one_statement"  # 两推一述


class Round(StrEnum):
    MEETING = "meeting"  # recommendation by a meeting's ballots
    TALK = "talk"  # recommendation in individual talks (两推一述 only)


def recommendation_ballot(round: Round | str) -> str:
    return f"recommendation:{round}"


def committee_ballot(post_id: str, number: int) -> str:
    return f"committee:{post_id}:{number}"


def committee_ballot_post(ballot_id: str) -> tuple[str, int]:
    """The post and the number of a committee ballot's id (a post id may itself contain ':')."""
    post_id, _, number = ballot_id.removeprefix("committee:").rpartition(":")
    return post_id, int(number)


class Phase(StrEnum):
    NEW = "new"
    ANNOUNCED = "announced"
    REGISTRATION = "registration"
    RECOMMENDATION = "recommendation"
    SHORTLISTED = "shortlisted"
    PREVIEW = "assessment_preview"
    ASSESSMENT = "assessment"
    COMMITTEE = "committee_vote"
    NOMINATED = "nominated"
    PUBLIC_NOTICE = "public_notice"
    POSTPONED = "postponed"  # the notice has ended; an appointment waits for a case's outcome
    CLOSED = "closed"
    CANCELLED = "cancelled"


#: Phases in which supervision's cases about a candidate count (and hold an appointment).
RUNNING = frozenset(set(Phase) - {Phase.NEW, Phase.CLOSED, Phase.CANCELLED})

#: What each phase allows: the server's guard against steps out of order.
ALLOWED: dict[Phase, tuple[str, ...]] = {
    Phase.NEW: ("announce",),
    Phase.ANNOUNCED: ("open_registration", "cancel"),
    Phase.REGISTRATION: ("register_candidate", "open_recommendation", "extend_registration", "cancel"),
    Phase.RECOMMENDATION: (
        "cast_recommendation",
        "count_recommendation",
        "make_statement",
        "draw_shortlist",
        "extend_registration",
        "cancel",
    ),
    Phase.SHORTLISTED: ("publish_assessment_preview", "cancel"),
    Phase.PREVIEW: ("start_assessment", "cancel"),
    Phase.ASSESSMENT: ("assess_candidate", "convene_committee", "cancel"),
    Phase.COMMITTEE: ("cast_committee_vote", "count_committee_vote", "conclude_committee_vote", "cancel"),
    Phase.NOMINATED: ("open_public_notice", "close", "cancel"),
    Phase.PUBLIC_NOTICE: ("close", "cancel"),
    # It moves on as the cases that hold it conclude, or is cancelled (say, the case is abandoned): the
    # postponed appointment is then not made, and the cancellation records why.
    Phase.POSTPONED: ("cancel",),
    Phase.CLOSED: (),
    Phase.CANCELLED: (),
}


@dataclass
class Candidate:
    cadre_id: str
    name: str
    latest_grade: str | None = None
    credit_hours: Decimal = Decimal(0)
    statement: str | None = None
    meeting_recommendations: int = 0
    talk_recommendations: int = 0
    shortlisted: bool = False
    qualitative: str | None = None
    weighted_total: Decimal | None = None
    approvals: int = 0
    rejections: int = 0
    nominated_post: str | None = None
    substantiated_cases: list[str] = field(default_factory=list)
    open_cases: list[str] = field(default_factory=list)  # supervision cases still under investigation
    cleared_cases: list[str] = field(default_factory=list)  # concluded, not substantiated
    result: str | None = None  # appointed, withheld, postponed
    flagged_cases: list[str] = field(default_factory=list)  # outcomes that reached the selection after its close


@dataclass
class Window:
    notice_id: str
    opens_at: dt.datetime
    closes_at: dt.datetime

    def is_open(self, now: dt.datetime) -> bool:
        return self.opens_at <= now < self.closes_at


@dataclass
class SelectionState:
    phase: Phase = Phase.NEW
    title: str = ""
    unit: str = ""
    kind: Kind = Kind.PUBLIC_SELECTION
    variant: Variant = Variant.STANDARD
    posts: list[Post] = field(default_factory=list)
    min_credit_hours: Decimal = Decimal(0)
    shortlist_ratio: Decimal | None = None
    candidates: dict[str, Candidate] = field(default_factory=dict)
    voters: dict[str, list[str]] = field(default_factory=dict)  # legacy open ballots: round -> voter ids
    ballots: dict[str, Ballot] = field(default_factory=dict)  # secret ballots by id
    committee_ballots: dict[str, str] = field(default_factory=dict)  # post id -> its current ballot's id
    preview: Window | None = None
    criteria: list[Criterion] = field(default_factory=list)
    committee_members: list[str] = field(default_factory=list)
    committee_present: list[str] = field(default_factory=list)
    committee_votes: dict[str, list[str]] = field(default_factory=dict)  # member -> cadre ids voted on
    notice: Window | None = None
    registration_closes_at: dt.datetime | None = None
