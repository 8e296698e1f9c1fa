"""The cadre service's notices, as feedback learns of them: the public may comment while one is open."""

from __future__ import annotations

from services.feedback.inbound import PublishedNotice
from services.feedback.read_models import notices
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

ASSESSMENT_PREVIEW = "assessment_preview"
PRE_APPOINTMENT = "pre_appointment"


def note_notice(kind: str, notice: PublishedNotice, record: RecordedEvent, uow: UnitOfWork) -> None:
    """Remember a published notice (once, however often its event arrives)."""
    notices.remember(uow, kind, notice, record)
