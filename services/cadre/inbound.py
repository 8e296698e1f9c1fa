"""Other services' events the cadre service handles, as it reads them.

Each payload lists only the fields cadre uses; unknown fields are ignored, so
the publishing service can add fields without breaking this one. The rules a
field must keep are checked here too, not only where the event was made: a
payload that breaks them is dead-lettered, never applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from marshmallow import validate

from shared.application.commands import ID


@dataclass(frozen=True)
class SupervisionOutcome:
    """supervision's ``SupervisionOutcomeRecorded``: a case about a cadre concluded."""

    case_id: str = field(metadata=ID)
    cadre_id: str = field(metadata=ID)
    substantiated: bool
    process_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class CaseOpened:
    """supervision's ``CaseOpened``: a case about a cadre opened (its id is the event's stream's).

    ``process_id`` names the selection when the complaint or the department
    named it; without it, the case reaches every running selection where the
    cadre stands.
    """

    cadre_id: str = field(metadata=ID)
    opened_at: dt.datetime
    process_id: str | None = field(default=None, metadata=ID)
    submission_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class CreditTotal:
    """training's ``CreditTotalUpdated``: a cadre's credit hours for a year so far."""

    cadre_id: str = field(metadata=ID)
    year: int = field(metadata={"validate": validate.Range(min=1949, max=2100)})
    total_hours: Decimal = field(metadata={"validate": validate.Range(min=0, max=100000)})
