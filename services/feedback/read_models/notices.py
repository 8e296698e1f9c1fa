"""The notices feedback has heard of: the public may comment and object while one is open.

Not a projection of feedback's own events: the table ``known_notices`` is
written by the handlers of other services' notice events (``remember``), once
per notice: the generic ``NoticeOpened`` of any service (``shared.domain.notices``)
and cadre's older ``AssessmentPreviewPublished`` / ``PublicNoticeOpened``.
A notice's subjects are in its source's own ids (cadre ids for cadre's).
The public sees which service's notice it is (``source``) and the event of
that service that opened it (``event_id``): its inclusion proof is at
``GET /api/v1/public/audit/{source}/proofs/{event_id}``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from services.feedback.domain.submission import NoticeWindow
from shared.application import Reader, UnitOfWork
from shared.application.notice_board import NoticeArchiveQuery, days_left
from shared.domain.calendar import OrganisationCalendar
from shared.eventstore.records import RecordedEvent


@dataclass(frozen=True)
class NoticeView:
    notice_id: str
    process_id: str
    kind: str
    title: str
    cadre_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime
    source: str  # the service whose notice it is: its log holds the event
    event_id: str  # the event of ``source`` that opened it
    unit: str | None = None  # None for a notice heard before units were kept
    #: working days after today to the window's last day, on the organisation's calendar (0: its last day)
    working_days_left: int | None = None


@dataclass(frozen=True)
class KnownNotice:
    """A notice's window, and the story (correlation) a comment on it continues."""

    window: NoticeWindow
    correlation_id: str | None
    event_id: str


@dataclass(frozen=True)
class HeardNotice:
    """A notice as another service's event tells it: whose, what kind, the decision it holds, its subjects."""

    source: str
    notice_id: str
    kind: str
    decision_id: str
    title: str
    subject_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime
    unit: str | None = None


def remember(uow: UnitOfWork, notice: HeardNotice, record: RecordedEvent) -> None:
    uow.execute(
        "INSERT INTO known_notices (notice_id, process_id, kind, title, cadre_ids, opens_at, closes_at, "
        "correlation_id, event_id, source, unit) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (notice_id) DO NOTHING",
        [
            notice.notice_id,
            notice.decision_id,
            notice.kind,
            notice.title,
            json.dumps(notice.subject_ids),
            notice.opens_at,
            notice.closes_at,
            record.correlation_id,
            record.event_id,
            notice.source,
            notice.unit,
        ],
    )


_KNOWN = "SELECT notice_id, process_id, cadre_ids, opens_at, closes_at, correlation_id, event_id FROM known_notices "


def _known(row: dict[str, Any]) -> KnownNotice:
    window = NoticeWindow(row["notice_id"], row["process_id"], row["cadre_ids"], row["opens_at"], row["closes_at"])
    return KnownNotice(window, row["correlation_id"], row["event_id"])


def known_notice(reader: Reader, notice_id: str) -> KnownNotice | None:
    rows = reader.query(_KNOWN + "WHERE notice_id = %s", [notice_id])
    return _known(rows[0]) if rows else None


def open_notice_naming(
    reader: Reader, source: str, subject_id: str, now: dt.datetime, process_id: str | None = None
) -> KnownNotice | None:
    """The open notice of ``source`` that ``subject_id`` is under, if any.

    When several are open (an assessment preview and another process's
    notice), the one of ``process_id`` if it is among them, else the one
    opened last.
    """
    rows = reader.query(
        _KNOWN
        + "WHERE source = %(source)s AND cadre_ids ? %(subject)s AND opens_at <= %(now)s AND closes_at > %(now)s "
        "ORDER BY process_id = %(process)s DESC NULLS LAST, opens_at DESC, notice_id LIMIT 1",
        {"source": source, "subject": subject_id, "now": now, "process": process_id},
    )
    return _known(rows[0]) if rows else None


_NOTICE_COLUMNS = "notice_id, process_id, kind, title, cadre_ids, opens_at, closes_at, source, event_id, unit"


def open_notices(reader: Reader, now: dt.datetime, calendar: OrganisationCalendar) -> list[NoticeView]:
    """Notices the public may comment on now, every service's, with the working days each has left."""
    rows = reader.query(
        f"SELECT {_NOTICE_COLUMNS} FROM known_notices WHERE opens_at <= %(now)s AND closes_at > %(now)s "
        "ORDER BY closes_at",
        {"now": now},
    )
    return [NoticeView(**row, working_days_left=days_left(calendar, now, row["closes_at"])) for row in rows]


def notice_archive(reader: Reader, now: dt.datetime, query: NoticeArchiveQuery) -> list[NoticeView]:
    """Notices whose window has closed, every service's, latest first, by unit and closing dates when asked."""
    rows = reader.query(
        f"SELECT {_NOTICE_COLUMNS} FROM known_notices WHERE closes_at <= %(now)s "
        "AND (%(unit)s::text IS NULL OR unit = %(unit)s) "
        "AND (%(from)s::date IS NULL OR closes_at >= %(from)s::date) "
        "AND (%(to)s::date IS NULL OR closes_at < %(to)s::date + 1) "
        "ORDER BY closes_at DESC, notice_id LIMIT %(limit)s",
        {"now": now, "unit": query.unit, "from": query.closed_from, "to": query.closed_to, "limit": query.limit},
    )
    return [NoticeView(**row) for row in rows]
