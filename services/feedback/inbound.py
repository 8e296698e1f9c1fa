"""The cadre service's notices, as feedback reads them: the public may comment while open."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedNotice:
    """cadre's ``AssessmentPreviewPublished`` and ``PublicNoticeOpened``."""

    notice_id: str
    title: str
    cadre_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime
