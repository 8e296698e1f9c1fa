"""The feedback service's routed complaints, as supervision reads them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoutedComplaint:
    """feedback's ``ComplaintRoutedToSupervision``."""

    submission_id: str
    cadre_id: str
    text: str
    process_id: str | None = None
