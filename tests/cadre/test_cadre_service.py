"""The cadre service over real RabbitMQ and PostgreSQL, through RPC."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.cadre.service import CadreService
from services.scenarios import run_selection
from shared.db.database import Database
from shared.errors import NotFound, RuleViolation, ValidationFailed
from shared.runtime.clock import advance_clock
from tests.support import foreign
from tests.support.contracts import assert_bad_input_is_refused, rpc_method_names
from tests.support.environment import RunEnvironment
from tests.support.platform import InProcess, reset_apps, settings_for_tests, wait_until
from tests.support.probes import platform_now, scalar

ACTOR = "tester"


@pytest.fixture(scope="module")
def cadre_service(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    settings = dataclasses.replace(settings_for_tests(), clock="offset")
    reset_apps(database, settings, CadreService)
    runners = InProcess()
    runners.start(CadreService, settings=settings)
    yield
    runners.stop_all()


@pytest.fixture
def tag() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def move_clock(database: Database) -> Any:
    return lambda delta: advance_clock(database, delta)


def events_stored(database: Database) -> int:
    return scalar(database, "SELECT count(*) FROM cadre.events")


def test_a_full_selection_through_rpc_appoints_the_nominee(
    cadre_service: None, rpc: Any, database: Database, tag: str
) -> None:
    seen_notice: list[dict[str, Any]] = []

    def during_notice(view: dict[str, Any]) -> None:
        notices = wait_until(lambda: rpc.cadre.open_notices()["items"], what="the open notice")
        seen_notice.extend(n for n in notices if n["process_id"] == view["process_id"])

    view = run_selection(rpc.cadre, move_clock(database), tag, during_notice=during_notice)
    assert view["phase"] == "closed"
    results = {c["cadre_id"]: c["result"] for c in view["candidates"]}
    assert results == {f"{tag}-c1": "appointed", f"{tag}-c2": None, f"{tag}-c3": None}
    assert [n["kind"] for n in seen_notice] == ["pre_appointment"]

    record = wait_until(lambda: rpc.cadre.get_cadre(cadre_id=f"{tag}-c1")["posts"], what="the post on the record")
    assert record[0]["post_id"] == f"{tag}-post"
    journey = wait_until(
        lambda: (
            (j := rpc.cadre.candidate_journey(process_id=view["process_id"], cadre_id=f"{tag}-c1"))["steps"][-1]["step"]
            == "appointed"
            and j
        ),
        what="the journey",
    )
    assert [s["step"] for s in journey["steps"]][:2] == ["registered", "recommended"]
    assert {"shortlisted", "assessment_preview", "assessed", "committee_vote", "public_notice", "appointed"} <= {
        s["step"] for s in journey["steps"]
    }
    assessed = next(s for s in journey["steps"] if s["step"] == "assessed")
    assert assessed["details"]["weighted_total"] == "90.20"
    assert assessed["details"]["weights"] == {"integrity": "40", "ability": "30", "performance": "30"}
    closed = wait_until(
        lambda: [p for p in rpc.cadre.list_selections(phase="closed")["items"] if p["process_id"] == view["process_id"]]
    )
    assert closed[0]["candidates"] == 3


def test_a_substantiated_outcome_during_the_notice_withholds_the_appointment(
    cadre_service: None, rpc: Any, database: Database, test_env: RunEnvironment, tag: str
) -> None:
    def object_during_notice(view: dict[str, Any]) -> None:
        outcome = foreign.envelope(
            "supervision",
            "SupervisionOutcomeRecorded",
            f"case-{tag}",
            {
                "case_id": f"case-{tag}",
                "cadre_id": f"{tag}-c1",
                "process_id": view["process_id"],
                "substantiated": True,
                "reasons": "x",
                "extra": 1,
            },
            recorded_at=platform_now(database).isoformat(),
        )
        foreign.publish(test_env.amqp_uri, "supervision", outcome)
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


def test_appraisal_grades_reach_the_record_and_an_incompetent_cadre_cannot_stand(
    cadre_service: None, rpc: Any, tag: str
) -> None:
    for n in (1, 2):
        rpc.cadre.register_cadre(
            actor=ACTOR, cadre_id=f"{tag}-c{n}", name=f"N{n}", unit=f"unit-{tag}", post_category="village"
        )
    cycle = rpc.cadre.open_appraisal_cycle(
        actor=ACTOR,
        cycle_id=f"{tag}-y",
        year=2031,
        post_category="village",
        criteria=[{"name": "integrity", "weight": 1}, {"name": "performance", "weight": 1}],
    )
    for n, score in ((1, "95"), (2, "40")):
        rpc.cadre.enrol_for_appraisal(actor=ACTOR, cycle_id=cycle["cycle_id"], cadre_id=f"{tag}-c{n}")
        rpc.cadre.submit_self_review(actor=ACTOR, cycle_id=cycle["cycle_id"], cadre_id=f"{tag}-c{n}", summary="my year")
        rpc.cadre.submit_review_scores(
            actor=ACTOR,
            cycle_id=cycle["cycle_id"],
            cadre_id=f"{tag}-c{n}",
            reviewer_id="r1",
            scores={"integrity": score, "performance": score},
        )
    with pytest.raises(RuleViolation, match="scores_locked"):
        rpc.cadre.submit_review_scores(
            actor=ACTOR,
            cycle_id=cycle["cycle_id"],
            cadre_id=f"{tag}-c1",
            reviewer_id="r1",
            scores={"integrity": 1, "performance": 1},
        )
    assert rpc.cadre.close_appraisal_cycle(actor=ACTOR, cycle_id=cycle["cycle_id"])["closed"] is True
    results = wait_until(
        lambda: [r for r in rpc.cadre.appraisal_results(year=2031)["items"] if r["cycle_id"] == f"{tag}-y"]
    )
    assert {(r["cadre_id"], r["grade"]) for r in results} == {(f"{tag}-c1", "excellent"), (f"{tag}-c2", "incompetent")}

    def graded() -> list[dict[str, Any]]:
        items = rpc.cadre.cadres_by_unit(unit=f"unit-{tag}")["items"]
        return items if all(c["latest_grade"] for c in items) else []

    by_unit = wait_until(graded, what="grades on the records")
    assert [c["latest_grade"] for c in by_unit] == ["excellent", "incompetent"]

    process = rpc.cadre.create_selection(
        actor=ACTOR, title="t", unit="u", kind="competitive_appointment", posts=[{"post_id": "p", "title": "p"}]
    )
    rpc.cadre.open_registration(actor=ACTOR, process_id=process["process_id"])
    with pytest.raises(RuleViolation) as caught:
        rpc.cadre.register_candidate(actor=ACTOR, process_id=process["process_id"], cadre_id=f"{tag}-c2")
    assert caught.value.rule == "cadre.incompetent_blocks_promotion"
    rpc.cadre.register_candidate(actor=ACTOR, process_id=process["process_id"], cadre_id=f"{tag}-c1")


def test_training_credit_totals_from_the_training_service_reach_selection(
    cadre_service: None, rpc: Any, database: Database, test_env: RunEnvironment, tag: str
) -> None:
    rpc.cadre.register_cadre(actor=ACTOR, cadre_id=f"{tag}-c1", name="N", unit="u", post_category="county")
    process = rpc.cadre.create_selection(
        actor=ACTOR,
        title="t",
        unit="u",
        kind="targeted_county_selection",
        posts=[{"post_id": "p", "title": "p"}],
        min_credit_hours="24",
    )
    rpc.cadre.open_registration(actor=ACTOR, process_id=process["process_id"])
    with pytest.raises(RuleViolation, match="training_credit_hours"):
        rpc.cadre.register_candidate(actor=ACTOR, process_id=process["process_id"], cadre_id=f"{tag}-c1")

    year = scalar(
        database,
        "SELECT extract(year FROM now() + make_interval(secs => offset_seconds))::int FROM public.orgwork_clock",
    )
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
    view = rpc.cadre.register_candidate(actor=ACTOR, process_id=process["process_id"], cadre_id=f"{tag}-c1")
    assert [c["cadre_id"] for c in view["candidates"]] == [f"{tag}-c1"]
    assert rpc.cadre.dead_letters()["items"] == []


def test_an_unknown_cadre_or_process_is_not_found(cadre_service: None, rpc: Any) -> None:
    with pytest.raises(NotFound):
        rpc.cadre.get_cadre(cadre_id="nobody-at-all")
    with pytest.raises(NotFound):
        rpc.cadre.open_registration(actor=ACTOR, process_id="no-such-process")


@pytest.mark.parametrize("method", rpc_method_names(CadreService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    cadre_service: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.cadre, method, database, "cadre")


def test_wrongly_typed_fields_are_named(cadre_service: None, rpc: Any, database: Database) -> None:
    before = events_stored(database)
    with pytest.raises(ValidationFailed) as caught:
        rpc.cadre.create_selection(
            actor=ACTOR,
            title="",
            unit="u",
            kind="lottery",
            posts=[{"post_id": "bad id!", "title": "x"}],
            shortlist_ratio="0.5",
        )
    assert set(caught.value.errors) == {"title", "kind", "posts", "shortlist_ratio"}
    assert "post_id" in str(caught.value.errors["posts"])
    assert events_stored(database) == before


def test_the_clock_moves_only_when_told(cadre_service: None, database: Database) -> None:
    before = scalar(database, "SELECT offset_seconds::bigint FROM public.orgwork_clock")
    advance_clock(database, dt.timedelta(hours=1))
    assert scalar(database, "SELECT offset_seconds::bigint FROM public.orgwork_clock") == before + 3600
