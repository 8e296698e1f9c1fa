"""The supervision service's read models: cases, inspection tasks, inspection notices."""

from __future__ import annotations

from typing import Any

from services.supervision.domain import events as ev
from shared.eventstore.records import RecordedEvent
from shared.runtime.projections import Projection, on


class Cases(Projection):
    name = "cases"
    tables = ("cases",)

    @on(ev.CaseOpened)
    def _opened(self, cur: Any, e: ev.CaseOpened, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO cases (case_id, cadre_id, process_id, origin, submission_id, status, opened_at) "
            "VALUES (%s, %s, %s, %s, %s, 'open', %s)",
            [record.aggregate_id, e.cadre_id, e.process_id, e.origin, e.submission_id, e.opened_at],
        )

    @on(ev.CaseAssigned)
    def _assigned(self, cur: Any, e: ev.CaseAssigned, record: RecordedEvent) -> None:
        cur.execute("UPDATE cases SET investigator = %s WHERE case_id = %s", [e.investigator, record.aggregate_id])

    @on(ev.SupervisionOutcomeRecorded)
    def _outcome(self, cur: Any, e: ev.SupervisionOutcomeRecorded, record: RecordedEvent) -> None:
        status = "substantiated" if e.substantiated else "not_substantiated"
        cur.execute("UPDATE cases SET status = %s WHERE case_id = %s", [status, record.aggregate_id])


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


ALL = (Cases, Inspections)
