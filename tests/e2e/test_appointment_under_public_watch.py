"""The appointment under public watch, with cadre, feedback and supervision as
separate processes over real RabbitMQ and PostgreSQL: both paths, and the
chain of causes traceable from one correlation id."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.cadre.service import CadreService
from services.feedback.service import FeedbackService
from services.scenarios import appointment_under_public_watch
from services.supervision.service import SupervisionService
from shared.db.database import Database
from shared.runtime.clock import advance_clock
from tests.support.environment import RunEnvironment
from tests.support.platform import Processes, reset_apps, settings_for_tests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform(test_env: RunEnvironment, database: Database) -> Iterator[Processes]:
    settings = dataclasses.replace(settings_for_tests(), clock="offset")
    reset_apps(database, settings, CadreService, FeedbackService, SupervisionService)
    processes = Processes()
    for name in ("cadre", "feedback", "supervision"):
        processes.start(name, name, clock="offset")
    for proc in processes.started:
        proc.wait_ready()
    yield processes
    processes.stop_all()


def story(database: Database, correlation_id: str) -> list[dict[str, Any]]:
    """Every event of the three stores with this correlation id."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            " UNION ALL ".join(
                f"SELECT '{s}' AS service, event_id::text, stream_id, type, metadata FROM \"{s}\".events "
                "WHERE metadata->>'correlation_id' = %(c)s"
                for s in ("cadre", "feedback", "supervision")
            ),
            {"c": correlation_id},
        )
        return [
            dict(zip(("service", "event_id", "stream_id", "type", "metadata"), row, strict=True))
            for row in cur.fetchall()
        ]


def test_both_paths_and_the_chain_of_causes(platform: Processes, rpc: Any, database: Database) -> None:
    run = uuid.uuid4().hex[:6]
    outcome = appointment_under_public_watch(rpc, lambda delta: advance_clock(database, delta), run)
    assert outcome.withheld == [f"{run}w-c1"]
    assert outcome.appointed == [f"{run}c-c1"]

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT metadata->>'correlation_id' FROM cadre.events WHERE stream_id = %s AND version = 1",
            [f"selection-{run}w-selection"],
        )
        correlation_id = cur.fetchone()[0]
    events = story(database, correlation_id)
    seen = {(e["service"], e["type"]) for e in events}
    assert {
        ("cadre", "SelectionAnnounced"),
        ("cadre", "PublicNoticeOpened"),
        ("feedback", "SubmissionReceived"),
        ("feedback", "ComplaintRoutedToSupervision"),
        ("supervision", "CaseOpened"),
        ("supervision", "CaseAssigned"),
        ("supervision", "JointMeetingHeld"),
        ("supervision", "SupervisionOutcomeRecorded"),
        ("cadre", "SupervisionOutcomeNoted"),
        ("cadre", "AppointmentWithheld"),
    } <= seen

    # One correlation id runs through the whole demo (both paths); the causation
    # ids link each step of the withheld path to the one before.
    def caused_by(cause: dict[str, Any], effect_type: str) -> dict[str, Any]:
        effects = [e for e in events if e["type"] == effect_type and e["metadata"]["causation_id"] == cause["event_id"]]
        assert len(effects) == 1, f"{cause['type']} caused one {effect_type}"
        return effects[0]

    notice = next(
        e for e in events if e["type"] == "PublicNoticeOpened" and e["stream_id"] == f"selection-{run}w-selection"
    )
    objection = caused_by(notice, "SubmissionReceived")
    routed = next(
        e for e in events if e["type"] == "ComplaintRoutedToSupervision" and e["stream_id"] == objection["stream_id"]
    )
    case = caused_by(routed, "CaseOpened")
    outcome = next(
        e for e in events if e["type"] == "SupervisionOutcomeRecorded" and e["stream_id"] == case["stream_id"]
    )
    noted = caused_by(outcome, "SupervisionOutcomeNoted")
    assert noted["stream_id"] == f"selection-{run}w-selection"
