"""Deadlines: a first reply and a resolution are due within working days; a breach is an event.

The sweep finds open submissions whose deadline passed unmet and records each
breach once, as the service itself. It runs on a timer and on demand.
Each breach is reported as a missed deadline of its kind (``first_reply``,
``resolution``), also when a late reply or resolution records it before the
sweep came by (``missed``, used by those use cases too).
"""

from __future__ import annotations

from services.feedback.domain.submission import Submission
from services.feedback.read_models import submissions
from services.feedback.views import BreachCount
from shared.application import Sweep, UnitOfWork
from shared.eventstore.records import RecordedEvent


def missed(record: RecordedEvent) -> str | None:
    """The deadline a ``DeadlineBreached`` records as missed: ``first_reply`` or ``resolution``."""
    return str(record.data["deadline"]) if record.type == "DeadlineBreached" else None


BREACHES = Sweep(
    name="deadline check",
    aggregate=Submission,
    due=submissions.due_for_breach,
    command=Submission.record_breaches,
    reason="deadline check",
    missed=missed,
)


def check_deadlines(uow: UnitOfWork, sweep: Sweep[Submission] = BREACHES) -> BreachCount:
    """Raise a breach event for every deadline passed unmet (the timer runs this too)."""
    return BreachCount(sweep.run(uow).events)
