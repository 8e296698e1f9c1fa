"""The development pipeline: each person by stage and branch, with the next step the rules date.

Besides the queries callers ask, ``overdue`` is what the deadline check asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.grassroots.domain import events as ev
from services.grassroots.domain.kinds import ACTIVIST_REVIEW_MONTHS, APPROVAL_MONTHS, TALK_WITHIN_MONTHS
from services.grassroots.messages import PipelineQuery
from shared.application import Reader
from shared.domain.calendar import months_after
from shared.domain.notices import NoticeOpened
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


class Pipeline(Projection):
    name = "pipeline"
    tables = ("pipeline",)

    def _set(self, cur: Any, person_id: str, **columns: Any) -> None:
        assignments = ", ".join(f"{column} = %s" for column in columns)
        cur.execute(f"UPDATE pipeline SET {assignments} WHERE person_id = %s", [*columns.values(), person_id])

    @on(ev.ApplicationReceived)
    def _applied(self, cur: Any, e: ev.ApplicationReceived, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO pipeline (person_id, name, branch_id, stage, entrepreneur, applied_at, next_step, next_due) "
            "VALUES (%s, %s, %s, 'applicant', %s, %s, 'talk', %s)",
            [
                e.person_id,
                e.name,
                e.branch_id,
                e.entrepreneur,
                e.applied_at,
                months_after(e.applied_at, TALK_WITHIN_MONTHS),
            ],
        )

    @on(ev.ApplicantTalkHeld)
    def _talk(self, cur: Any, e: ev.ApplicantTalkHeld, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, next_step=None, next_due=None)

    @on(ev.ActivistDesignated)
    def _activist(self, cur: Any, e: ev.ActivistDesignated, record: RecordedEvent) -> None:
        due = months_after(e.decided_at, ACTIVIST_REVIEW_MONTHS)
        self._set(cur, record.aggregate_id, stage="activist", next_step="activist_review", next_due=due)

    @on(ev.ActivistReviewed)
    def _reviewed(self, cur: Any, e: ev.ActivistReviewed, record: RecordedEvent) -> None:
        due = months_after(e.reviewed_at, ACTIVIST_REVIEW_MONTHS)
        self._set(cur, record.aggregate_id, next_step="activist_review", next_due=due)

    @on(ev.DevelopmentDeadlineMissed)
    def _missed(self, cur: Any, e: ev.DevelopmentDeadlineMissed, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, next_step=f"{e.step}_overdue")

    @on(ev.DevelopmentTargetDesignated)
    def _target(self, cur: Any, e: ev.DevelopmentTargetDesignated, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, stage="development_target", next_step=None, next_due=None)

    @on(ev.ShortCourseCompleted)
    def _course(self, cur: Any, e: ev.ShortCourseCompleted, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, short_course=True)

    @on(NoticeOpened)
    def _notice(self, cur: Any, e: NoticeOpened, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, notice_closes_at=e.closes_at)

    @on(ev.SupervisionCaseNoted)
    def _case(self, cur: Any, e: ev.SupervisionCaseNoted, record: RecordedEvent) -> None:
        cur.execute("UPDATE pipeline SET open_cases = open_cases + 1 WHERE person_id = %s", [record.aggregate_id])

    @on(ev.SupervisionOutcomeNoted)
    def _outcome(self, cur: Any, e: ev.SupervisionOutcomeNoted, record: RecordedEvent) -> None:
        cur.execute("UPDATE pipeline SET open_cases = open_cases - 1 WHERE person_id = %s", [record.aggregate_id])

    @on(ev.BranchMeetingVoted)
    def _meeting(self, cur: Any, e: ev.BranchMeetingVoted, record: RecordedEvent) -> None:
        if e.admitted:
            due = months_after(e.held_at, APPROVAL_MONTHS)
            self._set(cur, record.aggregate_id, next_step="approval", next_due=due)

    @on(ev.AdmissionApproved)
    def _approved(self, cur: Any, e: ev.AdmissionApproved, record: RecordedEvent) -> None:
        self._set(
            cur, record.aggregate_id, stage="probationary_member", next_step="probation_ends", next_due=e.probation_ends
        )

    @on(ev.ProbationExtended)
    def _extended(self, cur: Any, e: ev.ProbationExtended, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, next_due=e.probation_ends)

    @on(ev.FullMembershipGranted)
    def _full(self, cur: Any, e: ev.FullMembershipGranted, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, stage="full_member", next_step=None, next_due=None)

    @on(ev.DevelopmentCancelled)
    def _cancelled(self, cur: Any, e: ev.DevelopmentCancelled, record: RecordedEvent) -> None:
        self._set(cur, record.aggregate_id, stage="cancelled", next_step=None, next_due=None)


@dataclass(frozen=True)
class PipelineRow:
    person_id: str
    name: str
    branch_id: str
    stage: str
    entrepreneur: bool
    applied_at: dt.datetime
    short_course: bool
    notice_closes_at: dt.datetime | None
    open_cases: int
    next_step: str | None
    next_due: dt.datetime | None


def pipeline(reader: Reader, query: PipelineQuery) -> list[PipelineRow]:
    rows = reader.query(
        "SELECT person_id, name, branch_id, stage, entrepreneur, applied_at, short_course, notice_closes_at, "
        "open_cases, next_step, next_due FROM pipeline "
        "WHERE (%(branch)s::text IS NULL OR branch_id = %(branch)s) AND (%(stage)s::text IS NULL OR stage = %(stage)s) "
        "ORDER BY branch_id, stage, next_due NULLS LAST, person_id",
        {"branch": query.branch_id, "stage": query.stage.value if query.stage else None},
    )
    return [PipelineRow(**row) for row in rows]


def overdue(reader: Reader, now: dt.datetime) -> list[str]:
    """People whose talk or activist review is past its date and not yet flagged."""
    rows = reader.query(
        "SELECT person_id FROM pipeline WHERE next_step IN ('talk', 'activist_review') AND next_due < %s "
        "ORDER BY next_due",
        [now],
    )
    return [str(row["person_id"]) for row in rows]
