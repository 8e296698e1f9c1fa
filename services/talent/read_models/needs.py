"""Platforms and the catalogue of talent needs: open needs with the records that match them.

Besides the query callers ask, ``past_expiry`` is what the deadline check asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.talent.domain import events as ev
from shared.application import Reader
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.projections.projection import jsonb


class Needs(Projection):
    name = "needs"
    tables = ("needs", "platforms")

    @on(ev.PlatformOpened)
    def _opened(self, cur: Any, e: ev.PlatformOpened, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO platforms (platform_id, kind, name, unit) VALUES (%s, %s, %s, %s)",
            [record.aggregate_id, e.kind, e.name, e.unit],
        )

    @on(ev.TalentAttached)
    def _attached(self, cur: Any, e: ev.TalentAttached, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE platforms SET talents = talents || %s::jsonb WHERE platform_id = %s",
            [jsonb([e.person_id]), record.aggregate_id],
        )

    @on(ev.TalentDetached)
    def _detached(self, cur: Any, e: ev.TalentDetached, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE platforms SET talents = talents - %s WHERE platform_id = %s", [e.person_id, record.aggregate_id]
        )

    @on(ev.NeedPosted)
    def _posted(self, cur: Any, e: ev.NeedPosted, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO needs (need_id, unit, team, specialty, description, status, posted_at, expires_at) "
            "VALUES (%s, %s, %s, %s, %s, 'open', %s, %s)",
            [record.aggregate_id, e.unit, e.team, e.specialty, e.description, e.posted_at, e.expires_at],
        )

    @on(ev.NeedFilled)
    def _filled(self, cur: Any, e: ev.NeedFilled, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE needs SET status = 'filled', filled_by = %s WHERE need_id = %s", [e.person_id, record.aggregate_id]
        )

    @on(ev.NeedExpired)
    def _expired(self, cur: Any, e: ev.NeedExpired, record: RecordedEvent) -> None:
        cur.execute("UPDATE needs SET status = 'expired' WHERE need_id = %s", [record.aggregate_id])


@dataclass(frozen=True)
class NeedRow:
    need_id: str
    unit: str
    team: str
    specialty: str
    description: str
    posted_at: dt.datetime
    expires_at: dt.datetime
    matches: list[str]  # active talents of the team whose specialty is the one needed


def open_needs(reader: Reader) -> list[NeedRow]:
    rows = reader.query(
        "SELECT n.need_id, n.unit, n.team, n.specialty, n.description, n.posted_at, n.expires_at, "
        "ARRAY(SELECT t.person_id FROM talents t WHERE t.team = n.team AND t.status = 'active' "
        "AND lower(t.specialty) = lower(n.specialty) ORDER BY t.person_id) AS matches "
        "FROM needs n WHERE n.status = 'open' ORDER BY n.expires_at, n.need_id"
    )
    return [NeedRow(**row) for row in rows]


@dataclass(frozen=True)
class PlatformRow:
    platform_id: str
    kind: str
    name: str
    unit: str
    talents: list[str]


def platforms(reader: Reader) -> list[PlatformRow]:
    rows = reader.query(
        "SELECT platform_id, kind, name, unit, ARRAY(SELECT jsonb_array_elements_text(talents)) AS talents "
        "FROM platforms ORDER BY name, platform_id"
    )
    return [PlatformRow(**row) for row in rows]


def past_expiry(reader: Reader, now: dt.datetime) -> list[str]:
    rows = reader.query("SELECT need_id FROM needs WHERE status = 'open' AND expires_at <= %s", [now])
    return [str(row["need_id"]) for row in rows]
