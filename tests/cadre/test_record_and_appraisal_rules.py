"""The cadre record's and the appraisal cycle's rules: pure Python."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.cadre.domain.appraisal import AppraisalCycle
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.events import AppraisalCycleClosed, Criterion, GradeThresholds
from services.cadre.domain.grades import grade_for
from shared.errors import RuleViolation

NOW = dt.datetime(2026, 12, 20, tzinfo=dt.UTC)
THRESHOLDS = GradeThresholds(Decimal(90), Decimal(75), Decimal(60))
CRITERIA = [Criterion("integrity", Decimal(1)), Criterion("ability", Decimal(1)), Criterion("performance", Decimal(2))]


def broken(rule: str) -> AbstractContextManager[Any]:
    return pytest.raises(RuleViolation, match=rf"\[rule: {rule}\]")


def cadre() -> CadreRecord:
    record = CadreRecord("c1")
    record.register("Li Ming", "Qingshan township", "township", leadership_team=True, head_of_unit=False)
    return record


def test_a_cadre_is_registered_once_and_must_be_on_record_first() -> None:
    record = cadre()
    with broken("cadre.register_once"):
        record.register("Li Ming", "x", "y", False, False)
    with broken("cadre.registered"):
        CadreRecord("c2").commend("outstanding_township_party_secretary", 2026, "for service")


def test_the_head_of_a_unit_is_in_its_leadership_team() -> None:
    record = cadre()
    with broken("cadre.head_of_unit_in_team"):
        record.change_roles(leadership_team=False, head_of_unit=True)
    record.change_roles(leadership_team=True, head_of_unit=True)
    assert record.state.head_of_unit


def test_commendations_once_a_year_per_title() -> None:
    record = cadre()
    record.commend("outstanding_township_party_secretary", 2026, "for service")
    with broken("cadre.commended_once"):
        record.commend("outstanding_township_party_secretary", 2026, "again")
    record.commend("outstanding_township_party_secretary", 2027, "for more service")
    assert len(record.state.commendations) == 2


def test_the_latest_grade_is_the_most_recent_years() -> None:
    record = cadre()
    assert record.latest_grade is None
    record.record_appraisal("y2026", 2026, "incompetent", Decimal(50))
    record.record_appraisal("y2025", 2025, "excellent", Decimal(95))  # recorded later, older year
    assert record.latest_grade == "incompetent"
    with broken("cadre.appraisal_once"):
        record.record_appraisal("y2026", 2026, "competent", Decimal(80))


def test_training_credits_are_noted_only_when_they_change() -> None:
    record = cadre()
    record.note_training_credits(2026, Decimal("12.5"))
    record.note_training_credits(2026, Decimal("12.5"))
    assert len(record.pending_events) == 2  # registered + one credit note
    assert record.credit_hours(2026) == Decimal("12.5") and record.credit_hours(2025) == 0


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("95", "excellent"),
        ("90", "excellent"),
        ("89.99", "competent"),
        ("75", "competent"),
        ("60", "basically_competent"),
        ("59.99", "incompetent"),
    ],
)
def test_grades_follow_the_thresholds(score: str, grade: str) -> None:
    assert grade_for(Decimal(score), Decimal(90), Decimal(75), Decimal(60)) == grade


def opened() -> AppraisalCycle:
    cycle = AppraisalCycle("y2026")
    cycle.open(2026, "township", CRITERIA, THRESHOLDS)
    cycle.enrol("c1")
    cycle.enrol("c2")
    return cycle


def test_thresholds_must_fall() -> None:
    with broken("appraisal.thresholds"):
        AppraisalCycle("x").open(2026, "t", CRITERIA, GradeThresholds(Decimal(70), Decimal(75), Decimal(60)))


def test_reviewers_score_after_the_self_review_and_their_scores_lock() -> None:
    cycle = opened()
    scores = {"integrity": Decimal(80), "ability": Decimal(90), "performance": Decimal(70)}
    with broken("appraisal.self_review_first"):
        cycle.submit_scores("c1", "r1", scores)
    cycle.submit_self_review("c1", "my year")
    with broken("appraisal.self_review_once"):
        cycle.submit_self_review("c1", "my year again")
    with broken("appraisal.no_self_scoring"):
        cycle.submit_scores("c1", "c1", scores)
    cycle.submit_scores("c1", "r1", scores)
    with broken("appraisal.scores_locked"):
        cycle.submit_scores("c1", "r1", {**scores, "ability": Decimal(100)})
    with broken("appraisal.scores_cover_criteria"):
        cycle.submit_scores("c1", "r2", {"integrity": Decimal(80)})
    with broken("appraisal.enrolled"):
        cycle.submit_self_review("c9", "who am I")


def test_closing_grades_everyone_and_locks_the_cycle() -> None:
    cycle = opened()
    for cadre_id in ("c1", "c2"):
        cycle.submit_self_review(cadre_id, "my year")
    with broken("appraisal.unscored"):
        cycle.close(NOW)
    cycle.submit_scores(
        "c1", "r1", {"integrity": Decimal(100), "ability": Decimal(90), "performance": Decimal(90)}
    )  # 92.5
    cycle.submit_scores(
        "c1", "r2", {"integrity": Decimal(80), "ability": Decimal(80), "performance": Decimal(90)}
    )  # 85
    cycle.submit_scores(
        "c2", "r1", {"integrity": Decimal(50), "ability": Decimal(50), "performance": Decimal(60)}
    )  # 55
    cycle.close(NOW)
    closed = cycle.pending_events[-1]
    assert isinstance(closed, AppraisalCycleClosed)
    assert [(r.cadre_id, r.score, r.grade, r.reviewers) for r in closed.results] == [
        ("c1", Decimal("88.75"), "competent", 2),
        ("c2", Decimal("55.00"), "incompetent", 1),
    ]
    with broken("appraisal.locked"):
        cycle.enrol("c3")
    with broken("appraisal.locked"):
        cycle.close(NOW)


def test_the_record_gathers_three_years_of_grades_five_years_of_training_and_findings_within_their_period() -> None:
    """Finding 6: two cycles in one year both count; in January the hours of the years before still count; a
    substantiated finding bars promotion for a year, a pending case until it concludes."""
    record = CadreRecord("c1")
    record.register("Li Ming", "Qingshan", "township", False, False)
    record.record_appraisal("y1", 2026, "incompetent", Decimal(50))
    record.record_appraisal("y2", 2026, "excellent", Decimal(95))  # a second cycle the same year
    record.record_appraisal("y0", 2023, "incompetent", Decimal(50))  # older than three years
    record.note_training_credits(2023, Decimal(10))
    record.note_training_credits(2025, Decimal(30))
    record.note_training_credits(2022, Decimal(99))  # outside the five years (2023-2027)
    january = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)
    record.note_case_opened("k1", None, january - dt.timedelta(days=400))
    record.note_case_concluded("k1", True, january - dt.timedelta(days=366))  # a year and a day ago: spent
    record.note_case_opened("k2", "s1", january - dt.timedelta(days=30))
    record.note_case_concluded("k2", True, january - dt.timedelta(days=20))
    record.note_case_opened("k3", None, january - dt.timedelta(days=2))
    record.note_case_opened("k4", None, january - dt.timedelta(days=2))
    record.note_case_concluded("k4", False, january - dt.timedelta(days=1))
    eligibility = record.eligibility(january)
    assert record.latest_grade == "excellent"
    assert eligibility.grades == ("incompetent", "excellent")
    assert eligibility.credit_hours == Decimal(40)
    assert eligibility.findings == ("k2",)
    assert eligibility.open_cases == ("k3",)
