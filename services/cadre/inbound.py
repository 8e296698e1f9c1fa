"""Other services' events the cadre service handles, as it reads them.

Each payload lists only the fields cadre uses; unknown fields are ignored, so
the publishing service can add fields without breaking this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SupervisionOutcome:
    """supervision's ``SupervisionOutcomeRecorded``: a case about a cadre concluded."""

    case_id: str
    cadre_id: str
    substantiated: bool
    process_id: str | None = None


@dataclass(frozen=True)
class CreditTotal:
    """training's ``CreditTotalUpdated``: a cadre's credit hours for a year so far."""

    cadre_id: str
    year: int
    total_hours: Decimal
