"""A learner's ledger: who they are, the hours credited year by year, and what they still owe.

One per person (``person_id``; for a cadre, the cadre id). It keeps:

- the profile audiences are checked against (post category, level, member stage);
- credits by year, classroom and online apart, and the total counted for each
  year (``CreditTotalUpdated``, the figure cadre reads, online hours capped);
- induction owed on appointment to a leading post (任职培训): completed in the
  year before the appointment, or within the year after it, else flagged;
- placements awaited: an automatic enrolment that found no program of its kind open;
- each ended year reviewed against the department's requirement, once;
- the learner's own plan (个性化).

《干部教育培训工作条例》(2015) 第十四条 (提任领导职务的, 应当在提任前或者提任后一年内参加任职培训):
induction before the appointment or within one year after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from services.training.domain.credits import counted_hours
from services.training.domain.events import (
    CreditsAwarded,
    CreditTotalUpdated,
    IndividualPlanSet,
    InductionDue,
    InductionSatisfied,
    LearnerProfiled,
    PlacementAwaited,
    PlacementMade,
    RequirementMet,
    RequirementShortfallFlagged,
)
from services.training.domain.kinds import ProgramKind
from shared.domain import Aggregate, applies, command
from shared.domain.calendar import years_after

#: Induction counts when completed this long before the appointment, or up to this long after it.
INDUCTION_PERIOD_YEARS = 1

YEARLY = "yearly"
INDUCTION = "induction"


@dataclass(frozen=True)
class Requirement:
    """What the department requires of a post category for a year (``RequirementSet``)."""

    hours: Decimal
    required_kinds: list[str]
    online_share: Decimal


@dataclass
class YearHours:
    offline: Decimal = Decimal(0)
    online: Decimal = Decimal(0)


@dataclass
class Completion:
    program_id: str
    kind: str
    online: bool
    required: bool
    year: int
    hours: Decimal
    completed_at: dt.datetime


@dataclass
class Induction:
    post_id: str
    appointed_at: dt.datetime
    due_by: dt.datetime
    satisfied_by: str | None = None
    flagged: bool = False


@dataclass
class Plan:
    target_hours: Decimal
    kinds: list[str]
    note: str | None


@dataclass
class LedgerState:
    profiled: bool = False
    name: str = ""
    unit: str = ""
    post_category: str | None = None
    level: str | None = None
    member_stage: str | None = None
    cadre: bool = False
    years: dict[str, YearHours] = field(default_factory=dict)
    published: dict[str, Decimal] = field(default_factory=dict)  # year -> the total last published
    completions: list[Completion] = field(default_factory=list)
    awaiting: list[str] = field(default_factory=list)  # kinds awaiting a placement
    inductions: list[Induction] = field(default_factory=list)
    reviewed: list[int] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)


class LearnerLedger(Aggregate):
    category = "learner"
    State = LedgerState
    state: LedgerState
    snapshot_every = 50

    # -- reading ------------------------------------------------------------------------------

    def year_hours(self, year: int) -> YearHours:
        return self.state.years.get(str(year), YearHours())

    def counted(self, year: int, online_share: Decimal) -> Decimal:
        h = self.year_hours(year)
        return counted_hours(h.offline, h.online, online_share)

    def kinds_completed(self, year: int) -> set[str]:
        return {c.kind for c in self.state.completions if c.year == year}

    def _on_record(self) -> None:
        self.require(self.state.profiled, "learner.on_record", f"{self.id} is not a learner on record")

    # -- commands ------------------------------------------------------------------------------

    @command
    def profile(
        self,
        name: str,
        unit: str,
        post_category: str | None,
        level: str | None,
        member_stage: str | None,
        cadre: bool,
    ) -> None:
        s = self.state
        now = (s.name, s.unit, s.post_category, s.level, s.member_stage, s.cadre)
        if not s.profiled or now != (name, unit, post_category, level, member_stage, cadre):
            self.record(LearnerProfiled(name, unit, post_category, level, member_stage, cadre))

    @command
    def award(
        self,
        program_id: str,
        kind: str,
        online: bool,
        required: bool,
        hours: Decimal,
        completed_at: dt.datetime,
        online_share: Decimal,
    ) -> None:
        """Credit a completed program's hours (once per program), and publish the year's new total."""
        self._on_record()
        if any(c.program_id == program_id for c in self.state.completions):
            return
        year = completed_at.year
        self.record(CreditsAwarded(program_id, kind, online, required, year, hours, completed_at))
        self._publish_total(year, online_share)
        if kind == ProgramKind.INDUCTION:
            # done late, it still satisfies what is owed; the shortfall flagged stays on the record
            for owed in self.state.inductions:
                since = years_after(owed.appointed_at, -INDUCTION_PERIOD_YEARS)
                if owed.satisfied_by is None and since <= completed_at:
                    self.record(InductionSatisfied(owed.post_id, program_id, completed_at))

    def _publish_total(self, year: int, online_share: Decimal) -> None:
        total = self.counted(year, online_share)
        if self.state.published.get(str(year)) != total:
            self.record(CreditTotalUpdated(self.id, year, total))

    @command
    def publish_totals_again(self) -> None:
        """Every year's total as last published, once more (a cadre registered after their training)."""
        for year, total in sorted(self.state.published.items()):
            self.record(CreditTotalUpdated(self.id, int(year), total))

    @command
    def recount(self, year: int, online_share: Decimal) -> None:
        """The year's total under a requirement's new online share, published when it changes."""
        if str(year) in self.state.years:
            self._publish_total(year, online_share)

    @command
    def await_placement(self, kind: str, source: str, reason: str, now: dt.datetime) -> None:
        self._on_record()
        if kind not in self.state.awaiting:
            self.record(PlacementAwaited(kind, source, reason, now))

    @command
    def placed(self, kind: str, program_id: str) -> None:
        if kind in self.state.awaiting:
            self.record(PlacementMade(kind, program_id))

    @command
    def owe_induction(self, post_id: str, appointed_at: dt.datetime) -> bool:
        """Appointed to a leading post: induction is due within a year. True when it is still to be done."""
        self._on_record()
        if any(i.post_id == post_id for i in self.state.inductions):
            return False  # told of this appointment already
        due_by = years_after(appointed_at, INDUCTION_PERIOD_YEARS)
        self.record(InductionDue(self.id, post_id, appointed_at, due_by))
        # done in the year before, or done since (the appointment may reach the ledger after the training),
        # it counts, as ``award`` counts it when the training comes second
        since = years_after(appointed_at, -INDUCTION_PERIOD_YEARS)
        done = [c for c in self.state.completions if c.kind == ProgramKind.INDUCTION and since <= c.completed_at]
        if done:
            latest = max(done, key=lambda c: c.completed_at)
            self.record(InductionSatisfied(post_id, latest.program_id, latest.completed_at))
            return False
        return True

    @command
    def flag_overdue_inductions(self, now: dt.datetime) -> None:
        for owed in self.state.inductions:
            if owed.satisfied_by is None and not owed.flagged and owed.due_by < now:
                self.record(
                    RequirementShortfallFlagged(
                        self.id,
                        self.state.unit,
                        owed.due_by.year,
                        INDUCTION,
                        Decimal(0),
                        Decimal(0),
                        [ProgramKind.INDUCTION.value],
                        owed.post_id,
                        now,
                    )
                )

    @command
    def review_year(self, year: int, requirement: Requirement, now: dt.datetime) -> None:
        """The year has ended: its requirement met, or the shortfall flagged (once a year)."""
        self._on_record()
        self.require(year < now.year, "requirement.year_ended", f"{year} has not ended")
        if year in self.state.reviewed:
            return
        counted = self.counted(year, requirement.online_share)
        missing = sorted(set(requirement.required_kinds) - self.kinds_completed(year))
        if counted >= requirement.hours and not missing:
            self.record(RequirementMet(self.id, year, counted, now))
        else:
            self.record(
                RequirementShortfallFlagged(
                    self.id, self.state.unit, year, YEARLY, requirement.hours, counted, missing, None, now
                )
            )

    @command
    def set_plan(self, year: int, target_hours: Decimal, kinds: list[str], note: str | None) -> None:
        self._on_record()
        self.record(IndividualPlanSet(year, target_hours, list(kinds), note))

    # -- state ----------------------------------------------------------------------------------

    @applies(LearnerProfiled)
    def _profiled(self, e: LearnerProfiled) -> None:
        s = self.state
        s.profiled, s.name, s.unit, s.post_category, s.level, s.member_stage, s.cadre = (
            True,
            e.name,
            e.unit,
            e.post_category,
            e.level,
            e.member_stage,
            e.cadre,
        )

    @applies(CreditsAwarded)
    def _awarded(self, e: CreditsAwarded) -> None:
        hours = self.state.years.setdefault(str(e.year), YearHours())
        if e.online:
            hours.online += e.hours
        else:
            hours.offline += e.hours
        self.state.completions.append(
            Completion(e.program_id, e.kind, e.online, e.required, e.year, e.hours, e.completed_at)
        )

    @applies(CreditTotalUpdated)
    def _total(self, e: CreditTotalUpdated) -> None:
        self.state.published[str(e.year)] = e.total_hours

    @applies(PlacementAwaited)
    def _awaited(self, e: PlacementAwaited) -> None:
        self.state.awaiting.append(e.kind)

    @applies(PlacementMade)
    def _placed(self, e: PlacementMade) -> None:
        self.state.awaiting.remove(e.kind)

    @applies(InductionDue)
    def _induction_due(self, e: InductionDue) -> None:
        self.state.inductions.append(Induction(e.post_id, e.appointed_at, e.due_by))

    @applies(InductionSatisfied)
    def _induction_done(self, e: InductionSatisfied) -> None:
        for owed in self.state.inductions:
            if owed.post_id == e.post_id:
                owed.satisfied_by = e.program_id

    @applies(RequirementShortfallFlagged)
    def _shortfall(self, e: RequirementShortfallFlagged) -> None:
        if e.requirement == INDUCTION:
            for owed in self.state.inductions:
                if owed.post_id == e.post_id:
                    owed.flagged = True
        else:
            self.state.reviewed.append(e.year)

    @applies(RequirementMet)
    def _met(self, e: RequirementMet) -> None:
        self.state.reviewed.append(e.year)

    @applies(IndividualPlanSet)
    def _plan(self, e: IndividualPlanSet) -> None:
        self.state.plans[str(e.year)] = Plan(e.target_hours, list(e.kinds), e.note)
