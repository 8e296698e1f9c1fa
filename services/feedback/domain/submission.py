"""A submission from the public: received, routed, answered, closed with a rating.

A complaint about a cadre goes to supervision, a suggestion about training to
training (both by event); a consultation is answered here. Each category has
deadlines for the first reply and for resolution, in working days; a breach is
an event too. A comment on a notice is refused once the notice has closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.feedback.domain.events import (
    ComplaintRoutedToSupervision,
    DeadlineBreached,
    FollowUpAdded,
    ReplySent,
    SubmissionClosed,
    SubmissionReceived,
    SubmissionResolved,
    SuggestionRoutedToTraining,
)
from services.feedback.domain.policy import DEADLINES, Category, Channel
from shared.domain import Aggregate, applies, command
from shared.domain.calendar import add_working_days


@dataclass(frozen=True)
class NoticeWindow:
    """What feedback knows of a notice, from the cadre service's events."""

    notice_id: str
    process_id: str
    cadre_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime


@dataclass
class Reply:
    by: str
    text: str
    sent_at: dt.datetime


@dataclass
class SubmissionState:
    received: bool = False
    channel: str = ""
    category: str = ""
    anonymous: bool = True
    receipt_hash: str = ""
    cadre_id: str | None = None
    process_id: str | None = None
    notice_id: str | None = None
    first_reply_due: dt.datetime | None = None
    resolution_due: dt.datetime | None = None
    replies: list[Reply] = field(default_factory=list)
    follow_ups: int = 0
    breaches: list[str] = field(default_factory=list)
    resolved: bool = False
    closed: bool = False
    rating: int | None = None


class Submission(Aggregate):
    category = "submission"
    State = SubmissionState
    snapshot_every = 50
    state: SubmissionState

    def _open(self) -> None:
        self.require(self.state.received, "submission.received", f"submission {self.id} does not exist")
        self.require(not self.state.closed, "submission.closed", f"submission {self.id} is closed")

    @command
    def receive(
        self,
        channel: Channel,
        category: Category,
        text: str,
        receipt_hash: str,
        anonymous: bool,
        identity_sealed: str | None,
        now: dt.datetime,
        cadre_id: str | None = None,
        notice: NoticeWindow | None = None,
        process_id: str | None = None,
    ) -> None:
        self.require(not self.state.received, "submission.once", f"submission {self.id} was already received")
        self.require(
            not (anonymous and identity_sealed), "submission.anonymous", "an anonymous submission keeps no identity"
        )
        if channel is Channel.NOTICE_COMMENT:
            self.require(
                notice is not None, "submission.notice_known", "a comment names a notice that has been published"
            )
        if notice is not None:  # on any channel, a submission about a notice obeys its window
            self.require(
                now >= notice.opens_at, "submission.notice_not_open", f"notice {notice.notice_id} is not open yet"
            )
            self.require(
                now < notice.closes_at,
                "submission.notice_closed",
                f"notice {notice.notice_id} closed at {notice.closes_at.isoformat()}; it takes no more comments",
            )
            if cadre_id is not None:
                self.require(
                    cadre_id in notice.cadre_ids,
                    "submission.notice_names_cadre",
                    f"{cadre_id} is not on notice {notice.notice_id}",
                )
            process_id = notice.process_id
        if category is Category.COMPLAINT_ABOUT_CADRE:
            self.require(
                bool(cadre_id), "submission.complaint_names_cadre", "a complaint about a cadre names the cadre"
            )
        if channel is Channel.CONSULTATION:
            self.require(
                category is Category.CONSULTATION, "submission.consultation", "the consultation channel takes questions"
            )
        deadlines = DEADLINES[category]
        self.record(
            SubmissionReceived(
                str(channel),
                str(category),
                text,
                anonymous,
                receipt_hash,
                identity_sealed,
                cadre_id,
                process_id,
                notice.notice_id if notice else None,
                now,
                add_working_days(now, deadlines.first_reply_days),
                add_working_days(now, deadlines.resolution_days),
            )
        )
        if category is Category.COMPLAINT_ABOUT_CADRE:
            assert cadre_id is not None
            self.record(
                ComplaintRoutedToSupervision(
                    self.id, cadre_id, process_id, notice.notice_id if notice else None, text, now
                )
            )
        elif category is Category.SUGGESTION_ON_TRAINING:
            self.record(SuggestionRoutedToTraining(self.id, text, now))

    @command
    def follow_up(self, text: str, now: dt.datetime) -> None:
        self._open()
        self.record(FollowUpAdded(text, now))

    @command
    def reply(self, by: str, text: str, now: dt.datetime) -> None:
        self._open()
        first = not self.state.replies
        due = self.state.first_reply_due
        if first and due is not None and now > due and "first_reply" not in self.state.breaches:
            self.record(DeadlineBreached("first_reply", due, now))  # answered, but late
        self.record(ReplySent(by, text, now, first=first))

    @command
    def resolve(self, by: str, summary: str, now: dt.datetime) -> None:
        """The department resolves the case; the submitter may still rate it when closing."""
        self._open()
        self.require(not self.state.resolved, "submission.resolved_once", f"submission {self.id} is resolved already")
        self.require(bool(self.state.replies), "submission.answered_first", "a submission is resolved once answered")
        due = self.state.resolution_due
        if due is not None and now > due and "resolution" not in self.state.breaches:
            self.record(DeadlineBreached("resolution", due, now))
        self.record(SubmissionResolved(by, summary, now))

    @command
    def record_breaches(self, now: dt.datetime) -> None:
        """Raise a breach event for each deadline passed unmet (each once)."""
        self._open()
        s = self.state
        assert s.first_reply_due is not None and s.resolution_due is not None
        if not s.replies and now > s.first_reply_due and "first_reply" not in s.breaches:
            self.record(DeadlineBreached("first_reply", s.first_reply_due, now))
        if now > s.resolution_due and not s.resolved and "resolution" not in s.breaches:
            self.record(DeadlineBreached("resolution", s.resolution_due, now))

    @command
    def close(self, rating: int, comment: str, now: dt.datetime) -> None:
        self._open()
        self.require(
            bool(self.state.replies), "submission.answered_first", "a submission is closed once it has been answered"
        )
        self.require(1 <= rating <= 5, "submission.rating", "satisfaction is rated from 1 to 5")
        self.record(SubmissionClosed(rating, comment, now))

    @applies(SubmissionReceived)
    def _received(self, e: SubmissionReceived) -> None:
        s = self.state
        s.received, s.channel, s.category, s.anonymous, s.receipt_hash = (
            True,
            e.channel,
            e.category,
            e.anonymous,
            e.receipt_hash,
        )
        s.cadre_id, s.process_id, s.notice_id = e.cadre_id, e.process_id, e.notice_id
        s.first_reply_due, s.resolution_due = e.first_reply_due, e.resolution_due

    @applies(ComplaintRoutedToSupervision)
    def _routed_to_supervision(self, e: ComplaintRoutedToSupervision) -> None:
        pass

    @applies(SuggestionRoutedToTraining)
    def _routed_to_training(self, e: SuggestionRoutedToTraining) -> None:
        pass

    @applies(FollowUpAdded)
    def _follow_up(self, e: FollowUpAdded) -> None:
        self.state.follow_ups += 1

    @applies(ReplySent)
    def _reply(self, e: ReplySent) -> None:
        self.state.replies.append(Reply(e.by, e.text, e.sent_at))

    @applies(DeadlineBreached)
    def _breach(self, e: DeadlineBreached) -> None:
        self.state.breaches.append(e.deadline)

    @applies(SubmissionResolved)
    def _resolved(self, e: SubmissionResolved) -> None:
        self.state.resolved = True

    @applies(SubmissionClosed)
    def _closed(self, e: SubmissionClosed) -> None:
        self.state.closed, self.state.rating = True, e.rating
