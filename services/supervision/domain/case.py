"""A supervision case about a cadre: opened, assigned, a joint meeting, an outcome.

Opened from a complaint routed by feedback, or by the department itself. The
outcome — substantiated or not, with reasons — needs an investigator and a
joint meeting with discipline inspection first, and is recorded once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.supervision.domain.events import (
    CaseAssigned,
    CaseOpened,
    JointMeetingHeld,
    Participant,
    SupervisionOutcomeRecorded,
)
from shared.domain import Aggregate, applies, command

DISCIPLINE_INSPECTION = "discipline_inspection"
ROLES = ("organization", DISCIPLINE_INSPECTION)


@dataclass
class CaseState:
    opened: bool = False
    cadre_id: str = ""
    process_id: str | None = None
    origin: str = ""
    submission_id: str | None = None
    investigator: str | None = None
    meetings: int = 0
    outcome: bool | None = None


class SupervisionCase(Aggregate):
    category = "case"
    State = CaseState
    state: CaseState

    def _open(self) -> None:
        self.require(self.state.opened, "case.opened", f"case {self.id} does not exist")
        self.require(self.state.outcome is None, "case.concluded", f"case {self.id} has its outcome already")

    @command
    def open(
        self,
        cadre_id: str,
        process_id: str | None,
        origin: str,
        submission_id: str | None,
        summary: str,
        now: dt.datetime,
    ) -> None:
        self.require(not self.state.opened, "case.open_once", f"case {self.id} is already open")
        self.require(
            origin in ("complaint", "department"), "case.origin", "a case comes from a complaint or the department"
        )
        self.record(CaseOpened(cadre_id, process_id, origin, submission_id, summary, now))

    @command
    def assign(self, investigator: str, now: dt.datetime) -> None:
        self._open()
        self.record(CaseAssigned(investigator, now))

    @command
    def hold_joint_meeting(self, participants: list[Participant], decision: str, now: dt.datetime) -> None:
        self._open()
        self.require(
            all(p.role in ROLES for p in participants), "case.participant_role", f"roles are {', '.join(ROLES)}"
        )
        self.require(
            any(p.role == DISCIPLINE_INSPECTION for p in participants),
            "case.discipline_inspection",
            "a joint meeting includes discipline inspection",
        )
        self.record(JointMeetingHeld(list(participants), decision, now))

    @command
    def record_outcome(self, substantiated: bool, reasons: str, now: dt.datetime) -> None:
        self._open()
        self.require(
            self.state.investigator is not None, "case.assigned_first", "assign an investigator before the outcome"
        )
        self.require(
            self.state.meetings > 0,
            "case.joint_meeting_first",
            "the outcome is decided with discipline inspection: hold the joint meeting first",
        )
        self.record(
            SupervisionOutcomeRecorded(
                self.id,
                self.state.cadre_id,
                self.state.process_id,
                substantiated,
                reasons,
                now,
                submission_id=self.state.submission_id,
            )
        )

    @applies(CaseOpened)
    def _opened(self, e: CaseOpened) -> None:
        s = self.state
        s.opened, s.cadre_id, s.process_id, s.origin, s.submission_id = (
            True,
            e.cadre_id,
            e.process_id,
            e.origin,
            e.submission_id,
        )

    @applies(CaseAssigned)
    def _assigned(self, e: CaseAssigned) -> None:
        self.state.investigator = e.investigator

    @applies(JointMeetingHeld)
    def _meeting(self, e: JointMeetingHeld) -> None:
        self.state.meetings += 1

    @applies(SupervisionOutcomeRecorded)
    def _outcome(self, e: SupervisionOutcomeRecorded) -> None:
        self.state.outcome = e.substantiated
