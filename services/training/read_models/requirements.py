"""The department's requirements by year and post category (what the yearly review checks against)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.training.domain import events as ev
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Requirements(Projection):
    name = "requirements"
    tables = ("requirements",)

    @on(ev.RequirementSet)
    def _set(self, cur: Any, e: ev.RequirementSet, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO requirements (year, post_category, hours, required_kinds, online_share) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (year, post_category) DO UPDATE SET hours = EXCLUDED.hours, "
            "required_kinds = EXCLUDED.required_kinds, online_share = EXCLUDED.online_share",
            [e.year, e.post_category, e.hours, jsonb(e.required_kinds), e.online_share],
        )


@dataclass(frozen=True)
class RequirementRow:
    year: int
    post_category: str
    hours: Decimal
    required_kinds: list[str]
    online_share: Decimal


def requirements(reader: Reader) -> list[RequirementRow]:
    rows = reader.query(
        "SELECT year, post_category, hours, ARRAY(SELECT jsonb_array_elements_text(required_kinds)) AS required_kinds, "
        "online_share FROM requirements ORDER BY year, post_category"
    )
    return [RequirementRow(**row) for row in rows]
