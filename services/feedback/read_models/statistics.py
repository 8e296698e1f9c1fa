"""The statistics read model: counts by channel and category, breaches and satisfaction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.feedback.domain import events as ev
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


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


@dataclass(frozen=True)
class StatisticsRow:
    channel: str
    category: str
    received: int
    open: int
    closed: int
    breaches: int
    average_rating: Decimal | None


def statistics(reader: Reader) -> list[StatisticsRow]:
    rows = reader.query(
        "SELECT channel, category, received, received - closed AS open, closed, breaches, "
        "CASE WHEN rating_count > 0 THEN round(rating_sum::numeric / rating_count, 2) END AS average_rating "
        "FROM feedback_statistics ORDER BY channel, category"
    )
    return [StatisticsRow(**row) for row in rows]
