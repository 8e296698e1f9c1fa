"""The talent pool: records by team, level and unit; each person's evaluations; comings and goings by reason."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.talent.domain import events as ev
from services.talent.messages import DepartureQuery, PoolQuery
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Pool(Projection):
    name = "pool"
    tables = ("talents", "evaluations", "movements", "incentives")

    @on(ev.TalentRegistered)
    def _registered(self, cur: Any, e: ev.TalentRegistered, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO talents (person_id, team, name, specialty, level, source, unit, cadre_id, member_id, status, "
            "since) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'active', %s)",
            [
                record.aggregate_id,
                e.team,
                e.name,
                e.specialty,
                e.level,
                e.source,
                e.unit,
                e.cadre_id,
                e.member_id,
                e.registered_at,
            ],
        )

    @on(ev.TalentPostUpdated)
    def _post(self, cur: Any, e: ev.TalentPostUpdated, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE talents SET unit = %s, post = %s WHERE person_id = %s", [e.unit, e.post, record.aggregate_id]
        )

    @on(ev.TalentLeft)
    def _left(self, cur: Any, e: ev.TalentLeft, record: RecordedEvent) -> None:
        cur.execute("UPDATE talents SET status = 'left' WHERE person_id = %s", [record.aggregate_id])
        cur.execute(
            "INSERT INTO movements (event_id, person_id, movement, reason, year, at) VALUES (%s, %s, 'left', %s, %s, %s)",
            [record.event_id, record.aggregate_id, e.reason, e.left_at.year, e.left_at],
        )

    @on(ev.TalentReturned)
    def _returned(self, cur: Any, e: ev.TalentReturned, record: RecordedEvent) -> None:
        cur.execute("UPDATE talents SET status = 'active', returned = true WHERE person_id = %s", [record.aggregate_id])
        cur.execute(
            "INSERT INTO movements (event_id, person_id, movement, year, at) VALUES (%s, %s, 'returned', %s, %s)",
            [record.event_id, record.aggregate_id, e.returned_at.year, e.returned_at],
        )

    @on(ev.TalentEvaluated)
    def _evaluated(self, cur: Any, e: ev.TalentEvaluated, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO evaluations (event_id, person_id, period, evaluator_id, evaluator_kind, integrity, ability, "
            "performance, evidence, evaluated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                record.event_id,
                record.aggregate_id,
                e.period,
                e.evaluator_id,
                e.evaluator_kind,
                e.integrity,
                e.ability,
                e.performance,
                jsonb(e.evidence),
                e.evaluated_at,
            ],
        )

    @on(ev.AppraisalNoted)
    def _appraisal(self, cur: Any, e: ev.AppraisalNoted, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO evaluations (event_id, person_id, period, evaluator_id, evaluator_kind, grade, evaluated_at) "
            "VALUES (%s, %s, %s, %s, 'organisation', %s, %s)",
            [
                record.event_id,
                record.aggregate_id,
                str(e.noted_at.year),
                f"appraisal:{e.cycle_id}",
                e.grade,
                e.noted_at,
            ],
        )

    @on(ev.IncentiveGranted)
    def _incentive(self, cur: Any, e: ev.IncentiveGranted, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO incentives (person_id, program_id, kind, starts_on, ends_on) VALUES (%s, %s, %s, %s, %s)",
            [e.person_id, e.program_id, e.kind, e.starts_on, e.ends_on],
        )


@dataclass(frozen=True)
class TalentRow:
    person_id: str
    team: str
    name: str
    specialty: str
    level: str
    source: str
    unit: str
    post: str | None
    cadre_id: str | None
    status: str
    returned: bool


def pool(reader: Reader, query: PoolQuery) -> list[TalentRow]:
    rows = reader.query(
        "SELECT person_id, team, name, specialty, level, source, unit, post, cadre_id, status, returned FROM talents "
        "WHERE (%(team)s::text IS NULL OR team = %(team)s) AND (%(level)s::text IS NULL OR level = %(level)s) "
        "AND (%(unit)s::text IS NULL OR unit = %(unit)s) ORDER BY team, unit, name, person_id",
        {"team": query.team.value if query.team else None, "level": query.level, "unit": query.unit},
    )
    return [TalentRow(**row) for row in rows]


@dataclass(frozen=True)
class EvaluationRow:
    period: str
    evaluator_id: str
    evaluator_kind: str
    integrity: int | None
    ability: int | None
    performance: int | None
    grade: str | None  # an appraisal's grade, from cadre
    evidence: list[str]
    evaluated_at: dt.datetime


def evaluations(reader: Reader, person_id: str) -> list[EvaluationRow]:
    """One person's evaluations over time, the oldest first (appraisals from cadre among them)."""
    rows = reader.query(
        "SELECT period, evaluator_id, evaluator_kind, integrity, ability, performance, grade, "
        "ARRAY(SELECT jsonb_array_elements_text(evidence)) AS evidence, evaluated_at FROM evaluations "
        "WHERE person_id = %s ORDER BY evaluated_at, event_id",
        [person_id],
    )
    return [EvaluationRow(**row) for row in rows]


@dataclass(frozen=True)
class MovementRow:
    year: int
    movement: str  # left or returned
    reason: str | None
    people: int


def departures(reader: Reader, query: DepartureQuery) -> list[MovementRow]:
    """Departures by year and reason, and returns by year (留住人才: why talent leaves, and who comes back)."""
    rows = reader.query(
        "SELECT year, movement, reason, count(*)::integer AS people FROM movements "
        "WHERE %(year)s::integer IS NULL OR year = %(year)s GROUP BY year, movement, reason "
        "ORDER BY year, movement, reason NULLS LAST",
        {"year": query.year},
    )
    return [MovementRow(**row) for row in rows]
