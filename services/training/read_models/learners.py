"""Learners: their profiles, hours by year, courses done, inductions owed, shortfalls, plans.

Besides the queries callers ask, the deadline check asks ``inductions_overdue``,
``unreviewed`` and ``awaiting``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.training.domain import events as ev
from services.training.domain.ledger import INDUCTION
from services.training.messages import InductionQuery, ShortfallQuery
from shared.application import Reader
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Learners(Projection):
    name = "learners"
    tables = (
        "learners",
        "credits",
        "completions",
        "inductions",
        "placements_awaited",
        "reviews",
        "shortfalls",
        "plans",
    )

    @on(ev.LearnerProfiled)
    def _profiled(self, cur: Any, e: ev.LearnerProfiled, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO learners (person_id, name, unit, post_category, level, member_stage, cadre) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (person_id) DO UPDATE SET name = EXCLUDED.name, "
            "unit = EXCLUDED.unit, post_category = EXCLUDED.post_category, level = EXCLUDED.level, "
            "member_stage = EXCLUDED.member_stage, cadre = EXCLUDED.cadre",
            [record.aggregate_id, e.name, e.unit, e.post_category, e.level, e.member_stage, e.cadre],
        )

    @on(ev.CreditsAwarded)
    def _awarded(self, cur: Any, e: ev.CreditsAwarded, record: RecordedEvent) -> None:
        column = "online" if e.online else "offline"
        cur.execute(
            f"INSERT INTO credits (person_id, year, {column}) VALUES (%s, %s, %s) "
            f"ON CONFLICT (person_id, year) DO UPDATE SET {column} = credits.{column} + EXCLUDED.{column}",
            [record.aggregate_id, e.year, e.hours],
        )
        cur.execute(
            "INSERT INTO completions (person_id, program_id, kind, online, required, year, hours, completed_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [record.aggregate_id, e.program_id, e.kind, e.online, e.required, e.year, e.hours, e.completed_at],
        )

    @on(ev.CreditTotalUpdated)
    def _total(self, cur: Any, e: ev.CreditTotalUpdated, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO credits (person_id, year, counted) VALUES (%s, %s, %s) "
            "ON CONFLICT (person_id, year) DO UPDATE SET counted = EXCLUDED.counted",
            [record.aggregate_id, e.year, e.total_hours],
        )

    @on(ev.PlacementAwaited)
    def _awaited(self, cur: Any, e: ev.PlacementAwaited, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO placements_awaited (person_id, kind, source, awaited_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [record.aggregate_id, e.kind, e.source, e.awaited_at],
        )

    @on(ev.PlacementMade)
    def _placed(self, cur: Any, e: ev.PlacementMade, record: RecordedEvent) -> None:
        cur.execute("DELETE FROM placements_awaited WHERE person_id = %s AND kind = %s", [record.aggregate_id, e.kind])

    @on(ev.InductionDue)
    def _induction_due(self, cur: Any, e: ev.InductionDue, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO inductions (person_id, post_id, appointed_at, due_by, status) VALUES (%s, %s, %s, %s, 'due')",
            [record.aggregate_id, e.post_id, e.appointed_at, e.due_by],
        )

    @on(ev.InductionSatisfied)
    def _induction_done(self, cur: Any, e: ev.InductionSatisfied, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE inductions SET status = 'satisfied', program_id = %s WHERE person_id = %s AND post_id = %s",
            [e.program_id, record.aggregate_id, e.post_id],
        )

    @on(ev.RequirementShortfallFlagged)
    def _shortfall(self, cur: Any, e: ev.RequirementShortfallFlagged, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO shortfalls (event_id, person_id, unit, year, requirement, post_id, required_hours, "
            "counted_hours, missing_kinds, flagged_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                record.event_id,
                record.aggregate_id,
                e.unit,
                e.year,
                e.requirement,
                e.post_id,
                e.required_hours,
                e.counted_hours,
                jsonb(e.missing_kinds),
                e.flagged_at,
            ],
        )
        if e.requirement == INDUCTION:
            cur.execute(
                "UPDATE inductions SET status = 'overdue' WHERE person_id = %s AND post_id = %s AND status = 'due'",
                [record.aggregate_id, e.post_id],
            )
        else:
            cur.execute(
                "INSERT INTO reviews (person_id, year, met, counted) VALUES (%s, %s, false, %s)",
                [record.aggregate_id, e.year, e.counted_hours],
            )

    @on(ev.RequirementMet)
    def _met(self, cur: Any, e: ev.RequirementMet, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO reviews (person_id, year, met, counted) VALUES (%s, %s, true, %s)",
            [record.aggregate_id, e.year, e.counted_hours],
        )

    @on(ev.IndividualPlanSet)
    def _plan(self, cur: Any, e: ev.IndividualPlanSet, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO plans (person_id, year, target_hours, kinds, note) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (person_id, year) DO UPDATE SET target_hours = EXCLUDED.target_hours, "
            "kinds = EXCLUDED.kinds, note = EXCLUDED.note",
            [record.aggregate_id, e.year, e.target_hours, jsonb(e.kinds), e.note],
        )


# -- what callers ask ----------------------------------------------------------------------


@dataclass(frozen=True)
class YearLine:
    year: int
    offline_hours: Decimal
    online_hours: Decimal
    counted_hours: Decimal  # online hours capped: the total cadre is told


@dataclass(frozen=True)
class CourseLine:
    program_id: str
    title: str | None
    kind: str
    required: bool
    online: bool
    hours: Decimal
    completed_at: dt.datetime


@dataclass(frozen=True)
class EnrolmentLine:
    program_id: str
    title: str | None
    kind: str | None
    source: str
    status: str
    enrolled_at: dt.datetime


@dataclass(frozen=True)
class InductionLine:
    person_id: str
    name: str | None
    unit: str | None
    post_id: str
    appointed_at: dt.datetime
    due_by: dt.datetime
    status: str
    program_id: str | None


@dataclass(frozen=True)
class PlanLine:
    year: int
    target_hours: Decimal
    kinds: list[str]
    note: str | None


@dataclass(frozen=True)
class LearnerRecord:
    """A learner's record: hours by year and over the rolling window, courses, inductions, plans."""

    person_id: str
    name: str
    unit: str
    post_category: str | None
    member_stage: str | None
    cadre: bool
    window_years: int
    window_hours: Decimal  # counted hours of this year and the window's years before it
    years: list[YearLine]
    courses: list[CourseLine]
    enrolments: list[EnrolmentLine]  # every enrolment, completed or not, the latest first
    inductions: list[InductionLine]
    plans: list[PlanLine]
    awaiting: list[str]  # kinds of program the learner awaits a placement in


def learner_record(reader: Reader, person_id: str, year: int, window_years: int) -> LearnerRecord:
    found = reader.query(
        "SELECT person_id, name, unit, post_category, member_stage, cadre FROM learners WHERE person_id = %s",
        [person_id],
    )
    if not found:
        raise NotFound("learner", person_id)
    years = [
        YearLine(**row)
        for row in reader.query(
            "SELECT year, offline AS offline_hours, online AS online_hours, counted AS counted_hours FROM credits "
            "WHERE person_id = %s ORDER BY year",
            [person_id],
        )
    ]
    window = sum((y.counted_hours for y in years if year - window_years < y.year <= year), Decimal(0))
    courses = [
        CourseLine(**row)
        for row in reader.query(
            "SELECT c.program_id, p.title, c.kind, c.required, c.online, c.hours, c.completed_at "
            "FROM completions c LEFT JOIN programs p USING (program_id) WHERE c.person_id = %s "
            "ORDER BY c.completed_at",
            [person_id],
        )
    ]
    enrolments = [
        EnrolmentLine(**row)
        for row in reader.query(
            "SELECT e.program_id, p.title, p.kind, e.source, e.status, e.enrolled_at "
            "FROM enrolments e LEFT JOIN programs p USING (program_id) WHERE e.person_id = %s "
            "ORDER BY e.enrolled_at DESC, e.program_id",
            [person_id],
        )
    ]
    plans = [
        PlanLine(**row)
        for row in reader.query(
            "SELECT year, target_hours, ARRAY(SELECT jsonb_array_elements_text(kinds)) AS kinds, note FROM plans "
            "WHERE person_id = %s ORDER BY year",
            [person_id],
        )
    ]
    awaiting = [
        str(row["kind"])
        for row in reader.query("SELECT kind FROM placements_awaited WHERE person_id = %s ORDER BY kind", [person_id])
    ]
    return LearnerRecord(
        **found[0],
        window_years=window_years,
        window_hours=window,
        years=years,
        courses=courses,
        enrolments=enrolments,
        inductions=_inductions(reader, "WHERE i.person_id = %s", [person_id]),
        plans=plans,
        awaiting=awaiting,
    )


def _inductions(reader: Reader, where: str, params: Any) -> list[InductionLine]:
    rows = reader.query(
        "SELECT i.person_id, l.name, l.unit, i.post_id, i.appointed_at, i.due_by, i.status, i.program_id "
        f"FROM inductions i LEFT JOIN learners l USING (person_id) {where} ORDER BY i.due_by, i.person_id",
        params,
    )
    return [InductionLine(**row) for row in rows]


def inductions(reader: Reader, query: InductionQuery) -> list[InductionLine]:
    """Appointees and their induction: due (with the date), satisfied, or overdue."""
    return _inductions(reader, "WHERE %(status)s::text IS NULL OR i.status = %(status)s", {"status": query.status})


@dataclass(frozen=True)
class ShortfallLine:
    person_id: str
    name: str | None
    unit: str
    year: int
    requirement: str
    post_id: str | None
    required_hours: Decimal
    counted_hours: Decimal
    missing_kinds: list[str]
    flagged_at: dt.datetime


def shortfalls(reader: Reader, query: ShortfallQuery) -> list[ShortfallLine]:
    rows = reader.query(
        "SELECT s.person_id, l.name, s.unit, s.year, s.requirement, s.post_id, s.required_hours, s.counted_hours, "
        "ARRAY(SELECT jsonb_array_elements_text(s.missing_kinds)) AS missing_kinds, s.flagged_at "
        "FROM shortfalls s LEFT JOIN learners l USING (person_id) "
        "WHERE (%(year)s::integer IS NULL OR s.year = %(year)s) AND (%(unit)s::text IS NULL OR s.unit = %(unit)s) "
        "AND (%(requirement)s::text IS NULL OR s.requirement = %(requirement)s) "
        "ORDER BY s.year, s.unit, s.person_id, s.flagged_at",
        {"year": query.year, "unit": query.unit, "requirement": query.requirement},
    )
    return [ShortfallLine(**row) for row in rows]


# -- what the deadline check asks ------------------------------------------------------------


def inductions_overdue(reader: Reader, now: dt.datetime) -> list[str]:
    rows = reader.query(
        "SELECT DISTINCT person_id FROM inductions WHERE status = 'due' AND due_by < %s ORDER BY person_id", [now]
    )
    return [str(row["person_id"]) for row in rows]


def unreviewed(reader: Reader, year: int) -> list[str]:
    """Learners with a requirement for ``year`` whose year has not been reviewed."""
    rows = reader.query(
        "SELECT l.person_id FROM learners l JOIN requirements r ON r.post_category = l.post_category AND r.year = %s "
        "WHERE NOT EXISTS (SELECT 1 FROM reviews v WHERE v.person_id = l.person_id AND v.year = %s) "
        "ORDER BY l.person_id",
        [year, year],
    )
    return [str(row["person_id"]) for row in rows]


def awaiting(reader: Reader) -> list[tuple[str, str]]:
    """(person, kind) of every learner awaiting a placement, the longest waiting first."""
    rows = reader.query("SELECT person_id, kind FROM placements_awaited ORDER BY awaited_at, person_id")
    return [(str(row["person_id"]), str(row["kind"])) for row in rows]


def of_category(reader: Reader, post_category: str) -> list[str]:
    rows = reader.query("SELECT person_id FROM learners WHERE post_category = %s ORDER BY person_id", [post_category])
    return [str(row["person_id"]) for row in rows]
