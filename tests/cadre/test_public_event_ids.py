"""What the public reads of cadre names the stored event it comes from, for its inclusion proof.

A notice on the board names the event that opened it, a published result
the event that closed the selection, each appointment the event that made
it; rows written before the ids were kept get theirs from the log when the
migration runs, exactly or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from services.cadre.entrypoint import CadreService
from services.scenarios import run_selection
from shared.db.database import Database
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.store import EventStore
from tests.support.environment import RunEnvironment
from tests.support.local import OnPostgres
from tests.support.migrating import migrate_the_rest, store_before
from tests.support.platform import settings_for_tests

META = Metadata(actor="organization-department")
AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


@pytest.fixture
def cadre(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    service = OnPostgres(CadreService, settings_for_tests())
    yield service
    service.close()


def event_type(service: OnPostgres, event_id: str) -> str:
    with service.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT type FROM cadre.events WHERE event_id = %s", [event_id])
        row = cur.fetchone()
    assert row is not None, f"{event_id} is not an event of cadre's log"
    return str(row[0])


def test_the_board_and_the_results_name_the_events_they_show(cadre: OnPostgres) -> None:
    board: list[dict[str, Any]] = []

    def during_notice(view: dict[str, Any]) -> None:
        cadre.project()
        board.extend(cadre.call("open_notices")["items"])

    run_selection(cadre.proxy, cadre.move_clock, "e", during_notice=during_notice)
    cadre.project()
    (notice,) = board
    assert event_type(cadre, notice["event_id"]) == "PublicNoticeOpened"
    (result,) = cadre.call("published_results")["items"]
    assert event_type(cadre, result["event_id"]) == "SelectionClosed"
    (appointed,) = result["appointed"]
    assert event_type(cadre, appointed["event_id"]) == "CandidateAppointed"


def test_rows_written_before_get_their_events_from_the_log_or_none(database: Database) -> None:
    with store_before(database, CadreService, 3) as schema:
        store = EventStore(database, schema)
        _, opened, appointed, closed = store.append(
            "selection-p1",
            [
                NewEvent("SelectionAnnounced", {"title": "Deputy head"}),
                NewEvent("PublicNoticeOpened", {"notice_id": "n1"}),
                NewEvent("CandidateAppointed", {"cadre_id": "c1"}),
                NewEvent("SelectionClosed", {"appointed": ["c1"], "withheld": []}),
            ],
            0,
            META,
        )
        store.append("selection-p2", [NewEvent("PublicNoticeOpened", {"notice_id": "n2"})], 0, META)
        with database.transaction() as conn, conn.cursor() as cur:
            for process_id, phase in (("p1", "closed"), ("p3", "announced")):  # p3: no event in the log
                cur.execute(
                    f'INSERT INTO "{schema}".selection_processes '
                    "(process_id, title, unit, kind, variant, phase, updated_at) "
                    "VALUES (%s, 'Deputy head', 'Qingshan', 'public_selection', 'standard', %s, %s)",
                    [process_id, phase, AT],
                )
            cur.execute(
                f'INSERT INTO "{schema}".candidate_journeys (process_id, cadre_id, position, step, at, details) '
                "VALUES ('p1', 'c1', %s, 'appointed', %s, %s::jsonb)",
                [appointed.position, AT, json.dumps({"post_id": "post"})],
            )
            for notice_id in ("n1", "n2"):  # n2 is p2's notice, filed under p1: no event of p1 opened it
                cur.execute(
                    f'INSERT INTO "{schema}".public_notices '
                    "(notice_id, process_id, kind, title, unit, cadre_ids, opens_at, closes_at) "
                    "VALUES (%s, 'p1', 'pre_appointment', 'Deputy head', 'Qingshan', '[\"c1\"]', %s, %s)",
                    [notice_id, AT, AT + dt.timedelta(days=7)],
                )

        assert migrate_the_rest(database, schema, CadreService) == ["service/0003_public_event_ids"]

        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute(f'SELECT process_id, phase_event_id::text FROM "{schema}".selection_processes')
            assert dict(cur.fetchall()) == {"p1": closed.event_id, "p3": None}
            cur.execute(f'SELECT event_id::text FROM "{schema}".candidate_journeys')
            assert cur.fetchall() == [(appointed.event_id,)]
            cur.execute(f'SELECT notice_id, event_id::text FROM "{schema}".public_notices')
            assert dict(cur.fetchall()) == {"n1": opened.event_id, "n2": None}
