"""The notices feedback has heard of from the cadre service: the public may comment while one is open.

Not a projection of feedback's own events: the table ``known_notices`` is
written by the handler of cadre's notice events (``remember``), once per notice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from services.feedback.domain.submission import NoticeWindow
from services.feedback.inbound import PublishedNotice
from shared.application import Reader, UnitOfWork
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


@dataclass(frozen=True)
class KnownNotice:
    """A notice's window, and the story (correlation) a comment on it continues."""

    window: NoticeWindow
    correlation_id: str | None
    event_id: str


def remember(uow: UnitOfWork, kind: str, notice: PublishedNotice, record: RecordedEvent) -> None:
    uow.execute(
        "INSERT INTO known_notices (notice_id, process_id, kind, title, cadre_ids, opens_at, closes_at, "
        "correlation_id, event_id) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s) "
        "ON CONFLICT (notice_id) DO NOTHING",
        [
            notice.notice_id,
            record.aggregate_id,
            kind,
            notice.title,
            json.dumps(notice.cadre_ids),
            notice.opens_at,
            notice.closes_at,
            record.correlation_id,
            record.event_id,
        ],
    )


def known_notice(reader: Reader, notice_id: str) -> KnownNotice | None:
    rows = reader.query(
        "SELECT notice_id, process_id, cadre_ids, opens_at, closes_at, correlation_id, event_id "
        "FROM known_notices WHERE notice_id = %s",
        [notice_id],
    )
    if not rows:
        return None
    row = rows[0]
    window = NoticeWindow(row["notice_id"], row["process_id"], row["cadre_ids"], row["opens_at"], row["closes_at"])
    return KnownNotice(window, row["correlation_id"], row["event_id"])


def open_notices(reader: Reader, now: dt.datetime) -> list[NoticeView]:
    """Notices the public may comment on now."""
    rows = reader.query(
        "SELECT notice_id, process_id, kind, title, cadre_ids, opens_at, closes_at FROM known_notices "
        "WHERE opens_at <= %(now)s AND closes_at > %(now)s ORDER BY closes_at",
        {"now": now},
    )
    return [NoticeView(**row) for row in rows]
