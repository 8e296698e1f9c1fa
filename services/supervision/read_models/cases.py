"""The cases read model: every case about a cadre, with its status, and the query on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.supervision.domain import events as ev
from services.supervision.messages import CaseQuery
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


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


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    cadre_id: str
    process_id: str | None
    origin: str
    submission_id: str | None
    status: str
    opened_at: dt.datetime
    investigator: str | None


def cases(reader: Reader, query: CaseQuery) -> list[CaseRow]:
    rows = reader.query(
        "SELECT case_id, cadre_id, process_id, origin, submission_id, status, opened_at, investigator FROM cases "
        "WHERE (%(cadre)s::text IS NULL OR cadre_id = %(cadre)s) AND (%(status)s::text IS NULL OR status = %(status)s) "
        "ORDER BY opened_at",
        {"cadre": query.cadre_id, "status": query.status},
    )
    return [CaseRow(**row) for row in rows]
