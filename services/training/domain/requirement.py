"""The department's training requirement for a year: hours and required kinds per post category.

One aggregate per year (``requirement-<year>``); each ``RequirementSet`` sets
one post category's requirement, and the latest set for a category is the one
that holds. The online share a year's hours are counted with is part of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from services.training.domain.events import RequirementSet
from services.training.domain.ledger import Requirement
from shared.domain import Aggregate, applies, command


@dataclass
class RequirementsState:
    year: int = 0
    by_category: dict[str, Requirement] = field(default_factory=dict)


class YearRequirements(Aggregate):
    category = "requirement"
    State = RequirementsState
    state: RequirementsState

    def of(self, post_category: str | None) -> Requirement | None:
        return None if post_category is None else self.state.by_category.get(post_category)

    @command
    def set(
        self,
        year: int,
        post_category: str,
        hours: Decimal,
        required_kinds: list[str],
        online_share: Decimal,
        now: dt.datetime,
    ) -> None:
        self.require(str(year) == self.id, "requirement.year", f"this is the requirement of {self.id}, not {year}")
        self.require(hours >= 0, "requirement.hours", "required hours are 0 or more")
        self.require(
            Decimal(0) <= online_share <= Decimal(1), "requirement.online_share", "the online share is from 0 to 1"
        )
        self.record(RequirementSet(year, post_category, hours, sorted(set(required_kinds)), online_share, now))

    @applies(RequirementSet)
    def _set(self, e: RequirementSet) -> None:
        self.state.year = e.year
        self.state.by_category[e.post_category] = Requirement(e.hours, list(e.required_kinds), e.online_share)
