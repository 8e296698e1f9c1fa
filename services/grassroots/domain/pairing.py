"""Dual cultivation (双向培养): a member paired with an entrepreneur, with the goals they work towards.

Entrepreneurs are cultivated into members and members into entrepreneurs; an
entrepreneur who is not a member enters the applicant pipeline tagged as one
(``MemberDevelopment.receive_application(entrepreneur=True)``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.grassroots.domain.events import DualCultivationPaired, PairingGoalMet
from shared.domain import Aggregate, applies, command


@dataclass
class PairingState:
    paired: bool = False
    goals: list[str] = field(default_factory=list)
    met: list[str] = field(default_factory=list)


class Pairing(Aggregate):
    category = "pairing"
    State = PairingState
    state: PairingState

    @command
    def pair(
        self,
        branch_id: str,
        member_id: str,
        entrepreneur_id: str,
        entrepreneur_name: str,
        enterprise: str,
        goals: list[str],
        full_members: set[str],
        now: dt.datetime,
    ) -> None:
        self.require(not self.state.paired, "pairing.once", f"pairing {self.id} exists already")
        self.require(member_id in full_members, "pairing.member", f"{member_id} is not a full member of {branch_id}")
        self.require(member_id != entrepreneur_id, "pairing.two_people", "a member is paired with someone else")
        self.require(bool(goals), "pairing.goals", "a pairing has goals")
        self.record(
            DualCultivationPaired(
                branch_id, member_id, entrepreneur_id, entrepreneur_name, enterprise, list(goals), now
            )
        )

    @command
    def goal_met(self, goal: str, now: dt.datetime) -> None:
        self.require(self.state.paired, "pairing.exists", f"pairing {self.id} does not exist")
        self.require(goal in self.state.goals, "pairing.goal", f"{goal!r} is not one of the pairing's goals")
        if goal not in self.state.met:
            self.record(PairingGoalMet(goal, now))

    @applies(DualCultivationPaired)
    def _paired(self, e: DualCultivationPaired) -> None:
        self.state.paired, self.state.goals = True, list(e.goals)

    @applies(PairingGoalMet)
    def _met(self, e: PairingGoalMet) -> None:
        self.state.met.append(e.goal)
