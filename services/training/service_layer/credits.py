"""A completion credited to its learner: the hours once, the year's total published under its online share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.training.domain.enrolment import Enrolment
from services.training.domain.kinds import Mode
from services.training.domain.ledger import LearnerLedger
from services.training.domain.requirement import YearRequirements
from shared.application import UnitOfWork
from shared.config import TrainingSettings


def online_share(uow: UnitOfWork, year: int, post_category: str | None, settings: TrainingSettings) -> Decimal:
    """The year's requirement's share for the category, else the service's default."""
    requirement = uow.load_or_new(YearRequirements, str(year)).of(post_category)
    return requirement.online_share if requirement is not None else settings.online_share


def credit(uow: UnitOfWork, enrolment: Enrolment, completed_at: dt.datetime, settings: TrainingSettings) -> None:
    """Credit a completed enrolment to its learner's ledger (in the caller's transaction)."""
    s = enrolment.state
    if s.status != "completed":
        return
    with uow.transaction():
        ledger = uow.load(LearnerLedger, s.person_id)
        share = online_share(uow, completed_at.year, ledger.state.post_category, settings)
        ledger.award(
            s.program_id, s.kind, s.mode == Mode.ONLINE, s.required, enrolment.total_hours, completed_at, share
        )
        uow.save(ledger, uow.system(f"completed program {s.program_id}"))
