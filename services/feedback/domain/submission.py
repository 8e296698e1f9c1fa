"""A submission from the public: received, routed, answered, closed with a rating.

A complaint about a cadre goes to supervision, a suggestion about training to
training (both by event); a consultation is answered here. Each category has
deadlines for the first reply and for resolution, in whole working days on the
organisation's calendar (given to the commands like ``now``); a breach is an
event too. A comment on a notice is refused once the notice has closed.

The loop is closed: a routed complaint's resolution deadline follows its
supervision case (no breach while the case is open), and the case's outcome
comes back as a reply and resolves the submission (one closed or merged
meanwhile still reads it, and stays as it is). The department may reject
(with a reason), transfer, merge a duplicate into another submission, and
reopen what was resolved, rejected or closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.feedback.domain.events import (
    ComplaintRoutedToSupervision,
    DeadlineBreached,
    FollowUpAdded,
    InvestigationConcluded,
    InvestigationOpened,
    ReplySent,
    SubmissionClosed,
    SubmissionMerged,
    SubmissionReceived,
    SubmissionRejected,
    SubmissionReopened,
    SubmissionResolved,
    SubmissionTransferred,
    SubmitterIdentity,
    SuggestionRoutedToTraining,
)
from services.feedback.domain.policy import DEADLINES, QUESTIONS, Category, Channel
from shared.domain import Aggregate, applies, command
from shared.domain.calendar import OrganisationCalendar

SUPERVISION = "supervision"


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
    case_id: str | None = None
    investigating: bool = False  # its supervision case is open: the resolution deadline follows the case
    rejected: bool = False
    merged_into: str | None = None
    transferred_to: str | None = None

    @property
    def concluded(self) -> bool:
        """Answered for good, until reopened: resolved, rejected or closed."""
        return self.resolved or self.rejected or self.closed


class Submission(Aggregate):
    category = "submission"
    State = SubmissionState
    snapshot_every = 50
    state: SubmissionState

    def _open(self) -> None:
        self.require(self.state.received, "submission.received", f"submission {self.id} does not exist")
        self.require(not self.state.closed, "submission.closed", f"submission {self.id} is closed")
        self.require(
            self.state.merged_into is None,
            "submission.merged",
            f"submission {self.id} was merged into {self.state.merged_into}",
        )

    def _in_hand(self) -> None:
        """Open and not rejected: the department is still working on it."""
        self._open()
        self.require(not self.state.rejected, "submission.rejected", f"submission {self.id} was rejected; reopen it")

    @command
    def receive(
        self,
        channel: Channel,
        category: Category,
        text: str,
        receipt_hash: str,
        anonymous: bool,
        identity: SubmitterIdentity | None,
        now: dt.datetime,
        calendar: OrganisationCalendar,
        cadre_id: str | None = None,
        notice: NoticeWindow | None = None,
        process_id: str | None = None,
    ) -> None:
        self.require(not self.state.received, "submission.once", f"submission {self.id} was already received")
        self.require(not (anonymous and identity), "submission.anonymous", "an anonymous submission keeps no identity")
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
            self.require(category in QUESTIONS, "submission.consultation", "the consultation channel takes questions")
        deadlines = DEADLINES[category]
        self.record(
            SubmissionReceived(
                str(channel),
                str(category),
                text,
                anonymous,
                receipt_hash,
                None,  # identity_sealed: no longer written (the identity is sealed under the submitter's key)
                cadre_id,
                process_id,
                notice.notice_id if notice else None,
                now,
                calendar.end_of_working_days(now, deadlines.first_reply_days),
                calendar.end_of_working_days(now, deadlines.resolution_days),
                identity,
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
        self._in_hand()
        first = not self.state.replies
        due = self.state.first_reply_due
        if first and due is not None and now > due and "first_reply" not in self.state.breaches:
            self.record(DeadlineBreached("first_reply", due, now))  # answered, but late
        self.record(ReplySent(by, text, now, first=first))

    @command
    def resolve(self, by: str, summary: str, now: dt.datetime) -> None:
        """The department resolves the case; the submitter may still rate it when closing."""
        self._in_hand()
        self.require(not self.state.resolved, "submission.resolved_once", f"submission {self.id} is resolved already")
        self.require(bool(self.state.replies), "submission.answered_first", "a submission is resolved once answered")
        self._resolution_breach(now)
        self.record(SubmissionResolved(by, summary, now))

    def _resolution_breach(self, now: dt.datetime) -> None:
        s = self.state
        due = s.resolution_due
        if due is not None and now > due and not s.investigating and "resolution" not in s.breaches:
            self.record(DeadlineBreached("resolution", due, now))

    @command
    def record_breaches(self, now: dt.datetime) -> None:
        """Raise a breach event for each deadline passed unmet (each once)."""
        self._open()
        s = self.state
        assert s.first_reply_due is not None and s.resolution_due is not None
        if not s.replies and not s.rejected and now > s.first_reply_due and "first_reply" not in s.breaches:
            self.record(DeadlineBreached("first_reply", s.first_reply_due, now))
        if not (s.resolved or s.rejected):
            self._resolution_breach(now)

    @command
    def close(self, rating: int, comment: str, now: dt.datetime) -> None:
        self._open()
        self.require(
            bool(self.state.replies) or self.state.rejected,
            "submission.answered_first",
            "a submission is closed once it has been answered",
        )
        self.require(1 <= rating <= 5, "submission.rating", "satisfaction is rated from 1 to 5")
        self.record(SubmissionClosed(rating, comment, now))

    # -- the loop closed: what the services it was routed to answer ------------------------------

    @command
    def investigation_opened(self, case_id: str, now: dt.datetime) -> None:
        """Supervision opened a case on this complaint: no resolution breach while it is open."""
        self.require(self.state.received, "submission.received", f"submission {self.id} does not exist")
        self.require(
            self.state.category == Category.COMPLAINT_ABOUT_CADRE,
            "submission.investigated_complaint",
            "only a complaint about a cadre is investigated by supervision",
        )
        if self.state.case_id == case_id:
            return  # heard of already
        self.record(InvestigationOpened(case_id, now))

    @command
    def investigation_concluded(self, case_id: str, substantiated: bool, reasons: str, now: dt.datetime) -> None:
        """Supervision's outcome: the submitter reads it as a reply, and it resolves the submission.

        It is recorded whatever became of the submission meanwhile: one the
        submitter closed (after a first reply, say) still reads the outcome,
        and a merged duplicate's submitter reads it among its own replies
        (before the answers to the one it joined). Neither is resolved: a
        closed one stays closed, a merged one merged. An outcome heard of
        already records nothing (its events may arrive again).
        """
        s = self.state
        self.require(s.received, "submission.received", f"submission {self.id} does not exist")
        if s.case_id == case_id and not s.investigating:
            return
        self.record(InvestigationConcluded(case_id, substantiated, now))
        finding = "substantiated" if substantiated else "not substantiated"
        text = f"The supervision case on your complaint has concluded: {finding}. {reasons}"
        self._answered_by(SUPERVISION, text, now, breach=False)  # its resolution deadline followed the case

    def _answered_by(self, service: str, text: str, now: dt.datetime, *, breach: bool = True) -> None:
        """Another service's answer (supervision's outcome, training's answer): a reply that resolves.

        The reply is recorded in any case; it resolves only a submission still
        in hand (not resolved, rejected, closed or merged).
        """
        s = self.state
        self.record(ReplySent(service, text, now, first=not s.replies))
        if not s.concluded and s.merged_into is None:
            if breach:
                self._resolution_breach(now)
            self.record(SubmissionResolved(service, text, now))

    @command
    def answer_from(self, service: str, text: str, now: dt.datetime) -> None:
        """A routed service's answer to this submission (training's answer to a suggestion).

        feedback's handler of training's ``SuggestionAnswered`` calls this with ``"training"``.
        Nothing is recorded for a submission closed or merged meanwhile.
        """
        s = self.state
        self.require(s.received, "submission.received", f"submission {self.id} does not exist")
        if s.closed or s.merged_into is not None:
            return
        self._answered_by(service, text, now)

    # -- the department's other answers ---------------------------------------------------

    @command
    def reject(self, by: str, reason: str, now: dt.datetime) -> None:
        """Decline to take it up, saying why; the submitter reads the reason and may rate it."""
        self._in_hand()
        self.require(not self.state.resolved, "submission.resolved", f"submission {self.id} is resolved already")
        self.require(bool(reason.strip()), "submission.reject_reason", "a rejection says why")
        self.record(SubmissionRejected(by, reason, now))

    @command
    def transfer(self, by: str, to: str, note: str, now: dt.datetime) -> None:
        """Hand it to another office or channel; its deadlines run on."""
        self._in_hand()
        self.require(not self.state.resolved, "submission.resolved", f"submission {self.id} is resolved already")
        self.require(
            to != self.state.transferred_to, "submission.transfer_elsewhere", f"submission {self.id} is with {to}"
        )
        self.record(SubmissionTransferred(by, to, note, now))

    @command
    def merge_into(self, by: str, target: Submission, now: dt.datetime) -> None:
        """A duplicate, merged into ``target``: its deadlines stop, and its submitter reads the target's answers."""
        self._in_hand()
        self.require(not self.state.resolved, "submission.resolved", f"submission {self.id} is resolved already")
        self.require(target.id != self.id, "submission.merge_other", "a submission is merged into another one")
        self.require(target.state.received, "submission.received", f"submission {target.id} does not exist")
        self.require(
            target.state.merged_into is None and not target.state.closed,
            "submission.merge_target_open",
            f"submission {target.id} is closed or merged itself",
        )
        self.record(SubmissionMerged(by, target.id, now))

    @command
    def reopen(self, by: str, reason: str, now: dt.datetime, calendar: OrganisationCalendar) -> None:
        """Take it up again: a new resolution deadline from now, on the category's working days."""
        s = self.state
        self.require(s.received, "submission.received", f"submission {self.id} does not exist")
        self.require(s.merged_into is None, "submission.merged", f"submission {self.id} was merged")
        self.require(s.concluded, "submission.reopen_concluded", f"submission {self.id} is still open")
        days = DEADLINES[Category(s.category)].resolution_days
        self.record(SubmissionReopened(by, reason, now, calendar.end_of_working_days(now, days)))

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

    @applies(InvestigationOpened)
    def _investigation_opened(self, e: InvestigationOpened) -> None:
        self.state.case_id, self.state.investigating = e.case_id, True

    @applies(InvestigationConcluded)
    def _investigation_concluded(self, e: InvestigationConcluded) -> None:
        self.state.case_id, self.state.investigating = e.case_id, False

    @applies(SubmissionRejected)
    def _rejected(self, e: SubmissionRejected) -> None:
        self.state.rejected = True

    @applies(SubmissionTransferred)
    def _transferred(self, e: SubmissionTransferred) -> None:
        self.state.transferred_to = e.to

    @applies(SubmissionMerged)
    def _merged(self, e: SubmissionMerged) -> None:
        self.state.merged_into = e.into

    @applies(SubmissionReopened)
    def _reopened(self, e: SubmissionReopened) -> None:
        s = self.state
        s.resolved = s.rejected = s.closed = False
        s.rating = None
        s.resolution_due = e.resolution_due
        s.breaches = [b for b in s.breaches if b != "resolution"]
