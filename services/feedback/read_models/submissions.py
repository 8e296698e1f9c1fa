"""The submissions read model: each submission's status, deadlines and replies.

The public reads their own case by receipt code (``by_receipt``); the staff
read the queue (``staff_queue``); the deadline sweep asks what is due (``due_for_breach``),
and the retention sweep whose personal data is due to be erased (``due_for_erasure``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from services.feedback.domain import events as ev
from services.feedback.messages import StaffQuery
from shared.application import Reader
from shared.application.unit_of_work import Writer
from shared.domain import schemas
from shared.domain.erasure import PersonalDataErased
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on

#: The kind of data subject a submitter is: ``submitter:<submission id>``.
SUBMITTER = "submitter"


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

    @on(PersonalDataErased)
    def _erased(self, cur: Any, e: PersonalDataErased, record: RecordedEvent) -> None:
        kind, _, submission_id = e.subject.partition(":")
        if kind == SUBMITTER:
            cur.execute(
                "UPDATE submissions SET personal_data_erased_at = coalesce(personal_data_erased_at, %s) "
                "WHERE submission_id = %s",
                [e.erased_at, submission_id],
            )

    @on(ev.ReplySent)
    def _reply(self, cur: Any, e: ev.ReplySent, record: RecordedEvent) -> None:
        reply = {"by": e.by, "text": e.text, "sent_at": e.sent_at.isoformat(), "event_id": record.event_id}
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

    @on(ev.InvestigationOpened)
    def _investigation_opened(self, cur: Any, e: ev.InvestigationOpened, record: RecordedEvent) -> None:
        cur.execute("UPDATE submissions SET investigation = 'open' WHERE submission_id = %s", [record.aggregate_id])

    @on(ev.InvestigationConcluded)
    def _investigation_concluded(self, cur: Any, e: ev.InvestigationConcluded, record: RecordedEvent) -> None:
        outcome = "substantiated" if e.substantiated else "not_substantiated"
        cur.execute(
            "UPDATE submissions SET investigation = %s WHERE submission_id = %s", [outcome, record.aggregate_id]
        )

    @on(ev.SubmissionRejected)
    def _rejected(self, cur: Any, e: ev.SubmissionRejected, record: RecordedEvent) -> None:
        """The reason is the answer the submitter reads."""
        reply = {"by": e.by, "text": e.reason, "sent_at": e.rejected_at.isoformat(), "event_id": record.event_id}
        cur.execute(
            "UPDATE submissions SET status = 'rejected', replies = replies || %s::jsonb WHERE submission_id = %s",
            [json.dumps([reply]), record.aggregate_id],
        )

    @on(ev.SubmissionTransferred)
    def _transferred(self, cur: Any, e: ev.SubmissionTransferred, record: RecordedEvent) -> None:
        cur.execute("UPDATE submissions SET transferred_to = %s WHERE submission_id = %s", [e.to, record.aggregate_id])

    @on(ev.SubmissionMerged)
    def _merged(self, cur: Any, e: ev.SubmissionMerged, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE submissions SET status = 'merged', merged_into = %s WHERE submission_id = %s",
            [e.into, record.aggregate_id],
        )

    @on(ev.SubmissionReopened)
    def _reopened(self, cur: Any, e: ev.SubmissionReopened, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE submissions SET status = 'open', rating = NULL, closed_at = NULL, resolution_due = %s, "
            "breaches = breaches - 'resolution' WHERE submission_id = %s",
            [e.resolution_due, record.aggregate_id],
        )


@dataclass(frozen=True)
class ReplyView:
    """A reply as the submitter reads it.

    ``event_id`` is the event that recorded it, in feedback's log: the
    submitter may ask its inclusion proof (``GET
    /api/v1/public/audit/feedback/proofs/{event_id}``) and hold the answer
    they read to the signed log. None only for a reply recorded before
    replies kept it, that the migration could not match to its event.
    """

    by: str
    text: str
    sent_at: dt.datetime
    event_id: str | None = None


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
    investigation: str | None = None  # the supervision case on a complaint: open, substantiated, not_substantiated
    transferred_to: str | None = None
    merged: bool = False  # a duplicate: ``replies`` go on with the answers to the one it was merged into


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
    investigation: str | None = None
    transferred_to: str | None = None
    merged_into: str | None = None


def submission_id_by_receipt(reader: Reader, receipt_hash: str) -> str | None:
    rows = reader.query("SELECT submission_id FROM submissions WHERE receipt_hash = %s", [receipt_hash])
    return str(rows[0]["submission_id"]) if rows else None


#: How far a receipt code follows merges (a duplicate merged into a duplicate...).
MERGE_DEPTH = 5


def by_receipt(reader: Reader, receipt_hash: str) -> CaseView | None:
    """A submitter's case; a duplicate merged into another one shows that one's replies after its own."""
    rows = reader.query(
        "SELECT submission_id, status, channel, category, received_at, first_reply_due, resolution_due, "
        "replies, breaches, rating, investigation, transferred_to, merged_into FROM submissions WHERE receipt_hash = %s",
        [receipt_hash],
    )
    if not rows:
        return None
    row = rows[0]
    replies = list(row["replies"])
    into, seen = row.pop("merged_into"), {row["submission_id"]}
    for _ in range(MERGE_DEPTH):
        if into is None or into in seen:
            break
        seen.add(into)
        found = reader.query("SELECT replies, merged_into FROM submissions WHERE submission_id = %s", [into])
        if not found:
            break
        replies += found[0]["replies"]
        into = found[0]["merged_into"]
    return CaseView(
        **{
            **row,
            "replies": [schemas.load(ReplyView, r) for r in replies],
            "merged": row["status"] == "merged",
        }
    )


def staff_queue(reader: Reader, query: StaffQuery) -> list[StaffRow]:
    rows = reader.query(
        "SELECT submission_id, channel, category, status, received_at, first_reply_due, resolution_due, "
        "jsonb_array_length(replies) > 0 AS replied, breaches, investigation, transferred_to, merged_into "
        "FROM submissions WHERE status = %s ORDER BY received_at LIMIT %s",
        [query.status, query.limit],
    )
    return [StaffRow(**row) for row in rows]


def due_for_breach(reader: Reader, now: dt.datetime) -> list[str]:
    """Open submissions with a deadline passed unmet and not yet recorded as breached.

    A complaint whose supervision case is open has no resolution deadline of
    its own: it follows the case.
    """
    rows = reader.query(
        "SELECT submission_id FROM submissions WHERE status = 'open' AND ("
        "(jsonb_array_length(replies) = 0 AND first_reply_due < %(now)s AND NOT breaches ? 'first_reply') OR "
        "(resolution_due < %(now)s AND NOT breaches ? 'resolution' AND investigation IS DISTINCT FROM 'open'))",
        {"now": now},
    )
    return [str(row["submission_id"]) for row in rows]


def due_for_erasure(
    reader: Reader, now: dt.datetime, default_days: int, by_category: dict[str, int], limit: int = 200
) -> list[tuple[str, str]]:
    """``(submission id, category)`` of submissions whose retention period has passed, not erased yet.

    The period runs from receipt, ``by_category``'s days for its category or
    ``default_days``; a submission still open waits until it is concluded.
    """
    rows = reader.query(
        "SELECT submission_id, category FROM submissions WHERE personal_data_erased_at IS NULL "
        "AND status <> 'open' AND received_at + make_interval(days => "
        "coalesce((%(periods)s::jsonb ->> category)::integer, %(default)s)) <= %(now)s "
        "ORDER BY received_at, submission_id LIMIT %(limit)s",
        {"periods": json.dumps(by_category), "default": default_days, "now": now, "limit": limit},
    )
    return [(str(row["submission_id"]), str(row["category"])) for row in rows]


def remember_case(writer: Writer, case_id: str, submission_id: str) -> None:
    """Supervision's case on a routed complaint (once, however often its event arrives)."""
    writer.execute(
        "INSERT INTO supervision_cases (case_id, submission_id) VALUES (%s, %s) ON CONFLICT (case_id) DO NOTHING",
        [case_id, submission_id],
    )


def submission_of_case(reader: Reader, case_id: str) -> str | None:
    rows = reader.query("SELECT submission_id FROM supervision_cases WHERE case_id = %s", [case_id])
    return str(rows[0]["submission_id"]) if rows else None
