"""One learner in one program: attendance per session, an assessment, withdrawal, completion.

The enrolment keeps the program's sessions and completion rule as they stood
when the learner enrolled (sessions are fixed once a program is published),
so it decides its own completion: when the program closes, it completes if
the hours attended reach the rule's share and, where the program requires
one, the assessment was passed. Credits are awarded once, on completion
(``TrainingCompleted``); an enrolment that falls short records that instead.

Its id is ``<program_id>:<person_id>``: program ids have no colon (``PROGRAM_ID``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from services.training.domain.events import (
    AssessmentRecorded,
    AttendanceRecorded,
    Enrolled,
    EnrolmentNotCompleted,
    EnrolmentWithdrawn,
    SessionHours,
    TrainingCompleted,
)
from shared.domain import Aggregate, applies, command


def enrolment_id(program_id: str, person_id: str) -> str:
    return f"{program_id}:{person_id}"


@dataclass
class EnrolmentState:
    status: str = ""  # "" (none), "active", "withdrawn", "completed", "not_completed"
    person_id: str = ""
    program_id: str = ""
    source: str = ""
    kind: str = ""
    mode: str = ""
    required: bool = False
    sessions: list[SessionHours] = field(default_factory=list)
    attendance_share: Decimal = Decimal(1)
    assessment_required: bool = False
    present: dict[str, bool] = field(default_factory=dict)  # session id -> present
    assessment_passed: bool | None = None


class Enrolment(Aggregate):
    category = "enrolment"
    State = EnrolmentState
    state: EnrolmentState

    # -- reading ------------------------------------------------------------------------------

    @property
    def total_hours(self) -> Decimal:
        return sum((s.hours for s in self.state.sessions), Decimal(0))

    @property
    def attended_share(self) -> Decimal:
        """The share of the program's hours the learner attended."""
        total = self.total_hours
        if not total:
            return Decimal(0)
        attended = sum((s.hours for s in self.state.sessions if self.state.present.get(s.session_id)), Decimal(0))
        return attended / total

    @property
    def meets_rule(self) -> bool:
        s = self.state
        return self.attended_share >= s.attendance_share and (not s.assessment_required or s.assessment_passed is True)

    def _active(self) -> None:
        self.require(self.state.status != "", "enrolment.exists", f"enrolment {self.id} does not exist")
        self.require(
            self.state.status == "active",
            "enrolment.active",
            f"enrolment {self.id} is {self.state.status}: nothing more is recorded on it",
        )

    # -- commands ------------------------------------------------------------------------------

    @command
    def enrol(
        self,
        person_id: str,
        program_id: str,
        source: str,
        kind: str,
        mode: str,
        required: bool,
        sessions: list[SessionHours],
        attendance_share: Decimal,
        assessment_required: bool,
        now: dt.datetime,
    ) -> None:
        self.require(self.state.status == "", "enrolment.once", f"{person_id} is enrolled in {program_id} already")
        self.record(
            Enrolled(
                person_id,
                program_id,
                source,
                kind,
                mode,
                required,
                list(sessions),
                attendance_share,
                assessment_required,
                now,
            )
        )

    @command
    def record_attendance(self, session_id: str, present: bool, now: dt.datetime) -> None:
        self._active()
        self.require(
            any(s.session_id == session_id for s in self.state.sessions),
            "enrolment.session",
            f"session {session_id} is not one of program {self.state.program_id}'s",
        )
        if self.state.present.get(session_id) != present:
            self.record(AttendanceRecorded(session_id, present, now))

    @command
    def record_assessment(self, passed: bool, now: dt.datetime) -> None:
        self._active()
        self.record(AssessmentRecorded(passed, now))

    @command
    def withdraw(self, reason: str, now: dt.datetime) -> None:
        self._active()
        self.record(EnrolmentWithdrawn(reason, now))

    @command
    def conclude(self, now: dt.datetime) -> None:
        """The program closed: complete, crediting the hours once, or record that the rule was not met."""
        if self.state.status != "active":
            return  # withdrawn, or concluded already: nothing to conclude
        s = self.state
        if self.meets_rule:
            self.record(TrainingCompleted(s.person_id, s.program_id, s.kind, self.total_hours, now))
        else:
            self.record(EnrolmentNotCompleted(self.attended_share, s.assessment_passed, now))

    # -- state ----------------------------------------------------------------------------------

    @applies(Enrolled)
    def _enrolled(self, e: Enrolled) -> None:
        s = self.state
        s.status, s.person_id, s.program_id, s.source, s.kind, s.mode, s.required = (
            "active",
            e.person_id,
            e.program_id,
            e.source,
            e.kind,
            e.mode,
            e.required,
        )
        s.sessions, s.attendance_share, s.assessment_required = (
            list(e.sessions),
            e.attendance_share,
            e.assessment_required,
        )

    @applies(AttendanceRecorded)
    def _attended(self, e: AttendanceRecorded) -> None:
        self.state.present[e.session_id] = e.present

    @applies(AssessmentRecorded)
    def _assessed(self, e: AssessmentRecorded) -> None:
        self.state.assessment_passed = e.passed

    @applies(EnrolmentWithdrawn)
    def _withdrawn(self, e: EnrolmentWithdrawn) -> None:
        self.state.status = "withdrawn"

    @applies(TrainingCompleted)
    def _completed(self, e: TrainingCompleted) -> None:
        self.state.status = "completed"

    @applies(EnrolmentNotCompleted)
    def _not_completed(self, e: EnrolmentNotCompleted) -> None:
        self.state.status = "not_completed"
