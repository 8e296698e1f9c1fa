"""The feedback domain's rules: pure Python."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from contextlib import AbstractContextManager
from typing import Any

import pytest

from services.feedback.domain.events import (
    ComplaintRoutedToSupervision,
    DeadlineBreached,
    SubmitterIdentity,
    SuggestionRoutedToTraining,
)
from services.feedback.domain.policy import Category, Channel
from services.feedback.domain.submission import NoticeWindow, Submission
from shared.domain.calendar import CalendarYear, OrganisationCalendar
from shared.errors import RuleViolation

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CALENDAR = OrganisationCalendar.shipped()
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOTICE = NoticeWindow("notice-1", "proc-1", ["c1"], MONDAY, MONDAY + dt.timedelta(days=7))


def broken(rule: str) -> AbstractContextManager[Any]:
    return pytest.raises(RuleViolation, match=rf"\[rule: {rule}\]")


def received(
    category: Category = Category.GENERAL,
    channel: Channel = Channel.MAILBOX,
    at: dt.datetime = MONDAY,
    submission_id: str = "s1",
    **kwargs: object,
) -> Submission:
    submission = Submission(submission_id)
    submission.receive(channel, category, "text", "hash", True, None, at, CALENDAR, **kwargs)  # type: ignore[arg-type]
    return submission


def test_a_complaint_about_a_cadre_names_the_cadre_and_goes_to_supervision() -> None:
    with broken("submission.complaint_names_cadre"):
        received(Category.COMPLAINT_ABOUT_CADRE)
    submission = received(Category.COMPLAINT_ABOUT_CADRE, cadre_id="c1")
    routed = submission.pending_events[-1]
    assert isinstance(routed, ComplaintRoutedToSupervision) and routed.cadre_id == "c1" and routed.submission_id == "s1"


def test_a_suggestion_on_training_goes_to_training_and_a_consultation_stays() -> None:
    assert isinstance(received(Category.SUGGESTION_ON_TRAINING).pending_events[-1], SuggestionRoutedToTraining)
    assert len(received(Category.CONSULTATION, Channel.CONSULTATION).pending_events) == 1
    with broken("submission.consultation"):
        received(Category.GENERAL, Channel.CONSULTATION)


def test_a_question_on_talent_policy_is_a_consultation_answered_here_within_a_consultations_deadlines() -> None:
    question = received(Category.TALENT_POLICY_CONSULTATION, Channel.CONSULTATION)
    assert len(question.pending_events) == 1, "answered here: routed nowhere"
    consultation = received(Category.CONSULTATION, Channel.CONSULTATION)
    assert (question.state.first_reply_due, question.state.resolution_due) == (
        consultation.state.first_reply_due,
        consultation.state.resolution_due,
    )
    assert question.state.resolution_due == dt.datetime(2026, 3, 17, 0, 0, tzinfo=dt.UTC)  # 10 working days


def test_deadlines_follow_the_category_in_whole_working_days() -> None:
    submission = received(Category.COMPLAINT_ABOUT_CADRE, cadre_id="c1")
    # counted from the day after it came in, to the end of the last working day
    assert submission.state.first_reply_due == dt.datetime(2026, 3, 5, 0, 0, tzinfo=dt.UTC)  # Tue, Wed
    assert submission.state.resolution_due == dt.datetime(2026, 3, 24, 0, 0, tzinfo=dt.UTC)  # 15 working days


def test_deadlines_count_on_the_organisations_calendar_across_national_day() -> None:
    """Finding 9 with finding 4's calendar: a plain weekday count would fall due inside the holiday."""
    tuesday = dt.datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    submission = received(Category.COMPLAINT_ABOUT_CADRE, at=tuesday, cadre_id="c1")
    # Sep 30, then the holiday (Oct 1-7), then Oct 8: the first reply is due at the end of Oct 8
    assert submission.state.first_reply_due == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    # 15 working days: Sep 30, Oct 8, 9, 10 (a make-up Saturday), 12-16, 19-23, 26 -> the end of Oct 26
    assert submission.state.resolution_due == dt.datetime(2026, 10, 27, 0, 0, tzinfo=SHANGHAI)
    assert submission.state.resolution_due == CALENDAR.end_of_working_days(tuesday, 15)
    submission.record_breaches(dt.datetime(2026, 10, 8, 18, 0, tzinfo=SHANGHAI))
    assert not any(isinstance(e, DeadlineBreached) for e in submission.pending_events), "the holiday is not counted"


def test_a_comment_on_a_notice_is_refused_once_it_has_closed() -> None:
    late = Submission("s2")
    with broken("submission.notice_closed"):
        late.receive(
            Channel.NOTICE_COMMENT, Category.GENERAL, "t", "h", True, None, NOTICE.closes_at, CALENDAR, notice=NOTICE
        )
    with broken("submission.notice_known"):
        received(Category.GENERAL, Channel.NOTICE_COMMENT)
    with broken("submission.notice_names_cadre"):
        received(Category.COMPLAINT_ABOUT_CADRE, Channel.NOTICE_COMMENT, cadre_id="c9", notice=NOTICE)
    ok = received(Category.COMPLAINT_ABOUT_CADRE, Channel.NOTICE_COMMENT, cadre_id="c1", notice=NOTICE)
    assert ok.state.process_id == "proc-1"


def test_an_anonymous_submission_keeps_no_identity() -> None:
    with broken("submission.anonymous"):
        identity = SubmitterIdentity("Chen", "+86 139")
        Submission("s").receive(Channel.MAILBOX, Category.GENERAL, "t", "h", True, identity, MONDAY, CALENDAR)


def test_breaches_are_raised_once_each_and_a_reply_meets_the_first_deadline() -> None:
    submission = received()
    submission.record_breaches(MONDAY + dt.timedelta(days=1))
    assert submission.pending_events[-1].type_name() == "SubmissionReceived"
    late = MONDAY + dt.timedelta(days=8)
    submission.record_breaches(late)
    assert [e.deadline for e in submission.pending_events if isinstance(e, DeadlineBreached)] == ["first_reply"]
    submission.record_breaches(late)
    assert len([e for e in submission.pending_events if isinstance(e, DeadlineBreached)]) == 1
    replied = received()
    replied.reply("clerk", "we are on it", MONDAY)
    replied.record_breaches(late)
    assert not any(isinstance(e, DeadlineBreached) for e in replied.pending_events)


def test_closing_needs_an_answer_and_a_rating_from_one_to_five() -> None:
    submission = received()
    with broken("submission.answered_first"):
        submission.close(5, "", MONDAY)
    submission.reply("clerk", "answer", MONDAY)
    with broken("submission.rating"):
        submission.close(6, "", MONDAY)
    submission.close(4, "thanks", MONDAY)
    with broken("submission.closed"):
        submission.follow_up("more", MONDAY)


def test_a_submission_naming_a_notice_obeys_its_window_on_any_channel() -> None:
    late = Submission("s3")
    with broken("submission.notice_closed"):
        late.receive(Channel.MAILBOX, Category.GENERAL, "t", "h", True, None, NOTICE.closes_at, CALENDAR, notice=NOTICE)
    with broken("submission.notice_names_cadre"):
        received(Category.COMPLAINT_ABOUT_CADRE, Channel.HOTLINE, cadre_id="c9", notice=NOTICE)
    routed = received(Category.COMPLAINT_ABOUT_CADRE, Channel.HOTLINE, cadre_id="c1", notice=NOTICE, process_id="other")
    assert routed.state.process_id == "proc-1", "the notice decides which process it is about"


def test_a_late_first_reply_records_the_breach_it_ends() -> None:
    submission = received()
    late = MONDAY + dt.timedelta(days=9)
    submission.reply("clerk", "sorry for the wait", late)
    breaches = [e for e in submission.pending_events if isinstance(e, DeadlineBreached)]
    assert [b.deadline for b in breaches] == ["first_reply"]
    submission.record_breaches(late)
    assert len([e for e in submission.pending_events if isinstance(e, DeadlineBreached)]) == 1


def test_the_department_resolves_and_the_resolution_deadline_stops() -> None:
    submission = received()
    with broken("submission.answered_first"):
        submission.resolve("clerk", "done", MONDAY)
    submission.reply("clerk", "on it", MONDAY)
    submission.resolve("clerk", "road repaired", MONDAY + dt.timedelta(days=3))
    with broken("submission.resolved_once"):
        submission.resolve("clerk", "again", MONDAY)
    submission.record_breaches(MONDAY + dt.timedelta(days=90))
    assert not any(isinstance(e, DeadlineBreached) for e in submission.pending_events)
    submission.close(5, "thanks", MONDAY + dt.timedelta(days=4))


def test_the_deadlines_count_on_the_calendar_the_command_is_given() -> None:
    """The calendar comes with the command, like ``now``: a day off the operator loads moves the deadline."""
    shipped = CALENDAR.years[2026]
    day_off = dt.date(2026, 3, 3)  # the Tuesday after MONDAY, made a holiday
    loaded = CALENDAR.with_year(
        CalendarYear(2026, shipped.holidays | {day_off}, shipped.make_up_working_days, "a test notice")
    )
    submission = Submission("s9")
    submission.receive(Channel.MAILBOX, Category.COMPLAINT_ABOUT_CADRE, "t", "h", True, None, MONDAY, loaded, "c1")
    assert submission.state.first_reply_due == dt.datetime(2026, 3, 6, 0, 0, tzinfo=dt.UTC)  # Wed, Thu


# -- the loop closed (finding 9) ----------------------------------------------------------------


def complaint(submission_id: str = "s1") -> Submission:
    return received(Category.COMPLAINT_ABOUT_CADRE, submission_id=submission_id, cadre_id="c1")


def test_a_complaint_under_investigation_does_not_breach_its_resolution_deadline() -> None:
    """Finding 9: 15 working days breached for almost any real investigation; the deadline now follows the case."""
    submission = complaint()
    submission.reply("clerk", "passed to supervision", MONDAY)
    submission.investigation_opened("complaint-s1", MONDAY + dt.timedelta(hours=1))
    submission.investigation_opened("complaint-s1", MONDAY + dt.timedelta(hours=2))  # heard twice: once
    long_after = MONDAY + dt.timedelta(days=60)
    submission.record_breaches(long_after)
    assert not any(isinstance(e, DeadlineBreached) for e in submission.pending_events)
    assert [type(e).__name__ for e in submission.pending_events].count("InvestigationOpened") == 1

    submission.investigation_concluded("complaint-s1", True, "Gifts were taken.", long_after)
    reply = submission.state.replies[-1]
    assert reply.by == "supervision" and "substantiated" in reply.text and "Gifts were taken." in reply.text
    assert submission.state.resolved and not submission.state.investigating
    events = len(submission.pending_events)
    submission.investigation_concluded("complaint-s1", True, "Gifts were taken.", long_after)  # again: nothing
    assert len(submission.pending_events) == events
    submission.close(4, "thank you", long_after)


def test_an_outcome_reaches_the_submitter_even_when_the_case_opening_was_not_heard() -> None:
    submission = complaint()
    submission.investigation_concluded("complaint-s1", False, "No evidence.", MONDAY + dt.timedelta(days=3))
    assert [r.by for r in submission.state.replies] == ["supervision"] and submission.state.resolved
    assert "not substantiated" in submission.state.replies[0].text


def test_only_a_complaint_is_investigated_and_a_closed_one_still_reads_its_outcome() -> None:
    """A6: closed after a first reply ("it is with supervision"), the submitter still reads the outcome."""
    with broken("submission.investigated_complaint"):
        received().investigation_opened("k1", MONDAY)
    submission = complaint()
    submission.reply("clerk", "It is with supervision.", MONDAY)
    submission.investigation_opened("complaint-s1", MONDAY)
    submission.close(3, "", MONDAY)
    submission.investigation_concluded("complaint-s1", True, "Gifts were taken.", MONDAY + dt.timedelta(days=9))
    s = submission.state
    assert not s.investigating and s.case_id == "complaint-s1"
    assert s.replies[-1].by == "supervision" and "Gifts were taken." in s.replies[-1].text
    assert s.closed and s.rating == 3 and not s.resolved, "recorded, but a closed one is not resolved"
    names = [type(e).__name__ for e in submission.pending_events]
    assert "InvestigationConcluded" in names and "SubmissionResolved" not in names
    events = len(submission.pending_events)
    submission.investigation_concluded("complaint-s1", True, "Gifts were taken.", MONDAY + dt.timedelta(days=10))
    assert len(submission.pending_events) == events, "heard again: nothing"


def test_a_merged_duplicate_whose_own_case_concludes_reads_the_outcome_and_stays_merged() -> None:
    """A6: its submitter reads its own replies, then the target's: the outcome is a reply on the duplicate."""
    original, duplicate = complaint("s1"), complaint("s2")
    duplicate.investigation_opened("complaint-s2", MONDAY)
    duplicate.merge_into("clerk", original, MONDAY)
    duplicate.investigation_concluded("complaint-s2", False, "No evidence.", MONDAY + dt.timedelta(days=9))
    s = duplicate.state
    assert not s.investigating and [r.by for r in s.replies] == ["supervision"]
    assert "not substantiated" in s.replies[0].text and "No evidence." in s.replies[0].text
    assert s.merged_into == "s1" and not s.resolved
    assert "SubmissionResolved" not in [type(e).__name__ for e in duplicate.pending_events]
    assert not original.state.replies, "the target's own submitter reads its own case's answers"


def test_a_rejection_says_why_stops_the_deadlines_and_may_be_rated_then_reopened() -> None:
    submission = received()
    with broken("submission.reject_reason"):
        submission.reject("clerk", "  ", MONDAY)
    submission.reject("clerk", "Not within the department's remit.", MONDAY)
    with broken("submission.rejected"):
        submission.reply("clerk", "more", MONDAY)
    submission.record_breaches(MONDAY + dt.timedelta(days=90))
    assert not any(isinstance(e, DeadlineBreached) for e in submission.pending_events)
    submission.close(2, "", MONDAY + dt.timedelta(days=1))

    reopened_at = MONDAY + dt.timedelta(days=2)
    submission.reopen("chief", "the submitter appealed", reopened_at, CALENDAR)
    s = submission.state
    assert not (s.rejected or s.closed or s.resolved) and s.rating is None
    assert s.resolution_due == CALENDAR.end_of_working_days(reopened_at, 20)
    with broken("submission.reopen_concluded"):
        submission.reopen("chief", "again", reopened_at, CALENDAR)
    submission.reply("clerk", "taken up again", reopened_at)


def test_a_transfer_keeps_the_deadlines_running() -> None:
    submission = received()
    submission.transfer("clerk", "county letters and visits office", "theirs to answer", MONDAY)
    with broken("submission.transfer_elsewhere"):
        submission.transfer("clerk", "county letters and visits office", "", MONDAY)
    submission.record_breaches(MONDAY + dt.timedelta(days=30))
    assert [e.deadline for e in submission.pending_events if isinstance(e, DeadlineBreached)] == [
        "first_reply",
        "resolution",
    ]


def test_a_duplicate_is_merged_into_an_open_submission_and_its_deadlines_stop() -> None:
    original, duplicate = received(submission_id="s1"), received(submission_id="s2")
    with broken("submission.merge_other"):
        duplicate.merge_into("clerk", duplicate, MONDAY)
    duplicate.merge_into("clerk", original, MONDAY)
    assert duplicate.state.merged_into == "s1"
    with broken("submission.merged"):
        duplicate.record_breaches(MONDAY + dt.timedelta(days=30))
    with broken("submission.merged"):
        duplicate.reopen("clerk", "x", MONDAY, CALENDAR)
    with broken("submission.merge_target_open"):
        received(submission_id="s3").merge_into("clerk", duplicate, MONDAY)
