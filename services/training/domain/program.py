"""A training program: planned with its sessions, published for self-selection, run, closed.

The program keeps its seats: an enrolment takes one (``take_seat``) in the
same transaction as the enrolment is recorded, so two learners racing for the
last seat meet at the program's version and one of them is refused.

The development-target short course (发展对象短期集中培训) must run at least
three days or 24 hours: 《中国共产党发展党员工作细则》(2014) 第十六条 (集中培训时间一般不少于3天或不少于24个学时).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from services.training.domain.events import (
    Audience,
    ProgramClosed,
    ProgramPlanned,
    ProgramPublished,
    ProgramStarted,
    SeatReleased,
    SeatTaken,
    SessionHours,
    SessionScheduled,
)
from services.training.domain.kinds import Mode, Phase, ProgramKind, Provider
from shared.domain import Aggregate, applies, command

#: The short course for development targets: at least this many days of sessions, or this many hours.
SHORT_COURSE_DAYS = 3
SHORT_COURSE_HOURS = Decimal(24)


@dataclass
class Session:
    session_id: str
    title: str
    starts_at: dt.datetime
    hours: Decimal


@dataclass
class ProgramState:
    phase: Phase | None = None
    title: str = ""
    kind: str = ""
    mode: str = ""
    provider: str = ""
    audience: Audience = field(default_factory=Audience)
    required: bool = False
    capacity: int = 0
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    attendance_share: Decimal = Decimal(1)
    assessment_required: bool = False
    sessions: list[Session] = field(default_factory=list)
    seats: list[str] = field(default_factory=list)  # the learners holding a seat


@dataclass(frozen=True)
class Learner:
    """What an audience is checked against."""

    post_category: str | None = None
    level: str | None = None
    member_stage: str | None = None


def admits(audience: Audience, learner: Learner) -> bool:
    """Whether the learner is of the audience: on each count the program names, one of those it names."""
    return all(
        not wanted or have in wanted
        for wanted, have in (
            (audience.post_categories, learner.post_category),
            (audience.levels, learner.level),
            (audience.member_stages, learner.member_stage),
        )
    )


class TrainingProgram(Aggregate):
    category = "program"
    State = ProgramState
    state: ProgramState
    snapshot_every = 100

    # -- reading ------------------------------------------------------------------------------

    @property
    def total_hours(self) -> Decimal:
        return sum((s.hours for s in self.state.sessions), Decimal(0))

    @property
    def seats_left(self) -> int:
        return max(self.state.capacity - len(self.state.seats), 0)

    def session_hours(self) -> list[SessionHours]:
        return [SessionHours(s.session_id, s.hours) for s in self.state.sessions]

    def _exists(self) -> None:
        self.require(self.state.phase is not None, "program.exists", f"program {self.id} does not exist")

    def _in(self, *phases: Phase, doing: str) -> None:
        self._exists()
        self.require(
            self.state.phase in phases,
            f"program.{doing}_when_{'_or_'.join(p.value for p in phases)}",
            f"program {self.id} is {self.state.phase}: {doing.replace('_', ' ')} only when "
            + " or ".join(p.value for p in phases),
        )

    def require_running(self, doing: str) -> None:
        """Attendance and assessments are recorded while the program runs."""
        self._in(Phase.RUNNING, doing=doing)

    # -- commands ------------------------------------------------------------------------------

    @command
    def plan(
        self,
        title: str,
        kind: ProgramKind,
        mode: Mode,
        provider: Provider,
        audience: Audience,
        required: bool,
        capacity: int,
        starts_on: dt.date,
        ends_on: dt.date,
        attendance_share: Decimal,
        assessment_required: bool,
        now: dt.datetime,
    ) -> None:
        self.require(self.state.phase is None, "program.plan_once", f"program {self.id} exists already")
        self.require(capacity > 0, "program.capacity", "a program has at least one seat")
        self.require(ends_on >= starts_on, "program.dates", "a program ends on or after the day it starts")
        self.require(
            Decimal(0) < attendance_share <= Decimal(1),
            "program.attendance_share",
            "the attendance a learner needs is a share of the hours, above 0 and at most 1",
        )
        self.record(
            ProgramPlanned(
                title,
                kind.value,
                mode.value,
                provider.value,
                audience,
                required,
                capacity,
                starts_on,
                ends_on,
                attendance_share,
                assessment_required,
                now,
            )
        )

    @command
    def schedule_session(self, session_id: str, title: str, starts_at: dt.datetime, hours: Decimal) -> None:
        self._in(Phase.PLANNED, doing="schedule_sessions")
        s = self.state
        assert s.starts_on is not None and s.ends_on is not None
        self.require(hours > 0, "program.session_hours", "a session lasts more than 0 hours")
        self.require(
            all(x.session_id != session_id for x in s.sessions),
            "program.session_once",
            f"session {session_id} is scheduled already",
        )
        self.require(
            s.starts_on <= starts_at.date() <= s.ends_on,
            "program.session_within_dates",
            f"a session falls within the program's dates, {s.starts_on} to {s.ends_on}; {starts_at.date()} does not",
        )
        self.record(SessionScheduled(session_id, title, starts_at, hours))

    @command
    def publish(self, now: dt.datetime) -> None:
        self._in(Phase.PLANNED, doing="publish")
        self.require(bool(self.state.sessions), "program.sessions_first", "schedule the sessions before publishing")
        if self.state.kind == ProgramKind.DEVELOPMENT_TARGET_COURSE:
            days = len({s.starts_at.date() for s in self.state.sessions})
            self.require(
                days >= SHORT_COURSE_DAYS or self.total_hours >= SHORT_COURSE_HOURS,
                "program.short_course_length",
                f"the short course for development targets runs at least {SHORT_COURSE_DAYS} days or "
                f"{SHORT_COURSE_HOURS} hours; this one has {days} day(s) and {self.total_hours} hours",
            )
        self.record(ProgramPublished(self.state.kind, self.total_hours, now))

    @command
    def take_seat(self, person_id: str, source: str, learner: Learner) -> None:
        self._in(Phase.PUBLISHED, doing="enrol")
        self.require(person_id not in self.state.seats, "enrolment.once", f"{person_id} is enrolled already")
        self.require(
            admits(self.state.audience, learner),
            "program.audience",
            f"{person_id} is not of this program's audience",
        )
        self.require(self.seats_left > 0, "program.capacity_reached", f"program {self.id} has no seats left")
        self.record(SeatTaken(person_id, source))

    @command
    def release_seat(self, person_id: str) -> None:
        self._exists()
        if person_id in self.state.seats and self.state.phase in (Phase.PUBLISHED, Phase.RUNNING):
            self.record(SeatReleased(person_id))

    @command
    def start(self, now: dt.datetime) -> None:
        self._in(Phase.PUBLISHED, doing="start")
        self.record(ProgramStarted(now))

    @command
    def close(self, now: dt.datetime) -> None:
        self._in(Phase.RUNNING, doing="close")
        self.record(ProgramClosed(now))

    # -- state ----------------------------------------------------------------------------------

    @applies(ProgramPlanned)
    def _planned(self, e: ProgramPlanned) -> None:
        s = self.state
        s.phase, s.title, s.kind, s.mode, s.provider, s.audience = (
            Phase.PLANNED,
            e.title,
            e.kind,
            e.mode,
            e.provider,
            e.audience,
        )
        s.required, s.capacity, s.starts_on, s.ends_on = e.required, e.capacity, e.starts_on, e.ends_on
        s.attendance_share, s.assessment_required = e.attendance_share, e.assessment_required

    @applies(SessionScheduled)
    def _scheduled(self, e: SessionScheduled) -> None:
        self.state.sessions.append(Session(e.session_id, e.title, e.starts_at, e.hours))

    @applies(ProgramPublished)
    def _published(self, e: ProgramPublished) -> None:
        self.state.phase = Phase.PUBLISHED

    @applies(SeatTaken)
    def _seat_taken(self, e: SeatTaken) -> None:
        self.state.seats.append(e.person_id)

    @applies(SeatReleased)
    def _seat_released(self, e: SeatReleased) -> None:
        self.state.seats.remove(e.person_id)

    @applies(ProgramStarted)
    def _started(self, e: ProgramStarted) -> None:
        self.state.phase = Phase.RUNNING

    @applies(ProgramClosed)
    def _closed(self, e: ProgramClosed) -> None:
        self.state.phase = Phase.CLOSED
