"""A person's talent record: their team, where they serve, their evaluations, incentives, comings and goings.

One record per person. A cadre's record is kept current by cadre's events
(registered, appointed). An evaluation scores all three dimensions, integrity,
ability and performance, by one evaluator for one period: no one evaluates
themself, and an evaluator gives one evaluation a period; every evaluation is
kept. An incentive runs between two dates, and nobody holds two of the same
kind at once. Departures are recorded with their reason, so that the
department can see why talent leaves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from services.talent.domain.events import (
    AppraisalNoted,
    IncentiveGranted,
    TalentEvaluated,
    TalentLeft,
    TalentPostUpdated,
    TalentRegistered,
    TalentReturned,
    TrainingNoted,
)
from services.talent.domain.kinds import DepartureReason, EvaluatorKind, Source, Team
from shared.domain import Aggregate, applies, command

ACTIVE, LEFT = "active", "left"
SCORE_RANGE = (0, 100)


@dataclass
class Incentive:
    program_id: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date


@dataclass
class TalentState:
    registered: bool = False
    team: str = ""
    name: str = ""
    specialty: str = ""
    level: str = ""
    source: str = ""
    unit: str = ""
    post: str | None = None
    cadre_id: str | None = None
    member_id: str | None = None
    status: str = ""
    returned: bool = False
    evaluated: list[str] = field(default_factory=list)  # "<period>/<evaluator>"
    appraisals: list[str] = field(default_factory=list)  # cycle ids noted
    trainings: list[str] = field(default_factory=list)  # training programs noted
    incentives: list[Incentive] = field(default_factory=list)


class TalentRecord(Aggregate):
    category = "talent"
    State = TalentState
    state: TalentState
    snapshot_every = 50

    def _registered(self) -> None:
        self.require(self.state.registered, "talent.exists", f"{self.id} has no talent record")

    @command
    def register(
        self,
        team: Team,
        name: str,
        specialty: str,
        level: str,
        source: Source,
        unit: str,
        cadre_id: str | None,
        member_id: str | None,
        now: dt.datetime,
    ) -> None:
        self.require(not self.state.registered, "talent.once", f"{self.id} has a talent record already")
        self.record(TalentRegistered(team.value, name, specialty, level, source.value, unit, cadre_id, member_id, now))

    @command
    def serve(self, unit: str, post: str, since: dt.datetime) -> None:
        """Where the person serves now (a cadre's appointment); nothing when it is what the record says."""
        self._registered()
        if (self.state.unit, self.state.post) != (unit, post):
            self.record(TalentPostUpdated(unit, post, since))

    @command
    def leave(self, reason: DepartureReason, note: str, now: dt.datetime) -> None:
        self._registered()
        self.require(self.state.status == ACTIVE, "talent.active", f"{self.id} has left already")
        self.record(TalentLeft(reason.value, note, now))

    @command
    def come_back(self, now: dt.datetime) -> None:
        self._registered()
        self.require(self.state.status == LEFT, "talent.left", f"{self.id} has not left")
        self.record(TalentReturned(now))

    @command
    def evaluate(
        self,
        period: str,
        evaluator_id: str,
        evaluator_kind: EvaluatorKind,
        integrity: int,
        ability: int,
        performance: int,
        evidence: list[str],
        now: dt.datetime,
    ) -> None:
        self._registered()
        self.require(
            evaluator_id not in (self.id, self.state.cadre_id, self.state.member_id),
            "evaluation.not_oneself",
            "no one evaluates themself",
        )
        self.require(
            f"{period}/{evaluator_id}" not in self.state.evaluated,
            "evaluation.once_a_period",
            f"{evaluator_id} has evaluated {self.id} for {period} already",
        )
        low, high = SCORE_RANGE
        for dimension, score in (("integrity", integrity), ("ability", ability), ("performance", performance)):
            self.require(low <= score <= high, f"evaluation.{dimension}", f"{dimension} is scored {low} to {high}")
        self.record(
            TalentEvaluated(
                period, evaluator_id, evaluator_kind.value, integrity, ability, performance, list(evidence), now
            )
        )

    @command
    def note_appraisal(self, cycle_id: str, grade: str, score: Decimal, now: dt.datetime) -> None:
        if self.state.registered and cycle_id not in self.state.appraisals:
            self.record(AppraisalNoted(cycle_id, grade, score, now))

    @command
    def note_training(self, program_id: str, kind: str, hours: Decimal, completed_at: dt.datetime) -> None:
        if self.state.registered and program_id not in self.state.trainings:
            self.record(TrainingNoted(program_id, kind, hours, completed_at))

    def holds(self, kind: str, starts_on: dt.date, ends_on: dt.date) -> list[str]:
        """The programs whose incentive of ``kind`` runs at some time between the two dates."""
        return [
            i.program_id
            for i in self.state.incentives
            if i.kind == kind and i.starts_on <= ends_on and starts_on <= i.ends_on
        ]

    @command
    def grant_incentive(self, program_id: str, kind: str, starts_on: dt.date, ends_on: dt.date) -> None:
        """An incentive for a time; none of the same kind while one runs."""
        self._registered()
        self.require(ends_on >= starts_on, "incentive.dates", "an incentive ends on or after the day it starts")
        clash = self.holds(kind, starts_on, ends_on)
        self.require(
            not clash,
            "incentive.not_twice_at_once",
            f"{self.id} already receives a {kind} incentive for that time (program {', '.join(clash)})",
        )
        self.record(IncentiveGranted(self.id, program_id, kind, starts_on, ends_on))

    @applies(TalentRegistered)
    def _registered_event(self, e: TalentRegistered) -> None:
        s = self.state
        s.registered, s.team, s.name, s.specialty, s.level, s.source, s.unit = (
            True,
            e.team,
            e.name,
            e.specialty,
            e.level,
            e.source,
            e.unit,
        )
        s.cadre_id, s.member_id, s.status = e.cadre_id, e.member_id, ACTIVE

    @applies(TalentPostUpdated)
    def _post(self, e: TalentPostUpdated) -> None:
        self.state.unit, self.state.post = e.unit, e.post

    @applies(TalentLeft)
    def _left(self, e: TalentLeft) -> None:
        self.state.status = LEFT

    @applies(TalentReturned)
    def _returned(self, e: TalentReturned) -> None:
        self.state.status, self.state.returned = ACTIVE, True

    @applies(TalentEvaluated)
    def _evaluated(self, e: TalentEvaluated) -> None:
        self.state.evaluated.append(f"{e.period}/{e.evaluator_id}")

    @applies(AppraisalNoted)
    def _appraisal(self, e: AppraisalNoted) -> None:
        self.state.appraisals.append(e.cycle_id)

    @applies(TrainingNoted)
    def _training(self, e: TrainingNoted) -> None:
        self.state.trainings.append(e.program_id)

    @applies(IncentiveGranted)
    def _incentive(self, e: IncentiveGranted) -> None:
        self.state.incentives.append(Incentive(e.program_id, e.kind, e.starts_on, e.ends_on))
