"""The appraisal results read model: each cadre's grade and score, by year."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.cadre.domain import events as ev
from services.cadre.messages import YearQuery
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


class AppraisalResults(Projection):
    name = "appraisal_results"
    tables = ("appraisal_results", "appraisal_cycles")

    @on(ev.AppraisalCycleOpened)
    def _opened(self, cur: Any, e: ev.AppraisalCycleOpened, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO appraisal_cycles (cycle_id, year, post_category) VALUES (%s, %s, %s)",
            [record.aggregate_id, e.year, e.post_category],
        )

    @on(ev.AppraisalCycleClosed)
    def _closed(self, cur: Any, e: ev.AppraisalCycleClosed, record: RecordedEvent) -> None:
        for result in e.results:
            cur.execute(
                "INSERT INTO appraisal_results (cycle_id, year, post_category, cadre_id, score, grade) "
                "SELECT cycle_id, year, post_category, %s, %s, %s FROM appraisal_cycles WHERE cycle_id = %s",
                [result.cadre_id, result.score, result.grade, record.aggregate_id],
            )


@dataclass(frozen=True)
class AppraisalResultView:
    cycle_id: str
    year: int
    post_category: str
    cadre_id: str
    score: Decimal
    grade: str


@dataclass(frozen=True)
class AppraisalResultList:
    year: int
    items: list[AppraisalResultView]


def appraisal_results(reader: Reader, query: YearQuery) -> AppraisalResultList:
    rows = reader.query(
        "SELECT cycle_id, year, post_category, cadre_id, score, grade FROM appraisal_results "
        "WHERE year = %s ORDER BY post_category, cadre_id",
        [query.year],
    )
    return AppraisalResultList(query.year, [AppraisalResultView(**row) for row in rows])
