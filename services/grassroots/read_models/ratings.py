"""Branch ratings by year."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.grassroots.domain import events as ev
from services.grassroots.messages import RatingQuery
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Ratings(Projection):
    name = "ratings"
    tables = ("ratings",)

    @on(ev.BranchRated)
    def _rated(self, cur: Any, e: ev.BranchRated, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO ratings (branch_id, year, level, criteria_score, survey_satisfaction, problems, rated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [e.branch_id, e.year, e.level, e.criteria_score, e.survey_satisfaction, jsonb(e.problems), e.rated_at],
        )

    @on(ev.WeakBranchIdentified)
    def _weak(self, cur: Any, e: ev.WeakBranchIdentified, record: RecordedEvent) -> None:
        cur.execute("UPDATE ratings SET name = %s WHERE branch_id = %s AND year = %s", [e.name, e.branch_id, e.year])


@dataclass(frozen=True)
class RatingRow:
    branch_id: str
    year: int
    level: str
    criteria_score: int
    survey_satisfaction: int
    problems: list[str]
    rated_at: dt.datetime


def ratings(reader: Reader, query: RatingQuery) -> list[RatingRow]:
    rows = reader.query(
        "SELECT branch_id, year, level, criteria_score, survey_satisfaction, "
        "ARRAY(SELECT jsonb_array_elements_text(problems)) AS problems, rated_at FROM ratings "
        "WHERE %(year)s::integer IS NULL OR year = %(year)s ORDER BY year, branch_id",
        {"year": query.year},
    )
    return [RatingRow(**row) for row in rows]
