"""The training service's contract over RabbitMQ: every RPC method and event handler, once.

One walk through a program's life, learners, requirements and a suggestion
from the public, through RPC, records what each method answers; each
method's test checks its replies against what it declares. The rules are
tested in memory (``test_*_rules``, ``test_use_cases``) and the read models on
PostgreSQL (``test_on_postgres``); here, the transport, and who may call what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from services.training.entrypoint import TrainingService
from shared.db.database import Database
from shared.errors import Forbidden
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
from tests.support.identities import EVERY_ROLE, staff
from tests.support.platform import service_running, settings_for_tests, wait_until
from tests.support.probes import platform_now

LEARNER = "learner-7"


@pytest.fixture(scope="module")
def training(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    with service_running(database, TrainingService, settings_for_tests(clock="offset")):
        yield


def suggestion(submission_id: str, text: str = "more courses on rural revitalisation") -> dict[str, Any]:
    return foreign.envelope(
        "feedback",
        "SuggestionRoutedToTraining",
        f"submission-{submission_id}",
        {"submission_id": submission_id, "text": text, "received_at": "2026-03-02T08:00:00+00:00"},
    )


def listed(page: dict[str, Any]) -> set[str]:
    """The submission ids on a page of suggestions."""
    return {item["submission_id"] for item in page["items"]}


@pytest.fixture(scope="module")
def replies(training: None, database: Database, test_env: RunEnvironment) -> dict[str, list[Any]]:
    """Every RPC method of the service called at least once, in a walk through its use cases."""
    now = platform_now(database)
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        service = Recorder(rpc.training)
        for person in (LEARNER, "learner-8", EVERY_ROLE.subject):
            service.register_learner(
                person_id=person, name=f"name of {person}", unit="Qingshan", post_category="township"
            )
        service.set_requirement(year=now.year, post_category="township", hours="12", required_kinds=["thematic"])
        service.requirements()
        service.set_plan(person_id=LEARNER, year=now.year, target_hours="20", kinds=["thematic"], note="rural work")

        start = now + dt.timedelta(days=1)
        service.plan_program(
            program_id="walk-1",
            title="Rural revitalisation",
            kind="thematic",
            mode="training_base",
            provider="cadre_college",
            starts_on=start.date().isoformat(),
            ends_on=(start + dt.timedelta(days=5)).date().isoformat(),
            capacity=3,
            assessment_required=True,
        )
        for n in (1, 2):
            service.schedule_session(
                program_id="walk-1",
                session_id=f"s{n}",
                title=f"day {n}",
                starts_at=(start + dt.timedelta(days=n - 1)).isoformat(),
                hours="8",
            )
        service.publish_program(program_id="walk-1")
        wait_until(lambda: service.open_programs()["items"], what="the open program")
        service.enrol(program_id="walk-1", person_id=LEARNER)
        service.enrol(program_id="walk-1", person_id="learner-8", source="self_selected")
        service.select_course(program_id="walk-1")  # the caller, as themselves
        service.start_program(program_id="walk-1")
        for n in (1, 2):
            service.record_attendance(program_id="walk-1", person_id=LEARNER, session_id=f"s{n}")
        service.record_assessment(program_id="walk-1", person_id=LEARNER, passed=True)
        service.withdraw(program_id="walk-1", person_id="learner-8", reason="posted elsewhere")
        service.close_program(program_id="walk-1")
        wait_until(lambda: service.roster(program_id="walk-1")["completed"] == 1, what="the roster")
        wait_until(lambda: service.learner_record(person_id=LEARNER)["courses"], what="the course on the record")
        service.my_record()
        service.inductions()
        service.shortfalls(year=now.year)
        service.check_deadlines()

        foreign.publish(test_env.amqp_uri, "feedback", suggestion("s-walk"))
        # The run's database is shared: other modules' suggestions may be listed already, so wait for this one.
        wait_until(lambda: "s-walk" in listed(service.suggestions(status="received")), what="the suggestion")
        service.answer_suggestion(submission_id="s-walk", adopted=True, reasons="a course is planned for May")
        wait_until(lambda: "s-walk" in listed(service.suggestions(status="answered")), what="the answer")

        poison = foreign.envelope("feedback", "SuggestionRoutedToTraining", "submission-poison", {"text": "no id"})
        poison_and_replay(service, test_env.amqp_uri, "feedback", poison)
        walk_the_audit(service, database, "training")
        return dict(service.replies)


test_every_rpc_method_answers_what_it_declares = every_method_keeps_its_contract(TrainingService)


def test_commands_answer_what_they_left(replies: dict[str, list[Any]]) -> None:
    published = replies["publish_program"][0]
    assert (published["phase"], published["sessions"], Decimal(published["total_hours"])) == ("published", 2, 16)
    assert replies["select_course"][0]["person_id"] == EVERY_ROLE.subject, "the learner is the verified caller"
    assert replies["select_course"][0]["source"] == "self_selected"
    assert replies["withdraw"][0]["status"] == "withdrawn"
    closed = replies["close_program"][0]
    assert (closed["completed"], closed["not_completed"]) == ([LEARNER], [EVERY_ROLE.subject])
    assert replies["answer_suggestion"][0]["answered"] is True
    assert replies["set_requirement"][0]["online_share"] == "0.5", "the service's default share"


def test_the_record_shows_the_completed_course_and_the_callers_own_record_is_theirs(
    replies: dict[str, list[Any]],
) -> None:
    record = replies["learner_record"][-1]
    assert [c["program_id"] for c in record["courses"]] == ["walk-1"]
    assert Decimal(record["window_hours"]) == Decimal(16)
    assert record["plans"][0]["kinds"] == ["thematic"]
    mine = replies["my_record"][0]
    assert mine["person_id"] == EVERY_ROLE.subject and mine["courses"] == []


def test_a_poison_event_is_dead_lettered_and_a_replay_that_fails_again_says_so(replies: dict[str, list[Any]]) -> None:
    assert_dead_lettered_then_replayed(replies, "on_suggestion", "SuggestionRoutedToTraining")


def test_a_suggestion_delivered_twice_is_received_once(training: None, rpc: Any, test_env: RunEnvironment) -> None:
    twice = suggestion("s-twice", "evening classes")
    foreign.publish(test_env.amqp_uri, "feedback", twice, twice)
    found = wait_until(
        lambda: [s for s in rpc.training.suggestions()["items"] if s["submission_id"] == "s-twice"],
        what="the suggestion",
    )
    assert len(found) == 1 and found[0]["text"] == "evening classes"


def test_a_learner_chooses_courses_as_themselves_and_nothing_more(training: None, database: Database) -> None:
    with rpc_client(timeout=20, identity=staff("learner-9", "learner")) as rpc:
        rpc.training.open_programs()
        with pytest.raises(Forbidden):
            rpc.training.enrol(program_id="walk-1", person_id="learner-9")
        with pytest.raises(Forbidden):
            rpc.training.learner_record(person_id=LEARNER)
    with rpc_client(timeout=20, identity=staff("an-officer", "supervision_officer")) as rpc, pytest.raises(Forbidden):
        rpc.training.select_course(program_id="walk-1")


@pytest.mark.parametrize("method", rpc_method_names(TrainingService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    training: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.training, method, database, "training")
