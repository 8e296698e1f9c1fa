"""Dual cultivation, a branch's yearly rating and its affairs made public, at their boundaries.

Pure Python, no database, no broker. A pairing (a full member of the branch
with someone else, with goals; a goal met only if listed, and once); a rating
(once per branch and year, not for a year not begun; 70% criteria and 30%
survey, advanced from 90, good from 75, average from 60, weak under it or
with any problem listed, and a weak branch identified for supervision); the
affairs (a party or public scope, every day or more, publishing only what is
scheduled, a missed publication flagged after its due moment and once per
due date, the due date moving with each publication).
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager
from typing import Any

import pytest

from services.grassroots.domain.affairs import BranchAffairs
from services.grassroots.domain.events import (
    AffairsPublished,
    BranchRated,
    DualCultivationPaired,
    PairingGoalMet,
    PublicationMissed,
    PublicationScheduled,
    WeakBranchIdentified,
)
from services.grassroots.domain.pairing import Pairing
from services.grassroots.domain.rating import BranchRating, level_of, rating_id
from shared.errors import RuleViolation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FULL = {"m1", "m2", "m3"}
GOALS = ["join the party", "train two workers as members"]
SECOND = dt.timedelta(seconds=1)


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def recorded(aggregate: Any, command: Any) -> list[Any]:
    """Run ``command`` on the aggregate; give what it recorded."""
    before = len(aggregate.pending_events)
    command(aggregate)
    return list(aggregate.pending_events[before:])


# -- dual cultivation -----------------------------------------------------------------------


def pair(pairing: Pairing, member_id: str = "m1", entrepreneur_id: str = "e1", goals: list[str] = GOALS) -> None:
    pairing.pair("b1", member_id, entrepreneur_id, "Zhao Lei", "Zhao Tea Co.", goals, FULL, NOW)


def paired() -> Pairing:
    pairing = Pairing("pr1")
    pair(pairing)
    return pairing


def test_a_member_paired_is_a_full_member_of_the_branch() -> None:
    pairing = Pairing("pr1")
    with broken("pairing.member"):
        pair(pairing, member_id="p9")
    assert pairing.state.paired is False and pairing.version == 0 and pairing.pending_events == []
    pair(pairing, member_id="m2")
    assert pairing.pending_events == [DualCultivationPaired("b1", "m2", "e1", "Zhao Lei", "Zhao Tea Co.", GOALS, NOW)]


def test_a_pairing_has_goals() -> None:
    pairing = Pairing("pr1")
    with broken("pairing.goals"):
        pair(pairing, goals=[])
    assert pairing.state.paired is False
    pair(pairing, goals=["one goal"])
    assert pairing.state.goals == ["one goal"]


def test_a_member_is_paired_with_someone_else() -> None:
    with broken("pairing.two_people"):
        pair(Pairing("pr1"), member_id="m1", entrepreneur_id="m1")


def test_a_pairing_is_made_once() -> None:
    pairing = paired()
    with broken("pairing.once"):
        pair(pairing, goals=["another"])
    assert pairing.state.goals == GOALS


def test_only_a_listed_goal_is_met_and_once() -> None:
    pairing = paired()
    with broken("pairing.goal"):
        pairing.goal_met("open a shop", NOW)
    assert pairing.state.met == []
    assert recorded(pairing, lambda p: p.goal_met(GOALS[0], NOW)) == [PairingGoalMet(GOALS[0], NOW)]
    assert recorded(pairing, lambda p: p.goal_met(GOALS[0], NOW + SECOND)) == []
    assert pairing.state.met == [GOALS[0]]
    with broken("pairing.exists"):
        Pairing("pr2").goal_met(GOALS[0], NOW)


# -- the rating -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "survey", "level"),
    [
        (100, 100, "advanced"),
        (90, 90, "advanced"),  # 90.0
        (95, 78, "good"),  # 89.9
        (75, 75, "good"),  # 75.0
        (80, 63, "average"),  # 74.9
        (60, 60, "average"),  # 60.0
        (62, 55, "weak"),  # 59.9
        (0, 0, "weak"),
    ],
)
def test_the_level_is_seventy_percent_criteria_and_thirty_survey_at_its_thresholds(
    criteria: int, survey: int, level: str
) -> None:
    assert level_of(criteria, survey, []) == level


def test_the_weights_are_not_swapped() -> None:
    assert level_of(100, 67, []) == "advanced"  # 70 + 20.1 = 90.1
    assert level_of(67, 100, []) == "good"  # 46.9 + 30 = 76.9, though swapped weights would give 90.1


def test_any_problem_listed_makes_a_branch_weak_whatever_its_score() -> None:
    assert level_of(100, 100, ["the secretary's post is vacant"]) == "weak"


def rate(rating: BranchRating, criteria: int, survey: int, problems: list[str], year: int = 2025) -> list[Any]:
    return recorded(rating, lambda r: r.rate("b1", "Village branch", year, criteria, survey, problems, NOW))


def test_a_weak_branch_is_identified_for_supervision_with_its_problems() -> None:
    problems = ["no branch meeting for six months"]
    assert rate(BranchRating(rating_id(2025, "b1")), 100, 100, problems) == [
        BranchRated("b1", 2025, 100, 100, "weak", problems, NOW),
        WeakBranchIdentified("b1", "Village branch", 2025, problems, NOW),
    ]


def test_a_branch_weak_by_its_score_is_identified_with_the_score_as_its_problem() -> None:
    events = rate(BranchRating(rating_id(2025, "b1")), 62, 55, [])
    assert [type(e) for e in events] == [BranchRated, WeakBranchIdentified]
    weak = events[1]
    assert isinstance(weak, WeakBranchIdentified) and weak.problems == [
        "a score of 62 by the criteria and 55% satisfied"
    ]


def test_a_branch_rated_average_or_better_is_not_identified() -> None:
    rating = BranchRating(rating_id(2025, "b1"))
    assert rate(rating, 60, 60, []) == [BranchRated("b1", 2025, 60, 60, "average", [], NOW)]
    assert rating.state.level == "average"


def test_a_branch_is_rated_once_a_year() -> None:
    rating = BranchRating(rating_id(2025, "b1"))
    rate(rating, 80, 80, [])
    with broken("rating.once_a_year"):
        rate(rating, 95, 95, [])
    assert rating.state.level == "good" and rating.version == 1


def test_a_rating_is_of_its_own_branch_and_year() -> None:
    rating = BranchRating(rating_id(2024, "b1"))
    with broken("rating.id"):
        rate(rating, 80, 80, [], year=2025)
    assert rating.state.rated is False and rating.version == 0


def test_a_year_not_begun_is_not_rated() -> None:
    with broken("rating.year"):
        rate(BranchRating(rating_id(2027, "b1")), 80, 80, [], year=2027)
    assert rate(BranchRating(rating_id(2026, "b1")), 80, 80, [], year=2026)[0].year == 2026


# -- affairs made public --------------------------------------------------------------------


def scheduled(every_days: int = 30) -> BranchAffairs:
    affairs = BranchAffairs("b1")
    affairs.schedule("finances", "public", every_days, NOW)
    return affairs


def test_the_scope_is_the_party_or_the_public() -> None:
    affairs = BranchAffairs("b1")
    with broken("affairs.scope"):
        affairs.schedule("finances", "secret", 30, NOW)
    assert affairs.state.schedules == {} and affairs.version == 0
    affairs.schedule("finances", "party", 30, NOW)
    affairs.schedule("services", "public", 30, NOW)
    assert sorted(affairs.state.schedules) == ["finances", "services"]


@pytest.mark.parametrize("every_days", [0, -1])
def test_a_schedule_of_no_days_is_refused(every_days: int) -> None:
    with broken("affairs.every_days"):
        BranchAffairs("b1").schedule("finances", "public", every_days, NOW)


def test_a_schedule_of_one_day_is_accepted() -> None:
    assert scheduled(1).pending_events == [PublicationScheduled("finances", "public", 1, NOW)]


def test_only_a_scheduled_category_is_published() -> None:
    affairs = scheduled()
    with broken("affairs.scheduled"):
        affairs.publish("personnel", "Transfers", "...", NOW)
    assert affairs.version == 1
    assert recorded(affairs, lambda a: a.publish("finances", "Q1 accounts", "...", NOW)) == [
        AffairsPublished("finances", "public", "Q1 accounts", "...", NOW)
    ]


def test_a_publication_missed_is_flagged_after_its_due_moment_and_once() -> None:
    affairs = scheduled()
    due = NOW + dt.timedelta(days=30)
    assert recorded(affairs, lambda a: a.flag_missed(due)) == []
    assert affairs.overdue(due) is False
    late = due + SECOND
    assert affairs.overdue(late) is True
    assert recorded(affairs, lambda a: a.flag_missed(late)) == [PublicationMissed("finances", due, late)]
    assert recorded(affairs, lambda a: a.flag_missed(late + dt.timedelta(days=60))) == []
    assert affairs.overdue(late + dt.timedelta(days=60)) is False


def test_publishing_moves_the_due_date() -> None:
    affairs = scheduled()
    published_at = NOW + dt.timedelta(days=20)
    affairs.publish("finances", "Q1 accounts", "...", published_at)
    old_due = NOW + dt.timedelta(days=30)
    assert recorded(affairs, lambda a: a.flag_missed(old_due + SECOND)) == []
    new_due = published_at + dt.timedelta(days=30)
    assert recorded(affairs, lambda a: a.flag_missed(new_due)) == []
    assert recorded(affairs, lambda a: a.flag_missed(new_due + SECOND)) == [
        PublicationMissed("finances", new_due, new_due + SECOND)
    ]


def test_a_late_publication_opens_a_new_due_date_to_be_flagged_again() -> None:
    affairs = scheduled()
    first_due = NOW + dt.timedelta(days=30)
    affairs.flag_missed(first_due + SECOND)
    published_at = first_due + dt.timedelta(days=5)
    affairs.publish("finances", "Late accounts", "...", published_at)
    second_due = published_at + dt.timedelta(days=30)
    assert recorded(affairs, lambda a: a.flag_missed(second_due + SECOND)) == [
        PublicationMissed("finances", second_due, second_due + SECOND)
    ]


def test_each_category_is_flagged_on_its_own_due_date() -> None:
    affairs = scheduled(30)
    affairs.schedule("personnel", "party", 10, NOW)
    ten_days = NOW + dt.timedelta(days=10)
    assert recorded(affairs, lambda a: a.flag_missed(ten_days + SECOND)) == [
        PublicationMissed("personnel", ten_days, ten_days + SECOND)
    ]
