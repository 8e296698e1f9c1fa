"""A talent program: launched with its rules, applied for in its window, selected within quota, on notice, confirmed.

Applications are taken only inside the window (from its opening, until it
closes) and only from people the eligibility admits; the review panel selects
among the applicants, within the quota, once the window has closed. The
selection goes on public notice (``NoticeOpened``, kind ``program_selection``)
and objections through feedback reach supervision: a case about someone
selected holds the confirmation, and a substantiated one withdraws their
selection. Confirmed, the incentive is granted to each (on their talent record).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from services.talent.domain.events import (
    ApplicationTaken,
    CandidatesSelected,
    Eligibility,
    ObjectionCaseNoted,
    ObjectionOutcomeNoted,
    ProgramLaunched,
    SelectionConfirmed,
)
from services.talent.domain.kinds import ProgramKind, RetentionWay
from shared.domain import Aggregate, applies, command
from shared.domain.calendar import OrganisationCalendar
from shared.domain.notices import NoticeKind, NoticeOpened

MIN_PANEL = 3
NOTICE_WORKING_DAYS = 5


def decision_id(program_id: str) -> str:
    """What the selection's notice holds, as supervision's cases name it."""
    return f"program:{program_id}"


class ProgramPhase(StrEnum):
    LAUNCHED = "launched"
    SELECTED = "selected"
    ON_NOTICE = "on_notice"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Applicant:
    """What the eligibility is checked against: the applicant's talent record."""

    team: str
    level: str
    source: str
    active: bool


def eligible(rules: Eligibility, applicant: Applicant) -> bool:
    return applicant.active and all(
        not wanted or have in wanted
        for wanted, have in (
            (rules.teams, applicant.team),
            (rules.levels, applicant.level),
            (rules.sources, applicant.source),
        )
    )


@dataclass
class ProgramState:
    phase: ProgramPhase | None = None
    title: str = ""
    kind: str = ""
    eligibility: Eligibility = field(default_factory=Eligibility)
    quota: int = 0
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    panel: list[str] = field(default_factory=list)
    incentive: str = ""
    incentive_months: int = 0
    applicants: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    notice_closes_at: dt.datetime | None = None
    open_cases: dict[str, str] = field(default_factory=dict)
    withdrawn: list[str] = field(default_factory=list)


class TalentProgram(Aggregate):
    category = "program"
    State = ProgramState
    state: ProgramState

    def _in(self, phase: ProgramPhase, doing: str) -> None:
        self.require(self.state.phase is not None, "program.exists", f"program {self.id} does not exist")
        self.require(
            self.state.phase is phase,
            f"program.{doing}",
            f"program {self.id} is {self.state.phase}: cannot {doing.replace('_', ' ')} now",
        )

    def concerns(self, person_id: str) -> bool:
        return person_id in self.state.selected and self.state.phase in (ProgramPhase.SELECTED, ProgramPhase.ON_NOTICE)

    @command
    def launch(
        self,
        title: str,
        kind: ProgramKind,
        retention_way: RetentionWay | None,
        eligibility: Eligibility,
        quota: int,
        opens_at: dt.datetime,
        closes_at: dt.datetime,
        panel: list[str],
        incentive: str,
        incentive_months: int,
        now: dt.datetime,
    ) -> None:
        self.require(self.state.phase is None, "program.launch_once", f"program {self.id} exists already")
        self.require(quota > 0, "program.quota", "a program selects at least one person")
        self.require(closes_at > opens_at, "program.window", "the application window closes after it opens")
        self.require(
            (retention_way is not None) == (kind is ProgramKind.RETENTION),
            "program.retention_way",
            "a retention program keeps talent by career, care or pay; other kinds name no way",
        )
        members = list(dict.fromkeys(panel))
        self.require(len(members) >= MIN_PANEL, "program.panel", f"a review panel has at least {MIN_PANEL} members")
        self.record(
            ProgramLaunched(
                title,
                kind.value,
                retention_way.value if retention_way else None,
                eligibility,
                quota,
                opens_at,
                closes_at,
                members,
                incentive,
                incentive_months,
                now,
            )
        )

    @command
    def take_application(self, person_id: str, applicant: Applicant, now: dt.datetime) -> None:
        self._in(ProgramPhase.LAUNCHED, doing="apply")
        s = self.state
        assert s.opens_at is not None and s.closes_at is not None
        self.require(
            s.opens_at <= now < s.closes_at,
            "program.window",
            f"applications are taken from {s.opens_at.isoformat()} until {s.closes_at.isoformat()}",
        )
        self.require(person_id not in s.applicants, "program.apply_once", f"{person_id} has applied already")
        self.require(eligible(s.eligibility, applicant), "program.eligible", f"{person_id} is not eligible")
        self.record(ApplicationTaken(person_id, now))

    @command
    def select(self, person_ids: list[str], now: dt.datetime) -> None:
        """The review panel's choice among the applicants, once the window has closed, within the quota."""
        self._in(ProgramPhase.LAUNCHED, doing="select")
        s = self.state
        assert s.closes_at is not None
        self.require(now >= s.closes_at, "program.window_closed_first", "select once the window has closed")
        chosen = list(dict.fromkeys(person_ids))
        strangers = [p for p in chosen if p not in s.applicants]
        self.require(not strangers, "program.applicants", f"did not apply: {', '.join(strangers)}")
        self.require(1 <= len(chosen) <= s.quota, "program.quota", f"select 1 to {s.quota} (the quota)")
        self.record(CandidatesSelected(chosen, now))

    @command
    def open_notice(
        self, notice_id: str, unit: str, working_days: int, calendar: OrganisationCalendar, now: dt.datetime
    ) -> None:
        self._in(ProgramPhase.SELECTED, doing="open_the_notice")
        self.require(
            working_days >= NOTICE_WORKING_DAYS,
            "program.notice_days",
            f"a selection is on notice for at least {NOTICE_WORKING_DAYS} working days",
        )
        closes_at = calendar.end_of_working_days(now, working_days)
        self.record(
            NoticeOpened(
                notice_id,
                NoticeKind.PROGRAM_SELECTION,
                decision_id(self.id),
                list(self.state.selected),
                f"Selected for {self.state.title}",
                unit,
                now,
                closes_at,
                working_days,
            )
        )

    @command
    def note_case(self, case_id: str, person_id: str, now: dt.datetime) -> None:
        if self.concerns(person_id) and case_id not in self.state.open_cases:
            self.record(ObjectionCaseNoted(case_id, person_id, now))

    @command
    def note_outcome(self, case_id: str, substantiated: bool, now: dt.datetime) -> None:
        """The case's outcome, about the person it was noted about."""
        person_id = self.state.open_cases.get(case_id)
        if person_id is not None:
            self.record(ObjectionOutcomeNoted(case_id, person_id, substantiated, now))

    @command
    def confirm(self, now: dt.datetime) -> list[str]:
        """The notice closed with no objection open: the selection stands, less those a finding withdrew."""
        self._in(ProgramPhase.ON_NOTICE, doing="confirm")
        s = self.state
        assert s.notice_closes_at is not None
        self.require(
            now >= s.notice_closes_at,
            "program.notice_closed_first",
            f"the selection is on notice until {s.notice_closes_at.isoformat()}",
        )
        self.require(
            not s.open_cases,
            "program.case_open",
            f"an objection is still under investigation: {', '.join(sorted(s.open_cases))}",
        )
        kept = [p for p in s.selected if p not in s.withdrawn]
        self.record(SelectionConfirmed(kept, list(s.withdrawn), now))
        return kept

    @applies(ProgramLaunched)
    def _launched(self, e: ProgramLaunched) -> None:
        s = self.state
        s.phase, s.title, s.kind, s.eligibility, s.quota = (
            ProgramPhase.LAUNCHED,
            e.title,
            e.kind,
            e.eligibility,
            e.quota,
        )
        s.opens_at, s.closes_at, s.panel = e.opens_at, e.closes_at, list(e.panel)
        s.incentive, s.incentive_months = e.incentive, e.incentive_months

    @applies(ApplicationTaken)
    def _applied(self, e: ApplicationTaken) -> None:
        self.state.applicants.append(e.person_id)

    @applies(CandidatesSelected)
    def _selected(self, e: CandidatesSelected) -> None:
        self.state.phase, self.state.selected = ProgramPhase.SELECTED, list(e.person_ids)

    @applies(NoticeOpened)
    def _notice(self, e: NoticeOpened) -> None:
        self.state.phase, self.state.notice_closes_at = ProgramPhase.ON_NOTICE, e.closes_at

    @applies(ObjectionCaseNoted)
    def _case(self, e: ObjectionCaseNoted) -> None:
        self.state.open_cases[e.case_id] = e.person_id

    @applies(ObjectionOutcomeNoted)
    def _outcome(self, e: ObjectionOutcomeNoted) -> None:
        self.state.open_cases.pop(e.case_id, None)
        if e.substantiated and e.person_id not in self.state.withdrawn:
            self.state.withdrawn.append(e.person_id)

    @applies(SelectionConfirmed)
    def _confirmed(self, e: SelectionConfirmed) -> None:
        self.state.phase = ProgramPhase.CONFIRMED
