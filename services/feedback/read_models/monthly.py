"""The open statistics: feedback by month received and channel, answered on time or not, and rated.

A submission counts in the month it was received (the organisation's time),
whatever happens to it later: its first reply, on time when sent by its first
reply deadline; its first resolution, on time when by the resolution deadline
in force then (a reopening sets a new one, and a resolution after it is not
counted again); its rating, until a reopening withdraws it. The public reads
these (``/statistics`` on the site); nothing in them names anyone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.feedback.domain import events as ev
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on

#: The organisation's time, in which a month begins.
ZONE = "Asia/Shanghai"
#: How many months the public statistics go back.
MONTHS = 12


class MonthlyFigures(Projection):
    name = "monthly"
    tables = ("feedback_monthly", "monthly_submissions")

    @staticmethod
    def _bump(cur: Any, record: RecordedEvent, updates: str, params: list[Any]) -> None:
        cur.execute(
            "UPDATE feedback_monthly SET " + updates + " WHERE (month, channel) = "
            "(SELECT month, channel FROM monthly_submissions WHERE submission_id = %s)",
            [*params, record.aggregate_id],
        )

    @on(ev.SubmissionReceived)
    def _received(self, cur: Any, e: ev.SubmissionReceived, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO monthly_submissions (submission_id, month, channel, first_reply_due, resolution_due) "
            "VALUES (%s, date_trunc('month', %s::timestamptz AT TIME ZONE %s)::date, %s, %s, %s) "
            "ON CONFLICT (submission_id) DO NOTHING RETURNING month",
            [record.aggregate_id, e.received_at, ZONE, e.channel, e.first_reply_due, e.resolution_due],
        )
        row = cur.fetchone()
        if row is None:
            return
        cur.execute(
            "INSERT INTO feedback_monthly (month, channel, received) VALUES (%s, %s, 1) "
            "ON CONFLICT (month, channel) DO UPDATE SET received = feedback_monthly.received + 1",
            [row[0], e.channel],
        )

    @on(ev.ReplySent)
    def _replied(self, cur: Any, e: ev.ReplySent, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE monthly_submissions SET replied = true WHERE submission_id = %s AND NOT replied "
            "RETURNING first_reply_due >= %s",
            [record.aggregate_id, e.sent_at],
        )
        row = cur.fetchone()
        if row is not None:
            self._bump(cur, record, "replied = replied + 1, replied_on_time = replied_on_time + %s", [int(row[0])])

    @on(ev.SubmissionResolved)
    def _resolved(self, cur: Any, e: ev.SubmissionResolved, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE monthly_submissions SET resolved = true WHERE submission_id = %s AND NOT resolved "
            "RETURNING resolution_due >= %s",
            [record.aggregate_id, e.resolved_at],
        )
        row = cur.fetchone()
        if row is not None:
            self._bump(cur, record, "resolved = resolved + 1, resolved_on_time = resolved_on_time + %s", [int(row[0])])

    @on(ev.SubmissionClosed)
    def _closed(self, cur: Any, e: ev.SubmissionClosed, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE monthly_submissions SET rating = %s WHERE submission_id = %s AND rating IS NULL "
            "RETURNING submission_id",
            [e.rating, record.aggregate_id],
        )
        if cur.fetchone() is not None:
            self._bump(cur, record, "ratings = ratings + 1, rating_sum = rating_sum + %s", [e.rating])

    @on(ev.SubmissionReopened)
    def _reopened(self, cur: Any, e: ev.SubmissionReopened, record: RecordedEvent) -> None:
        """A rating given before no longer stands; the new resolution deadline is the one in force."""
        cur.execute(
            "SELECT rating FROM monthly_submissions WHERE submission_id = %s AND rating IS NOT NULL",
            [record.aggregate_id],
        )
        row = cur.fetchone()
        if row is not None:
            self._bump(cur, record, "ratings = ratings - 1, rating_sum = rating_sum - %s", [row[0]])
        cur.execute(
            "UPDATE monthly_submissions SET rating = NULL, resolution_due = %s WHERE submission_id = %s",
            [e.resolution_due, record.aggregate_id],
        )


@dataclass(frozen=True)
class MonthRow:
    """One month and channel: received, first replies and resolutions (and how many on time), satisfaction."""

    month: dt.date
    channel: str
    received: int
    replied: int
    replied_on_time: int
    resolved: int
    resolved_on_time: int
    ratings: int
    on_time_reply_rate: Decimal | None  # of those replied to
    on_time_resolution_rate: Decimal | None  # of those resolved
    average_rating: Decimal | None  # of those rated


def open_statistics(reader: Reader, now: dt.datetime) -> list[MonthRow]:
    """The last ``MONTHS`` months, by month and channel, oldest first."""
    rows = reader.query(
        "SELECT month, channel, received, replied, replied_on_time, resolved, resolved_on_time, ratings, "
        "round(replied_on_time::numeric / nullif(replied, 0), 3) AS on_time_reply_rate, "
        "round(resolved_on_time::numeric / nullif(resolved, 0), 3) AS on_time_resolution_rate, "
        "round(rating_sum::numeric / nullif(ratings, 0), 2) AS average_rating "
        "FROM feedback_monthly "
        "WHERE month > (date_trunc('month', %(now)s::timestamptz AT TIME ZONE %(zone)s) - make_interval(months => %(n)s))::date "
        "ORDER BY month, channel",
        {"now": now, "zone": ZONE, "n": MONTHS},
    )
    return [MonthRow(**row) for row in rows]
