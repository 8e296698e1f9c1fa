"""The cadres read model: each cadre with posts, roles, commendations, grades and credit hours."""

from __future__ import annotations

from typing import Any

from services.cadre.domain import events as ev
from services.cadre.messages import CadreRef, UnitQuery
from services.cadre.views import CadreView, cadre_view_of_row
from shared.application import Reader
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, jsonb, on


class Cadres(Projection):
    name = "cadres"
    tables = ("cadres",)

    def _append(self, cur: Any, record: RecordedEvent, column: str, item: dict[str, Any]) -> None:
        cur.execute(
            f"UPDATE cadres SET {column} = {column} || %s::jsonb WHERE cadre_id = %s",
            [jsonb([item]), record.aggregate_id],
        )

    @on(ev.CadreRegistered)
    def _registered(self, cur: Any, e: ev.CadreRegistered, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO cadres (cadre_id, name, unit, post_category, leadership_team, head_of_unit) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [record.aggregate_id, e.name, e.unit, e.post_category, e.leadership_team, e.head_of_unit],
        )

    @on(ev.CadreAppointedToPost)
    def _appointed(self, cur: Any, e: ev.CadreAppointedToPost, record: RecordedEvent) -> None:
        item = {
            "post_id": e.post_id,
            "post_title": e.post_title,
            "unit": e.unit,
            "process_id": e.process_id,
            "appointed_at": e.appointed_at.isoformat(),
        }
        self._append(cur, record, "posts", item)
        cur.execute("UPDATE cadres SET unit = %s WHERE cadre_id = %s", [e.unit, record.aggregate_id])

    @on(ev.LeadershipRolesChanged)
    def _roles(self, cur: Any, e: ev.LeadershipRolesChanged, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE cadres SET leadership_team = %s, head_of_unit = %s WHERE cadre_id = %s",
            [e.leadership_team, e.head_of_unit, record.aggregate_id],
        )

    @on(ev.CadreCommended)
    def _commended(self, cur: Any, e: ev.CadreCommended, record: RecordedEvent) -> None:
        self._append(cur, record, "commendations", {"title": e.title, "year": e.year, "citation": e.citation})

    @on(ev.AppraisalGradeRecorded)
    def _grade(self, cur: Any, e: ev.AppraisalGradeRecorded, record: RecordedEvent) -> None:
        self._append(
            cur, record, "appraisals", {"cycle_id": e.cycle_id, "year": e.year, "grade": e.grade, "score": str(e.score)}
        )
        cur.execute(
            "UPDATE cadres SET latest_grade = %s, latest_grade_year = %s WHERE cadre_id = %s "
            "AND (latest_grade_year IS NULL OR latest_grade_year <= %s)",
            [e.grade, e.year, record.aggregate_id, e.year],
        )

    @on(ev.TrainingCreditsNoted)
    def _credits(self, cur: Any, e: ev.TrainingCreditsNoted, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE cadres SET credit_hours = credit_hours || jsonb_build_object(%s::text, %s::text) WHERE cadre_id = %s",
            [str(e.year), str(e.total_hours), record.aggregate_id],
        )


def get_cadre(reader: Reader, query: CadreRef) -> CadreView:
    rows = reader.query("SELECT * FROM cadres WHERE cadre_id = %s", [query.cadre_id])
    if not rows:
        raise NotFound("cadre", query.cadre_id)
    return cadre_view_of_row(rows[0])


def cadres_by_unit(reader: Reader, query: UnitQuery) -> list[CadreView]:
    rows = reader.query("SELECT * FROM cadres WHERE unit = %s ORDER BY cadre_id", [query.unit])
    return [cadre_view_of_row(row) for row in rows]
