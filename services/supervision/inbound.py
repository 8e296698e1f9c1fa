"""The feedback service's routed complaints, as supervision reads them."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.application.commands import ID, LONG_TEXT


@dataclass(frozen=True)
class RoutedComplaint:
    """feedback's ``ComplaintRoutedToSupervision``."""

    submission_id: str = field(metadata=ID)
    cadre_id: str = field(metadata=ID)
    text: str = field(metadata=LONG_TEXT)
    process_id: str | None = field(default=None, metadata=ID)
