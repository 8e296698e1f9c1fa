"""A cadre's record: posts held, roles, commendations, appraisals, training credits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from services.cadre.domain.eligibility import FINDING_PERIOD, GRADE_YEARS, TRAINING_WINDOW_YEARS, Eligibility
from services.cadre.domain.events import (
    AppraisalGradeRecorded,
    CadreAppointedToPost,
    CadreCommended,
    CadreRegistered,
    CandidacyRecorded,
    CaseConcludedOnRecord,
    CaseOnRecord,
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
class CaseHeld:
    """A supervision case about the cadre, as the record keeps it."""

    case_id: str
    process_id: str | None
    opened_at: dt.datetime | None = None
    concluded_at: dt.datetime | None = None
    substantiated: bool | None = None  # None while it is open


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
    candidacies: list[str] = field(default_factory=list)  # selection process ids
    cases: list[CaseHeld] = field(default_factory=list)


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

    def grades_within(self, year: int, years: int = GRADE_YEARS) -> tuple[str, ...]:
        """The grades of the appraisal years ``year - years + 1`` .. ``year``, oldest first (every cycle)."""
        kept = [a for a in self.state.appraisals if year - years < a.year <= year]
        return tuple(a.grade for a in sorted(kept, key=lambda a: a.year))

    def credit_hours_within(self, year: int, years: int = TRAINING_WINDOW_YEARS) -> Decimal:
        """The training hours of ``year`` and the ``years - 1`` before it: a rolling window, not the calendar year."""
        return sum((self.credit_hours(y) for y in range(year - years + 1, year + 1)), Decimal(0))

    def findings_within(self, now: dt.datetime, period: dt.timedelta = FINDING_PERIOD) -> tuple[str, ...]:
        """Substantiated findings concluded less than ``period`` before ``now``."""
        return tuple(
            c.case_id
            for c in self.state.cases
            if c.substantiated and c.concluded_at is not None and now - c.concluded_at < period
        )

    def eligibility(self, now: dt.datetime) -> Eligibility:
        """What a selection checks before this cadre may stand (the rules are in ``SelectionProcess``)."""
        return Eligibility(
            self.state.name,
            self.latest_grade,
            self.credit_hours_within(now.year),
            self.grades_within(now.year),
            self.findings_within(now),
            tuple(self.open_cases),
        )

    @property
    def open_cases(self) -> list[str]:
        return [c.case_id for c in self.state.cases if c.substantiated is None]

    def _case(self, case_id: str) -> CaseHeld | None:
        return next((c for c in self.state.cases if c.case_id == case_id), None)

    @command
    def note_candidacy(self, process_id: str, now: dt.datetime) -> None:
        self._registered()
        if process_id not in self.state.candidacies:
            self.record(CandidacyRecorded(process_id, now))

    @command
    def note_case_opened(self, case_id: str, process_id: str | None, opened_at: dt.datetime) -> None:
        """A supervision case about the cadre: pending, it bars standing for promotion."""
        if self._case(case_id) is None:
            self.record(CaseOnRecord(case_id, process_id, opened_at))

    @command
    def note_case_concluded(self, case_id: str, substantiated: bool, concluded_at: dt.datetime) -> None:
        case = self._case(case_id)
        if case is None or case.substantiated is None:
            self.record(CaseConcludedOnRecord(case_id, substantiated, concluded_at))

    @applies(CandidacyRecorded)
    def _on_candidacy(self, e: CandidacyRecorded) -> None:
        self.state.candidacies.append(e.process_id)

    @applies(CaseOnRecord)
    def _on_case(self, e: CaseOnRecord) -> None:
        self.state.cases.append(CaseHeld(e.case_id, e.process_id, e.opened_at))

    @applies(CaseConcludedOnRecord)
    def _on_case_concluded(self, e: CaseConcludedOnRecord) -> None:
        case = self._case(e.case_id)
        if case is None:  # concluded before this record heard it opened
            case = CaseHeld(e.case_id, None)
            self.state.cases.append(case)
        case.substantiated, case.concluded_at = e.substantiated, e.concluded_at

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
