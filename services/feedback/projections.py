"""The feedback service's read models: each submission's state, and statistics."""

from __future__ import annotations

import json
from typing import Any

from services.feedback.domain import events as ev
from shared.eventstore.records import RecordedEvent
from shared.runtime.projections import Projection, on


class Submissions(Projection):
    name = "submissions"
    tables = ("submissions",)

    @on(ev.SubmissionReceived)
    def _received(self, cur: Any, e: ev.SubmissionReceived, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO submissions (submission_id, receipt_hash, channel, category, status, received_at, "
            "first_reply_due, resolution_due) VALUES (%s, %s, %s, %s, 'open', %s, %s, %s)",
            [
                record.aggregate_id,
                e.receipt_hash,
                e.channel,
                e.category,
                e.received_at,
                e.first_reply_due,
                e.resolution_due,
            ],
        )

    @on(ev.ReplySent)
    def _reply(self, cur: Any, e: ev.ReplySent, record: RecordedEvent) -> None:
        reply = {"by": e.by, "text": e.text, "sent_at": e.sent_at.isoformat()}
        cur.execute(
            "UPDATE submissions SET replies = replies || %s::jsonb WHERE submission_id = %s",
            [json.dumps([reply]), record.aggregate_id],
        )

    @on(ev.DeadlineBreached)
    def _breach(self, cur: Any, e: ev.DeadlineBreached, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE submissions SET breaches = breaches || %s::jsonb WHERE submission_id = %s",
            [json.dumps([e.deadline]), record.aggregate_id],
        )

    @on(ev.SubmissionResolved)
    def _resolved(self, cur: Any, e: ev.SubmissionResolved, record: RecordedEvent) -> None:
        cur.execute("UPDATE submissions SET status = 'resolved' WHERE submission_id = %s", [record.aggregate_id])

    @on(ev.SubmissionClosed)
    def _closed(self, cur: Any, e: ev.SubmissionClosed, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE submissions SET status = 'closed', rating = %s, closed_at = %s WHERE submission_id = %s",
            [e.rating, e.closed_at, record.aggregate_id],
        )


class Statistics(Projection):
    """Counts by channel and category: received, closed, breaches, satisfaction."""

    name = "statistics"
    tables = ("feedback_statistics", "statistics_submissions")

    @staticmethod
    def _bump(cur: Any, record: RecordedEvent, column_updates: str, params: list[Any]) -> None:
        cur.execute(
            "UPDATE feedback_statistics SET " + column_updates + " WHERE (channel, category) = "
            "(SELECT channel, category FROM statistics_submissions WHERE submission_id = %s)",
            [*params, record.aggregate_id],
        )

    @on(ev.SubmissionReceived)
    def _received(self, cur: Any, e: ev.SubmissionReceived, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO statistics_submissions (submission_id, channel, category) VALUES (%s, %s, %s)",
            [record.aggregate_id, e.channel, e.category],
        )
        cur.execute(
            "INSERT INTO feedback_statistics (channel, category, received) VALUES (%s, %s, 1) "
            "ON CONFLICT (channel, category) DO UPDATE SET received = feedback_statistics.received + 1",
            [e.channel, e.category],
        )

    @on(ev.DeadlineBreached)
    def _breach(self, cur: Any, e: ev.DeadlineBreached, record: RecordedEvent) -> None:
        self._bump(cur, record, "breaches = breaches + 1", [])

    @on(ev.SubmissionClosed)
    def _closed(self, cur: Any, e: ev.SubmissionClosed, record: RecordedEvent) -> None:
        self._bump(
            cur,
            record,
            "closed = closed + 1, rating_sum = rating_sum + %s, rating_count = rating_count + 1",
            [e.rating],
        )


ALL = (Submissions, Statistics)
