"""The platform as separate processes over real RabbitMQ and PostgreSQL (all six
services): the appointment under public watch on every path, the appointee
enrolled in induction and in the talent pool with the post, a cadre whose
training lets them stand, a branch election and a member admitted after the
short course, and the chain of causes traceable from one correlation id."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.grassroots.entrypoint import GrassrootsService
from services.scenarios import appointment_under_public_watch, grassroots_in_the_open, training_opens_the_way
from services.supervision.entrypoint import SupervisionService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.audit import proofs
from shared.audit.heads import trusted_public_key
from shared.audit.history import Node, trace
from shared.audit.replay import replay_projection
from shared.cli.orgctl import app
from shared.config import Settings
from shared.db.clock import advance_clock
from shared.db.database import Database, fetch_one
from shared.runtime.messaging.client import rpc_client
from tests.support.environment import RunEnvironment
from tests.support.identities import EVERY_ROLE
from tests.support.platform import Processes, reset_apps, settings_for_tests
from tests.support.probes import platform_now

pytestmark = pytest.mark.slow

SERVICES = (CadreService, FeedbackService, SupervisionService, TrainingService, GrassrootsService, TalentService)


@pytest.fixture(scope="module")
def platform(test_env: RunEnvironment, database: Database) -> Iterator[Processes]:
    settings = dataclasses.replace(settings_for_tests(), clock="offset")
    reset_apps(database, settings, *SERVICES)
    processes = Processes()
    for name in (cls.name for cls in SERVICES):
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
    outcome = appointment_under_public_watch(
        rpc, lambda delta: advance_clock(database, delta), run, lambda: platform_now(database)
    )
    assert outcome.inducted == [f"{run}c-c1"], "the appointee is enrolled in the open induction program"
    assert outcome.pooled == [f"{run}c-c1"], "the appointee is in the talent pool with the post"
    assert outcome.withheld == [f"{run}w-c1"]
    assert outcome.appointed == [f"{run}c-c1"]
    assert outcome.postponed == [f"{run}p-c1"] and outcome.appointed_after_case == [f"{run}p-c1"]
    assert outcome.passed

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT metadata->>'correlation_id' FROM cadre.events WHERE stream_id = %s AND version = 1",
            [f"selection-{run}w-selection"],
        )
        correlation_id = fetch_one(cur)[0]
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
        ("cadre", "NoticeOpened"),
        ("cadre", "VoterTookPart"),
        ("cadre", "BallotCounted"),
        ("cadre", "SupervisionCaseNoted"),
        ("cadre", "AppointmentPostponed"),
        ("cadre", "CandidateAppointed"),
    } <= seen
    assert ("cadre", "RecommendationBallotCast") not in seen and ("cadre", "CommitteeVoteCast") not in seen

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
    recorded = next(
        e for e in events if e["type"] == "SupervisionOutcomeRecorded" and e["stream_id"] == case["stream_id"]
    )
    noted = caused_by(recorded, "SupervisionOutcomeNoted")
    assert noted["stream_id"] == f"selection-{run}w-selection"


def test_a_cadre_short_of_training_hours_is_refused_trains_and_then_stands(
    platform: Processes, rpc: Any, database: Database
) -> None:
    trained = training_opens_the_way(rpc, uuid.uuid4().hex[:6], lambda: platform_now(database))
    assert trained.refused_before and trained.completed and trained.admitted_after
    assert trained.hours_at_cadre == 24
    assert trained.passed


def test_a_branch_elects_its_committee_and_a_member_is_admitted_after_the_short_course(
    platform: Processes, rpc: Any, database: Database
) -> None:
    run = uuid.uuid4().hex[:6]
    outcome = grassroots_in_the_open(
        rpc, lambda delta: advance_clock(database, delta), run, lambda: platform_now(database)
    )
    assert outcome.quorum_refused, "five of seven present is not more than four fifths"
    assert outcome.elected == [f"{run}g-m1", f"{run}g-m2", f"{run}g-m3"] and outcome.secretary == f"{run}g-m1"
    assert outcome.refused_without_course and outcome.admitted
    assert outcome.passed


def test_trace_of_the_appointment_flow_shows_every_step_across_the_services(
    platform: Processes, rpc: Any, database: Database
) -> None:
    run = uuid.uuid4().hex[:6]
    with rpc_client(timeout=20, identity=EVERY_ROLE) as own:  # a correlation id of this test's own
        appointment_under_public_watch(
            own, lambda delta: advance_clock(database, delta), run, lambda: platform_now(database)
        )
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT metadata->>'correlation_id' FROM cadre.events WHERE stream_id = %s AND version = 1",
            [f"selection-{run}w-selection"],
        )
        correlation_id = fetch_one(cur)[0]

    roots = trace(database, ["cadre", "feedback", "supervision"], correlation_id)

    def walk(nodes: list[Node], depth: int = 0) -> Iterator[tuple[int, Node]]:
        for node in nodes:
            yield depth, node
            yield from walk(node.children, depth + 1)

    flat = list(walk(roots))
    services = {node.service for _, node in flat}
    assert services == {"cadre", "feedback", "supervision"}
    times = [root.event.metadata["recorded_at"] for root in roots]
    assert times == sorted(times), "in time order"
    notice = next(
        n for _, n in flat if n.event.type == "PublicNoticeOpened" and n.event.stream_id.startswith(f"selection-{run}w")
    )
    objection = [c.event.type for c in notice.children]
    assert "SubmissionReceived" in objection and "ComplaintRoutedToSupervision" in objection
    routed = next(c for c in notice.children if c.event.type == "ComplaintRoutedToSupervision")
    assert [c.event.type for c in routed.children] == ["CaseOpened"]
    outcome = next(n for _, n in flat if n.event.type == "SupervisionOutcomeRecorded")
    # cadre notes the outcome on the selection and on the cadre's record (feedback, which tells the
    # submitter, may answer it too)
    noted = sorted(c.event.type for c in outcome.children if c.service == "cadre")
    assert noted == ["CaseConcludedOnRecord", "SupervisionOutcomeNoted"]

    result = CliRunner().invoke(app, ["audit", "trace", correlation_id, "--json"])
    assert result.exit_code == 0, result.output
    assert "AppointmentWithheld" in result.output


def test_replay_of_every_projection_equals_the_live_one(platform: Processes, database: Database) -> None:
    for cls in SERVICES:
        for projection in cls.projections:
            report = replay_projection(database, cls.name, projection(), cls.events)
            assert report.identical, (cls.name, projection.name, report.differences)
            assert report.events > 0
    result = CliRunner().invoke(app, ["replay", "cadre", "--json"])
    assert result.exit_code == 0, result.output
    assert all(p["identical"] for p in json.loads(result.output))


def test_orgctl_against_the_running_platform(
    platform: Processes, database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runner = CliRunner()
    for proc in platform.started:
        monkeypatch.setenv(f"{proc.name.upper()}_HEALTH_PORT", str(proc.health_port))
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    assert {s["service"]: s["ready"] for s in json.loads(status.output)} == {
        "cadre": True,
        "feedback": True,
        "supervision": True,
        "training": True,
        "grassroots": True,
        "talent": True,
    }

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT stream_id FROM cadre.events WHERE type = 'AppointmentWithheld' LIMIT 1")
        stream = fetch_one(cur)[0]
    history = runner.invoke(app, ["audit", "history", stream, "--json"])
    assert history.exit_code == 0 and json.loads(history.output)["service"] == "cadre"
    as_of = runner.invoke(app, ["audit", "as-of", stream, "--position", "1", "--json"])
    assert as_of.exit_code == 0 and json.loads(as_of.output)["version"] <= 1
    assert runner.invoke(app, ["audit", "as-of", stream]).exit_code == 2, "exactly one of --at and --position"
    assert runner.invoke(app, ["audit", "history", "selection-nothing-here"]).exit_code == 1

    # The services sign tree heads on their own every few seconds, with the sandbox's audit key.
    signed = runner.invoke(app, ["audit", "sign-head", "--json"])
    assert signed.exit_code == 0, signed.output
    exported = tmp_path / "heads.json"
    assert runner.invoke(app, ["audit", "export-heads", "--out", str(exported)]).exit_code == 0
    clean = runner.invoke(app, ["audit", "verify", "--heads", str(exported), "--json"])
    assert clean.exit_code in (0, 5), clean.output  # 5: events appended since the last head, not yet covered
    assert all(r["grade"] in ("intact", "not-yet-covered") and r["heads"] >= 1 for r in json.loads(clean.output))

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT event_id::text FROM cadre.events WHERE type = 'AppointmentWithheld' LIMIT 1")
        withheld = fetch_one(cur)[0]
    proof = runner.invoke(app, ["audit", "prove", withheld])
    assert proof.exit_code == 0, proof.output
    trusted = trusted_public_key(Settings.from_env())
    assert trusted is not None
    assert proofs.check_inclusion_bundle(json.loads(proof.output), trusted)["type"] == "AppointmentWithheld"

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT position, data FROM feedback.events WHERE type = 'SubmissionReceived' LIMIT 1")
        position, data = fetch_one(cur)
        cur.execute("ALTER TABLE feedback.events DISABLE TRIGGER USER")
        cur.execute(
            "UPDATE feedback.events SET data = jsonb_set(data, '{channel}', '\"nothing happened\"') WHERE position = %s",
            [position],
        )
    altered = runner.invoke(app, ["audit", "verify", "--service", "feedback", "--json"])
    assert altered.exit_code == 3, altered.output  # manipulation
    assert json.loads(altered.output)[0]["first_position"] == position
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("UPDATE feedback.events SET data = %s::jsonb WHERE position = %s", [json.dumps(data), position])
        cur.execute("ALTER TABLE feedback.events ENABLE TRIGGER USER")
    assert runner.invoke(app, ["audit", "verify", "--service", "feedback"]).exit_code in (0, 5)
    assert runner.invoke(app, ["audit", "verify", "--public-key", "00" * 32]).exit_code == 3, "an untrusted signer"

    dead = runner.invoke(app, ["dlq", "list", "--json"])
    assert dead.exit_code == 0 and json.loads(dead.output) == []
