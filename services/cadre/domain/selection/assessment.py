"""The assessment preview notice (考察预告) and the differential assessment (差额考察)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from services.cadre.domain.events import (
    AssessmentPreviewPublished,
    AssessmentStarted,
    CandidateAssessed,
    Criterion,
)
from services.cadre.domain.grades import GRADES
from services.cadre.domain.selection.base import SelectionBase
from services.cadre.domain.selection.state import (
    Phase,
    Window,
)
from shared.domain import applies, command
from shared.domain.calendar import OrganisationCalendar
from shared.domain.notices import NoticeKind, NoticeOpened

TWO_PLACES = Decimal("0.01")


class AssessmentSteps(SelectionBase):
    @command
    def publish_assessment_preview(
        self, notice_id: str, now: dt.datetime, working_days: int, *, calendar: OrganisationCalendar
    ) -> None:
        """The preview runs whole working days on the organisation's calendar (holidays and make-up days)."""
        self._step("publish_assessment_preview")
        self.require(
            working_days >= 1, "selection.preview_days", "a preview notice stays open at least one working day"
        )
        subjects = [c.cadre_id for c in self.shortlisted]
        closes_at = calendar.end_of_working_days(now, working_days)
        self.record(AssessmentPreviewPublished(notice_id, self.state.title, self.state.unit, subjects, now, closes_at))
        self.record(
            NoticeOpened(
                notice_id,
                NoticeKind.ASSESSMENT_PREVIEW,
                self.id,
                list(subjects),
                self.state.title,
                self.state.unit,
                now,
                closes_at,
                working_days,
            )
        )

    @command
    def start_assessment(self, criteria: list[Criterion], now: dt.datetime) -> None:
        self._step("start_assessment")
        preview = self.state.preview
        assert preview is not None
        self.require(
            now >= preview.closes_at,
            "selection.preview_open",
            f"the assessment preview notice is open until {preview.closes_at.isoformat()}; "
            "the public may still comment",
        )
        self.require(bool(criteria), "selection.criteria", "an assessment needs at least one criterion")
        self.require(
            len({c.name for c in criteria}) == len(criteria),
            "selection.criteria_unique",
            "each criterion is named once",
        )
        self.require(all(c.weight > 0 for c in criteria), "selection.criteria_weight", "every weight is positive")
        self.record(AssessmentStarted(list(criteria), now))

    @command
    def assess_candidate(self, cadre_id: str, qualitative: str, scores: dict[str, Decimal], assessor: str) -> None:
        self._step("assess_candidate")
        candidate = self._candidate(cadre_id)
        self.require(candidate.shortlisted, "selection.assess_shortlisted", f"{cadre_id} is not on the shortlist")
        self.require(
            candidate.weighted_total is None, "selection.assessed_once", f"{cadre_id} has been assessed already"
        )
        self.require(
            qualitative in GRADES, "selection.qualitative_grade", f"the qualitative grade is one of {', '.join(GRADES)}"
        )
        names = {c.name for c in self.state.criteria}
        self.require(
            set(scores) == names,
            "selection.scores_cover_criteria",
            f"give one score for each criterion: {', '.join(sorted(names))}",
        )
        self.require(
            all(Decimal(0) <= s <= Decimal(100) for s in scores.values()),
            "selection.score_range",
            "scores run from 0 to 100",
        )
        weights = {c.name: c.weight for c in self.state.criteria}
        total = sum((weights[n] * scores[n] for n in names), Decimal(0)) / sum(weights.values(), Decimal(0))
        self.record(
            CandidateAssessed(
                cadre_id, qualitative, dict(scores), weights, total.quantize(TWO_PLACES, ROUND_HALF_UP), assessor
            )
        )

    @applies(AssessmentPreviewPublished)
    def _preview(self, e: AssessmentPreviewPublished) -> None:
        self.state.phase = Phase.PREVIEW
        self.state.preview = Window(e.notice_id, e.opens_at, e.closes_at)

    @applies(AssessmentStarted)
    def _assessment_started(self, e: AssessmentStarted) -> None:
        self.state.phase = Phase.ASSESSMENT
        self.state.criteria = list(e.criteria)

    @applies(CandidateAssessed)
    def _assessed(self, e: CandidateAssessed) -> None:
        candidate = self.state.candidates[e.cadre_id]
        candidate.qualitative, candidate.weighted_total = e.qualitative, e.weighted_total
