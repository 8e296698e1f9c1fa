"""A person's way into the party, developed in the open: applicant to full member, one per person.

The gates, each checked where the step is taken (``kinds`` cites the rules):

- the application: the applicant is at least 18 on the day;
- a talk with the applicant within a month of the application (missed: flagged);
- activist: recommended by members or by the youth or women's organisations
  (群团推优), decided by the branch committee after the talk, with one or two
  cultivation contacts, and reviewed every half year (missed: flagged);
- development target: at least a year as an activist;
- admission needs two full-member introducers, a political review passed, the
  short course completed (training's ``TrainingCompleted`` of the
  development-target kind), and the development-target notice closed with no
  objection still under investigation (a substantiated one cancels);
- then the higher committee's pre-review, a branch meeting (valid only when
  those present with a vote exceed half of those entitled; admitted only when
  the yes votes exceed half of the full members entitled), and the higher
  committee's approval within three months of the meeting (six, extended);
- probation: a year from the branch meeting, extendable once by 6 to 12
  months, discussed when it ends: full membership, or cancellation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from services.grassroots.domain.events import (
    ActivistDesignated,
    ActivistReviewed,
    AdmissionApproved,
    AdmissionPreReviewed,
    ApplicantTalkHeld,
    ApplicationReceived,
    BranchMeetingVoted,
    DevelopmentCancelled,
    DevelopmentDeadlineMissed,
    DevelopmentTargetDesignated,
    FullMembershipGranted,
    IntroducersAssigned,
    PoliticalReviewRecorded,
    ProbationExtended,
    ShortCourseCompleted,
    SupervisionCaseNoted,
    SupervisionOutcomeNoted,
)
from services.grassroots.domain.kinds import (
    ACTIVIST_REVIEW_MONTHS,
    ACTIVIST_YEARS,
    APPROVAL_MONTHS,
    APPROVAL_MONTHS_EXTENDED,
    EXTENSION_MONTHS,
    INTRODUCERS,
    MIN_AGE,
    PROBATION_YEARS,
    TALK_WITHIN_MONTHS,
    Recommendation,
    Stage,
)
from shared.domain import Aggregate, applies, command
from shared.domain.ballot import Base, CountRule
from shared.domain.calendar import OrganisationCalendar, months_after, years_after
from shared.domain.notices import NoticeKind, NoticeOpened

#: 《中国共产党发展党员工作细则》(2014) 第二十三条: 有表决权的到会人数必须超过应到会有表决权人数的半数;
#: 赞成人数超过应到会有表决权的正式党员的半数, 才能通过接收预备党员的决议.
BRANCH_MEETING = CountRule(quorum=Fraction(1, 2), quorum_strict=True, share=Fraction(1, 2), of=Base.ENTITLED)
NOTICE_WORKING_DAYS = 5
TALK, ACTIVIST_REVIEW = "talk", "activist_review"
SHORT_COURSE = "development_target_course"


def decision_id(person_id: str) -> str:
    """What the development-target notice holds, as supervision's cases name it."""
    return f"admission:{person_id}"


def adult_on(birth_date: dt.date, day: dt.date) -> bool:
    try:
        coming_of_age = birth_date.replace(year=birth_date.year + MIN_AGE)
    except ValueError:  # born on 29 February
        coming_of_age = dt.date(birth_date.year + MIN_AGE, 3, 1)
    return day >= coming_of_age


@dataclass
class DevelopmentState:
    stage: Stage | None = None
    name: str = ""
    birth_date: dt.date | None = None
    branch_id: str = ""
    entrepreneur: bool = False
    applied_at: dt.datetime | None = None
    talk_held_at: dt.datetime | None = None
    activist_since: dt.datetime | None = None
    last_reviewed_at: dt.datetime | None = None
    contacts: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # "<step>@<due>" flagged once each
    designated_at: dt.datetime | None = None
    introducers: list[str] = field(default_factory=list)
    political_review: bool | None = None
    short_course: str | None = None
    notice_closes_at: dt.datetime | None = None
    open_cases: dict[str, str] = field(default_factory=dict)
    pre_reviewed: bool | None = None
    meeting_at: dt.datetime | None = None
    admitted_by_meeting: bool = False
    approved_at: dt.datetime | None = None
    probation_ends: dt.datetime | None = None
    extended: bool = False


class MemberDevelopment(Aggregate):
    category = "development"
    State = DevelopmentState
    state: DevelopmentState
    snapshot_every = 50

    # -- reading ------------------------------------------------------------------------------

    def talk_due(self) -> dt.datetime | None:
        s = self.state
        if s.stage is not Stage.APPLICANT or s.talk_held_at is not None or s.applied_at is None:
            return None
        return months_after(s.applied_at, TALK_WITHIN_MONTHS)

    def review_due(self) -> dt.datetime | None:
        s = self.state
        if s.stage is not Stage.ACTIVIST or s.last_reviewed_at is None:
            return None
        return months_after(s.last_reviewed_at, ACTIVIST_REVIEW_MONTHS)

    def next_due(self) -> tuple[str, dt.datetime] | None:
        """The next step with a date the rules set, and that date (for the pipeline's view)."""
        s = self.state
        if (due := self.talk_due()) is not None:
            return TALK, due
        if (due := self.review_due()) is not None:
            return ACTIVIST_REVIEW, due
        if s.stage is Stage.PROBATIONARY and s.probation_ends is not None:
            return "probation_ends", s.probation_ends
        if s.stage is Stage.DEVELOPMENT_TARGET and s.admitted_by_meeting and s.meeting_at is not None:
            return "approval", months_after(s.meeting_at, APPROVAL_MONTHS)
        return None

    def concerns(self, person_id: str) -> bool:
        return person_id == self.id and self.state.stage is Stage.DEVELOPMENT_TARGET and self.state.approved_at is None

    def _at(self, *stages: Stage, doing: str) -> None:
        self.require(self.state.stage is not None, "development.exists", f"{self.id} has not applied")
        self.require(
            self.state.stage in stages,
            f"development.{doing}",
            f"{self.id} is {self.state.stage}: cannot {doing.replace('_', ' ')} now",
        )

    def _admission_gates(self, now: dt.datetime) -> None:
        """What admission needs besides its own steps: introducers, the review, the short course, the notice."""
        s = self.state
        self.require(
            len(s.introducers) == INTRODUCERS, "development.introducers", "two full-member introducers are needed"
        )
        self.require(s.political_review is True, "development.political_review", "the political review is not passed")
        self.require(
            s.short_course is not None,
            "development.short_course",
            f"{self.id} has not completed the short course for development targets",
        )
        self.require(s.notice_closes_at is not None, "development.notice", "the development target is not on notice")
        assert s.notice_closes_at is not None
        self.require(
            now >= s.notice_closes_at,
            "development.notice_closed_first",
            f"the notice runs until {s.notice_closes_at.isoformat()}",
        )
        self.require(
            not s.open_cases,
            "development.case_open",
            f"an objection is still under investigation: {', '.join(sorted(s.open_cases))}",
        )

    # -- applicant and activist ---------------------------------------------------------------------

    @command
    def receive_application(
        self, name: str, birth_date: dt.date, branch_id: str, entrepreneur: bool, now: dt.datetime
    ) -> None:
        self.require(self.state.stage is None, "development.apply_once", f"{self.id} has applied already")
        self.require(
            adult_on(birth_date, now.date()),
            "development.age",
            f"an applicant is at least {MIN_AGE} on the day of the application",
        )
        self.record(ApplicationReceived(self.id, name, birth_date, branch_id, entrepreneur, now))

    @command
    def hold_talk(self, talked_by: str, now: dt.datetime) -> None:
        self._at(Stage.APPLICANT, doing="hold_the_talk")
        self.require(self.state.talk_held_at is None, "development.talk_once", "the talk has been held")
        self.record(ApplicantTalkHeld(talked_by, now))

    @command
    def flag_missed(self, now: dt.datetime) -> None:
        """Flag, once each, the talk not held within a month and the activist's review not held in half a year."""
        for step, due in ((TALK, self.talk_due()), (ACTIVIST_REVIEW, self.review_due())):
            if due is not None and now > due and f"{step}@{due.isoformat()}" not in self.state.missed:
                self.record(DevelopmentDeadlineMissed(step, due, now))

    @command
    def designate_activist(
        self, recommended_by: Recommendation, contacts: list[str], full_members: set[str], now: dt.datetime
    ) -> None:
        self._at(Stage.APPLICANT, doing="designate_an_activist")
        self.require(self.state.talk_held_at is not None, "development.talk_first", "talk with the applicant first")
        chosen = list(dict.fromkeys(contacts))
        self.require(1 <= len(chosen) <= 2, "development.contacts", "an activist has one or two cultivation contacts")
        strangers = [c for c in chosen if c not in full_members or c == self.id]
        self.require(not strangers, "development.contacts", f"not full members of the branch: {', '.join(strangers)}")
        self.record(ActivistDesignated(recommended_by.value, now, chosen))

    @command
    def review_activist(self, note: str, now: dt.datetime) -> None:
        self._at(Stage.ACTIVIST, doing="review_the_activist")
        self.record(ActivistReviewed(note, now))

    @command
    def designate_development_target(self, now: dt.datetime) -> None:
        self._at(Stage.ACTIVIST, doing="designate_a_development_target")
        assert self.state.activist_since is not None
        ready = years_after(self.state.activist_since, ACTIVIST_YEARS)
        self.require(
            now >= ready,
            "development.activist_year",
            f"at least a year as an activist first: from {ready.isoformat()}",
        )
        self.record(DevelopmentTargetDesignated(self.id, self.state.name, self.state.branch_id, now))

    # -- development target ---------------------------------------------------------------------------

    @command
    def assign_introducers(self, introducers: list[str], full_members: set[str]) -> None:
        self._at(Stage.DEVELOPMENT_TARGET, doing="assign_introducers")
        chosen = list(dict.fromkeys(introducers))
        self.require(len(chosen) == INTRODUCERS, "development.introducers", "two introducers, both full members")
        strangers = [c for c in chosen if c not in full_members or c == self.id]
        self.require(not strangers, "development.introducers", f"not full members: {', '.join(strangers)}")
        self.record(IntroducersAssigned(chosen))

    @command
    def record_political_review(self, passed: bool, now: dt.datetime) -> None:
        self._at(Stage.DEVELOPMENT_TARGET, doing="record_the_political_review")
        self.record(PoliticalReviewRecorded(passed, now))

    @command
    def note_short_course(self, program_id: str, kind: str, hours: Decimal, completed_at: dt.datetime) -> bool:
        """training's completion of the short course; any other kind of program is not the gate."""
        if kind != SHORT_COURSE or self.state.short_course is not None:
            return False
        if self.state.stage not in (Stage.ACTIVIST, Stage.DEVELOPMENT_TARGET):
            return False
        self.record(ShortCourseCompleted(program_id, hours, completed_at))
        return True

    @command
    def open_notice(
        self, notice_id: str, unit: str, working_days: int, calendar: OrganisationCalendar, now: dt.datetime
    ) -> None:
        self._at(Stage.DEVELOPMENT_TARGET, doing="open_the_notice")
        self.require(self.state.notice_closes_at is None, "development.notice_once", "the notice has been opened")
        self.require(
            working_days >= NOTICE_WORKING_DAYS,
            "development.notice_days",
            f"a development target is on notice for at least {NOTICE_WORKING_DAYS} working days",
        )
        closes_at = calendar.end_of_working_days(now, working_days)
        title = f"Development target: {self.state.name}"
        self.record(
            NoticeOpened(
                notice_id,
                NoticeKind.DEVELOPMENT_TARGET,
                decision_id(self.id),
                [self.id],
                title,
                unit,
                now,
                closes_at,
                working_days,
            )
        )

    @command
    def note_case(self, case_id: str, now: dt.datetime) -> None:
        if self.concerns(self.id) and case_id not in self.state.open_cases:
            self.record(SupervisionCaseNoted(case_id, self.id, now))

    @command
    def note_outcome(self, case_id: str, substantiated: bool, now: dt.datetime) -> None:
        if case_id not in self.state.open_cases:
            return
        self.record(SupervisionOutcomeNoted(case_id, self.id, substantiated, now))
        if substantiated and self.state.stage is Stage.DEVELOPMENT_TARGET:
            self.record(DevelopmentCancelled(f"the objection of case {case_id} was substantiated", now))

    # -- admission -------------------------------------------------------------------------------------

    @command
    def pre_review(self, passed: bool, now: dt.datetime) -> None:
        self._at(Stage.DEVELOPMENT_TARGET, doing="pre_review")
        self._admission_gates(now)
        self.record(AdmissionPreReviewed(passed, now))

    @command
    def hold_branch_meeting(self, entitled: int, present: int, yes: int, now: dt.datetime) -> None:
        self._at(Stage.DEVELOPMENT_TARGET, doing="hold_the_branch_meeting")
        self.require(self.state.pre_reviewed is True, "development.pre_review_first", "the pre-review is not passed")
        self._admission_gates(now)
        self.require(0 <= yes <= present <= entitled, "development.meeting_counts", "yes votes <= present <= entitled")
        self.require(
            BRANCH_MEETING.quorate(entitled, present),
            "development.meeting_quorum",
            f"{present} of {entitled} entitled present: the meeting needs {BRANCH_MEETING.describe_quorum()}",
        )
        admitted = BRANCH_MEETING.carries(yes, entitled, present)
        self.record(BranchMeetingVoted(entitled, present, yes, admitted, now))

    @command
    def approve(self, extended: bool, now: dt.datetime) -> None:
        """The higher committee's approval: within three months of the meeting, or six when extended."""
        self._at(Stage.DEVELOPMENT_TARGET, doing="approve_the_admission")
        s = self.state
        self.require(
            s.admitted_by_meeting and s.meeting_at is not None,
            "development.meeting_first",
            "the branch meeting has not admitted them",
        )
        assert s.meeting_at is not None
        self.require(
            not s.open_cases,
            "development.case_open",
            f"an objection is still under investigation: {', '.join(sorted(s.open_cases))}",
        )
        months = APPROVAL_MONTHS_EXTENDED if extended else APPROVAL_MONTHS
        by = months_after(s.meeting_at, months)
        self.require(
            now <= by,
            "development.approval_period",
            f"the approval comes within {months} months of the branch meeting, by {by.isoformat()}",
        )
        self.record(AdmissionApproved(now, years_after(s.meeting_at, PROBATION_YEARS)))

    @command
    def extend_probation(self, months: int, now: dt.datetime) -> None:
        self._at(Stage.PROBATIONARY, doing="extend_probation")
        s = self.state
        assert s.probation_ends is not None
        self.require(not s.extended, "development.extend_once", "probation is extended once at most")
        low, high = EXTENSION_MONTHS
        self.require(low <= months <= high, "development.extension", f"an extension is {low} to {high} months")
        self.require(now >= s.probation_ends, "development.probation_ended", "probation is discussed when it ends")
        self.record(ProbationExtended(months, months_after(s.probation_ends, months), now))

    @command
    def grant_full_membership(self, now: dt.datetime) -> None:
        self._at(Stage.PROBATIONARY, doing="grant_full_membership")
        assert self.state.probation_ends is not None
        self.require(
            now >= self.state.probation_ends,
            "development.probation_ended",
            f"probation runs until {self.state.probation_ends.isoformat()}",
        )
        self.record(FullMembershipGranted(now))

    @command
    def cancel(self, reason: str, now: dt.datetime) -> None:
        self._at(Stage.APPLICANT, Stage.ACTIVIST, Stage.DEVELOPMENT_TARGET, Stage.PROBATIONARY, doing="cancel")
        self.record(DevelopmentCancelled(reason, now))

    # -- state ------------------------------------------------------------------------------------

    @applies(ApplicationReceived)
    def _applied(self, e: ApplicationReceived) -> None:
        s = self.state
        s.stage, s.name, s.birth_date, s.branch_id, s.entrepreneur, s.applied_at = (
            Stage.APPLICANT,
            e.name,
            e.birth_date,
            e.branch_id,
            e.entrepreneur,
            e.applied_at,
        )

    @applies(ApplicantTalkHeld)
    def _talk(self, e: ApplicantTalkHeld) -> None:
        self.state.talk_held_at = e.held_at

    @applies(DevelopmentDeadlineMissed)
    def _missed(self, e: DevelopmentDeadlineMissed) -> None:
        self.state.missed.append(f"{e.step}@{e.due_by.isoformat()}")

    @applies(ActivistDesignated)
    def _activist(self, e: ActivistDesignated) -> None:
        s = self.state
        s.stage, s.activist_since, s.last_reviewed_at, s.contacts = (
            Stage.ACTIVIST,
            e.decided_at,
            e.decided_at,
            list(e.contacts),
        )

    @applies(ActivistReviewed)
    def _reviewed(self, e: ActivistReviewed) -> None:
        self.state.last_reviewed_at = e.reviewed_at

    @applies(DevelopmentTargetDesignated)
    def _target(self, e: DevelopmentTargetDesignated) -> None:
        self.state.stage, self.state.designated_at = Stage.DEVELOPMENT_TARGET, e.designated_at

    @applies(IntroducersAssigned)
    def _introducers(self, e: IntroducersAssigned) -> None:
        self.state.introducers = list(e.introducers)

    @applies(PoliticalReviewRecorded)
    def _political(self, e: PoliticalReviewRecorded) -> None:
        self.state.political_review = e.passed

    @applies(ShortCourseCompleted)
    def _course(self, e: ShortCourseCompleted) -> None:
        self.state.short_course = e.program_id

    @applies(NoticeOpened)
    def _notice(self, e: NoticeOpened) -> None:
        self.state.notice_closes_at = e.closes_at

    @applies(SupervisionCaseNoted)
    def _case(self, e: SupervisionCaseNoted) -> None:
        self.state.open_cases[e.case_id] = e.person_id

    @applies(SupervisionOutcomeNoted)
    def _outcome(self, e: SupervisionOutcomeNoted) -> None:
        self.state.open_cases.pop(e.case_id, None)

    @applies(AdmissionPreReviewed)
    def _pre_reviewed(self, e: AdmissionPreReviewed) -> None:
        self.state.pre_reviewed = e.passed

    @applies(BranchMeetingVoted)
    def _meeting(self, e: BranchMeetingVoted) -> None:
        self.state.meeting_at, self.state.admitted_by_meeting = e.held_at, e.admitted

    @applies(AdmissionApproved)
    def _approved(self, e: AdmissionApproved) -> None:
        s = self.state
        s.stage, s.approved_at, s.probation_ends = Stage.PROBATIONARY, e.approved_at, e.probation_ends

    @applies(ProbationExtended)
    def _extended(self, e: ProbationExtended) -> None:
        self.state.extended, self.state.probation_ends = True, e.probation_ends

    @applies(FullMembershipGranted)
    def _full(self, e: FullMembershipGranted) -> None:
        self.state.stage = Stage.FULL

    @applies(DevelopmentCancelled)
    def _cancelled(self, e: DevelopmentCancelled) -> None:
        self.state.stage = Stage.CANCELLED
