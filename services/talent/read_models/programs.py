"""Talent programs, their rosters and notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.talent.domain import events as ev
from shared.application import Reader
from shared.domain.notices import NoticeOpened
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Programs(Projection):
    name = "programs"
    tables = ("programs",)

    @on(ev.ProgramLaunched)
    def _launched(self, cur: Any, e: ev.ProgramLaunched, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO programs (program_id, title, kind, retention_way, phase, quota, opens_at, closes_at, "
            "incentive) VALUES (%s, %s, %s, %s, 'launched', %s, %s, %s, %s)",
            [record.aggregate_id, e.title, e.kind, e.retention_way, e.quota, e.opens_at, e.closes_at, e.incentive],
        )

    @on(ev.ApplicationTaken)
    def _applied(self, cur: Any, e: ev.ApplicationTaken, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE programs SET applicants = applicants || %s::jsonb WHERE program_id = %s",
            [jsonb([e.person_id]), record.aggregate_id],
        )

    @on(ev.CandidatesSelected)
    def _selected(self, cur: Any, e: ev.CandidatesSelected, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE programs SET phase = 'selected', selected = %s WHERE program_id = %s",
            [jsonb(e.person_ids), record.aggregate_id],
        )

    @on(NoticeOpened)
    def _notice(self, cur: Any, e: NoticeOpened, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE programs SET phase = 'on_notice', notice_id = %s, notice_closes_at = %s WHERE program_id = %s",
            [e.notice_id, e.closes_at, record.aggregate_id],
        )

    @on(ev.ObjectionCaseNoted)
    def _case(self, cur: Any, e: ev.ObjectionCaseNoted, record: RecordedEvent) -> None:
        cur.execute("UPDATE programs SET open_cases = open_cases + 1 WHERE program_id = %s", [record.aggregate_id])

    @on(ev.ObjectionOutcomeNoted)
    def _outcome(self, cur: Any, e: ev.ObjectionOutcomeNoted, record: RecordedEvent) -> None:
        cur.execute("UPDATE programs SET open_cases = open_cases - 1 WHERE program_id = %s", [record.aggregate_id])

    @on(ev.SelectionConfirmed)
    def _confirmed(self, cur: Any, e: ev.SelectionConfirmed, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE programs SET phase = 'confirmed', selected = %s, withdrawn = %s WHERE program_id = %s",
            [jsonb(e.person_ids), jsonb(e.withdrawn), record.aggregate_id],
        )


@dataclass(frozen=True)
class RosterLine:
    person_id: str
    name: str | None
    selected: bool
    incentive_from: dt.date | None
    incentive_until: dt.date | None


@dataclass(frozen=True)
class ProgramRoster:
    program_id: str
    title: str
    kind: str
    retention_way: str | None
    phase: str
    quota: int
    opens_at: dt.datetime
    closes_at: dt.datetime
    notice_id: str | None
    notice_closes_at: dt.datetime | None
    open_cases: int
    withdrawn: list[str]
    applicants: list[RosterLine]


def roster(reader: Reader, program_id: str) -> ProgramRoster:
    found = reader.query(
        "SELECT program_id, title, kind, retention_way, phase, quota, opens_at, closes_at, notice_id, "
        "notice_closes_at, open_cases, ARRAY(SELECT jsonb_array_elements_text(withdrawn)) AS withdrawn "
        "FROM programs WHERE program_id = %s",
        [program_id],
    )
    if not found:
        raise NotFound("program", program_id)
    lines = reader.query(
        "SELECT a.person_id, t.name, p.selected ? a.person_id AS selected, i.starts_on AS incentive_from, "
        "i.ends_on AS incentive_until FROM programs p, jsonb_array_elements_text(p.applicants) AS a(person_id) "
        "LEFT JOIN talents t USING (person_id) "
        "LEFT JOIN incentives i ON i.person_id = a.person_id AND i.program_id = %(program)s "
        "WHERE p.program_id = %(program)s ORDER BY a.person_id",
        {"program": program_id},
    )
    return ProgramRoster(**found[0], applicants=[RosterLine(**line) for line in lines])
