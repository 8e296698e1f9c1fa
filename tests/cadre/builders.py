"""Selections at a chosen phase, for the cadre tests."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.cadre.domain.events import Criterion, Post
from services.cadre.domain.selection import Eligibility, Kind, Round, SelectionProcess, Variant
from shared.domain.calendar import OrganisationCalendar
from shared.errors import RuleViolation

MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CALENDAR = OrganisationCalendar.shipped()
POSTS = [Post("p1", "Deputy head")]
CRITERIA = [
    Criterion("integrity", Decimal(40)),
    Criterion("ability", Decimal(30)),
    Criterion("performance", Decimal(30)),
]
SCORES = {"integrity": Decimal(90), "ability": Decimal(80), "performance": Decimal(70)}


def eligible(name: str = "X", hours: str = "40", grade: str | None = "competent") -> Eligibility:
    return Eligibility(name, grade, Decimal(hours))


def announced(
    variant: Variant = Variant.STANDARD, posts: list[Post] | None = None, min_hours: str = "0"
) -> SelectionProcess:
    process = SelectionProcess("s1")
    process.announce(
        "Deputy head, Qingshan",
        "Qingshan",
        Kind.PUBLIC_SELECTION,
        variant,
        posts or POSTS,
        Decimal(min_hours),
        None,
        MONDAY,
    )
    return process


def registered(candidates: tuple[str, ...] = ("c1", "c2", "c3"), **kwargs: object) -> SelectionProcess:
    process = announced(**kwargs)  # type: ignore[arg-type]
    process.open_registration(MONDAY)
    for cadre_id in candidates:
        process.register_candidate(cadre_id, eligible(cadre_id))
    return process


def recommend(process: SelectionProcess, ballots: list[list[str]], round: Round = Round.MEETING) -> None:
    """A secret recommendation round: one voter takes part per ballot, then the box is counted."""
    for n in range(len(ballots)):
        process.cast_recommendation(f"{round}-v{n}", round)
    process.count_recommendation(ballots, round)


def committee_vote(process: SelectionProcess, post_id: str, present: list[str], ballots: list[list[str]]) -> None:
    """A post's secret ballot: the members present take part, then the box is counted."""
    for member in present:
        process.cast_committee_vote(member, post_id)
    process.count_committee_vote(post_id, ballots)


def shortlisted(candidates: tuple[str, ...] = ("c1", "c2", "c3")) -> SelectionProcess:
    process = registered(candidates)
    process.open_recommendation(MONDAY)
    recommend(process, [["c1"], ["c2"]])
    process.draw_shortlist(list(candidates))
    return process


def assessed(candidates: tuple[str, ...] = ("c1", "c2", "c3")) -> SelectionProcess:
    process = shortlisted(candidates)
    process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)  # until the end of Thursday
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=4))
    for cadre_id in candidates:
        process.assess_candidate(cadre_id, "competent", SCORES, "assessor")
    return process


def nominated(approvals: dict[str, int] | None = None, members: int = 9, present: int = 9) -> SelectionProcess:
    """Committee of ``members``; ``approvals`` says how many present members approve each."""
    process = assessed()
    names = [f"m{i}" for i in range(members)]
    process.convene_committee(names, names[:present])
    counts = approvals or {"c1": 6, "c2": 2, "c3": 1}
    ballots = [[c for c, count in counts.items() if n < count] for n in range(present)]
    committee_vote(process, "p1", names[:present], ballots)
    process.conclude_committee_vote()
    return process


def on_notice() -> SelectionProcess:
    process = nominated()
    process.open_public_notice("notice-s1", MONDAY + dt.timedelta(days=7), 5, calendar=CALENDAR)
    return process


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break ``rule`` (a ``RuleViolation`` naming it)."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {rule}\]")
