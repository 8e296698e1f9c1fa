"""A branch's rating for a year (三级联创, with a social evaluation): once a year, from the higher
committee's criteria and a public survey.

The score is 70% criteria and 30% the public's satisfaction. A branch scoring
under 60, or one the higher committee finds has any of the problems that mark
a weak and lax branch (软弱涣散), is rated weak: ``WeakBranchIdentified``, and
supervision opens a follow-up inspection task for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.grassroots.domain.events import BranchRated, WeakBranchIdentified
from shared.domain import Aggregate, applies, command

#: The levels, by the lowest score each takes.
LEVELS = (("advanced", 90), ("good", 75), ("average", 60))
WEAK = "weak"
CRITERIA_WEIGHT, SURVEY_WEIGHT = 7, 3


def rating_id(year: int, branch_id: str) -> str:
    return f"{year}:{branch_id}"


def level_of(criteria_score: int, survey_satisfaction: int, problems: list[str]) -> str:
    if problems:
        return WEAK
    score = (criteria_score * CRITERIA_WEIGHT + survey_satisfaction * SURVEY_WEIGHT) / (CRITERIA_WEIGHT + SURVEY_WEIGHT)
    return next((level for level, lowest in LEVELS if score >= lowest), WEAK)


@dataclass
class RatingState:
    rated: bool = False
    level: str = ""


class BranchRating(Aggregate):
    category = "rating"
    State = RatingState
    state: RatingState

    @command
    def rate(
        self,
        branch_id: str,
        name: str,
        year: int,
        criteria_score: int,
        survey_satisfaction: int,
        problems: list[str],
        now: dt.datetime,
    ) -> None:
        self.require(not self.state.rated, "rating.once_a_year", f"{branch_id} is rated for {year} already")
        self.require(self.id == rating_id(year, branch_id), "rating.id", "a rating is of one branch and one year")
        self.require(year <= now.year, "rating.year", f"{year} has not begun")
        level = level_of(criteria_score, survey_satisfaction, problems)
        self.record(BranchRated(branch_id, year, criteria_score, survey_satisfaction, level, list(problems), now))
        if level == WEAK:
            found = list(problems) or [
                f"a score of {criteria_score} by the criteria and {survey_satisfaction}% satisfied"
            ]
            self.record(WeakBranchIdentified(branch_id, name, year, found, now))

    @applies(BranchRated)
    def _rated(self, e: BranchRated) -> None:
        self.state.rated, self.state.level = True, e.level

    @applies(WeakBranchIdentified)
    def _weak(self, e: WeakBranchIdentified) -> None:
        pass
