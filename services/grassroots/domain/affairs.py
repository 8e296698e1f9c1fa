"""A branch's affairs made public (党务公开): what it publishes, to whom, how often, and what it missed.

Each schedule names a content category, a scope (inside the party, or the
public) and how many days may pass between publications; the deadline check
flags, once per due date, a category not published in time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.grassroots.domain.events import AffairsPublished, PublicationMissed, PublicationScheduled
from shared.domain import Aggregate, applies, command

SCOPES = ("party", "public")


@dataclass
class Schedule:
    scope: str
    every_days: int
    since: dt.datetime  # the last publication, or when it was scheduled
    missed: list[str] = field(default_factory=list)  # due dates flagged

    @property
    def due_by(self) -> dt.datetime:
        return self.since + dt.timedelta(days=self.every_days)


@dataclass
class AffairsState:
    schedules: dict[str, Schedule] = field(default_factory=dict)


class BranchAffairs(Aggregate):
    category = "affairs"
    State = AffairsState
    state: AffairsState
    snapshot_every = 100

    @command
    def schedule(self, category: str, scope: str, every_days: int, now: dt.datetime) -> None:
        self.require(scope in SCOPES, "affairs.scope", f"the scope is one of {', '.join(SCOPES)}")
        self.require(every_days > 0, "affairs.every_days", "a schedule is every 1 day or more")
        self.record(PublicationScheduled(category, scope, every_days, now))

    @command
    def publish(self, category: str, title: str, body: str, now: dt.datetime) -> None:
        schedule = self.state.schedules.get(category)
        self.require(schedule is not None, "affairs.scheduled", f"{category!r} is not on the branch's schedule")
        assert schedule is not None
        self.record(AffairsPublished(category, schedule.scope, title, body, now))

    @command
    def flag_missed(self, now: dt.datetime) -> None:
        for category, schedule in sorted(self.state.schedules.items()):
            due = schedule.due_by
            if now > due and due.isoformat() not in schedule.missed:
                self.record(PublicationMissed(category, due, now))

    def overdue(self, now: dt.datetime) -> bool:
        return any(now > s.due_by and s.due_by.isoformat() not in s.missed for s in self.state.schedules.values())

    @applies(PublicationScheduled)
    def _scheduled(self, e: PublicationScheduled) -> None:
        previous = self.state.schedules.get(e.category)
        since = previous.since if previous is not None else e.scheduled_at
        self.state.schedules[e.category] = Schedule(e.scope, e.every_days, since)

    @applies(AffairsPublished)
    def _published(self, e: AffairsPublished) -> None:
        self.state.schedules[e.category].since = e.published_at

    @applies(PublicationMissed)
    def _missed(self, e: PublicationMissed) -> None:
        self.state.schedules[e.category].missed.append(e.due_by.isoformat())
