"""The feedback service: the public's channels in, and the answers that go back.

Submissions arrive on five channels; a complaint about a cadre is routed to
supervision and a suggestion on training to training, by event; consultations
are answered here. The submitter follows their case with a receipt code; their
identity, if they give one, is kept only sealed. Deadlines are checked
periodically (and on demand) and a breach is an event.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from typing import Any

from nameko.timer import timer

from services.feedback import messages as m
from services.feedback.domain.events import registry
from services.feedback.domain.policy import Category
from services.feedback.domain.submission import NoticeWindow, Submission
from services.feedback.inbound import PublishedNotice
from services.feedback.projections import ALL
from services.feedback.protection import IdentitySeal, new_receipt_code, receipt_hash
from shared.domain import schemas
from shared.errors import NotFound, RuleViolation
from shared.eventstore.records import RecordedEvent
from shared.runtime.inbound import handles
from shared.runtime.ratelimit import RateLimiter
from shared.runtime.rpc import rpc_method
from shared.runtime.service import ServiceBase

log = logging.getLogger(__name__)

PUBLIC = "public"
SYSTEM_ACTOR = "service:feedback"
WINDOW_SECONDS = 3600
DEADLINE_CHECK_SECONDS = float(os.environ.get("FEEDBACK_DEADLINE_CHECK_SECONDS", "60"))


def _status(submission: Submission) -> str:
    state = submission.state
    return "closed" if state.closed else ("resolved" if state.resolved else "open")


def limit(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


class FeedbackService(ServiceBase):
    name = "feedback"
    events = registry
    aggregates = (Submission,)
    projections = ALL

    # -- the public ------------------------------------------------------------------

    @rpc_method(request=m.Submit, response=m.Receipt)
    def submit(self, request: m.Submit) -> m.Receipt:
        """Take a submission; the reply carries the receipt code, shown this once."""
        now = self.clock.now()
        seal = IdentitySeal()
        identity = None if request.anonymous or request.identity is None else vars(request.identity)
        sealed = seal.seal(identity)
        code = new_receipt_code()
        submission_id = uuid.uuid4().hex
        self._limit("source", seal.source_key(request.source), limit("FEEDBACK_SOURCE_LIMIT", 20), now)
        notice, correlation_id, causation_id = self._notice(request.notice_id)
        _, recorded = self.storage.create(
            Submission,
            submission_id,
            lambda s: s.receive(
                request.channel,
                request.category,
                request.text,
                receipt_hash(code),
                request.anonymous,
                sealed,
                now,
                cadre_id=request.cadre_id,
                notice=notice,
                process_id=request.process_id,
            ),
            actor=PUBLIC,
            reason=f"{request.channel} submission",
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        received = registry.from_record(recorded[0])
        routed = {Category.COMPLAINT_ABOUT_CADRE: "supervision", Category.SUGGESTION_ON_TRAINING: "training"}
        return m.Receipt(
            submission_id,
            code,
            received.first_reply_due,  # type: ignore[attr-defined]
            received.resolution_due,  # type: ignore[attr-defined]
            routed.get(request.category),
            sealed is not None,
        )

    def _notice(self, notice_id: str | None) -> tuple[NoticeWindow | None, str | None, str | None]:
        """The notice a comment is on, and the story (correlation) it continues."""
        if notice_id is None:
            return None, None, None
        rows = self.storage.query(
            "SELECT notice_id, process_id, cadre_ids, opens_at, closes_at, correlation_id, event_id "
            "FROM known_notices WHERE notice_id = %s",
            [notice_id],
        )
        if not rows:
            raise NotFound("notice", notice_id)
        row = rows[0]
        window = NoticeWindow(row["notice_id"], row["process_id"], row["cadre_ids"], row["opens_at"], row["closes_at"])
        return window, row["correlation_id"], row["event_id"]

    def _limit(self, scope: str, key: str, most: int, now: Any) -> None:
        """Count a hit in a transaction of its own, before the request runs: refused
        and invalid requests count too."""
        with self.storage.transaction() as conn:
            RateLimiter(self.name).hit(conn, scope, key, most, WINDOW_SECONDS, now)

    def _by_receipt(self, code: str, now: Any) -> str:
        """The submission a receipt code opens; every use of a code counts against its limit."""
        self._limit("receipt", receipt_hash(code), limit("FEEDBACK_RECEIPT_LIMIT", 10), now)
        rows = self.storage.query("SELECT submission_id FROM submissions WHERE receipt_hash = %s", [receipt_hash(code)])
        if not rows:
            raise NotFound("submission with this receipt code", "(receipt code withheld)")
        return str(rows[0]["submission_id"])

    @rpc_method(request=m.FollowUp, response=m.SubmissionAck)
    def follow_up(self, request: m.FollowUp) -> m.SubmissionAck:
        now = self.clock.now()
        submission_id = self._by_receipt(request.receipt_code, now)
        submission, _ = self.storage.update(
            Submission, submission_id, lambda s: s.follow_up(request.text, now), actor=PUBLIC
        )
        return m.SubmissionAck(submission.id, submission.version, _status(submission))

    @rpc_method(request=m.ReceiptRef, response=m.CaseView)
    def my_case(self, request: m.ReceiptRef) -> m.CaseView:
        """What a submitter sees with their receipt code: status and replies."""
        self._by_receipt(request.receipt_code, self.clock.now())
        rows = self.storage.query(
            "SELECT submission_id, status, channel, category, received_at, first_reply_due, resolution_due, "
            "replies, breaches, rating FROM submissions WHERE receipt_hash = %s",
            [receipt_hash(request.receipt_code)],
        )
        row = rows[0]
        return m.CaseView(**{**row, "replies": [schemas.load(m.ReplyView, r) for r in row["replies"]]})

    @rpc_method(request=m.Close, response=m.SubmissionAck)
    def close(self, request: m.Close) -> m.SubmissionAck:
        now = self.clock.now()
        submission_id = self._by_receipt(request.receipt_code, now)
        submission, _ = self.storage.update(
            Submission, submission_id, lambda s: s.close(request.rating, request.comment, now), actor=PUBLIC
        )
        return m.SubmissionAck(submission.id, submission.version, "closed")

    @rpc_method(response=m.NoticeList)
    def open_notices(self) -> m.NoticeList:
        """Notices the public may comment on now."""
        rows = self.storage.query(
            "SELECT notice_id, process_id, kind, title, cadre_ids, opens_at, closes_at FROM known_notices "
            "WHERE opens_at <= %(now)s AND closes_at > %(now)s ORDER BY closes_at",
            {"now": self.clock.now()},
        )
        return m.NoticeList([m.NoticeView(**row) for row in rows])

    # -- the department --------------------------------------------------------------

    @rpc_method(request=m.ReplyTo, response=m.SubmissionAck)
    def reply(self, request: m.ReplyTo) -> m.SubmissionAck:
        now = self.clock.now()
        submission, _ = self.storage.update(
            Submission, request.submission_id, lambda s: s.reply(request.actor, request.text, now), actor=request.actor
        )
        return m.SubmissionAck(submission.id, submission.version, _status(submission))

    @rpc_method(request=m.ReplyTo, response=m.SubmissionAck)
    def resolve(self, request: m.ReplyTo) -> m.SubmissionAck:
        """The department resolves a case (its text is the resolution); the submitter may rate it later."""
        now = self.clock.now()
        submission, _ = self.storage.update(
            Submission,
            request.submission_id,
            lambda s: s.resolve(request.actor, request.text, now),
            actor=request.actor,
        )
        return m.SubmissionAck(submission.id, submission.version, _status(submission))

    @rpc_method(request=m.StaffQuery, response=m.StaffList)
    def submissions(self, query: m.StaffQuery) -> m.StaffList:
        rows = self.storage.query(
            "SELECT submission_id, channel, category, status, received_at, first_reply_due, resolution_due, "
            "jsonb_array_length(replies) > 0 AS replied, breaches FROM submissions WHERE status = %s "
            "ORDER BY received_at LIMIT %s",
            [query.status, query.limit],
        )
        return m.StaffList([m.StaffRow(**row) for row in rows])

    @rpc_method(response=m.Statistics)
    def statistics(self) -> m.Statistics:
        rows = self.storage.query(
            "SELECT channel, category, received, received - closed AS open, closed, breaches, "
            "CASE WHEN rating_count > 0 THEN round(rating_sum::numeric / rating_count, 2) END AS average_rating "
            "FROM feedback_statistics ORDER BY channel, category"
        )
        return m.Statistics([m.StatisticsRow(**row) for row in rows])

    @rpc_method(response=m.BreachCount)
    def check_deadlines(self) -> m.BreachCount:
        """Raise a breach event for every deadline passed unmet (also run periodically)."""
        return m.BreachCount(self._raise_breaches())

    @timer(interval=DEADLINE_CHECK_SECONDS)
    def periodic_deadline_check(self) -> None:
        breaches = self._raise_breaches()
        if breaches:
            log.info("deadline check raised %d breach(es)", breaches)

    def _raise_breaches(self) -> int:
        now = self.clock.now()
        due = self.storage.query(
            "SELECT submission_id FROM submissions WHERE status = 'open' AND ("
            "(jsonb_array_length(replies) = 0 AND first_reply_due < %(now)s AND NOT breaches ? 'first_reply') OR "
            "(resolution_due < %(now)s AND NOT breaches ? 'resolution'))",
            {"now": now},
        )
        raised = 0
        for row in due:
            try:
                _, recorded = self.storage.update(
                    Submission,
                    row["submission_id"],
                    lambda s: s.record_breaches(now),
                    actor=SYSTEM_ACTOR,
                    reason="deadline check",
                )
            except RuleViolation as error:  # closed meanwhile
                log.info("no breach for %s: %s", row["submission_id"], error)
                continue
            raised += len(recorded)
        return raised

    # -- the cadre service's notices --------------------------------------------------

    def _remember_notice(self, kind: str, notice: PublishedNotice, record: RecordedEvent) -> None:
        with self.storage.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO known_notices (notice_id, process_id, kind, title, cadre_ids, opens_at, closes_at, "
                "correlation_id, event_id) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s) "
                "ON CONFLICT (notice_id) DO NOTHING",
                [
                    notice.notice_id,
                    record.aggregate_id,
                    kind,
                    notice.title,
                    json.dumps(notice.cadre_ids),
                    notice.opens_at,
                    notice.closes_at,
                    record.correlation_id,
                    record.event_id,
                ],
            )

    @handles("cadre", "AssessmentPreviewPublished", payload=PublishedNotice)
    def on_assessment_preview(self, notice: PublishedNotice, record: RecordedEvent) -> None:
        self._remember_notice("assessment_preview", notice, record)

    @handles("cadre", "PublicNoticeOpened", payload=PublishedNotice)
    def on_public_notice(self, notice: PublishedNotice, record: RecordedEvent) -> None:
        self._remember_notice("pre_appointment", notice, record)
