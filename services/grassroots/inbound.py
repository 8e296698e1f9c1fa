"""Other services' events, as grassroots reads them.

- training's ``TrainingCompleted``: the short course for development targets,
  the gate before admission (other kinds are no gate, and are ignored);
- supervision's ``CaseOpened`` and ``SupervisionOutcomeRecorded``: an
  objection on one of grassroots' notices (a development target's, an
  election's candidate list) became a case; ``process_id`` names the decision
  it holds (``admission:<person>`` or ``election:<election>``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from marshmallow import validate

from shared.application.commands import ID


@dataclass(frozen=True)
class CompletedTraining:
    """training's ``TrainingCompleted``."""

    person_id: str = field(metadata=ID)
    program_id: str = field(metadata=ID)
    kind: str = field(metadata=ID)
    hours: Decimal = field(metadata={"validate": validate.Range(min=0, max=100000)})
    completed_at: dt.datetime


@dataclass(frozen=True)
class OpenedCase:
    """supervision's ``CaseOpened``: ``cadre_id`` is the person the objection is about."""

    cadre_id: str = field(metadata=ID)
    process_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class CaseOutcome:
    """supervision's ``SupervisionOutcomeRecorded``."""

    case_id: str = field(metadata=ID)
    cadre_id: str = field(metadata=ID)
    substantiated: bool
    process_id: str | None = field(default=None, metadata=ID)
