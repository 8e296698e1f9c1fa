"""Deadlines: a first reply and a resolution are due within working days; a breach is an event.

The sweep finds open submissions whose deadline passed unmet and records each
breach once, as the service itself. It runs on a timer and on demand.
"""

from __future__ import annotations

from services.feedback.domain.submission import Submission
from services.feedback.read_models import submissions
from services.feedback.views import BreachCount
from shared.application import Sweep, UnitOfWork

BREACHES = Sweep(
    name="deadline check",
    aggregate=Submission,
    due=submissions.due_for_breach,
    command=Submission.record_breaches,
    reason="deadline check",
)


def check_deadlines(uow: UnitOfWork, sweep: Sweep[Submission] = BREACHES) -> BreachCount:
    """Raise a breach event for every deadline passed unmet (the timer runs this too)."""
    return BreachCount(sweep.run(uow).events)
