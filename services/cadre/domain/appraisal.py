"""An appraisal cycle: one year, one post category, weighted criteria.

Each enrolled cadre submits a self review; reviewers then score every
criterion, and a reviewer's scores are locked once submitted. Closing
averages each cadre's weighted scores, grades them by the cycle's thresholds
and locks the cycle for good.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from services.cadre.domain.events import (
    AppraisalCycleClosed,
    AppraisalCycleOpened,
    AppraisalResult,
    CadreEnrolledForAppraisal,
    Criterion,
    GradeThresholds,
    ReviewerScoresSubmitted,
    SelfReviewSubmitted,
)
from services.cadre.domain.grades import grade_for
from shared.domain import Aggregate, applies, command

TWO_PLACES = Decimal("0.01")


@dataclass
class Subject:
    cadre_id: str
    self_review: str | None = None
    weighted_scores: dict[str, Decimal] = field(default_factory=dict)  # reviewer -> weighted score


@dataclass
class AppraisalState:
    opened: bool = False
    closed: bool = False
    year: int = 0
    post_category: str = ""
    criteria: list[Criterion] = field(default_factory=list)
    thresholds: GradeThresholds | None = None
    subjects: dict[str, Subject] = field(default_factory=dict)


class AppraisalCycle(Aggregate):
    category = "appraisal"
    State = AppraisalState
    snapshot_every = 100
    state: AppraisalState

    def _open(self) -> None:
        self.require(self.state.opened, "appraisal.opened", f"appraisal cycle {self.id} has not been opened")
        self.require(not self.state.closed, "appraisal.locked", f"appraisal cycle {self.id} is closed and locked")

    def _subject(self, cadre_id: str) -> Subject:
        subject = self.state.subjects.get(cadre_id)
        self.require(subject is not None, "appraisal.enrolled", f"{cadre_id} is not enrolled in cycle {self.id}")
        assert subject is not None
        return subject

    @command
    def open(self, year: int, post_category: str, criteria: list[Criterion], thresholds: GradeThresholds) -> None:
        self.require(not self.state.opened, "appraisal.open_once", f"appraisal cycle {self.id} is already open")
        self.require(bool(criteria), "appraisal.criteria", "a cycle needs at least one criterion")
        self.require(
            len({c.name for c in criteria}) == len(criteria),
            "appraisal.criteria_unique",
            "each criterion is named once",
        )
        self.require(all(c.weight > 0 for c in criteria), "appraisal.criteria_weight", "every weight is positive")
        self.require(
            thresholds.excellent > thresholds.competent > thresholds.basically_competent,
            "appraisal.thresholds",
            "thresholds must fall: excellent > competent > basically competent",
        )
        self.record(AppraisalCycleOpened(year, post_category, list(criteria), thresholds))

    @command
    def enrol(self, cadre_id: str) -> None:
        self._open()
        self.require(cadre_id not in self.state.subjects, "appraisal.enrol_once", f"{cadre_id} is already enrolled")
        self.record(CadreEnrolledForAppraisal(cadre_id))

    @command
    def submit_self_review(self, cadre_id: str, summary: str) -> None:
        self._open()
        subject = self._subject(cadre_id)
        self.require(
            subject.self_review is None, "appraisal.self_review_once", f"{cadre_id} has already reviewed themself"
        )
        self.record(SelfReviewSubmitted(cadre_id, summary))

    @command
    def submit_scores(self, cadre_id: str, reviewer_id: str, scores: dict[str, Decimal]) -> None:
        self._open()
        subject = self._subject(cadre_id)
        self.require(
            subject.self_review is not None,
            "appraisal.self_review_first",
            f"{cadre_id} has not submitted a self review yet; reviewers score after it",
        )
        self.require(reviewer_id != cadre_id, "appraisal.no_self_scoring", "a cadre does not score themself")
        self.require(
            reviewer_id not in subject.weighted_scores,
            "appraisal.scores_locked",
            f"{reviewer_id}'s scores for {cadre_id} are submitted and locked",
        )
        names = {c.name for c in self.state.criteria}
        self.require(
            set(scores) == names, "appraisal.scores_cover_criteria", f"score each criterion: {', '.join(sorted(names))}"
        )
        self.require(
            all(Decimal(0) <= s <= Decimal(100) for s in scores.values()),
            "appraisal.score_range",
            "scores run from 0 to 100",
        )
        weights = {c.name: c.weight for c in self.state.criteria}
        weighted = sum((weights[n] * scores[n] for n in names), Decimal(0)) / sum(weights.values(), Decimal(0))
        self.record(
            ReviewerScoresSubmitted(cadre_id, reviewer_id, dict(scores), weighted.quantize(TWO_PLACES, ROUND_HALF_UP))
        )

    @command
    def close(self, now: dt.datetime) -> None:
        self._open()
        unscored = sorted(c for c, s in self.state.subjects.items() if not s.weighted_scores)
        self.require(not unscored, "appraisal.unscored", f"no reviewer has scored: {', '.join(unscored)}")
        thresholds = self.state.thresholds
        assert thresholds is not None
        results = []
        for cadre_id, subject in sorted(self.state.subjects.items()):
            values = list(subject.weighted_scores.values())
            score = (sum(values, Decimal(0)) / len(values)).quantize(TWO_PLACES, ROUND_HALF_UP)
            grade = grade_for(score, thresholds.excellent, thresholds.competent, thresholds.basically_competent)
            results.append(AppraisalResult(cadre_id, score, grade, len(values)))
        self.record(AppraisalCycleClosed(results, now))

    @applies(AppraisalCycleOpened)
    def _opened(self, e: AppraisalCycleOpened) -> None:
        s = self.state
        s.opened, s.year, s.post_category, s.criteria, s.thresholds = (
            True,
            e.year,
            e.post_category,
            list(e.criteria),
            e.thresholds,
        )

    @applies(CadreEnrolledForAppraisal)
    def _enrolled(self, e: CadreEnrolledForAppraisal) -> None:
        self.state.subjects[e.cadre_id] = Subject(e.cadre_id)

    @applies(SelfReviewSubmitted)
    def _self_review(self, e: SelfReviewSubmitted) -> None:
        self.state.subjects[e.cadre_id].self_review = e.summary

    @applies(ReviewerScoresSubmitted)
    def _scores(self, e: ReviewerScoresSubmitted) -> None:
        self.state.subjects[e.cadre_id].weighted_scores[e.reviewer_id] = e.weighted

    @applies(AppraisalCycleClosed)
    def _closed(self, e: AppraisalCycleClosed) -> None:
        self.state.closed = True
