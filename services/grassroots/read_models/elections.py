"""Branch elections and their published tallies: the votes appear with the count, never before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.grassroots.domain import events as ev
from services.grassroots.messages import ElectionQuery
from shared.application import Reader
from shared.domain.notices import NoticeOpened
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Elections(Projection):
    name = "elections"
    tables = ("elections",)

    @on(ev.ElectionCalled)
    def _called(self, cur: Any, e: ev.ElectionCalled, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO elections (election_id, organisation_id, phase, seats, committee, entitled, called_at) "
            "VALUES (%s, %s, 'called', %s, %s, %s, %s)",
            [record.aggregate_id, e.organisation_id, e.seats, e.committee, len(e.entitled), e.called_at],
        )

    @on(ev.CandidatesQualified)
    def _qualified(self, cur: Any, e: ev.CandidatesQualified, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE elections SET phase = 'qualified', candidates = %s WHERE election_id = %s",
            [jsonb(e.candidate_ids), record.aggregate_id],
        )

    @on(NoticeOpened)
    def _notice(self, cur: Any, e: NoticeOpened, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE elections SET phase = 'on_notice', notice_closes_at = %s WHERE election_id = %s",
            [e.closes_at, record.aggregate_id],
        )

    @on(ev.CandidateStruckOff)
    def _struck(self, cur: Any, e: ev.CandidateStruckOff, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE elections SET candidates = candidates - %s WHERE election_id = %s",
            [e.candidate_id, record.aggregate_id],
        )

    @on(ev.ElectionMeetingConvened)
    def _convened(self, cur: Any, e: ev.ElectionMeetingConvened, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE elections SET phase = 'convened', present = %s WHERE election_id = %s",
            [len(e.present), record.aggregate_id],
        )

    @on(ev.ElectionCounted)
    def _counted(self, cur: Any, e: ev.ElectionCounted, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE elections SET phase = 'counted', cast_ballots = %s, void_ballots = %s, votes = %s, elected = %s "
            "WHERE election_id = %s",
            [e.cast, e.void, jsonb(e.votes), jsonb(e.elected), record.aggregate_id],
        )

    @on(ev.ElectionApproved)
    def _approved(self, cur: Any, e: ev.ElectionApproved, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE elections SET phase = 'approved', secretary_id = %s WHERE election_id = %s",
            [e.secretary_id, record.aggregate_id],
        )


@dataclass(frozen=True)
class ElectionRow:
    election_id: str
    organisation_id: str
    phase: str
    seats: int
    committee: bool
    entitled: int
    candidates: list[str]
    notice_closes_at: dt.datetime | None
    present: int | None
    cast_ballots: int | None
    void_ballots: int | None
    votes: dict[str, int] | None
    elected: list[str] | None
    secretary_id: str | None
    called_at: dt.datetime


def elections(reader: Reader, query: ElectionQuery) -> list[ElectionRow]:
    rows = reader.query(
        "SELECT election_id, organisation_id, phase, seats, committee, entitled, "
        "ARRAY(SELECT jsonb_array_elements_text(candidates)) AS candidates, notice_closes_at, present, cast_ballots, "
        "void_ballots, votes, elected, secretary_id, called_at FROM elections "
        "WHERE %(organisation)s::text IS NULL OR organisation_id = %(organisation)s ORDER BY called_at",
        {"organisation": query.organisation_id},
    )
    return [ElectionRow(**row) for row in rows]


@dataclass(frozen=True)
class ElectionTally:
    """An approved branch election as the public reads it: the count, and who was elected (members' ids)."""

    election_id: str
    organisation_id: str
    seats: int
    entitled: int
    present: int | None
    cast_ballots: int | None
    void_ballots: int | None
    votes: dict[str, int] | None
    elected: list[str] | None


def published_elections(reader: Reader, query: ElectionQuery) -> list[ElectionTally]:
    """Approved elections only, latest first: a count takes effect, and is published, once it is approved."""
    rows = reader.query(
        "SELECT election_id, organisation_id, seats, entitled, present, cast_ballots, void_ballots, votes, elected "
        "FROM elections WHERE phase = 'approved' "
        "AND (%(organisation)s::text IS NULL OR organisation_id = %(organisation)s) ORDER BY called_at DESC",
        {"organisation": query.organisation_id},
    )
    return [ElectionTally(**row) for row in rows]
