"""Grassroots with the services it works with, over real RabbitMQ and PostgreSQL.

- A development target is enrolled by training in the open short course, and
  its completion is what opens the admission.
- An objection from the public on the development target's notice goes
  through feedback to supervision; the case holds the admission until it
  concludes, and an unsubstantiated outcome lets it go on.
- A branch rated weak gets a follow-up inspection task from supervision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from services.feedback.entrypoint import FeedbackService
from services.grassroots.entrypoint import GrassrootsService
from services.scenarios import publish_program, run_program
from services.supervision.entrypoint import SupervisionService
from services.training.entrypoint import TrainingService
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.errors import RuleViolation
from shared.runtime.messaging.client import rpc_client
from tests.support.environment import RunEnvironment
from tests.support.identities import THE_PUBLIC
from tests.support.platform import services_running, settings_for_tests, wait_until
from tests.support.probes import platform_now

pytestmark = pytest.mark.slow

MEMBERS = [f"m{n}" for n in range(1, 8)]
MEETING = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]


@pytest.fixture(scope="module")
def platform(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    settings = settings_for_tests(clock="offset")
    with services_running(database, settings, GrassrootsService, TrainingService, SupervisionService, FeedbackService):
        yield


def found(rpc: Any) -> None:
    grassroots = rpc.grassroots
    grassroots.found_organisation(organisation_id="county", kind="county_committee", org_type="organ", name="County")
    grassroots.found_organisation(
        organisation_id="dongcun",
        kind="branch",
        org_type="village",
        name="Dongcun village branch",
        parent_id="county",
        founding_members=MEMBERS,
    )


def test_a_development_target_is_trained_held_by_an_objection_and_released_by_its_outcome(
    platform: None, rpc: Any, database: Database
) -> None:
    found(rpc)
    grassroots = rpc.grassroots
    grassroots.apply(person_id="zhou", name="Zhou Min", birth_date="1996-02-03", branch_id="dongcun")
    grassroots.hold_talk(person_id="zhou", talked_by="m1")
    grassroots.designate_activist(person_id="zhou", recommended_by="member_recommendation", contacts=["m2"])
    advance_clock(database, dt.timedelta(days=366))  # a year as an activist
    publish_program(
        rpc.training, "short-26", "Short course", "development_target_course", platform_now(database).date()
    )
    wait_until(lambda: rpc.training.open_programs()["items"], what="the open short course")
    grassroots.designate_development_target(person_id="zhou")

    def enrolled() -> Any:
        lines = rpc.training.roster(program_id="short-26")["learners"]
        return [line for line in lines if line["person_id"] == "zhou"]

    [line] = wait_until(enrolled, what="training to enrol the development target")
    assert line["source"] == "on_designation"
    grassroots.assign_introducers(person_id="zhou", introducers=["m3", "m4"])
    grassroots.record_political_review(person_id="zhou", passed=True)
    notice = grassroots.open_target_notice(person_id="zhou", working_days=5)

    # the public objects while the notice is open
    wait_until(
        lambda: any(n["process_id"] == "admission:zhou" for n in rpc.feedback.open_notices()["items"]),
        what="feedback to put the notice before the public",
    )
    with rpc_client(timeout=20, identity=THE_PUBLIC) as public:
        receipt = public.feedback.submit(
            channel="notice_comment",
            category="complaint_about_cadre",
            text="The applicant took part in gambling last winter.",
            cadre_id="zhou",
            notice_id="target-zhou",
        )
    case = wait_until(lambda: rpc.supervision.cases(cadre_id="zhou")["items"], what="the case")[0]
    assert case["process_id"] == "admission:zhou" and receipt["routed_to"] == "supervision"
    wait_until(lambda: rpc.grassroots.pipeline(branch_id="dongcun")["items"][0]["open_cases"] == 1, what="the hold")
    assert notice["notice_closes_at"]

    # the course completed: the gate of the short course is met, the objection still holds
    run_program(rpc.training, "short-26", ["zhou"])
    wait_until(lambda: rpc.grassroots.pipeline(branch_id="dongcun")["items"][0]["short_course"], what="the course")
    with pytest.raises(RuleViolation, match=r"notice_closed_first|case_open"):
        grassroots.pre_review(person_id="zhou", passed=True)

    rpc.supervision.assign_case(case_id=case["case_id"], investigator="Zhao")
    rpc.supervision.hold_joint_meeting(case_id=case["case_id"], participants=MEETING, decision="not borne out")
    rpc.supervision.record_outcome(case_id=case["case_id"], substantiated=False, reasons="no record of it")
    wait_until(lambda: rpc.grassroots.pipeline(branch_id="dongcun")["items"][0]["open_cases"] == 0, what="the release")
    assert rpc.grassroots.pipeline(branch_id="dongcun")["items"][0]["stage"] == "development_target"


def test_a_weak_branch_gets_a_follow_up_inspection_task(platform: None, rpc: Any) -> None:
    rpc.grassroots.found_organisation(
        organisation_id="xicun",
        kind="branch",
        org_type="village",
        name="Xicun village branch",
        parent_id="county",
        founding_members=MEMBERS[:3],
    )
    rpc.grassroots.rate_branch(
        branch_id="xicun", year=2025, criteria_score=70, survey_satisfaction=80, problems=["no meetings for a year"]
    )
    task = wait_until(
        lambda: [t for t in rpc.supervision.tasks()["items"] if t["unit"] == "Xicun village branch"],
        what="supervision's follow-up task",
    )[0]
    assert task["kind"] == "follow_up" and "no meetings for a year" in task["goal"]
