"""A cadre's record: posts held, roles, commendations, appraisals, training credits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from services.cadre.domain.events import (
    AppraisalGradeRecorded,
    CadreAppointedToPost,
    CadreCommended,
    CadreRegistered,
    LeadershipRolesChanged,
    TrainingCreditsNoted,
)
from shared.domain import Aggregate, applies, command


@dataclass
class PostHeld:
    post_id: str
    post_title: str
    unit: str
    process_id: str
    appointed_at: dt.datetime


@dataclass
class Appraisal:
    cycle_id: str
    year: int
    grade: str
    score: Decimal


@dataclass
class Commendation:
    title: str
    year: int
    citation: str


@dataclass
class CadreState:
    registered: bool = False
    name: str = ""
    unit: str = ""
    post_category: str = ""
    leadership_team: bool = False
    head_of_unit: bool = False
    posts: list[PostHeld] = field(default_factory=list)
    appraisals: list[Appraisal] = field(default_factory=list)
    commendations: list[Commendation] = field(default_factory=list)
    credit_hours: dict[str, Decimal] = field(default_factory=dict)  # year -> total


class CadreRecord(Aggregate):
    category = "cadre"
    State = CadreState
    snapshot_every = 50
    state: CadreState

    @property
    def latest_grade(self) -> str | None:
        """The grade of the most recent appraisal year (the last recorded wins a tie)."""
        if not self.state.appraisals:
            return None
        return max(enumerate(self.state.appraisals), key=lambda pair: (pair[1].year, pair[0]))[1].grade

    def credit_hours(self, year: int) -> Decimal:
        return self.state.credit_hours.get(str(year), Decimal(0))

    def _registered(self) -> None:
        self.require(self.state.registered, "cadre.registered", f"cadre {self.id} is not on record")

    @command
    def register(self, name: str, unit: str, post_category: str, leadership_team: bool, head_of_unit: bool) -> None:
        self.require(not self.state.registered, "cadre.register_once", f"cadre {self.id} is already on record")
        self.record(CadreRegistered(name, unit, post_category, leadership_team, head_of_unit))

    @command
    def appoint(self, post_id: str, post_title: str, unit: str, process_id: str, now: dt.datetime) -> None:
        self._registered()
        self.record(CadreAppointedToPost(post_id, post_title, unit, process_id, now))

    @command
    def change_roles(self, leadership_team: bool, head_of_unit: bool) -> None:
        self._registered()
        self.require(
            not head_of_unit or leadership_team,
            "cadre.head_of_unit_in_team",
            "the head of a unit (一把手) is a member of its leadership team",
        )
        self.record(LeadershipRolesChanged(leadership_team, head_of_unit))

    @command
    def commend(self, title: str, year: int, citation: str) -> None:
        self._registered()
        self.require(
            not any(c.title == title and c.year == year for c in self.state.commendations),
            "cadre.commended_once",
            f"{self.id} was already commended as '{title}' in {year}",
        )
        self.record(CadreCommended(title, year, citation))

    @command
    def record_appraisal(self, cycle_id: str, year: int, grade: str, score: Decimal) -> None:
        self._registered()
        self.require(
            not any(a.cycle_id == cycle_id for a in self.state.appraisals),
            "cadre.appraisal_once",
            f"the grade of cycle {cycle_id} is already on {self.id}'s record",
        )
        self.record(AppraisalGradeRecorded(cycle_id, year, grade, score))

    @command
    def note_training_credits(self, year: int, total_hours: Decimal) -> None:
        self._registered()
        if self.credit_hours(year) != total_hours:
            self.record(TrainingCreditsNoted(year, total_hours))

    @applies(CadreRegistered)
    def _on_registered(self, e: CadreRegistered) -> None:
        s = self.state
        s.registered, s.name, s.unit, s.post_category = True, e.name, e.unit, e.post_category
        s.leadership_team, s.head_of_unit = e.leadership_team, e.head_of_unit

    @applies(CadreAppointedToPost)
    def _on_appointed(self, e: CadreAppointedToPost) -> None:
        self.state.posts.append(PostHeld(e.post_id, e.post_title, e.unit, e.process_id, e.appointed_at))
        self.state.unit = e.unit

    @applies(LeadershipRolesChanged)
    def _on_roles(self, e: LeadershipRolesChanged) -> None:
        self.state.leadership_team, self.state.head_of_unit = e.leadership_team, e.head_of_unit

    @applies(CadreCommended)
    def _on_commended(self, e: CadreCommended) -> None:
        self.state.commendations.append(Commendation(e.title, e.year, e.citation))

    @applies(AppraisalGradeRecorded)
    def _on_appraisal(self, e: AppraisalGradeRecorded) -> None:
        self.state.appraisals.append(Appraisal(e.cycle_id, e.year, e.grade, e.score))

    @applies(TrainingCreditsNoted)
    def _on_credits(self, e: TrainingCreditsNoted) -> None:
        self.state.credit_hours[str(e.year)] = e.total_hours
