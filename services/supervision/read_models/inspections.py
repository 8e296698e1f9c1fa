"""The inspections read model: tasks with their deadlines and status, and the notices issued.

Besides the queries callers ask, ``overdue`` is what the overdue sweep asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.supervision.domain import events as ev
from services.supervision.messages import TaskQuery
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


class Inspections(Projection):
    name = "inspections"
    tables = ("inspection_tasks", "inspection_notices")

    @on(ev.InspectionTaskAssigned)
    def _assigned(self, cur: Any, e: ev.InspectionTaskAssigned, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO inspection_tasks (task_id, kind, unit, goal, responsible, deadline, status, parent_task_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, 'active', %s)",
            [record.aggregate_id, e.kind, e.unit, e.goal, e.responsible, e.deadline, e.parent_task_id],
        )

    @on(ev.ProgressReported)
    def _progress(self, cur: Any, e: ev.ProgressReported, record: RecordedEvent) -> None:
        cur.execute("UPDATE inspection_tasks SET percent = %s WHERE task_id = %s", [e.percent, record.aggregate_id])

    @on(ev.InspectionTaskCompleted)
    def _completed(self, cur: Any, e: ev.InspectionTaskCompleted, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE inspection_tasks SET status = 'completed', percent = 100 WHERE task_id = %s", [record.aggregate_id]
        )

    @on(ev.InspectionTaskEscalated)
    def _escalated(self, cur: Any, e: ev.InspectionTaskEscalated, record: RecordedEvent) -> None:
        cur.execute("UPDATE inspection_tasks SET status = 'escalated' WHERE task_id = %s", [record.aggregate_id])

    @on(ev.InspectionNoticeIssued)
    def _notice(self, cur: Any, e: ev.InspectionNoticeIssued, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO inspection_notices (notice_id, task_id, title, body, issued_at) VALUES (%s, %s, %s, %s, %s)",
            [e.notice_id, record.aggregate_id, e.title, e.body, e.issued_at],
        )


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    kind: str
    unit: str
    goal: str
    responsible: str
    deadline: dt.datetime
    percent: int
    status: str
    parent_task_id: str | None


@dataclass(frozen=True)
class NoticeRow:
    notice_id: str
    task_id: str
    title: str
    body: str
    issued_at: dt.datetime


def tasks(reader: Reader, query: TaskQuery) -> list[TaskRow]:
    rows = reader.query(
        "SELECT task_id, kind, unit, goal, responsible, deadline, percent, status, parent_task_id "
        "FROM inspection_tasks WHERE %(status)s::text IS NULL OR status = %(status)s ORDER BY deadline",
        {"status": query.status},
    )
    return [TaskRow(**row) for row in rows]


def inspection_notices(reader: Reader) -> list[NoticeRow]:
    rows = reader.query("SELECT notice_id, task_id, title, body, issued_at FROM inspection_notices ORDER BY issued_at")
    return [NoticeRow(**row) for row in rows]


def overdue(reader: Reader, now: dt.datetime) -> list[str]:
    """Tasks still active past their deadline."""
    rows = reader.query("SELECT task_id FROM inspection_tasks WHERE status = 'active' AND deadline < %s", [now])
    return [str(row["task_id"]) for row in rows]
