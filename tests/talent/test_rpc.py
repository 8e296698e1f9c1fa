"""The talent service's contract over RabbitMQ: every RPC method and event handler, once.

One walk registers talents, evaluates one, records a departure and a return,
runs a cultivation program from launch to notice to incentive, opens a
platform and posts and fills a need, through RPC; each method's test checks
its replies against what it declares. Here, the transport.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from services.talent.entrypoint import TalentService
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.errors import RuleViolation, ValidationFailed
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

ENGINEERS = ["wu", "zheng", "feng"]


@pytest.fixture(scope="module")
def talent(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    with service_running(database, TalentService, settings_for_tests(clock="offset")):
        yield


def register(service: Any, person_id: str, **extra: Any) -> None:
    service.register_talent(
        **{
            "person_id": person_id,
            "team": "professional_technical",
            "name": f"Engineer {person_id}",
            "specialty": "irrigation",
            "level": "senior",
            "source": "local",
            "unit": "Water bureau",
            **extra,
        }
    )


@pytest.fixture(scope="module")
def replies(talent: None, database: Database, test_env: RunEnvironment) -> dict[str, list[Any]]:
    """Every RPC method of the service called at least once, in a walk through its use cases."""
    now = platform_now(database)
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        service = Recorder(rpc.talent)
        for person in ENGINEERS:
            register(service, person)
        register(service, "he", source="introduced", team="enterprise_management", specialty="tea", level="middle")
        service.evaluate(
            person_id="wu",
            period="2026",
            evaluator_id="zheng",
            evaluator_kind="peers",
            integrity=92,
            ability=88,
            performance=90,
            evidence=["report-2026-01"],
        )
        service.record_departure(person_id="he", reason="pay", note="a better offer in the city")
        service.record_return(person_id="he")
        service.record_departure(person_id="feng", reason="career", note="no room to grow")
        wait_until(lambda: len(service.departures()["items"]) == 3, what="the departures")
        wait_until(lambda: service.evaluations(person_id="wu")["items"], what="the evaluation")
        wait_until(lambda: len(service.pool(team="professional_technical")["items"]) == 3, what="the pool")

        service.launch_program(
            program_id="young-engineers",
            title="Young engineers' cultivation",
            kind="cultivation",
            eligibility={"teams": ["professional_technical"], "sources": ["local"]},
            quota=1,
            opens_at=now.isoformat(),
            closes_at=(now + dt.timedelta(days=10)).isoformat(),
            panel=["panel-a", "panel-b", "panel-c"],
            incentive="cultivation allowance",
            incentive_months=12,
        )
        service.apply_to_program(program_id="young-engineers", person_id="wu")
        service.apply_to_program(program_id="young-engineers", person_id="zheng")
        advance_clock(database, dt.timedelta(days=11))
        service.select_candidates(program_id="young-engineers", person_ids=["wu"])
        notice = service.open_selection_notice(program_id="young-engineers", working_days=5)
        advance_clock(
            database,
            dt.datetime.fromisoformat(notice["notice_closes_at"]) - platform_now(database) + dt.timedelta(minutes=1),
        )
        service.confirm_selection(program_id="young-engineers")
        wait_until(
            lambda: (
                service.program_roster(program_id="young-engineers")["phase"] == "confirmed"
                and any(
                    line["incentive_from"]
                    for line in service.program_roster(program_id="young-engineers")["applicants"]
                )
            ),
            what="the confirmed roster",
        )

        service.open_platform(
            platform_id="workstation-1", kind="expert_workstation", name="Irrigation workstation", unit="Water bureau"
        )
        service.attach_talent(platform_id="workstation-1", person_id="wu")
        service.attach_talent(platform_id="workstation-1", person_id="zheng")
        service.detach_talent(platform_id="workstation-1", person_id="zheng")
        wait_until(lambda: [p["talents"] for p in service.platforms()["items"]] == [["wu"]], what="the platform")
        service.post_need(
            need_id="need-1",
            unit="Qingshan township",
            team="professional_technical",
            specialty="Irrigation",
            description="an engineer for the reservoir",
            expires_at=(platform_now(database) + dt.timedelta(days=30)).isoformat(),
        )
        service.post_need(
            need_id="need-2",
            unit="Qingshan township",
            team="rural_practical",
            specialty="tea",
            description="a tea grower to teach the cooperative",
            expires_at=(platform_now(database) + dt.timedelta(days=3)).isoformat(),
        )
        wait_until(lambda: len(service.open_needs()["items"]) == 2, what="the open needs")
        service.fill_need(need_id="need-1", person_id="zheng")
        advance_clock(database, dt.timedelta(days=4))
        wait_until(lambda: service.check_deadlines()["expired"] == 1, what="the expired need", timeout=10)

        poison = foreign.envelope("training", "TrainingCompleted", "enrolment-poison", {"person_id": "wu"})
        poison_and_replay(service, test_env.amqp_uri, "training", poison)
        walk_the_audit(service, database, "talent")
        return dict(service.replies)


test_every_rpc_method_answers_what_it_declares = every_method_keeps_its_contract(TalentService)


def test_a_cultivation_program_runs_from_launch_to_notice_to_incentive(replies: dict[str, list[Any]]) -> None:
    assert replies["select_candidates"][0]["selected"] == ["wu"]
    assert replies["open_selection_notice"][0]["phase"] == "on_notice"
    assert replies["confirm_selection"][0]["granted"] == ["wu"]
    roster = replies["program_roster"][-1]
    assert roster["notice_id"] == "selection-young-engineers"
    lines = {line["person_id"]: line for line in roster["applicants"]}
    assert lines["wu"]["selected"] and lines["wu"]["incentive_from"] and not lines["zheng"]["selected"]


def test_departures_answer_by_reason_and_returns_are_counted(replies: dict[str, list[Any]]) -> None:
    rows = {(r["movement"], r["reason"]): r["people"] for r in replies["departures"][-1]["items"]}
    assert rows == {("left", "career"): 1, ("left", "pay"): 1, ("returned", None): 1}


def test_the_need_matches_the_pool_and_the_evaluation_is_kept(replies: dict[str, list[Any]]) -> None:
    needs = {n["need_id"]: n for n in replies["open_needs"][-1]["items"]}
    assert needs["need-1"]["matches"] == ["wu", "zheng"], "active engineers of the specialty, whatever its case"
    assert replies["fill_need"][0]["status"] == "filled"
    [evaluation] = replies["evaluations"][-1]["items"]
    assert (evaluation["integrity"], evaluation["ability"], evaluation["performance"]) == (92, 88, 90)
    assert replies["platforms"][-1]["items"][0]["talents"] == ["wu"]


def test_a_poison_event_is_dead_lettered_and_a_replay_that_fails_again_says_so(replies: dict[str, list[Any]]) -> None:
    assert_dead_lettered_then_replayed(replies, "on_training_completed", "TrainingCompleted")


def test_an_evaluation_missing_a_dimension_is_refused_naming_it(talent: None, rpc: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rpc.talent.evaluate(
            person_id="wu", period="2027", evaluator_id="feng", evaluator_kind="public", integrity=80, ability=75
        )
    assert list(refused.value.errors) == ["performance"]


def test_no_one_evaluates_themself(talent: None, rpc: Any) -> None:
    with pytest.raises(RuleViolation, match="not_oneself"):
        rpc.talent.evaluate(
            person_id="zheng",
            period="2027",
            evaluator_id="zheng",
            evaluator_kind="peers",
            integrity=99,
            ability=99,
            performance=99,
        )


@pytest.mark.parametrize("method", rpc_method_names(TalentService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    talent: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.talent, method, database, "talent")
