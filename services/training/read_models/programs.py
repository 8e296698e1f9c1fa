"""Programs and their rosters: what is open for self-selection, with its seats, and each program's completion rate.

Besides the queries callers ask, ``open_of_kind`` is what automatic placement asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.training.domain import events as ev
from services.training.messages import ProgramQuery
from shared.application import Reader, UnitOfWork
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Programs(Projection):
    name = "programs"
    tables = ("programs", "enrolments")

    @on(ev.ProgramPlanned)
    def _planned(self, cur: Any, e: ev.ProgramPlanned, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO programs (program_id, title, kind, mode, provider, phase, required, capacity, starts_on, "
            "ends_on, audience, attendance_share, assessment_required) "
            "VALUES (%s, %s, %s, %s, %s, 'planned', %s, %s, %s, %s, %s, %s, %s)",
            [
                record.aggregate_id,
                e.title,
                e.kind,
                e.mode,
                e.provider,
                e.required,
                e.capacity,
                e.starts_on,
                e.ends_on,
                jsonb(
                    {
                        "post_categories": e.audience.post_categories,
                        "levels": e.audience.levels,
                        "member_stages": e.audience.member_stages,
                    }
                ),
                e.attendance_share,
                e.assessment_required,
            ],
        )

    @on(ev.SessionScheduled)
    def _session(self, cur: Any, e: ev.SessionScheduled, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE programs SET total_hours = total_hours + %s WHERE program_id = %s", [e.hours, record.aggregate_id]
        )

    @on(ev.ProgramPublished, ev.ProgramStarted, ev.ProgramClosed)
    def _phase(self, cur: Any, e: object, record: RecordedEvent) -> None:
        phase = {"ProgramPublished": "published", "ProgramStarted": "running", "ProgramClosed": "closed"}[record.type]
        cur.execute("UPDATE programs SET phase = %s WHERE program_id = %s", [phase, record.aggregate_id])

    @on(ev.SeatTaken)
    def _seat(self, cur: Any, e: ev.SeatTaken, record: RecordedEvent) -> None:
        cur.execute("UPDATE programs SET seats_taken = seats_taken + 1 WHERE program_id = %s", [record.aggregate_id])

    @on(ev.SeatReleased)
    def _released(self, cur: Any, e: ev.SeatReleased, record: RecordedEvent) -> None:
        cur.execute("UPDATE programs SET seats_taken = seats_taken - 1 WHERE program_id = %s", [record.aggregate_id])

    @on(ev.Enrolled)
    def _enrolled(self, cur: Any, e: ev.Enrolled, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO enrolments (program_id, person_id, source, status, enrolled_at) "
            "VALUES (%s, %s, %s, 'active', %s)",
            [e.program_id, e.person_id, e.source, e.enrolled_at],
        )

    @on(ev.AssessmentRecorded)
    def _assessed(self, cur: Any, e: ev.AssessmentRecorded, record: RecordedEvent) -> None:
        program_id, person_id = _enrolment(record)
        cur.execute(
            "UPDATE enrolments SET assessment_passed = %s WHERE program_id = %s AND person_id = %s",
            [e.passed, program_id, person_id],
        )

    @on(ev.EnrolmentWithdrawn)
    def _withdrawn(self, cur: Any, e: ev.EnrolmentWithdrawn, record: RecordedEvent) -> None:
        program_id, person_id = _enrolment(record)
        cur.execute(
            "UPDATE enrolments SET status = 'withdrawn', concluded_at = %s WHERE program_id = %s AND person_id = %s",
            [e.withdrawn_at, program_id, person_id],
        )

    @on(ev.TrainingCompleted)
    def _completed(self, cur: Any, e: ev.TrainingCompleted, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE enrolments SET status = 'completed', hours = %s, attended_share = NULL, concluded_at = %s "
            "WHERE program_id = %s AND person_id = %s",
            [e.hours, e.completed_at, e.program_id, e.person_id],
        )

    @on(ev.EnrolmentNotCompleted)
    def _not_completed(self, cur: Any, e: ev.EnrolmentNotCompleted, record: RecordedEvent) -> None:
        program_id, person_id = _enrolment(record)
        cur.execute(
            "UPDATE enrolments SET status = 'not_completed', attended_share = %s, concluded_at = %s "
            "WHERE program_id = %s AND person_id = %s",
            [e.attended_share, e.concluded_at, program_id, person_id],
        )


def _enrolment(record: RecordedEvent) -> tuple[str, str]:
    """An enrolment's stream id names its program and learner (program ids have no colon)."""
    program_id, _, person_id = record.aggregate_id.partition(":")
    return program_id, person_id


@dataclass(frozen=True)
class ProgramRow:
    program_id: str
    title: str
    kind: str
    mode: str
    provider: str
    phase: str
    required: bool
    capacity: int
    seats_left: int
    starts_on: dt.date
    ends_on: dt.date
    total_hours: Decimal
    post_categories: list[str]
    levels: list[str]
    member_stages: list[str]


_PROGRAM = (
    "SELECT program_id, title, kind, mode, provider, phase, required, capacity, "
    "greatest(capacity - seats_taken, 0) AS seats_left, starts_on, ends_on, total_hours, "
    "ARRAY(SELECT jsonb_array_elements_text(audience->'post_categories')) AS post_categories, "
    "ARRAY(SELECT jsonb_array_elements_text(audience->'levels')) AS levels, "
    "ARRAY(SELECT jsonb_array_elements_text(audience->'member_stages')) AS member_stages FROM programs "
)


def open_programs(reader: Reader, query: ProgramQuery) -> list[ProgramRow]:
    """Programs published for self-selection, with the seats they have left."""
    rows = reader.query(
        _PROGRAM + "WHERE phase = 'published' AND (%(kind)s::text IS NULL OR kind = %(kind)s) "
        "ORDER BY starts_on, program_id",
        {"kind": query.kind.value if query.kind else None},
    )
    return [ProgramRow(**row) for row in rows]


def open_of_kind(uow: UnitOfWork, kind: str) -> list[str]:
    """Published programs of ``kind`` with a seat left and not yet over, the earliest first (where automatic
    placement looks)."""
    rows = uow.query(
        "SELECT program_id FROM programs WHERE kind = %s AND phase = 'published' AND seats_taken < capacity "
        "AND ends_on >= %s ORDER BY starts_on, program_id",
        [kind, uow.clock.now().date()],
    )
    return [str(row["program_id"]) for row in rows]


@dataclass(frozen=True)
class RosterLine:
    person_id: str
    source: str
    status: str
    enrolled_at: dt.datetime
    assessment_passed: bool | None
    hours: Decimal | None


@dataclass(frozen=True)
class Roster:
    program_id: str
    title: str
    phase: str
    enrolled: int
    completed: int
    completion_rate: Decimal | None  # completed over those concluded (completed or not), once any are
    learners: list[RosterLine]


def roster(reader: Reader, program_id: str) -> Roster:
    programs = reader.query("SELECT title, phase FROM programs WHERE program_id = %s", [program_id])
    if not programs:
        raise NotFound("program", program_id)
    lines = [
        RosterLine(**row)
        for row in reader.query(
            "SELECT person_id, source, status, enrolled_at, assessment_passed, hours FROM enrolments "
            "WHERE program_id = %s ORDER BY enrolled_at, person_id",
            [program_id],
        )
    ]
    completed = sum(1 for line in lines if line.status == "completed")
    concluded = sum(1 for line in lines if line.status in ("completed", "not_completed"))
    rate = (Decimal(completed) / Decimal(concluded)).quantize(Decimal("0.0001")) if concluded else None
    enrolled = sum(1 for line in lines if line.status != "withdrawn")
    return Roster(program_id, programs[0]["title"], programs[0]["phase"], enrolled, completed, rate, lines)
