"""The notices read model: assessment previews and pre-appointment notices, with their windows.

Each notice names the stored event that opened it (``event_id``): a reader
asks for that event's inclusion proof (``GET /api/v1/public/audit/cadre/proofs/{event_id}``)
and checks that the board shows what the signed log holds.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from services.cadre.domain import events as ev
from shared.application import Reader
from shared.application.notice_board import days_left
from shared.domain.calendar import OrganisationCalendar
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on


class Notices(Projection):
    name = "notices"
    tables = ("public_notices",)

    def _insert(self, cur: Any, record: RecordedEvent, kind: str, e: Any) -> None:
        cur.execute(
            "INSERT INTO public_notices "
            "(notice_id, process_id, kind, title, unit, cadre_ids, opens_at, closes_at, event_id) "
            "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                e.notice_id,
                record.aggregate_id,
                kind,
                e.title,
                e.unit,
                json.dumps(e.cadre_ids),
                e.opens_at,
                e.closes_at,
                record.event_id,
            ],
        )

    @on(ev.AssessmentPreviewPublished)
    def _preview(self, cur: Any, e: ev.AssessmentPreviewPublished, record: RecordedEvent) -> None:
        self._insert(cur, record, "assessment_preview", e)

    @on(ev.PublicNoticeOpened)
    def _notice(self, cur: Any, e: ev.PublicNoticeOpened, record: RecordedEvent) -> None:
        self._insert(cur, record, "pre_appointment", e)


@dataclass(frozen=True)
class NoticeView:
    notice_id: str
    process_id: str
    kind: str
    title: str
    unit: str
    cadre_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime
    event_id: str | None  # the event that opened it; None only for a notice older than the column, unmatched
    #: working days after today to the window's last day, on the organisation's calendar (0: its last day)
    working_days_left: int | None = None


_NOTICE_COLUMNS = "notice_id, process_id, kind, title, unit, cadre_ids, opens_at, closes_at, event_id::text"


def open_notices(reader: Reader, now: dt.datetime, calendar: OrganisationCalendar) -> list[NoticeView]:
    """Public notices open now: the public may comment on or object to them."""
    rows = reader.query(
        f"SELECT {_NOTICE_COLUMNS} FROM public_notices "
        "WHERE opens_at <= %(now)s AND closes_at > %(now)s ORDER BY closes_at",
        {"now": now},
    )
    return [NoticeView(**row, working_days_left=days_left(calendar, now, row["closes_at"])) for row in rows]
