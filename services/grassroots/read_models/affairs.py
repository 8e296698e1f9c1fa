"""What each branch has published of its affairs, on what schedule, and what it has missed.

Besides the queries callers ask, ``overdue`` is what the deadline check asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.grassroots.domain import events as ev
from services.grassroots.messages import BranchRef
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


class Affairs(Projection):
    name = "affairs"
    tables = ("affairs_schedules", "affairs_publications", "affairs_missed")

    @on(ev.PublicationScheduled)
    def _scheduled(self, cur: Any, e: ev.PublicationScheduled, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO affairs_schedules (branch_id, category, scope, every_days, since, due_by) "
            "VALUES (%s, %s, %s, %s, %s, %s + make_interval(days => %s)) ON CONFLICT (branch_id, category) DO UPDATE "
            "SET scope = EXCLUDED.scope, every_days = EXCLUDED.every_days, "
            "due_by = affairs_schedules.since + make_interval(days => EXCLUDED.every_days)",
            [record.aggregate_id, e.category, e.scope, e.every_days, e.scheduled_at, e.scheduled_at, e.every_days],
        )

    @on(ev.AffairsPublished)
    def _published(self, cur: Any, e: ev.AffairsPublished, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO affairs_publications (event_id, branch_id, category, scope, title, body, published_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [record.event_id, record.aggregate_id, e.category, e.scope, e.title, e.body, e.published_at],
        )
        cur.execute(
            "UPDATE affairs_schedules SET since = %s, due_by = %s + make_interval(days => every_days) "
            "WHERE branch_id = %s AND category = %s",
            [e.published_at, e.published_at, record.aggregate_id, e.category],
        )

    @on(ev.PublicationMissed)
    def _missed(self, cur: Any, e: ev.PublicationMissed, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO affairs_missed (event_id, branch_id, category, due_by, flagged_at) VALUES (%s, %s, %s, %s, %s)",
            [record.event_id, record.aggregate_id, e.category, e.due_by, e.flagged_at],
        )


@dataclass(frozen=True)
class PublicationLine:
    category: str
    scope: str
    title: str
    published_at: dt.datetime


@dataclass(frozen=True)
class MissedLine:
    category: str
    due_by: dt.datetime
    flagged_at: dt.datetime


@dataclass(frozen=True)
class ScheduleLine:
    category: str
    scope: str
    every_days: int
    due_by: dt.datetime


@dataclass(frozen=True)
class BranchAffairsRow:
    branch_id: str
    schedules: list[ScheduleLine]
    published: list[PublicationLine]
    missed: list[MissedLine]


def affairs(reader: Reader, query: BranchRef) -> list[BranchAffairsRow]:
    params = {"branch": query.branch_id}
    where = "WHERE %(branch)s::text IS NULL OR branch_id = %(branch)s"
    branches = [
        str(r["branch_id"])
        for r in reader.query(f"SELECT DISTINCT branch_id FROM affairs_schedules {where} ORDER BY branch_id", params)
    ]
    result = []
    for branch_id in branches:
        one = {"branch": branch_id}
        result.append(
            BranchAffairsRow(
                branch_id,
                [
                    ScheduleLine(**r)
                    for r in reader.query(
                        "SELECT category, scope, every_days, due_by FROM affairs_schedules WHERE branch_id = %(branch)s "
                        "ORDER BY category",
                        one,
                    )
                ],
                [
                    PublicationLine(**r)
                    for r in reader.query(
                        "SELECT category, scope, title, published_at FROM affairs_publications "
                        "WHERE branch_id = %(branch)s ORDER BY published_at",
                        one,
                    )
                ],
                [
                    MissedLine(**r)
                    for r in reader.query(
                        "SELECT category, due_by, flagged_at FROM affairs_missed WHERE branch_id = %(branch)s "
                        "ORDER BY due_by",
                        one,
                    )
                ],
            )
        )
    return result


def overdue(reader: Reader, now: dt.datetime) -> list[str]:
    """Branches with a category past its date; the aggregate flags each due date once."""
    rows = reader.query("SELECT DISTINCT branch_id FROM affairs_schedules WHERE due_by < %s ORDER BY branch_id", [now])
    return [str(row["branch_id"]) for row in rows]


@dataclass(frozen=True)
class PublicAffairs:
    """A publication a branch made to the public (scope ``public``; what it publishes inside the party is not here)."""

    branch_id: str
    category: str
    title: str
    published_at: dt.datetime


def public_affairs(reader: Reader, query: BranchRef) -> list[PublicAffairs]:
    rows = reader.query(
        "SELECT branch_id, category, title, published_at FROM affairs_publications "
        "WHERE scope = 'public' AND (%(branch)s::text IS NULL OR branch_id = %(branch)s) "
        "ORDER BY published_at DESC LIMIT 200",
        {"branch": query.branch_id},
    )
    return [PublicAffairs(**row) for row in rows]
