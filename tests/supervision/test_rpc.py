"""The supervision service's contract over RabbitMQ: every RPC method and event handler, once.

One walk through cases and inspection tasks, through RPC, records what each
method answers; each method's test checks its replies against what it
declares. The rules are tested in memory (``test_use_cases``) and the read
models on PostgreSQL (``test_on_postgres``); here, the transport.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.supervision.entrypoint import SupervisionService
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.errors import RuleViolation
from shared.runtime.messaging.client import rpc_client
from tests.support import foreign
from tests.support.contracts import (
    Recorder,
    assert_bad_input_is_refused,
    assert_dead_lettered_then_replayed,
    every_method_keeps_its_contract,
    poison_and_replay,
    rpc_method_names,
    walk_the_audit,
)
from tests.support.environment import RunEnvironment
from tests.support.identities import EVERY_ROLE
from tests.support.platform import service_running, settings_for_tests, wait_until
from tests.support.probes import platform_now

OFFICE = "supervision-office"
MEETING = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]


@pytest.fixture(scope="module")
def supervision(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    with service_running(database, SupervisionService, settings_for_tests(clock="offset")):
        yield


@pytest.fixture(scope="module")
def replies(supervision: None, database: Database, test_env: RunEnvironment) -> dict[str, list[Any]]:
    """Every RPC method of the service called at least once, in a walk through its use cases."""
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        service = Recorder(rpc.supervision)
        case = service.open_case(cadre_id="c-dept", summary="own motion")
        service.assign_case(case_id=case["case_id"], investigator="Zhao")
        service.hold_joint_meeting(case_id=case["case_id"], participants=MEETING, decision="d")
        service.record_outcome(case_id=case["case_id"], substantiated=True, reasons="confirmed")
        wait_until(lambda: service.cases(status="substantiated")["items"], what="the concluded case")

        now = platform_now(database)
        task = service.assign_task(
            kind="key",
            unit="Qingshan",
            goal="repair roads",
            deadline=(now + dt.timedelta(days=2)).isoformat(),
            responsible="Sun",
        )
        service.report_progress(task_id=task["task_id"], percent=30, note="started")
        finding = service.record_finding(
            task_id=task["task_id"],
            finding="funds misused",
            follow_up_deadline=(now + dt.timedelta(days=30)).isoformat(),
        )
        service.complete_task(task_id=finding["follow_up_task_id"], summary="funds returned")
        wait_until(lambda: len(service.tasks()["items"]) == 2, what="both tasks")
        # past the deadline even when it falls in an official holiday (met by the first working day after it)
        advance_clock(database, dt.timedelta(days=14))
        service.check_overdue()
        wait_until(lambda: service.inspection_notices()["items"], what="the inspection notice")

        poison = foreign.envelope("feedback", "ComplaintRoutedToSupervision", "submission-poison", {"text": "no cadre"})
        poison_and_replay(service, test_env.amqp_uri, "feedback", poison)
        walk_the_audit(service, database, "supervision")
        return dict(service.replies)


test_every_rpc_method_answers_what_it_declares = every_method_keeps_its_contract(SupervisionService)


def test_commands_answer_the_case_or_task_as_they_left_it(replies: dict[str, list[Any]]) -> None:
    assert replies["open_case"][0]["origin"] == "department" and replies["open_case"][0]["outcome"] == "open"
    assert replies["assign_case"][0]["investigator"] == "Zhao"
    assert replies["hold_joint_meeting"][0]["meetings"] == 1
    assert replies["record_outcome"][0]["outcome"] == "substantiated"
    assert replies["report_progress"][0]["percent"] == 30
    assert replies["record_finding"][0]["follow_up_task_id"]
    assert replies["complete_task"][0]["completed"] is True
    assert replies["check_overdue"] == [{"escalated": 1}]
    assert {t["kind"] for t in replies["tasks"][-1]["items"]} == {"key", "follow_up"}
    assert "repair roads" in replies["inspection_notices"][-1]["items"][0]["body"]


def test_a_poison_event_is_dead_lettered_and_a_replay_that_fails_again_says_so(replies: dict[str, list[Any]]) -> None:
    assert_dead_lettered_then_replayed(replies, "on_routed_complaint", "ComplaintRoutedToSupervision")


def test_a_routed_complaint_opens_one_case_whose_story_and_outcome_follow_it(
    supervision: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    cadre_id = f"c-{uuid.uuid4().hex[:6]}"
    routed = foreign.envelope(
        "feedback",
        "ComplaintRoutedToSupervision",
        "submission-s1",
        {
            "submission_id": f"s-{cadre_id}",
            "cadre_id": cadre_id,
            "process_id": "proc-9",
            "notice_id": None,
            "text": "gifts",
            "received_at": "2026-01-01T00:00:00+00:00",
        },
    )
    foreign.publish(test_env.amqp_uri, "feedback", routed, routed)  # delivered twice: one case
    case = wait_until(lambda: rpc.supervision.cases(cadre_id=cadre_id)["items"], what="the case")
    assert len(case) == 1 and case[0]["origin"] == "complaint" and case[0]["process_id"] == "proc-9"
    case_id = case[0]["case_id"]
    with pytest.raises(RuleViolation, match="assigned_first"):
        rpc.supervision.record_outcome(case_id=case_id, substantiated=True, reasons="r")
    rpc.supervision.assign_case(case_id=case_id, investigator="Zhao")
    rpc.supervision.hold_joint_meeting(case_id=case_id, participants=MEETING, decision="established")
    rpc.supervision.record_outcome(case_id=case_id, substantiated=True, reasons="confirmed")

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT data, metadata FROM supervision.events WHERE stream_id = %s ORDER BY version", [f"case-{case_id}"]
        )
        rows = cur.fetchall()
    outcome = rows[-1][0]
    assert (outcome["case_id"], outcome["cadre_id"], outcome["process_id"]) == (case_id, cadre_id, "proc-9")
    assert {metadata["correlation_id"] for _, metadata in rows} == {routed["metadata"]["correlation_id"]}, (
        "the case's story carries the complaint's correlation"
    )
    assert rows[0][1]["causation_id"] == routed["event_id"]


@pytest.mark.parametrize("method", rpc_method_names(SupervisionService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    supervision: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.supervision, method, database, "supervision")
