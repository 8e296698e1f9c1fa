"""The cadre service's contract over RabbitMQ: every RPC method and event handler, once.

One walk through the service's use cases, through RPC, records what each
method answers; each method's test checks its replies against what it
declares, and what it must say. The rules behind the answers are tested in
memory (``test_use_cases``, ``test_*_rules``); here, the transport: requests
validated, replies as declared, errors with their types, events from other
services taken once in effect.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.cadre.entrypoint import CadreService
from services.scenarios import run_selection
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.errors import NotFound, RuleViolation, ValidationFailed
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
from tests.support.probes import platform_now, scalar

ACTOR = "tester"
TAG = f"w{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def cadre_service(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    with service_running(database, CadreService, settings_for_tests(clock="offset")):
        yield


def move_clock(database: Database) -> Callable[[dt.timedelta], object]:
    return lambda delta: advance_clock(database, delta)


@pytest.fixture(scope="module")
def replies(cadre_service: None, database: Database, test_env: RunEnvironment) -> dict[str, list[Any]]:
    """Every RPC method of the service called at least once, in a walk through its use cases."""
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        cadre = Recorder(rpc.cadre)

        def during_notice(view: dict[str, Any]) -> None:
            wait_until(
                lambda: [n for n in cadre.open_notices()["items"] if n["process_id"] == view["process_id"]],
                what="the open notice",
            )

        view = run_selection(cadre, move_clock(database), TAG, during_notice=during_notice)
        wait_until(
            lambda: (
                cadre.candidate_journey(process_id=view["process_id"], cadre_id=f"{TAG}-c1")["steps"][-1]["step"]
                == "appointed"
            ),
            what="the journey to the appointment",
        )
        wait_until(
            lambda: any(r["process_id"] == view["process_id"] for r in cadre.published_results()["items"]),
            what="the published result",
        )
        wait_until(lambda: cadre.list_selections(phase="closed")["items"], what="the closed selection")
        wait_until(lambda: cadre.get_cadre(cadre_id=f"{TAG}-c1")["posts"], what="the post on the record")
        two_one = cadre.create_selection(
            title="Head of office",
            unit="Qingshan township",
            kind="competitive_appointment",
            variant="two_recommendations_one_statement",
            posts=[{"post_id": f"{TAG}-head", "title": "Head of office"}],
        )
        cadre.open_registration(process_id=two_one["process_id"])
        cadre.register_candidate(process_id=two_one["process_id"], cadre_id=f"{TAG}-c2")
        cadre.open_recommendation(process_id=two_one["process_id"])
        cadre.make_statement(process_id=two_one["process_id"], cadre_id=f"{TAG}-c2", summary="my record and my plans")
        stuck = cadre.create_selection(
            title="Deputy head of office",
            unit="Qingshan township",
            kind="competitive_appointment",
            posts=[{"post_id": f"{TAG}-deputy", "title": "Deputy head of office"}],
        )
        cadre.open_registration(process_id=stuck["process_id"])
        cadre.extend_registration(process_id=stuck["process_id"], working_days=3)
        cadre.cancel_selection(process_id=stuck["process_id"], reason="nobody came forward")
        cadre.change_roles(cadre_id=f"{TAG}-c2", leadership_team=True, head_of_unit=False)
        cadre.commend_cadre(
            cadre_id=f"{TAG}-c2",
            title="outstanding_township_party_secretary",
            year=2026,
            citation="led the flood relief",
        )
        cadre.open_appraisal_cycle(
            cycle_id=f"{TAG}-y",
            year=2031,
            post_category="township",
            criteria=[{"name": "integrity", "weight": 1}, {"name": "performance", "weight": 1}],
        )
        for n, score in ((1, "95"), (2, "40")):
            cadre.enrol_for_appraisal(cycle_id=f"{TAG}-y", cadre_id=f"{TAG}-c{n}")
            cadre.submit_self_review(cycle_id=f"{TAG}-y", cadre_id=f"{TAG}-c{n}", summary="my year")
            cadre.submit_review_scores(
                cycle_id=f"{TAG}-y",
                cadre_id=f"{TAG}-c{n}",
                reviewer_id="r1",
                scores={"integrity": score, "performance": score},
            )
        cadre.close_appraisal_cycle(cycle_id=f"{TAG}-y")
        wait_until(lambda: len(cadre.appraisal_results(year=2031)["items"]) == 2, what="the appraisal results")
        wait_until(
            lambda: sum(bool(c["latest_grade"]) for c in cadre.cadres_by_unit(unit="Qingshan township")["items"]) == 2,
            what="grades on the records",
        )

        poison = foreign.envelope(
            "training",
            "CreditTotalUpdated",
            f"credits-{TAG}",
            {"cadre_id": f"{TAG}-c1", "year": 2026, "total_hours": "many"},
        )
        poison_and_replay(cadre, test_env.amqp_uri, "training", poison)
        walk_the_audit(cadre, database, "cadre")
        return dict(cadre.replies)


test_every_rpc_method_answers_what_it_declares = every_method_keeps_its_contract(CadreService)


def test_each_step_of_a_selection_answers_the_process_as_it_left_it(replies: dict[str, list[Any]]) -> None:
    phases = {
        "create_selection": "announced",
        "open_registration": "registration",
        "register_candidate": "registration",
        "open_recommendation": "recommendation",
        "cast_recommendation": "recommendation",
        "make_statement": "recommendation",
        "draw_shortlist": "shortlisted",
        "publish_assessment_preview": "assessment_preview",
        "start_assessment": "assessment",
        "assess_candidate": "assessment",
        "convene_committee": "committee_vote",
        "cast_committee_vote": "committee_vote",
        "conclude_committee_vote": "nominated",
        "open_public_notice": "public_notice",
        "close_selection": "closed",
    }
    for method, phase in phases.items():
        assert {r["phase"] for r in replies[method]} == {phase}, method
    assert [r["phase"] for r in replies["extend_registration"]] == ["registration"]
    assert [r["phase"] for r in replies["cancel_selection"]] == ["cancelled"]
    walked = [r for m in phases for r in replies[m] if r["process_id"] == f"{TAG}-selection"]
    versions = [r["version"] for r in walked]
    assert versions == sorted(versions) and len(set(versions)) == len(versions), "each reply is after its command"
    closed = replies["close_selection"][-1]
    assert {c["cadre_id"]: c["result"] for c in closed["candidates"]} == {
        f"{TAG}-c1": "appointed",
        f"{TAG}-c2": None,
        f"{TAG}-c3": None,
    }
    assert closed["notice_closes_at"] is not None and closed["allowed"] == []


def test_the_board_counts_the_working_days_each_notice_has_left(replies: dict[str, list[Any]]) -> None:
    open_board = [n for page in replies["open_notices"] for n in page["items"] if n["process_id"] == f"{TAG}-selection"]
    assert open_board, "the notice was on the board during its window"
    assert all(isinstance(n["working_days_left"], int) and 0 <= n["working_days_left"] <= 5 for n in open_board)


def test_queries_read_the_read_models(replies: dict[str, list[Any]]) -> None:
    assert [n["kind"] for n in replies["open_notices"][-1]["items"]] == ["pre_appointment"]
    journey = replies["candidate_journey"][-1]
    assert [s["step"] for s in journey["steps"]][:2] == ["registered", "recommended"]
    recommended = journey["steps"][1]["details"]
    assert recommended == {"round": "meeting", "votes": 5, "ballots": 10}, "the tally, no voter"
    named = str(journey)
    assert f"{TAG}-voter" not in named and f"{TAG}-member" not in named, "a journey names no voter (finding 5)"
    assessed = next(s for s in journey["steps"] if s["step"] == "assessed")
    assert assessed["details"]["weighted_total"] == "90.20"
    assert [p["candidates"] for p in replies["list_selections"][-1]["items"]] == [3]
    assert replies["get_cadre"][-1]["posts"][0]["post_id"] == f"{TAG}-post"
    results = replies["appraisal_results"][-1]
    assert {(r["cadre_id"], r["grade"]) for r in results["items"]} == {
        (f"{TAG}-c1", "excellent"),
        (f"{TAG}-c2", "incompetent"),
    }
    by_unit = {c["cadre_id"]: c for c in replies["cadres_by_unit"][-1]["items"]}
    assert by_unit[f"{TAG}-c2"]["leadership_team"] is True
    assert by_unit[f"{TAG}-c2"]["commendations"][0]["year"] == 2026


def test_a_poison_event_is_dead_lettered_and_a_replay_that_fails_again_says_so(replies: dict[str, list[Any]]) -> None:
    assert_dead_lettered_then_replayed(replies, "on_credit_total", "CreditTotalUpdated")


def substantiated_outcome(tag: str, process_id: str, **metadata: Any) -> dict[str, Any]:
    """supervision's finding against the first candidate of the run ``tag``."""
    data = {
        "case_id": f"case-{tag}",
        "cadre_id": f"{tag}-c1",
        "process_id": process_id,
        "substantiated": True,
        "reasons": "x",
        "extra": 1,  # fields cadre does not read are ignored
    }
    return foreign.envelope("supervision", "SupervisionOutcomeRecorded", f"case-{tag}", data, **metadata)


def test_a_substantiated_outcome_from_supervision_during_the_notice_withholds_the_appointment(
    cadre_service: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    tag = f"o{uuid.uuid4().hex[:6]}"

    def object_during_notice(view: dict[str, Any]) -> None:
        outcome = substantiated_outcome(tag, view["process_id"], recorded_at=platform_now(database).isoformat())
        foreign.publish(test_env.amqp_uri, "supervision", outcome, outcome)  # delivered twice: noted once
        wait_until(
            lambda: any(
                s["step"] == "supervision_outcome"
                for s in rpc.cadre.candidate_journey(process_id=view["process_id"], cadre_id=f"{tag}-c1")["steps"]
            ),
            what="the outcome on the journey",
        )

    view = run_selection(rpc.cadre, move_clock(database), tag, during_notice=object_during_notice)
    assert {c["cadre_id"]: c["result"] for c in view["candidates"]}[f"{tag}-c1"] == "withheld"
    assert rpc.cadre.get_cadre(cadre_id=f"{tag}-c1")["posts"] == []
    noted = scalar(
        database,
        "SELECT count(*) FROM cadre.events WHERE type = 'SupervisionOutcomeNoted' AND stream_id = %s",
        (f"selection-{view['process_id']}",),
    )
    assert noted == 1


def test_a_case_naming_only_the_cadre_postpones_the_appointment_until_it_is_found_unsubstantiated(
    cadre_service: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    """supervision's ``CaseOpened`` and ``SupervisionOutcomeRecorded``, no process id (findings 1 and 3)."""
    tag = f"p{uuid.uuid4().hex[:6]}"
    stream = f"case-{tag}"
    opened = foreign.envelope(
        "supervision",
        "CaseOpened",
        stream,
        {
            "cadre_id": f"{tag}-c1",
            "process_id": None,
            "origin": "complaint",
            "submission_id": None,
            "summary": "x",
            "opened_at": platform_now(database).isoformat(),
        },
    )

    def case_during_notice(view: dict[str, Any]) -> None:
        foreign.publish(test_env.amqp_uri, "supervision", opened, opened)  # delivered twice: noted once
        wait_until(
            lambda: any(
                s["step"] == "supervision_case"
                for s in rpc.cadre.candidate_journey(process_id=view["process_id"], cadre_id=f"{tag}-c1")["steps"]
            ),
            what="the case on the journey",
        )

    view = run_selection(rpc.cadre, move_clock(database), tag, during_notice=case_during_notice)
    assert view["phase"] == "postponed"
    assert {c["cadre_id"]: c["result"] for c in view["candidates"]}[f"{tag}-c1"] == "postponed"
    outcome = foreign.envelope(
        "supervision",
        "SupervisionOutcomeRecorded",
        stream,
        {"case_id": tag, "cadre_id": f"{tag}-c1", "process_id": None, "substantiated": False, "reasons": "x"},
        version=2,
        prev_hash=opened["hash"],
        recorded_at=platform_now(database).isoformat(),
    )
    foreign.publish(test_env.amqp_uri, "supervision", outcome)
    wait_until(lambda: rpc.cadre.get_cadre(cadre_id=f"{tag}-c1")["posts"], what="the appointment on the record")
    noted = scalar(
        database,
        "SELECT count(*) FROM cadre.events WHERE type = 'SupervisionCaseNoted' AND stream_id = %s",
        (f"selection-{view['process_id']}",),
    )
    assert noted == 1


def test_credit_totals_from_training_reach_the_record(
    cadre_service: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    tag = f"k{uuid.uuid4().hex[:6]}"
    rpc.cadre.register_cadre(cadre_id=f"{tag}-c1", name="N", unit="u", post_category="county")
    year = platform_now(database).year
    foreign.publish(
        test_env.amqp_uri,
        "training",
        foreign.envelope(
            "training",
            "CreditTotalUpdated",
            f"credits-{tag}",
            {"cadre_id": f"{tag}-c1", "year": year, "total_hours": "30.5"},
        ),
        foreign.envelope(
            "training",
            "CreditTotalUpdated",
            f"credits-nobody-{tag}",
            {"cadre_id": "nobody", "year": year, "total_hours": "3"},
        ),
    )
    wait_until(
        lambda: rpc.cadre.get_cadre(cadre_id=f"{tag}-c1")["credit_hours"].get(str(year)) == "30.5", what="the credits"
    )


def test_errors_cross_the_wire_with_their_type_and_values(cadre_service: None, rpc: Any) -> None:
    with pytest.raises(NotFound) as missing:
        rpc.cadre.get_cadre(cadre_id="nobody-at-all")
    assert (missing.value.kind, missing.value.key) == ("cadre", "nobody-at-all")
    with pytest.raises(NotFound):
        rpc.cadre.open_registration(process_id="no-such-process")
    process = rpc.cadre.create_selection(
        title="t", unit="u", kind="competitive_appointment", posts=[{"post_id": "p", "title": "p"}]
    )
    with pytest.raises(RuleViolation) as broken:
        rpc.cadre.close_selection(process_id=process["process_id"])
    assert broken.value.state["phase"] == "announced"


@pytest.mark.parametrize("method", rpc_method_names(CadreService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    cadre_service: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.cadre, method, database, "cadre")


def test_wrongly_typed_fields_are_named(cadre_service: None, rpc: Any, database: Database) -> None:
    before = scalar(database, "SELECT count(*) FROM cadre.events")
    with pytest.raises(ValidationFailed) as caught:
        rpc.cadre.create_selection(
            title="",
            unit="u",
            kind="lottery",
            posts=[{"post_id": "bad id!", "title": "x"}],
            shortlist_ratio="0.5",
        )
    assert set(caught.value.errors) == {"title", "kind", "posts", "shortlist_ratio"}
    assert "post_id" in str(caught.value.errors["posts"])
    assert scalar(database, "SELECT count(*) FROM cadre.events") == before


def test_the_clock_moves_only_when_told(cadre_service: None, database: Database) -> None:
    before = scalar(database, "SELECT offset_seconds::bigint FROM public.orgwork_clock")
    advance_clock(database, dt.timedelta(hours=1))
    assert scalar(database, "SELECT offset_seconds::bigint FROM public.orgwork_clock") == before + 3600


def test_forged_outcomes_and_negative_hours_are_dead_lettered_and_withhold_nothing(
    cadre_service: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    """The attacks of the gateway issue: a hand-made supervision outcome, and hours below zero."""
    tag = f"f{uuid.uuid4().hex[:6]}"
    before = len(rpc.cadre.dead_letters()["items"])

    def forge_during_notice(view: dict[str, Any]) -> None:
        outcome = substantiated_outcome(tag, view["process_id"])
        foreign.publish(test_env.amqp_uri, "supervision", outcome, signed_by="feedback")  # not supervision's key
        negative = foreign.envelope(
            "training",
            "CreditTotalUpdated",
            f"credits-{tag}",
            {"cadre_id": f"{tag}-c1", "year": 2030, "total_hours": "-5"},
        )
        foreign.publish(test_env.amqp_uri, "training", negative)  # signed by training, but breaks the payload's rule
        wait_until(lambda: len(rpc.cadre.dead_letters()["items"]) == before + 2, what="both dead letters")

    view = run_selection(rpc.cadre, move_clock(database), tag, during_notice=forge_during_notice)
    assert {c["cadre_id"]: c["result"] for c in view["candidates"]}[f"{tag}-c1"] == "appointed"
    letters = rpc.cadre.dead_letters()["items"][-2:]
    reasons = {letter["handler"]: (letter["reason"], letter["replayable"]) for letter in letters}
    assert reasons == {"on_supervision_outcome": ("unauthenticated", False), "on_credit_total": ("failed", True)}
    assert "total_hours" in next(x["error"] for x in letters if x["handler"] == "on_credit_total")
    assert rpc.cadre.get_cadre(cadre_id=f"{tag}-c1")["credit_hours"] == {}
