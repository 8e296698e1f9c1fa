"""The submissions read model: each submission's status, deadlines and replies.

The public reads their own case by receipt code (``by_receipt``); the staff
read the queue (``staff_queue``); the deadline sweep asks what is due (``due_for_breach``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from services.feedback.domain import events as ev
from services.feedback.messages import StaffQuery
from shared.application import Reader
from shared.domain import schemas
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


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


@dataclass(frozen=True)
class ReplyView:
    by: str
    text: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class CaseView:
    """What a submitter sees with their receipt code: status, deadlines and replies."""

    submission_id: str
    status: str
    channel: str
    category: str
    received_at: dt.datetime
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    replies: list[ReplyView]
    breaches: list[str]
    rating: int | None


@dataclass(frozen=True)
class StaffRow:
    submission_id: str
    channel: str
    category: str
    status: str
    received_at: dt.datetime
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    replied: bool
    breaches: list[str]


def submission_id_by_receipt(reader: Reader, receipt_hash: str) -> str | None:
    rows = reader.query("SELECT submission_id FROM submissions WHERE receipt_hash = %s", [receipt_hash])
    return str(rows[0]["submission_id"]) if rows else None


def by_receipt(reader: Reader, receipt_hash: str) -> CaseView | None:
    rows = reader.query(
        "SELECT submission_id, status, channel, category, received_at, first_reply_due, resolution_due, "
        "replies, breaches, rating FROM submissions WHERE receipt_hash = %s",
        [receipt_hash],
    )
    if not rows:
        return None
    row = rows[0]
    return CaseView(**{**row, "replies": [schemas.load(ReplyView, r) for r in row["replies"]]})


def staff_queue(reader: Reader, query: StaffQuery) -> list[StaffRow]:
    rows = reader.query(
        "SELECT submission_id, channel, category, status, received_at, first_reply_due, resolution_due, "
        "jsonb_array_length(replies) > 0 AS replied, breaches FROM submissions WHERE status = %s "
        "ORDER BY received_at LIMIT %s",
        [query.status, query.limit],
    )
    return [StaffRow(**row) for row in rows]


def due_for_breach(reader: Reader, now: dt.datetime) -> list[str]:
    """Open submissions with a deadline passed unmet and not yet recorded as breached."""
    rows = reader.query(
        "SELECT submission_id FROM submissions WHERE status = 'open' AND ("
        "(jsonb_array_length(replies) = 0 AND first_reply_due < %(now)s AND NOT breaches ? 'first_reply') OR "
        "(resolution_due < %(now)s AND NOT breaches ? 'resolution'))",
        {"now": now},
    )
    return [str(row["submission_id"]) for row in rows]
