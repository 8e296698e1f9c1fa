"""Suggestions on training from the public, and their answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.training.domain import events as ev
from services.training.messages import SuggestionQuery
from shared.application import Reader
from shared.domain.erasure import PersonalDataErased
from shared.eventstore.records import ERASED, RecordedEvent
from shared.projections import Projection, on


class Suggestions(Projection):
    name = "suggestions"
    tables = ("suggestions",)

    @on(ev.SuggestionReceived)
    def _received(self, cur: Any, e: ev.SuggestionReceived, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO suggestions (submission_id, text, received_at, status) VALUES (%s, %s, %s, 'received')",
            [e.submission_id, e.text, e.received_at],
        )

    @on(PersonalDataErased)
    def _erased(self, cur: Any, e: PersonalDataErased, record: RecordedEvent) -> None:
        """The submitter erased: their text goes from the read model at once (the event reads as erased already)."""
        kind, _, submission_id = e.subject.partition(":")
        if kind == "submitter":
            cur.execute("UPDATE suggestions SET text = %s WHERE submission_id = %s", [ERASED, submission_id])

    @on(ev.SuggestionAnswered)
    def _answered(self, cur: Any, e: ev.SuggestionAnswered, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE suggestions SET status = 'answered', adopted = %s, answer = %s, answered_at = %s "
            "WHERE submission_id = %s",
            [e.adopted, e.text, e.answered_at, e.submission_id],
        )


@dataclass(frozen=True)
class SuggestionRow:
    submission_id: str
    text: str
    received_at: dt.datetime
    status: str
    adopted: bool | None
    answer: str | None
    answered_at: dt.datetime | None


def suggestions(reader: Reader, query: SuggestionQuery) -> list[SuggestionRow]:
    rows = reader.query(
        "SELECT submission_id, text, received_at, status, adopted, answer, answered_at FROM suggestions "
        "WHERE %(status)s::text IS NULL OR status = %(status)s ORDER BY received_at",
        {"status": query.status},
    )
    return [SuggestionRow(**row) for row in rows]
