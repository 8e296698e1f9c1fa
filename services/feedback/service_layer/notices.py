"""Other services' notices, as feedback learns of them: the public may comment while one is open.

The generic ``NoticeOpened`` (``shared.domain.notices``) names its kind and the
decision it holds; cadre's older ``AssessmentPreviewPublished`` and
``PublicNoticeOpened`` (which stores still hold) are told apart by their type,
and hold the selection process whose stream they are in.
"""

from __future__ import annotations

from services.feedback.inbound import OpenedNotice, PublishedNotice
from services.feedback.read_models import notices
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

ASSESSMENT_PREVIEW = "assessment_preview"
PRE_APPOINTMENT = "pre_appointment"
CADRE = "cadre"
GRASSROOTS = "grassroots"
TALENT = "talent"


def note_notice(kind: str, notice: PublishedNotice, record: RecordedEvent, uow: UnitOfWork) -> None:
    """Remember one of cadre's older notice events (once, however often it arrives)."""
    heard = notices.HeardNotice(
        CADRE,
        notice.notice_id,
        kind,
        record.aggregate_id,
        notice.title,
        list(notice.cadre_ids),
        notice.opens_at,
        notice.closes_at,
        notice.unit,
    )
    notices.remember(uow, heard, record)


def note_opened(source: str, notice: OpenedNotice, record: RecordedEvent, uow: UnitOfWork) -> None:
    """Remember a service's ``NoticeOpened`` (once, however often it arrives)."""
    heard = notices.HeardNotice(
        source,
        notice.notice_id,
        notice.kind,
        notice.decision_id,
        notice.title,
        list(notice.subject_ids),
        notice.opens_at,
        notice.closes_at,
        notice.unit,
    )
    notices.remember(uow, heard, record)
