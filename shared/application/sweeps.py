"""Sweeps: the service, by itself, runs a command on every aggregate a read model finds due.

A deadline passed unmet, an inspection task overdue: a read model knows which
aggregates are due, and each gets a command in a transaction of its own, as
the service itself (``UnitOfWork.system``). An aggregate changed meanwhile so
that the command's rules now refuse it (closed, completed) is skipped: the
sweep is not the place to fail. A service runs a sweep both on a timer and on
demand over RPC; both go through ``Sweep.run``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.application.unit_of_work import UnitOfWork
from shared.domain import Aggregate
from shared.errors import RuleViolation

A = TypeVar("A", bound=Aggregate)

log = logging.getLogger(__name__)

#: What finds the due aggregates: a read model's query, given the unit of work and now.
FindDue = Callable[[UnitOfWork, dt.datetime], Iterable[str]]


@dataclass(frozen=True)
class SweepResult:
    changed: int = 0  # aggregates the command changed
    events: int = 0  # events those changes recorded
    skipped: int = 0  # aggregates the rules refused, changed meanwhile


@dataclass(frozen=True)
class Sweep(Generic[A]):
    """Run ``command(aggregate, now)`` on every ``aggregate`` that ``due`` finds.

    ``reason`` goes into each event's metadata, with the service as the actor.
    """

    name: str
    aggregate: type[A]
    due: FindDue
    command: Callable[[A, dt.datetime], object]
    reason: str

    def run(self, uow: UnitOfWork) -> SweepResult:
        now = uow.clock.now()
        changed = events = skipped = 0
        for aggregate_id in list(self.due(uow, now)):
            try:
                _, recorded = uow.update(
                    self.aggregate, aggregate_id, lambda a: self.command(a, now), uow.system(self.reason)
                )
            except RuleViolation as error:
                log.info("%s: %s %s skipped: %s", self.name, self.aggregate.category, aggregate_id, error)
                skipped += 1
                continue
            if recorded:
                changed += 1
                events += len(recorded)
        if changed:
            log.info("%s: %d %s(s) changed, %d event(s)", self.name, changed, self.aggregate.category, events)
        return SweepResult(changed, events, skipped)
