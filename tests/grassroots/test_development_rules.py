"""A person's development into the party, at its boundaries: pure Python, no database, no broker.

The application (18 on the day, exactly; born on 29 February, 18 on 1 March),
the talk within a month (flagged once, only after its due moment), the
activist (after the talk, one or two contacts who are full members and not
the person; reviewed every six months, flagged once when missed), the
development target (a year as an activist, exactly), two full-member
introducers, the short course (only training's development-target course,
once), the admission gates at the pre-review and at the branch meeting
(introducers, political review, short course, notice closed, no open case; a
substantiated case cancels), the branch meeting (more than half of those
entitled present, admitted by more than half of those entitled), the approval
within three months of the meeting (six when extended), a year's probation
from the meeting, extended once by 6 to 12 months when it ends, full
membership from its end, and cancellation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.grassroots.domain.development import SHORT_COURSE, MemberDevelopment, decision_id
from services.grassroots.domain.events import (
    ActivistDesignated,
    AdmissionApproved,
    ApplicationReceived,
    BranchMeetingVoted,
    DevelopmentCancelled,
    DevelopmentDeadlineMissed,
    DevelopmentTargetDesignated,
    FullMembershipGranted,
    IntroducersAssigned,
    ProbationExtended,
    ShortCourseCompleted,
    SupervisionCaseNoted,
    SupervisionOutcomeNoted,
)
from services.grassroots.domain.kinds import Recommendation, Stage
from shared.domain.calendar import OrganisationCalendar, months_after, years_after
from shared.domain.notices import NoticeKind, NoticeOpened
from shared.errors import RuleViolation

CALENDAR = OrganisationCalendar.shipped()
BORN = dt.date(1990, 6, 15)
APPLIED = dt.datetime(2026, 1, 31, 9, 0, tzinfo=dt.UTC)  # the talk is due on 28 February
TALKED = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)
ACTIVIST_AT = dt.datetime(2026, 2, 27, 9, 0, tzinfo=dt.UTC)
TARGET_AT = years_after(ACTIVIST_AT, 1)
NOTICE_AT = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)  # a Monday
CLOSES_AT = CALENDAR.end_of_working_days(NOTICE_AT, 5)
MEETING_AT = dt.datetime(2027, 3, 31, 9, 0, tzinfo=dt.UTC)  # approval by 30 June, or 30 September extended
APPROVED_AT = dt.datetime(2027, 4, 15, 9, 0, tzinfo=dt.UTC)
PROBATION_ENDS = years_after(MEETING_AT, 1)
FULL = {"m1", "m2", "m3", "m4"}
MEMBERS = Recommendation.MEMBERS
SECOND = dt.timedelta(seconds=1)


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def recorded(development: MemberDevelopment, command: Any) -> list[Any]:
    """Run ``command`` on the development; give what it recorded."""
    before = len(development.pending_events)
    command(development)
    return development.pending_events[before:]


def untouched(development: MemberDevelopment, version: int) -> bool:
    return development.version == version and len(development.pending_events) == version


def applicant(born: dt.date = BORN, at: dt.datetime = APPLIED) -> MemberDevelopment:
    development = MemberDevelopment("p1")
    development.receive_application("Wang Fang", born, "b1", False, at)
    return development


def talked() -> MemberDevelopment:
    development = applicant()
    development.hold_talk("m1", TALKED)
    return development


def activist(contacts: Sequence[str] = ("m1",)) -> MemberDevelopment:
    development = talked()
    development.designate_activist(MEMBERS, list(contacts), FULL, ACTIVIST_AT)
    return development


def target() -> MemberDevelopment:
    development = activist()
    development.designate_development_target(TARGET_AT)
    return development


def ready(
    introducers: bool = True, review: bool | None = True, course: bool = True, notice: bool = True
) -> MemberDevelopment:
    """A development target with the admission gates met, less those told."""
    development = target()
    if introducers:
        development.assign_introducers(["m1", "m2"], FULL)
    if review is not None:
        development.record_political_review(review, TARGET_AT)
    if course:
        development.note_short_course("course-1", SHORT_COURSE, Decimal(24), TARGET_AT)
    if notice:
        development.open_notice("target-p1", "Village branch", 5, CALENDAR, NOTICE_AT)
    return development


def pre_reviewed() -> MemberDevelopment:
    development = ready()
    development.pre_review(True, CLOSES_AT)
    return development


def met(entitled: int = 10, present: int = 8, yes: int = 7, at: dt.datetime = MEETING_AT) -> MemberDevelopment:
    development = pre_reviewed()
    development.hold_branch_meeting(entitled, present, yes, at)
    return development


def probationary() -> MemberDevelopment:
    development = met()
    development.approve(False, APPROVED_AT)
    return development


# -- the application ------------------------------------------------------------------------


def test_an_applicant_18_on_the_day_is_received() -> None:
    development = applicant(born=dt.date(2008, 1, 31))
    assert development.pending_events == [
        ApplicationReceived("p1", "Wang Fang", dt.date(2008, 1, 31), "b1", False, APPLIED)
    ]
    assert development.state.stage is Stage.APPLICANT


def test_an_applicant_18_the_day_after_is_refused() -> None:
    development = MemberDevelopment("p1")
    with broken("development.age"):
        development.receive_application("Wang Fang", dt.date(2008, 2, 1), "b1", False, APPLIED)
    assert development.state.stage is None and untouched(development, 0)


def test_an_applicant_born_on_29_february_is_18_on_1_march() -> None:
    born = dt.date(2008, 2, 29)
    with broken("development.age"):
        applicant(born=born, at=dt.datetime(2026, 2, 28, 23, 59, tzinfo=dt.UTC))
    assert applicant(born=born, at=dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC)).state.birth_date == born


def test_a_person_applies_once() -> None:
    development = applicant()
    with broken("development.apply_once"):
        development.receive_application("Wang Fang", BORN, "b2", False, TALKED)
    assert development.state.branch_id == "b1"


# -- the talk -------------------------------------------------------------------------------


def test_a_talk_not_held_is_flagged_only_after_a_month_and_once() -> None:
    development = applicant()
    due = months_after(APPLIED, 1)
    assert due == dt.datetime(2026, 2, 28, 9, 0, tzinfo=dt.UTC)
    assert recorded(development, lambda d: d.flag_missed(due)) == []
    late = due + dt.timedelta(microseconds=1)
    assert recorded(development, lambda d: d.flag_missed(late)) == [DevelopmentDeadlineMissed("talk", due, late)]
    assert recorded(development, lambda d: d.flag_missed(due + dt.timedelta(days=30))) == []


def test_a_talk_held_is_not_flagged() -> None:
    development = talked()
    assert recorded(development, lambda d: d.flag_missed(APPLIED + dt.timedelta(days=90))) == []


def test_the_talk_is_held_once_and_only_with_an_applicant() -> None:
    development = talked()
    with broken("development.talk_once"):
        development.hold_talk("m2", TALKED)
    assert development.state.talk_held_at == TALKED
    with broken("development.exists"):
        MemberDevelopment("p2").hold_talk("m1", TALKED)


# -- the activist ---------------------------------------------------------------------------


def test_an_activist_is_designated_after_the_talk() -> None:
    development = applicant()
    with broken("development.talk_first"):
        development.designate_activist(MEMBERS, ["m1"], FULL, ACTIVIST_AT)
    assert development.state.stage is Stage.APPLICANT and untouched(development, 1)


@pytest.mark.parametrize("contacts", [[], ["m1", "m2", "m3"]])
def test_an_activist_without_a_contact_or_with_three_is_refused(contacts: list[str]) -> None:
    development = talked()
    with broken("development.contacts"):
        development.designate_activist(MEMBERS, contacts, FULL, ACTIVIST_AT)
    assert development.state.stage is Stage.APPLICANT


@pytest.mark.parametrize("contacts", [["m1"], ["m1", "m2"], ["m1", "m1", "m2"]])
def test_an_activist_has_one_or_two_contacts(contacts: list[str]) -> None:
    development = activist(contacts)
    distinct = list(dict.fromkeys(contacts))
    assert development.pending_events[-1] == ActivistDesignated("member_recommendation", ACTIVIST_AT, distinct)
    assert development.state.stage is Stage.ACTIVIST and development.state.contacts == distinct


@pytest.mark.parametrize("contacts", [["m1", "outsider"], ["p1"]])
def test_a_contact_is_a_full_member_of_the_branch_and_not_the_person(contacts: list[str]) -> None:
    development = talked()
    with broken("development.contacts"):
        development.designate_activist(MEMBERS, contacts, {*FULL, "p1"}, ACTIVIST_AT)
    assert development.state.contacts == []


def test_an_activist_review_missed_is_flagged_after_six_months_from_the_last() -> None:
    development = activist()
    due = months_after(ACTIVIST_AT, 6)
    assert recorded(development, lambda d: d.flag_missed(due)) == []
    late = due + SECOND
    assert recorded(development, lambda d: d.flag_missed(late)) == [
        DevelopmentDeadlineMissed("activist_review", due, late)
    ]
    assert recorded(development, lambda d: d.flag_missed(late + dt.timedelta(days=10))) == []
    reviewed_at = late + dt.timedelta(days=10)
    development.review_activist("attends the branch's study sessions", reviewed_at)
    next_due = months_after(reviewed_at, 6)
    assert recorded(development, lambda d: d.flag_missed(next_due)) == []
    assert recorded(development, lambda d: d.flag_missed(next_due + SECOND)) == [
        DevelopmentDeadlineMissed("activist_review", next_due, next_due + SECOND)
    ]


def test_a_review_in_time_leaves_nothing_to_flag() -> None:
    development = activist()
    development.review_activist("on track", months_after(ACTIVIST_AT, 6))
    assert recorded(development, lambda d: d.flag_missed(months_after(ACTIVIST_AT, 6) + SECOND)) == []


# -- the development target -----------------------------------------------------------------


def test_a_development_target_has_been_an_activist_for_a_year_exactly() -> None:
    development = activist()
    with broken("development.activist_year"):
        development.designate_development_target(TARGET_AT - SECOND)
    assert development.state.stage is Stage.ACTIVIST
    development.designate_development_target(TARGET_AT)
    assert development.state.designated_at == dt.datetime(2027, 2, 27, 9, 0, tzinfo=dt.UTC)
    assert development.pending_events[-1] == DevelopmentTargetDesignated("p1", "Wang Fang", "b1", TARGET_AT)
    assert development.state.stage is Stage.DEVELOPMENT_TARGET


@pytest.mark.parametrize("introducers", [["m1"], ["m1", "m2", "m3"], ["m1", "m1"], ["m1", "outsider"], ["m1", "p1"]])
def test_introducers_other_than_two_full_members_are_refused(introducers: list[str]) -> None:
    development = target()
    with broken("development.introducers"):
        development.assign_introducers(introducers, {*FULL, "p1"})
    assert development.state.introducers == []


def test_two_full_members_introduce_a_development_target() -> None:
    development = target()
    development.assign_introducers(["m2", "m3"], FULL)
    assert development.pending_events[-1] == IntroducersAssigned(["m2", "m3"])
    with broken("development.assign_introducers"):
        activist().assign_introducers(["m2", "m3"], FULL)


def test_only_the_development_target_short_course_is_noted_and_once() -> None:
    development = target()
    assert development.note_short_course("course-0", "thematic", Decimal(24), TARGET_AT) is False
    assert development.state.short_course is None
    assert development.note_short_course("course-1", SHORT_COURSE, Decimal(24), TARGET_AT) is True
    assert development.pending_events[-1] == ShortCourseCompleted("course-1", Decimal(24), TARGET_AT)
    version = development.version
    assert development.note_short_course("course-2", SHORT_COURSE, Decimal(30), NOTICE_AT) is False
    assert development.state.short_course == "course-1" and untouched(development, version)


def test_a_short_course_is_noted_for_an_activist_but_not_an_applicant() -> None:
    assert talked().note_short_course("course-1", SHORT_COURSE, Decimal(24), TALKED) is False
    development = activist()
    assert development.note_short_course("course-1", SHORT_COURSE, Decimal(24), ACTIVIST_AT) is True
    development.designate_development_target(TARGET_AT)
    assert development.state.short_course == "course-1"


def test_the_development_target_is_on_notice_for_five_working_days_or_more_and_once() -> None:
    development = target()
    with broken("development.notice_days"):
        development.open_notice("target-p1", "Village branch", 4, CALENDAR, NOTICE_AT)
    assert development.state.notice_closes_at is None
    development.open_notice("target-p1", "Village branch", 5, CALENDAR, NOTICE_AT)
    assert development.state.notice_closes_at == dt.datetime(2027, 3, 9, 0, 0, tzinfo=dt.UTC)  # end of Monday 8
    assert development.pending_events[-1] == NoticeOpened(
        "target-p1",
        NoticeKind.DEVELOPMENT_TARGET,
        decision_id("p1"),
        ["p1"],
        "Development target: Wang Fang",
        "Village branch",
        NOTICE_AT,
        CLOSES_AT,
        5,
    )
    with broken("development.notice_once"):
        development.open_notice("target-p1b", "Village branch", 10, CALENDAR, NOTICE_AT)
    assert development.state.notice_closes_at == CLOSES_AT


# -- the admission gates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "rule"),
    [
        ({"introducers": False}, "development.introducers"),
        ({"review": None}, "development.political_review"),
        ({"review": False}, "development.political_review"),
        ({"course": False}, "development.short_course"),
        ({"notice": False}, "development.notice"),
    ],
)
def test_the_pre_review_waits_for_every_gate(missing: dict[str, Any], rule: str) -> None:
    development = ready(**missing)
    version = development.version
    with broken(rule):
        development.pre_review(True, CLOSES_AT)
    assert development.state.pre_reviewed is None and untouched(development, version)


def test_the_pre_review_waits_for_the_notice_to_close() -> None:
    development = ready()
    with broken("development.notice_closed_first"):
        development.pre_review(True, CLOSES_AT - SECOND)
    development.pre_review(True, CLOSES_AT)
    assert development.state.pre_reviewed is True


def test_the_pre_review_waits_for_an_open_case_and_an_unsubstantiated_outcome_releases_it() -> None:
    development = ready()
    assert recorded(development, lambda d: d.note_case("case-1", NOTICE_AT)) == [
        SupervisionCaseNoted("case-1", "p1", NOTICE_AT)
    ]
    assert recorded(development, lambda d: d.note_case("case-1", NOTICE_AT)) == []
    with broken("development.case_open"):
        development.pre_review(True, CLOSES_AT)
    assert recorded(development, lambda d: d.note_outcome("case-1", False, CLOSES_AT)) == [
        SupervisionOutcomeNoted("case-1", "p1", False, CLOSES_AT)
    ]
    development.pre_review(True, CLOSES_AT)
    assert development.state.pre_reviewed is True


def test_a_substantiated_case_cancels_the_development() -> None:
    development = ready()
    development.note_case("case-1", NOTICE_AT)
    assert recorded(development, lambda d: d.note_outcome("case-1", True, CLOSES_AT)) == [
        SupervisionOutcomeNoted("case-1", "p1", True, CLOSES_AT),
        DevelopmentCancelled("the objection of case case-1 was substantiated", CLOSES_AT),
    ]
    assert development.state.stage is Stage.CANCELLED
    with broken("development.pre_review"):
        development.pre_review(True, CLOSES_AT)


def test_a_case_is_noted_only_about_a_development_target_not_yet_approved() -> None:
    for development in (applicant(), activist(), probationary()):
        version = development.version
        development.note_case("case-1", CLOSES_AT)
        assert untouched(development, version) and development.state.open_cases == {}


def test_the_branch_meeting_follows_a_passed_pre_review() -> None:
    development = ready()
    with broken("development.pre_review_first"):
        development.hold_branch_meeting(10, 8, 7, MEETING_AT)
    development.pre_review(False, CLOSES_AT)
    with broken("development.pre_review_first"):
        development.hold_branch_meeting(10, 8, 7, MEETING_AT)
    assert development.state.meeting_at is None


def test_the_branch_meeting_checks_the_gates_again() -> None:
    development = pre_reviewed()
    with broken("development.notice_closed_first"):
        development.hold_branch_meeting(10, 8, 7, CLOSES_AT - SECOND)
    development.note_case("case-1", MEETING_AT)
    with broken("development.case_open"):
        development.hold_branch_meeting(10, 8, 7, MEETING_AT)
    development.note_outcome("case-1", False, MEETING_AT)
    development.record_political_review(False, MEETING_AT)
    with broken("development.political_review"):
        development.hold_branch_meeting(10, 8, 7, MEETING_AT)
    assert development.state.meeting_at is None
    development.record_political_review(True, MEETING_AT)
    development.hold_branch_meeting(10, 8, 7, MEETING_AT)
    assert development.state.admitted_by_meeting is True


# -- the branch meeting ---------------------------------------------------------------------


def test_the_meeting_needs_more_than_half_of_those_entitled_present() -> None:
    development = pre_reviewed()
    version = development.version
    with broken("development.meeting_quorum"):
        development.hold_branch_meeting(10, 5, 5, MEETING_AT)
    assert untouched(development, version)
    development.hold_branch_meeting(10, 6, 6, MEETING_AT)
    assert development.pending_events[-1] == BranchMeetingVoted(10, 6, 6, True, MEETING_AT)


@pytest.mark.parametrize(("present", "yes", "admitted"), [(10, 5, False), (10, 6, True), (6, 5, False), (6, 6, True)])
def test_admission_needs_yes_from_more_than_half_of_those_entitled(present: int, yes: int, admitted: bool) -> None:
    development = met(10, present, yes)
    assert development.pending_events[-1] == BranchMeetingVoted(10, present, yes, admitted, MEETING_AT)
    assert development.state.admitted_by_meeting is admitted


@pytest.mark.parametrize(("present", "yes"), [(11, 6), (8, 9), (8, -1)])
def test_the_meetings_counts_are_consistent(present: int, yes: int) -> None:
    with broken("development.meeting_counts"):
        pre_reviewed().hold_branch_meeting(10, present, yes, MEETING_AT)


# -- the approval ---------------------------------------------------------------------------


def test_approval_follows_a_meeting_that_admitted() -> None:
    development = pre_reviewed()
    with broken("development.meeting_first"):
        development.approve(False, MEETING_AT)
    development.hold_branch_meeting(10, 10, 5, MEETING_AT)
    with broken("development.meeting_first"):
        development.approve(False, APPROVED_AT)
    assert development.state.stage is Stage.DEVELOPMENT_TARGET


def test_approval_waits_for_a_case_noted_after_the_meeting() -> None:
    # ``concerns`` takes cases about a development target until the approval, and the objections
    # use case says the admission waits while one is open: the approval must hold for it too.
    development = met()
    development.note_case("case-1", APPROVED_AT)
    assert development.state.open_cases == {"case-1": "p1"}
    version = development.version
    with broken("development.case_open"):
        development.approve(False, APPROVED_AT)
    assert untouched(development, version) and development.state.stage is Stage.DEVELOPMENT_TARGET


def test_approval_comes_within_three_months_of_the_meeting() -> None:
    by = months_after(MEETING_AT, 3)
    assert by == dt.datetime(2027, 6, 30, 9, 0, tzinfo=dt.UTC)
    development = met()
    version = development.version
    with broken("development.approval_period"):
        development.approve(False, by + SECOND)
    assert untouched(development, version) and development.state.stage is Stage.DEVELOPMENT_TARGET
    development.approve(False, by)
    assert development.pending_events[-1] == AdmissionApproved(by, PROBATION_ENDS)


def test_an_extended_approval_comes_within_six_months_of_the_meeting() -> None:
    met().approve(True, months_after(MEETING_AT, 3) + SECOND)
    by = months_after(MEETING_AT, 6)
    assert by == dt.datetime(2027, 9, 30, 9, 0, tzinfo=dt.UTC)
    development = met()
    with broken("development.approval_period"):
        development.approve(True, by + SECOND)
    development.approve(True, by)
    assert development.state.stage is Stage.PROBATIONARY


def test_probation_runs_a_year_from_the_meeting_not_from_the_approval() -> None:
    development = probationary()
    assert development.state.probation_ends == PROBATION_ENDS == dt.datetime(2028, 3, 31, 9, 0, tzinfo=dt.UTC)
    assert development.state.approved_at == APPROVED_AT


def test_probation_from_a_meeting_on_29_february_ends_on_28_february() -> None:
    leap_meeting = dt.datetime(2028, 2, 29, 9, 0, tzinfo=dt.UTC)
    development = met(at=leap_meeting)
    development.approve(False, leap_meeting)
    assert development.state.probation_ends == dt.datetime(2029, 2, 28, 9, 0, tzinfo=dt.UTC)


# -- probation ------------------------------------------------------------------------------


@pytest.mark.parametrize("months", [5, 13])
def test_an_extension_shorter_than_6_months_or_longer_than_12_is_refused(months: int) -> None:
    development = probationary()
    with broken("development.extension"):
        development.extend_probation(months, PROBATION_ENDS)
    assert development.state.extended is False and development.state.probation_ends == PROBATION_ENDS


@pytest.mark.parametrize("months", [6, 12])
def test_probation_is_extended_by_6_to_12_months_from_its_end(months: int) -> None:
    development = probationary()
    development.extend_probation(months, PROBATION_ENDS)
    ends = months_after(PROBATION_ENDS, months)
    assert development.pending_events[-1] == ProbationExtended(months, ends, PROBATION_ENDS)
    assert development.state.probation_ends == ends


def test_probation_is_extended_when_it_ends_and_only_once() -> None:
    development = probationary()
    with broken("development.probation_ended"):
        development.extend_probation(6, PROBATION_ENDS - SECOND)
    development.extend_probation(6, PROBATION_ENDS)
    with broken("development.extend_once"):
        development.extend_probation(6, months_after(PROBATION_ENDS, 6))
    assert development.state.probation_ends == months_after(PROBATION_ENDS, 6)


def test_full_membership_is_granted_when_probation_ends() -> None:
    development = probationary()
    with broken("development.probation_ended"):
        development.grant_full_membership(PROBATION_ENDS - SECOND)
    assert development.state.stage is Stage.PROBATIONARY
    development.grant_full_membership(PROBATION_ENDS)
    assert development.pending_events[-1] == FullMembershipGranted(PROBATION_ENDS)
    assert development.state.stage is Stage.FULL


def test_full_membership_after_an_extension_waits_for_its_end() -> None:
    development = probationary()
    development.extend_probation(6, PROBATION_ENDS)
    extended_end = months_after(PROBATION_ENDS, 6)
    with broken("development.probation_ended"):
        development.grant_full_membership(extended_end - SECOND)
    development.grant_full_membership(extended_end)
    assert development.state.stage is Stage.FULL


# -- cancellation ---------------------------------------------------------------------------


def test_a_development_is_cancelled_at_any_stage_before_full_membership() -> None:
    for development in (applicant(), activist(), target(), probationary()):
        development.cancel("withdrew", APPROVED_AT)
        assert development.pending_events[-1] == DevelopmentCancelled("withdrew", APPROVED_AT)
        assert development.state.stage is Stage.CANCELLED


def test_a_development_cancelled_or_full_is_not_cancelled() -> None:
    cancelled = applicant()
    cancelled.cancel("withdrew", TALKED)
    full = probationary()
    full.grant_full_membership(PROBATION_ENDS)
    for development in (cancelled, full):
        version = development.version
        with broken("development.cancel"):
            development.cancel("again", PROBATION_ENDS)
        assert untouched(development, version)
    assert full.state.stage is Stage.FULL
    with broken("development.exists"):
        MemberDevelopment("p2").cancel("never applied", TALKED)
