"""Sweeps: the service, by itself, runs a command on every aggregate a read model finds due.

A deadline passed unmet, an inspection task overdue: a read model knows which
aggregates are due, and each gets a command in a transaction of its own, as
the service itself (``UnitOfWork.system``). An aggregate changed meanwhile so
that the command's rules now refuse it (closed, completed) is skipped: the
sweep is not the place to fail. A service runs a sweep both on a timer and on
demand over RPC; both go through ``Sweep.run``.

A sweep that looks for deadlines passed unmet says which of the events it
records are breaches, and of what kind (``missed``); each breach is reported,
once its transaction has committed, to whoever listens
(``on_missed_deadline``: the runtime counts them as a metric). A use case
that records a breach outside a sweep (a reply given late, before the sweep
came by) reports it with ``report_missed``. This layer knows nothing of
metrics; it only says what was missed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.application.unit_of_work import UnitOfWork
from shared.domain import Aggregate
from shared.errors import RuleViolation
from shared.eventstore.records import RecordedEvent

A = TypeVar("A", bound=Aggregate)

log = logging.getLogger(__name__)

#: What finds the due aggregates: a read model's query, given the unit of work and now.
FindDue = Callable[[UnitOfWork, dt.datetime], Iterable[str]]

#: The kind of deadline an event records as missed (``"first_reply"``, say), or None when it records no breach.
MissedDeadline = Callable[[RecordedEvent], str | None]

#: Who hears of each missed deadline: ``listener(service, kind)``, once per breach committed.
MissedListener = Callable[[str, str], None]

_missed_listeners: list[MissedListener] = []


def on_missed_deadline(listener: MissedListener) -> None:
    """Tell ``listener`` of every breach committed from now on, in any service of this process (once, however
    often it is registered: each service's runtime registers the same one)."""
    if listener not in _missed_listeners:
        _missed_listeners.append(listener)


def report_missed(uow: UnitOfWork, recorded: Iterable[RecordedEvent], missed: MissedDeadline) -> int:
    """Report each breach among ``recorded`` once the transaction that stores it commits; return how many.

    Never if it rolls back, so a breach is counted once however often its
    command is tried again.
    """
    kinds = [kind for kind in map(missed, recorded) if kind is not None]
    for kind in kinds:
        uow.after_commit(functools.partial(_tell, uow.service, kind))
    return len(kinds)


def _tell(service: str, kind: str) -> None:
    for listener in list(_missed_listeners):
        try:
            listener(service, kind)
        except Exception:  # a listener's failure is not the use case's: the breach is recorded all the same
            log.exception("a listener of missed deadlines failed on %s %s", service, kind)


@dataclass(frozen=True)
class SweepResult:
    changed: int = 0  # aggregates the command changed
    events: int = 0  # events those changes recorded
    skipped: int = 0  # aggregates the rules refused, changed meanwhile


@dataclass(frozen=True)
class Sweep(Generic[A]):
    """Run ``command(aggregate, now)`` on every ``aggregate`` that ``due`` finds.

    ``reason`` goes into each event's metadata, with the service as the actor.
    ``missed`` names the breaches among the events it records (see the
    module's docs); a sweep that records none (an expiry) leaves it None.
    """

    name: str
    aggregate: type[A]
    due: FindDue
    command: Callable[[A, dt.datetime], object]
    reason: str
    missed: MissedDeadline | None = None

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
                if self.missed is not None:
                    report_missed(uow, recorded, self.missed)
        if changed:
            log.info("%s: %d %s(s) changed, %d event(s)", self.name, changed, self.aggregate.category, events)
        return SweepResult(changed, events, skipped)
