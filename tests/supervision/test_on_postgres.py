"""The supervision service on its PostgreSQL store, with no broker: what needs the database.

The overdue sweep asks the inspections read model what is due; the queries
filter cases and tasks by what callers ask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from services.supervision.entrypoint import SupervisionService
from tests.support.environment import RunEnvironment
from tests.support.local import OnPostgres
from tests.support.platform import settings_for_tests

OFFICE = "supervision-office"
MEETING = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]


@pytest.fixture
def supervision(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    service = OnPostgres(SupervisionService, settings_for_tests())
    yield service
    service.close()


def assign(service: OnPostgres, task_id: str, days: int) -> dict[str, Any]:
    deadline = (service.clock.now() + dt.timedelta(days=days)).isoformat()
    return dict(
        service.call(
            "assign_task",
            task_id=task_id,
            kind="key",
            unit="Qingshan",
            goal="repair roads",
            deadline=deadline,
            responsible="Sun",
        )
    )


def test_the_overdue_sweep_escalates_each_task_past_its_deadline_once(supervision: OnPostgres) -> None:
    assign(supervision, "late", 2)
    assign(supervision, "done", 2)
    assign(supervision, "early", 30)
    supervision.call("complete_task", task_id="done", summary="repaired")
    supervision.project()
    assert supervision.call("check_overdue") == {"escalated": 0}, "nothing is due yet"

    supervision.move_clock(dt.timedelta(days=3))
    assert supervision.call("check_overdue") == {"escalated": 1}
    supervision.project()
    assert supervision.call("check_overdue") == {"escalated": 0}, "escalated once"
    statuses = {t["task_id"]: t["status"] for t in supervision.call("tasks")["items"]}
    assert statuses == {"late": "escalated", "done": "completed", "early": "active"}
    assert [t["task_id"] for t in supervision.call("tasks", status="escalated")["items"]] == ["late"]
    notices = supervision.call("inspection_notices")["items"]
    assert [n["task_id"] for n in notices] == ["late"] and "repair roads" in notices[0]["body"]


def test_cases_are_found_by_cadre_and_by_status(supervision: OnPostgres) -> None:
    for case_id, cadre_id in (("k1", "c-1"), ("k2", "c-1"), ("k3", "c-2")):
        supervision.call("open_case", case_id=case_id, cadre_id=cadre_id, summary="a report")
    supervision.call("assign_case", case_id="k2", investigator="Zhao")
    supervision.call("hold_joint_meeting", case_id="k2", participants=MEETING, decision="d")
    supervision.call("record_outcome", case_id="k2", substantiated=False, reasons="unfounded")
    supervision.project()
    assert sorted(c["case_id"] for c in supervision.call("cases", cadre_id="c-1")["items"]) == ["k1", "k2"]
    assert [c["case_id"] for c in supervision.call("cases", status="not_substantiated")["items"]] == ["k2"]
    assert supervision.call("cases", cadre_id="c-1", status="open")["items"][0]["investigator"] is None
