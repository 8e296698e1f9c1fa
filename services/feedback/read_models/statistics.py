"""The figures read model: counts by channel and category, breaches, and satisfaction with how many answered.

A submission counts as concluded once it is resolved, rejected or closed, and
again only after it was reopened and concluded anew. Satisfaction is the
submitters' ratings; the figure says how many of the concluded submissions'
submitters answered (``responses`` of ``closed``, and the share), and the
average is over those answers only, so a high average from few answers reads
as what it is. A duplicate merged into another submission is counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.feedback.domain import events as ev
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


class Statistics(Projection):
    """Counts by channel and category: received, concluded, merged, breaches, satisfaction responses."""

    name = "figures"
    tables = ("feedback_figures", "figures_submissions")

    @staticmethod
    def _bump(cur: Any, record: RecordedEvent, column_updates: str, params: list[Any]) -> None:
        cur.execute(
            "UPDATE feedback_figures SET " + column_updates + " WHERE (channel, category) = "
            "(SELECT channel, category FROM figures_submissions WHERE submission_id = %s)",
            [*params, record.aggregate_id],
        )

    def _conclude(self, cur: Any, record: RecordedEvent) -> None:
        """Count the submission as concluded, once until it is reopened."""
        cur.execute(
            "UPDATE figures_submissions SET concluded = true WHERE submission_id = %s AND NOT concluded "
            "RETURNING submission_id",
            [record.aggregate_id],
        )
        if cur.fetchone() is not None:
            self._bump(cur, record, "concluded = concluded + 1", [])

    @on(ev.SubmissionReceived)
    def _received(self, cur: Any, e: ev.SubmissionReceived, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO figures_submissions (submission_id, channel, category) VALUES (%s, %s, %s)",
            [record.aggregate_id, e.channel, e.category],
        )
        cur.execute(
            "INSERT INTO feedback_figures (channel, category, received) VALUES (%s, %s, 1) "
            "ON CONFLICT (channel, category) DO UPDATE SET received = feedback_figures.received + 1",
            [e.channel, e.category],
        )

    @on(ev.DeadlineBreached)
    def _breach(self, cur: Any, e: ev.DeadlineBreached, record: RecordedEvent) -> None:
        self._bump(cur, record, "breaches = breaches + 1", [])

    @on(ev.SubmissionResolved)
    def _resolved(self, cur: Any, e: ev.SubmissionResolved, record: RecordedEvent) -> None:
        self._conclude(cur, record)

    @on(ev.SubmissionRejected)
    def _rejected(self, cur: Any, e: ev.SubmissionRejected, record: RecordedEvent) -> None:
        self._conclude(cur, record)

    @on(ev.SubmissionClosed)
    def _closed(self, cur: Any, e: ev.SubmissionClosed, record: RecordedEvent) -> None:
        self._conclude(cur, record)
        cur.execute(
            "UPDATE figures_submissions SET rating = %s WHERE submission_id = %s", [e.rating, record.aggregate_id]
        )
        self._bump(cur, record, "responses = responses + 1, rating_sum = rating_sum + %s", [e.rating])

    @on(ev.SubmissionMerged)
    def _merged(self, cur: Any, e: ev.SubmissionMerged, record: RecordedEvent) -> None:
        self._bump(cur, record, "merged = merged + 1", [])

    @on(ev.SubmissionReopened)
    def _reopened(self, cur: Any, e: ev.SubmissionReopened, record: RecordedEvent) -> None:
        """Taken up again: no longer concluded, and a rating given before no longer stands."""
        cur.execute("SELECT concluded, rating FROM figures_submissions WHERE submission_id = %s", [record.aggregate_id])
        row = cur.fetchone()
        if row is None:
            return
        concluded, rating = row
        self._bump(
            cur,
            record,
            "concluded = concluded - %s, responses = responses - %s, rating_sum = rating_sum - %s",
            [int(concluded), int(rating is not None), rating or 0],
        )
        cur.execute(
            "UPDATE figures_submissions SET concluded = false, rating = NULL WHERE submission_id = %s",
            [record.aggregate_id],
        )


@dataclass(frozen=True)
class StatisticsRow:
    """One channel and category: ``closed`` counts the concluded; ``responses`` the submitters who rated them."""

    channel: str
    category: str
    received: int
    open: int
    closed: int
    merged: int
    breaches: int
    responses: int
    response_rate: Decimal | None
    average_rating: Decimal | None


def statistics(reader: Reader) -> list[StatisticsRow]:
    rows = reader.query(
        "SELECT channel, category, received, received - concluded - merged AS open, concluded AS closed, merged, "
        "breaches, responses, "
        "CASE WHEN concluded > 0 THEN round(responses::numeric / concluded, 2) END AS response_rate, "
        "CASE WHEN responses > 0 THEN round(rating_sum::numeric / responses, 2) END AS average_rating "
        "FROM feedback_figures ORDER BY channel, category"
    )
    return [StatisticsRow(**row) for row in rows]
