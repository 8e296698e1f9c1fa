"""The feedback domain's rules: pure Python."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any

import pytest

from services.feedback.domain.events import ComplaintRoutedToSupervision, DeadlineBreached, SuggestionRoutedToTraining
from services.feedback.domain.policy import Category, Channel
from services.feedback.domain.submission import NoticeWindow, Submission
from shared.errors import RuleViolation

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
NOTICE = NoticeWindow("notice-1", "proc-1", ["c1"], MONDAY, MONDAY + dt.timedelta(days=7))


def broken(rule: str) -> AbstractContextManager[Any]:
    return pytest.raises(RuleViolation, match=rf"\[rule: {rule}\]")


def received(category: Category = Category.GENERAL, channel: Channel = Channel.MAILBOX, **kwargs: object) -> Submission:
    submission = Submission("s1")
    submission.receive(channel, category, "text", "hash", True, None, MONDAY, **kwargs)  # type: ignore[arg-type]
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


def test_deadlines_follow_the_category_in_working_days() -> None:
    submission = received(Category.COMPLAINT_ABOUT_CADRE, cadre_id="c1")
    assert submission.state.first_reply_due == MONDAY + dt.timedelta(days=2)
    assert submission.state.resolution_due == MONDAY + dt.timedelta(days=21)  # 15 working days


def test_a_comment_on_a_notice_is_refused_once_it_has_closed() -> None:
    late = Submission("s2")
    with broken("submission.notice_closed"):
        late.receive(Channel.NOTICE_COMMENT, Category.GENERAL, "t", "h", True, None, NOTICE.closes_at, notice=NOTICE)
    with broken("submission.notice_known"):
        received(Category.GENERAL, Channel.NOTICE_COMMENT)
    with broken("submission.notice_names_cadre"):
        received(Category.COMPLAINT_ABOUT_CADRE, Channel.NOTICE_COMMENT, cadre_id="c9", notice=NOTICE)
    ok = received(Category.COMPLAINT_ABOUT_CADRE, Channel.NOTICE_COMMENT, cadre_id="c1", notice=NOTICE)
    assert ok.state.process_id == "proc-1"


def test_an_anonymous_submission_keeps_no_identity() -> None:
    with broken("submission.anonymous"):
        Submission("s").receive(Channel.MAILBOX, Category.GENERAL, "t", "h", True, "sealed-identity", MONDAY)


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
        late.receive(Channel.MAILBOX, Category.GENERAL, "t", "h", True, None, NOTICE.closes_at, notice=NOTICE)
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
