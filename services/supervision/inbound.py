"""Other services' events, as supervision reads them.

- feedback's ``ComplaintRoutedToSupervision``: a complaint about a cadre (or
  anyone under a notice), which opens a case;
- grassroots' ``WeakBranchIdentified``: a branch rated weak and lax, which
  gets a follow-up inspection task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from shared.application.commands import ID, LONG_TEXT, NAME


@dataclass(frozen=True)
class RoutedComplaint:
    """feedback's ``ComplaintRoutedToSupervision``."""

    submission_id: str = field(metadata=ID)
    cadre_id: str = field(metadata=ID)
    text: str = field(metadata=LONG_TEXT)
    process_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class WeakBranch:
    """grassroots' ``WeakBranchIdentified`` (软弱涣散)."""

    branch_id: str = field(metadata=ID)
    name: str = field(metadata=NAME)
    year: int = field(metadata={"validate": validate.Range(min=2000, max=2100)})
    problems: list[str] = field(metadata={"validate": validate.Length(max=50)})
    identified_at: dt.datetime
