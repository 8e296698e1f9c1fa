"""The selection process's rules, one by one: pure Python, no database, no broker."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.cadre.domain.events import (
    AppointmentWithheld,
    CandidateAppointed,
    CandidateAssessed,
    CommitteeVoteConcluded,
    Criterion,
    Post,
    SelectionClosed,
)
from services.cadre.domain.selection import Kind, Phase, Round, SelectionProcess, Variant
from shared.errors import RuleViolation
from tests.cadre.builders import (
    CRITERIA,
    MONDAY,
    SCORES,
    announced,
    assessed,
    eligible,
    nominated,
    on_notice,
    registered,
    shortlisted,
)


def broken(rule: str) -> AbstractContextManager[Any]:
    return pytest.raises(RuleViolation, match=rf"\[rule: {rule}\]")


def test_the_domain_imports_no_infrastructure() -> None:
    code = (
        "import sys, services.cadre.domain.selection, services.cadre.domain.cadre_record, "
        "services.cadre.domain.appraisal; "
        "print(sorted(m for m in ('nameko', 'psycopg2', 'kombu', 'eventlet', 'amqp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_command_out_of_order_names_the_phase_and_what_it_allows() -> None:
    process = announced()
    with pytest.raises(RuleViolation) as caught:
        process.draw_shortlist(["c1", "c2"])
    error = caught.value
    assert error.rule == "selection.phase_order"
    assert error.state["phase"] == "announced" and error.state["allowed"] == ["open_registration"]
    assert "'draw_shortlist' is not allowed in phase 'announced'" in str(error)


def test_a_closed_process_allows_nothing() -> None:
    process = on_notice()
    process.close(MONDAY + dt.timedelta(days=30))
    with broken("selection.phase_order"):
        process.open_registration(MONDAY)


def test_announcing_needs_posts_once_each_and_a_sensible_ratio() -> None:
    with broken("selection.posts"):
        SelectionProcess("s").announce("t", "u", Kind.PUBLIC_SELECTION, Variant.STANDARD, [], Decimal(0), None, MONDAY)
    with broken("selection.posts_unique"):
        SelectionProcess("s").announce(
            "t",
            "u",
            Kind.PUBLIC_SELECTION,
            Variant.STANDARD,
            [Post("p", "a"), Post("p", "b")],
            Decimal(0),
            None,
            MONDAY,
        )
    with broken("selection.shortlist_ratio"):
        SelectionProcess("s").announce(
            "t", "u", Kind.COMPETITIVE_APPOINTMENT, Variant.STANDARD, [Post("p", "a")], Decimal(0), Decimal(1), MONDAY
        )


def test_an_incompetent_cadre_cannot_stand() -> None:
    process = announced()
    process.open_registration(MONDAY)
    with broken("cadre.incompetent_blocks_promotion"):
        process.register_candidate("c1", eligible(grade="incompetent"))
    process.register_candidate("c2", eligible(grade="basically_competent"))
    process.register_candidate("c3", eligible(grade=None))  # never appraised: may stand


def test_the_training_credit_minimum_is_checked() -> None:
    process = announced(min_hours="32")
    process.open_registration(MONDAY)
    with broken("selection.training_credit_hours"):
        process.register_candidate("c1", eligible(hours="31.5"))
    process.register_candidate("c1", eligible(hours="32"))
    with broken("selection.registered_once"):
        process.register_candidate("c1", eligible(hours="40"))


def test_a_voter_casts_one_ballot_per_round_for_registered_candidates() -> None:
    process = registered()
    with broken("selection.no_candidates"):
        registered(candidates=()).open_recommendation(MONDAY)
    process.open_recommendation(MONDAY)
    process.cast_recommendation("v1", ["c1"])
    with broken("selection.one_ballot_per_voter"):
        process.cast_recommendation("v1", ["c2"])
    with broken("selection.unknown_candidate"):
        process.cast_recommendation("v2", ["nobody"])
    with broken("selection.ballot_size"):
        process.cast_recommendation("v3", ["c1", "c2"])  # one post: one name
    with broken("selection.talk_round"):
        process.cast_recommendation("v4", ["c1"], Round.TALK)


def test_two_recommendations_one_statement_needs_both_rounds_and_every_statement() -> None:
    process = registered(variant=Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT)
    process.open_recommendation(MONDAY)
    process.cast_recommendation("v1", ["c1"])
    with broken("selection.two_recommendations"):
        process.draw_shortlist(["c1", "c2"])
    process.cast_recommendation("v1", ["c2"], Round.TALK)  # the same voter may talk once too
    with broken("selection.one_statement"):
        process.draw_shortlist(["c1", "c2"])
    process.make_statement("c1", "What I did")
    process.make_statement("c2", "What I will do")
    with broken("selection.statement_once"):
        process.make_statement("c2", "again")
    process.draw_shortlist(["c1", "c2"])
    assert process.state.candidates["c2"].talk_recommendations == 1


def test_statements_belong_to_the_variant() -> None:
    process = registered()
    process.open_recommendation(MONDAY)
    with broken("selection.statement"):
        process.make_statement("c1", "hello")


def test_differential_assessment_needs_more_candidates_than_posts() -> None:
    process = registered()
    process.open_recommendation(MONDAY)
    process.cast_recommendation("v1", ["c1"])
    with broken("selection.differential_assessment"):
        process.draw_shortlist(["c1"])  # one post needs at least two
    two_posts = registered(posts=[Post("p1", "a"), Post("p2", "b")])
    two_posts.open_recommendation(MONDAY)
    two_posts.cast_recommendation("v1", ["c1", "c2"])
    with broken("selection.differential_assessment"):
        two_posts.draw_shortlist(["c1", "c2"])
    two_posts.draw_shortlist(["c1", "c2", "c3"])


def test_a_configured_ratio_raises_the_shortlist_size() -> None:
    process = SelectionProcess("s")
    process.announce(
        "t",
        "u",
        Kind.COMPETITIVE_APPOINTMENT,
        Variant.STANDARD,
        [Post("p1", "a"), Post("p2", "b")],
        Decimal(0),
        Decimal("2"),
        MONDAY,
    )
    assert process.required_shortlist == 4


def test_the_shortlist_needs_a_recommendation_first() -> None:
    process = registered()
    process.open_recommendation(MONDAY)
    with broken("selection.recommendation_held"):
        process.draw_shortlist(["c1", "c2"])


def test_assessment_waits_for_the_preview_notice_to_close() -> None:
    process = shortlisted()
    process.publish_assessment_preview("preview-s1", MONDAY, 3)  # Mon + 3 working days = Thu
    assert process.state.preview is not None
    assert process.state.preview.closes_at == MONDAY + dt.timedelta(days=3)
    with broken("selection.preview_open"):
        process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=2, hours=23))
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=3))


def test_the_weighted_total_is_recorded_with_its_inputs() -> None:
    process = assessed(("c1", "c2"))
    event = process.pending_events[-2]
    assert isinstance(event, CandidateAssessed)
    assert event.weighted_total == Decimal("81.00")  # (90*40 + 80*30 + 70*30) / 100
    assert event.scores == SCORES and event.weights == {c.name: c.weight for c in CRITERIA}


def test_assessment_rules() -> None:
    process = shortlisted(("c1", "c2"))
    process.publish_assessment_preview("preview-s1", MONDAY, 1)
    with broken("selection.criteria_weight"):
        process.start_assessment([Criterion("a", Decimal(0))], MONDAY + dt.timedelta(days=1))
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=1))
    with broken("selection.scores_cover_criteria"):
        process.assess_candidate("c1", "competent", {"integrity": Decimal(90)}, "a")
    with broken("selection.score_range"):
        process.assess_candidate("c1", "competent", {**SCORES, "ability": Decimal(101)}, "a")
    process.assess_candidate("c1", "competent", SCORES, "a")
    with broken("selection.assessed_once"):
        process.assess_candidate("c1", "excellent", SCORES, "a")
    with broken("selection.assessment_incomplete"):
        process.convene_committee(["m1", "m2", "m3"], ["m1", "m2", "m3"])


def test_the_committee_needs_two_thirds_present() -> None:
    process = assessed()
    members = [f"m{i}" for i in range(9)]
    with broken("selection.committee_quorum"):
        process.convene_committee(members, members[:5])  # 5 of 9 < 2/3
    with broken("selection.committee_present"):
        process.convene_committee(members, ["stranger"])
    process.convene_committee(members, members[:6])  # 6 of 9 = 2/3


def test_approval_needs_more_than_half_of_all_members_not_of_those_present() -> None:
    # 9 members, 6 present, all 6 present approve c1: 6 > 4.5 -> approved.
    # 4 approve c2: a majority of those present, but 4 of 9 is not more than half.
    process = nominated(approvals={"c1": 6, "c2": 4, "c3": 0}, members=9, present=6)
    concluded = process.pending_events[-1]
    assert isinstance(concluded, CommitteeVoteConcluded)
    results = {r.cadre_id: r for r in concluded.results}
    assert results["c1"].approved and not results["c2"].approved
    assert process.state.candidates["c1"].nominated_post == "p1"
    assert process.state.candidates["c2"].nominated_post is None


def test_one_committee_vote_per_member_and_candidate() -> None:
    process = assessed()
    members = ["m1", "m2", "m3"]
    process.convene_committee(members, members)
    process.cast_committee_vote("m1", "c1", True)
    with broken("selection.one_vote_per_member"):
        process.cast_committee_vote("m1", "c1", False)
    with broken("selection.committee_member_present"):
        process.cast_committee_vote("m9", "c1", True)


def test_nobody_approved_means_no_notice_and_the_process_can_close() -> None:
    process = nominated(approvals={"c1": 1, "c2": 1, "c3": 1})
    with broken("selection.no_nominees"):
        process.open_public_notice("n", MONDAY, 5)
    process.close(MONDAY)
    assert process.state.phase is Phase.CLOSED


def test_the_public_notice_lasts_five_working_days_skipping_the_weekend() -> None:
    process = nominated()
    friday = dt.datetime(2026, 3, 6, 10, 0, tzinfo=dt.UTC)
    process.open_public_notice("notice-s1", friday, 5)
    assert process.state.notice is not None
    assert process.state.notice.closes_at == dt.datetime(2026, 3, 13, 10, 0, tzinfo=dt.UTC)
    with broken("selection.notice_open"):
        process.close(dt.datetime(2026, 3, 13, 9, 59, tzinfo=dt.UTC))


def test_a_substantiated_outcome_during_the_notice_withholds_the_appointment() -> None:
    process = on_notice()
    notice = process.state.notice
    assert notice is not None
    process.note_supervision_outcome("c1", "case-1", True, notice.opens_at + dt.timedelta(days=1))
    process.close(notice.closes_at)
    events = process.pending_events
    assert any(isinstance(e, AppointmentWithheld) and e.cadre_id == "c1" and e.case_ids == ["case-1"] for e in events)
    assert isinstance(events[-1], SelectionClosed) and events[-1].withheld == ["c1"]


def test_outcomes_that_do_not_count_do_not_withhold() -> None:
    process = on_notice()
    notice = process.state.notice
    assert notice is not None
    process.note_supervision_outcome("c1", "case-1", False, notice.opens_at)  # not substantiated
    process.note_supervision_outcome("c1", "case-2", True, notice.closes_at)  # after the window
    with broken("selection.outcome_nominee"):
        process.note_supervision_outcome("c2", "case-3", True, notice.opens_at)  # not on the notice
    process.close(notice.closes_at)
    appointed = [e for e in process.pending_events if isinstance(e, CandidateAppointed)]
    assert [(e.cadre_id, e.post_id) for e in appointed] == [("c1", "p1")]


def test_concerns_tells_the_handler_whether_an_outcome_matters() -> None:
    process = on_notice()
    assert process.concerns("c1") and not process.concerns("c2") and not process.concerns("nobody")
    assert not nominated().concerns("c1")


def test_a_failed_command_changes_nothing() -> None:
    process = registered()
    before = (process.version, len(process.pending_events))
    with broken("selection.phase_order"):
        process.close(MONDAY)
    assert (process.version, len(process.pending_events)) == before


def test_nominees_are_not_appointed_without_a_public_notice() -> None:
    process = nominated()
    with broken("selection.notice_required"):
        process.close(MONDAY + dt.timedelta(days=60))


def test_a_substantiated_outcome_that_reaches_a_closed_process_is_flagged() -> None:
    process = on_notice()
    notice = process.state.notice
    assert notice is not None
    process.close(notice.closes_at)
    assert process.missed_outcome("c1", True, notice.opens_at + dt.timedelta(hours=1))
    assert not process.missed_outcome("c1", False, notice.opens_at)
    assert not process.missed_outcome("c1", True, notice.closes_at + dt.timedelta(hours=1))
    assert not process.missed_outcome("c2", True, notice.opens_at)
