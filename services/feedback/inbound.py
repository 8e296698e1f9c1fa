"""The cadre service's notices, as feedback reads them: the public may comment while open."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from shared.application.commands import ID, NAME


@dataclass(frozen=True)
class PublishedNotice:
    """cadre's ``AssessmentPreviewPublished`` and ``PublicNoticeOpened``."""

    notice_id: str = field(metadata=ID)
    title: str = field(metadata=NAME)
    cadre_ids: list[str] = field(metadata={"validate": validate.Length(max=500)})
    opens_at: dt.datetime
    closes_at: dt.datetime
