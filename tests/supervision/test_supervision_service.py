"""The supervision service over real RabbitMQ and PostgreSQL, through RPC."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.supervision.service import SupervisionService
from shared.db.database import Database
from shared.errors import RuleViolation
from shared.runtime.clock import advance_clock
from tests.support import foreign
from tests.support.contracts import assert_bad_input_is_refused, rpc_method_names
from tests.support.environment import RunEnvironment
from tests.support.platform import InProcess, reset_apps, settings_for_tests, wait_until
from tests.support.probes import scalar

OFFICE = "supervision-office"
MEETING = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]


@pytest.fixture(scope="module")
def supervision(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    settings = dataclasses.replace(settings_for_tests(), clock="offset")
    reset_apps(database, settings, SupervisionService)
    runners = InProcess()
    runners.start(SupervisionService, settings=settings)
    yield
    runners.stop_all()


def now(database: Database) -> dt.datetime:
    offset = scalar(database, "SELECT offset_seconds::bigint FROM public.orgwork_clock")
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset)


def test_a_routed_complaint_opens_a_case_whose_outcome_is_published(
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
        rpc.supervision.record_outcome(actor=OFFICE, case_id=case_id, substantiated=True, reasons="r")
    rpc.supervision.assign_case(actor=OFFICE, case_id=case_id, investigator="Zhao")
    rpc.supervision.hold_joint_meeting(actor=OFFICE, case_id=case_id, participants=MEETING, decision="established")
    view = rpc.supervision.record_outcome(actor=OFFICE, case_id=case_id, substantiated=True, reasons="confirmed")
    assert view["outcome"] == "substantiated"

    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT data, metadata FROM supervision.events WHERE stream_id = %s ORDER BY version", [f"case-{case_id}"]
        )
        rows = cur.fetchall()
    outcome_data = rows[-1][0]
    assert (outcome_data["case_id"], outcome_data["cadre_id"], outcome_data["process_id"]) == (
        case_id,
        cadre_id,
        "proc-9",
    )
    correlations = {metadata["correlation_id"] for _, metadata in rows}
    assert correlations == {routed["metadata"]["correlation_id"]}, (
        "the case's story carries the complaint's correlation"
    )
    assert rows[0][1]["causation_id"] == routed["event_id"]


def test_a_department_case_and_its_joint_meeting_rules(supervision: None, rpc: Any) -> None:
    case = rpc.supervision.open_case(actor=OFFICE, cadre_id="c-dept", summary="own motion")
    assert case["origin"] == "department"
    rpc.supervision.assign_case(actor=OFFICE, case_id=case["case_id"], investigator="Zhao")
    with pytest.raises(RuleViolation, match="discipline_inspection"):
        rpc.supervision.hold_joint_meeting(
            actor=OFFICE,
            case_id=case["case_id"],
            decision="d",
            participants=[{"name": "a", "role": "organization"}, {"name": "b", "role": "organization"}],
        )


def test_inspection_tasks_progress_findings_follow_ups_and_overdue_escalation(
    supervision: None, rpc: Any, database: Database
) -> None:
    deadline = (now(database) + dt.timedelta(days=2)).isoformat()
    task = rpc.supervision.assign_task(
        actor=OFFICE, kind="key", unit="Qingshan", goal="repair roads", deadline=deadline, responsible="Sun"
    )
    rpc.supervision.report_progress(actor=OFFICE, task_id=task["task_id"], percent=30, note="started")
    finding = rpc.supervision.record_finding(
        actor=OFFICE,
        task_id=task["task_id"],
        finding="funds misused",
        follow_up_deadline=(now(database) + dt.timedelta(days=30)).isoformat(),
    )
    assert finding["follow_up_task_id"]
    follow_ups = wait_until(
        lambda: [t for t in rpc.supervision.tasks()["items"] if t["parent_task_id"] == task["task_id"]]
    )
    assert follow_ups[0]["kind"] == "follow_up"
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT stream_id, type, event_id::text, metadata FROM supervision.events "
            "WHERE stream_id IN (%s, %s) ORDER BY position",
            [f"inspection-{task['task_id']}", f"inspection-{finding['follow_up_task_id']}"],
        )
        rows = cur.fetchall()
    parent_story = rows[0][3]["correlation_id"]
    finding_event = next(r for r in rows if r[1] == "FindingRecorded")
    follow_up_opened = next(r for r in rows if r[0] == f"inspection-{finding['follow_up_task_id']}")
    assert follow_up_opened[3]["correlation_id"] == parent_story, "the follow-up continues the parent's story"
    assert follow_up_opened[3]["causation_id"] == finding_event[2], "caused by the finding"

    wait_until(lambda: any(t["task_id"] == task["task_id"] for t in rpc.supervision.tasks(status="active")["items"]))
    advance_clock(database, dt.timedelta(days=3))
    assert rpc.supervision.check_overdue()["escalated"] >= 1
    notices = wait_until(
        lambda: [n for n in rpc.supervision.inspection_notices()["items"] if n["task_id"] == task["task_id"]]
    )
    assert "repair roads" in notices[0]["body"]
    wait_until(lambda: any(t["task_id"] == task["task_id"] for t in rpc.supervision.tasks(status="escalated")["items"]))
    assert rpc.supervision.check_overdue()["escalated"] == 0, "escalated once"


@pytest.mark.parametrize("method", rpc_method_names(SupervisionService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    supervision: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.supervision, method, database, "supervision")
