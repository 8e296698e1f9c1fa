"""The selection process's rules, one by one: pure Python, no database, no broker."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest

from services.cadre.domain.events import (
    AppointmentPostponed,
    AppointmentWithheld,
    BallotCounted,
    CandidateAppointed,
    CandidateAssessed,
    Criterion,
    Post,
    PublicNoticeOpened,
    RecommendationBallotCast,
    SelectionCancelled,
    SelectionClosed,
    ShortlistDrawn,
    VoterTookPart,
)
from services.cadre.domain.selection import Eligibility, Kind, Phase, Round, SelectionProcess, Variant
from shared.domain.notices import NoticeKind, NoticeOpened
from shared.errors import RuleViolation
from tests.cadre.builders import (
    CALENDAR,
    CRITERIA,
    MONDAY,
    POSTS,
    SCORES,
    announced,
    assessed,
    broken,
    committee_vote,
    eligible,
    nominated,
    on_notice,
    recommend,
    registered,
    shortlisted,
)


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
    assert error.state["phase"] == "announced" and error.state["allowed"] == ["open_registration", "cancel"]
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


def test_a_cadre_graded_basically_competent_or_below_within_three_years_cannot_stand() -> None:
    """Finding 6: every grade of the last three years counts, not the latest; 'basically competent' may not
    stand (条例 第二十四条 (三)), the unfounded assumption the old test pinned."""
    process = announced()
    process.open_registration(MONDAY)
    with broken("cadre.incompetent_blocks_promotion"):
        process.register_candidate("c1", eligible(grade="incompetent"))
    with broken("cadre.basically_competent_blocks_promotion"):
        process.register_candidate("c2", eligible(grade="basically_competent"))
    with broken("cadre.incompetent_blocks_promotion"):  # 'excellent' later the same year masks nothing
        process.register_candidate("c4", Eligibility("X", "excellent", Decimal(40), ("incompetent", "excellent")))
    process.register_candidate("c3", eligible(grade=None))  # never appraised: may stand
    process.register_candidate("c5", Eligibility("X", "excellent", Decimal(40), ("competent", "excellent")))


def test_pending_cases_and_findings_within_their_period_bar_standing() -> None:
    process = announced()
    process.open_registration(MONDAY)
    with broken("cadre.pending_case"):
        process.register_candidate("c1", Eligibility("X", None, Decimal(40), open_cases=("case-1",)))
    with broken("cadre.finding_within_period"):
        process.register_candidate("c1", Eligibility("X", None, Decimal(40), findings=("case-2",)))


def test_the_training_credit_minimum_is_checked() -> None:
    process = announced(min_hours="32")
    process.open_registration(MONDAY)
    with broken("selection.training_credit_hours"):
        process.register_candidate("c1", eligible(hours="31.5"))
    process.register_candidate("c1", eligible(hours="32"))
    with broken("selection.registered_once"):
        process.register_candidate("c1", eligible(hours="40"))


def test_a_voter_takes_part_once_per_round_and_ballots_that_break_the_rules_are_void() -> None:
    process = registered()
    with broken("selection.no_candidates"):
        registered(candidates=()).open_recommendation(MONDAY)
    process.open_recommendation(MONDAY)
    for voter in ("v1", "v2", "v3", "v4"):
        process.cast_recommendation(voter)
    with broken("selection.one_ballot_per_voter"):
        process.cast_recommendation("v1")
    with broken("selection.talk_round"):
        process.cast_recommendation("v5", Round.TALK)
    with broken("selection.ballot_count"):  # more ballots than voters who took part
        process.count_recommendation([["c1"]] * 5)
    # one post: one name; a stranger, or a name twice, voids the ballot
    process.count_recommendation([["c1"], ["nobody"], ["c1", "c2"], ["c2", "c2"]])
    counted = process.pending_events[-1]
    assert isinstance(counted, BallotCounted)
    assert (counted.cast, counted.void, counted.votes) == (4, 3, {"c1": 1, "c2": 0, "c3": 0})
    with broken("selection.ballot_closed"):
        process.cast_recommendation("v9")
    with broken("selection.ballot_count"):
        process.count_recommendation([["c2"]])


def test_a_secret_ballot_records_who_took_part_apart_from_the_tally() -> None:
    """Finding 5: no event names a voter with a choice; the tally appears only when the box is counted."""
    process = registered()
    process.open_recommendation(MONDAY)
    start = len(process.pending_events)
    for voter in ("v1", "v2", "v3"):
        process.cast_recommendation(voter)
    took_part = process.pending_events[start:]
    assert all(isinstance(e, VoterTookPart) for e in took_part)
    assert all(set(vars(e)) == {"ballot_id", "voter_id"} for e in took_part), "taking part says nothing of the choice"
    assert process.state.candidates["c1"].meeting_recommendations == 0, "no running tally before the count"
    process.count_recommendation([["c2"], ["c1"], ["c1"]])
    counted = process.pending_events[-1]
    assert isinstance(counted, BallotCounted) and "voter" not in str(vars(counted))
    assert counted.votes == {"c1": 2, "c2": 1, "c3": 0}
    assert process.state.candidates["c1"].meeting_recommendations == 2


def test_two_recommendations_one_statement_needs_both_rounds_and_every_statement() -> None:
    process = registered(variant=Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT)
    process.open_recommendation(MONDAY)
    recommend(process, [["c1"]])
    with broken("selection.two_recommendations"):
        process.draw_shortlist(["c1", "c2"])
    recommend(process, [["c2"]], Round.TALK)  # the same voters may talk once too
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
    with broken("selection.recommendation_held"):
        process.draw_shortlist(["c1", "c2"])
    recommend(process, [["c1"]])
    with broken("selection.differential_assessment"):
        process.draw_shortlist(["c1"])  # one post needs at least two
    two_posts = registered(posts=[Post("p1", "a"), Post("p2", "b")])
    two_posts.open_recommendation(MONDAY)
    recommend(two_posts, [["c1", "c2"]])
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
    process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)  # Tue, Wed, Thu: whole days
    assert process.state.preview is not None
    friday = dt.datetime(2026, 3, 6, 0, 0, tzinfo=dt.UTC)
    assert process.state.preview.closes_at == friday
    with broken("selection.preview_open"):
        process.start_assessment(CRITERIA, friday - dt.timedelta(minutes=1))
    process.start_assessment(CRITERIA, friday)


def test_the_weighted_total_is_recorded_with_its_inputs() -> None:
    process = assessed(("c1", "c2"))
    event = process.pending_events[-2]
    assert isinstance(event, CandidateAssessed)
    assert event.weighted_total == Decimal("81.00")  # (90*40 + 80*30 + 70*30) / 100
    assert event.scores == SCORES and event.weights == {c.name: c.weight for c in CRITERIA}


def test_assessment_rules() -> None:
    process = shortlisted(("c1", "c2"))
    process.publish_assessment_preview("preview-s1", MONDAY, 1, calendar=CALENDAR)
    with broken("selection.criteria_weight"):
        process.start_assessment([Criterion("a", Decimal(0))], MONDAY + dt.timedelta(days=2))
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=2))
    with broken("selection.scores_cover_criteria"):
        process.assess_candidate("c1", "competent", {"integrity": Decimal(90)}, "a")
    with broken("selection.score_range"):
        process.assess_candidate("c1", "competent", {**SCORES, "ability": Decimal(101)}, "a")
    process.assess_candidate("c1", "competent", SCORES, "a")
    with broken("selection.assessed_once"):
        process.assess_candidate("c1", "excellent", SCORES, "a")
    with broken("selection.assessment_incomplete"):
        process.convene_committee(["m1", "m2", "m3"], ["m1", "m2", "m3"])


def test_nobody_approved_means_no_notice_and_the_process_can_close() -> None:
    process = nominated(approvals={"c1": 1, "c2": 1, "c3": 1})
    with broken("selection.no_nominees"):
        process.open_public_notice("n", MONDAY, 5, calendar=CALENDAR)
    process.close(MONDAY)
    assert process.state.phase is Phase.CLOSED


def test_the_public_notice_lasts_five_whole_working_days_skipping_the_weekend() -> None:
    process = nominated()
    friday = dt.datetime(2026, 3, 6, 10, 0, tzinfo=dt.UTC)
    process.open_public_notice("notice-s1", friday, 5, calendar=CALENDAR)
    assert process.state.notice is not None
    saturday = dt.datetime(2026, 3, 14, 0, 0, tzinfo=dt.UTC)  # Mon 9 .. Fri 13, whole days
    assert process.state.notice.closes_at == saturday
    with broken("selection.notice_open"):
        process.close(saturday - dt.timedelta(minutes=1))


SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_a_notice_shorter_than_five_working_days_is_refused_and_a_longer_one_allowed() -> None:
    process = nominated()
    for days in (1, 4):
        with broken("selection.notice_days"):
            process.open_public_notice("notice-s1", MONDAY, days, calendar=CALENDAR)
    process.open_public_notice("notice-s1", MONDAY, 7, calendar=CALENDAR)
    assert process.state.notice is not None
    assert process.state.notice.closes_at == dt.datetime(2026, 3, 12, 0, 0, tzinfo=dt.UTC)  # Tue 3 .. Wed 11


def test_five_working_days_across_the_national_day_holiday() -> None:
    """Finding 4: opened 2026-09-29, 5 working days are Sep 30, Oct 8, 9, 10 (make-up Saturday) and 12."""
    process = nominated()
    opened = dt.datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    process.open_public_notice("notice-s1", opened, 5, calendar=CALENDAR)
    notice = process.state.notice
    assert notice is not None
    assert notice.closes_at == dt.datetime(2026, 10, 13, 0, 0, tzinfo=SHANGHAI)
    with broken("selection.notice_open"):
        process.close(dt.datetime(2026, 10, 6, 10, 0, tzinfo=SHANGHAI))  # the naive count's close: mid-holiday
    process.close(notice.closes_at)


def test_four_working_days_across_the_national_day_holiday_end_on_the_make_up_saturday() -> None:
    """A 4-working-day assessment preview from 2026-09-29 ends with Saturday 10 October (调休)."""
    process = shortlisted()
    process.publish_assessment_preview(
        "preview-s1", dt.datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI), 4, calendar=CALENDAR
    )
    assert process.state.preview is not None
    assert process.state.preview.closes_at == dt.datetime(2026, 10, 11, 0, 0, tzinfo=SHANGHAI)
    process = nominated()
    with broken("selection.notice_days"):
        process.open_public_notice("notice-s1", dt.datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI), 4, calendar=CALENDAR)


def test_a_notice_opened_on_a_saturday_runs_five_whole_working_days() -> None:
    """Finding 4: not 4 days 10 hours; Saturday 7 March 15:00 opens Mon 9 .. Fri 13."""
    process = nominated()
    process.open_public_notice("notice-s1", dt.datetime(2026, 3, 7, 15, 0, tzinfo=SHANGHAI), 5, calendar=CALENDAR)
    assert process.state.notice is not None
    assert process.state.notice.closes_at == dt.datetime(2026, 3, 14, 0, 0, tzinfo=SHANGHAI)


def test_the_preview_and_the_notice_record_the_shared_notice_contract() -> None:
    process = shortlisted()
    process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)
    preview = process.pending_events[-1]
    assert isinstance(preview, NoticeOpened)
    assert (preview.kind, preview.decision_id, preview.subject_ids) == (
        NoticeKind.ASSESSMENT_PREVIEW,
        "s1",
        ["c1", "c2", "c3"],
    )
    process = on_notice()
    notice = process.pending_events[-1]
    assert isinstance(notice, NoticeOpened) and isinstance(process.pending_events[-2], PublicNoticeOpened)
    assert (notice.kind, notice.decision_id, notice.subject_ids, notice.working_days) == (
        NoticeKind.PRE_APPOINTMENT,
        "s1",
        ["c1"],
        5,
    )
    assert notice.closes_at == process.state.notice.closes_at  # type: ignore[union-attr]


def test_a_substantiated_outcome_during_the_notice_withholds_the_appointment() -> None:
    process = on_notice()
    notice = process.state.notice
    assert notice is not None
    process.note_supervision_outcome("c1", "case-1", True, notice.opens_at + dt.timedelta(days=1))
    process.close(notice.closes_at)
    events = process.pending_events
    assert any(isinstance(e, AppointmentWithheld) and e.cadre_id == "c1" and e.case_ids == ["case-1"] for e in events)
    assert isinstance(events[-1], SelectionClosed) and events[-1].withheld == ["c1"]


def test_an_unsubstantiated_outcome_does_not_withhold_and_the_appointment_records_the_case() -> None:
    process = on_notice()
    notice = process.state.notice
    assert notice is not None
    process.note_case_opened("c1", "case-1", notice.opens_at)
    process.note_supervision_outcome("c1", "case-1", False, notice.opens_at + dt.timedelta(days=1))
    with broken("selection.outcome_noted"):
        process.note_supervision_outcome("c1", "case-1", True, notice.opens_at + dt.timedelta(days=1))
    with broken("selection.unknown_candidate"):
        process.note_supervision_outcome("nobody", "case-3", True, notice.opens_at)
    process.close(notice.closes_at)
    appointed = [e for e in process.pending_events if isinstance(e, CandidateAppointed)]
    assert [(e.cadre_id, e.post_id, e.notice_id, e.case_ids) for e in appointed] == [
        ("c1", "p1", "notice-s1", ["case-1"])
    ]


def test_a_finding_after_the_window_but_before_the_close_still_withholds() -> None:
    process = on_notice()
    notice = process.state.notice
    assert notice is not None
    process.note_supervision_outcome("c1", "case-2", True, notice.closes_at + dt.timedelta(hours=1))
    process.close(notice.closes_at + dt.timedelta(hours=2))
    assert process.state.candidates["c1"].result == "withheld"


@pytest.mark.parametrize("phase", ["assessment_preview", "assessment", "committee_vote", "nominated", "public_notice"])
def test_a_substantiated_finding_in_any_phase_withholds_the_appointment(phase: str) -> None:
    """Finding 2: what is found during the preview, the assessment, the committee or between the vote and the
    notice counts as much as what is found during the notice."""
    process = through_to_the_close(finding_in=phase, substantiated=True)
    assert process.state.candidates["c1"].result == "withheld"
    withheld = next(e for e in process.pending_events if isinstance(e, AppointmentWithheld))
    assert withheld.case_ids == ["case-1"]


@pytest.mark.parametrize("phase", ["assessment_preview", "committee_vote", "public_notice"])
def test_a_case_still_open_at_the_end_of_the_notice_postpones_the_appointment(phase: str) -> None:
    """Finding 1: the appointment waits for the case; then substantiated withholds, unsubstantiated appoints."""
    for substantiated, result in ((True, "withheld"), (False, "appointed")):
        process = through_to_the_close(case_in=phase)
        assert process.state.phase is Phase.POSTPONED
        assert process.state.candidates["c1"].result == "postponed"
        postponed = next(e for e in process.pending_events if isinstance(e, AppointmentPostponed))
        assert (postponed.cadre_id, postponed.case_ids) == ("c1", ["case-1"])
        assert not any(isinstance(e, (SelectionClosed, CandidateAppointed)) for e in process.pending_events)
        with broken("selection.phase_order"):
            process.close(LATER)
        process.note_supervision_outcome("c1", "case-1", substantiated, LATER)
        assert process.state.phase is Phase.CLOSED
        assert process.state.candidates["c1"].result == result
        closed = process.pending_events[-1]
        assert isinstance(closed, SelectionClosed)
        assert (closed.appointed, closed.withheld) == (([], ["c1"]) if substantiated else (["c1"], []))
        if not substantiated:
            appointed = next(e for e in process.pending_events if isinstance(e, CandidateAppointed))
            assert (appointed.notice_id, appointed.case_ids) == ("notice-s1", ["case-1"])


LATER = dt.datetime(2026, 4, 20, 10, 0, tzinfo=dt.UTC)


def through_to_the_close(
    finding_in: str | None = None, case_in: str | None = None, substantiated: bool = True
) -> SelectionProcess:
    """A selection run to its close, with a case about c1 opened (and maybe concluded) in the phase named."""

    def at(phase: str, now: dt.datetime) -> None:
        if phase == finding_in:
            process.note_case_opened("c1", "case-1", now)
            process.note_supervision_outcome("c1", "case-1", substantiated, now)
        if phase == case_in:
            process.note_case_opened("c1", "case-1", now)

    process = shortlisted()
    process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)
    at("assessment_preview", MONDAY)
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=4))
    at("assessment", MONDAY + dt.timedelta(days=4))
    for cadre_id in ("c1", "c2", "c3"):
        process.assess_candidate(cadre_id, "competent", SCORES, "assessor")
    members = [f"m{i}" for i in range(5)]
    process.convene_committee(members, members)
    at("committee_vote", MONDAY + dt.timedelta(days=5))
    committee_vote(process, "p1", members, [["c1"]] * 4 + [["c2"]])
    process.conclude_committee_vote()
    at("nominated", MONDAY + dt.timedelta(days=6))
    process.open_public_notice("notice-s1", MONDAY + dt.timedelta(days=7), 5, calendar=CALENDAR)
    at("public_notice", MONDAY + dt.timedelta(days=8))
    notice = process.state.notice
    assert notice is not None
    process.close(notice.closes_at)
    return process


def test_concerns_tells_the_handler_whether_a_case_matters() -> None:
    process = on_notice()
    assert process.concerns("c1") and process.concerns("c2") and not process.concerns("nobody")
    assert nominated().concerns("c1") and shortlisted().concerns("c3")
    assert not closed_selection().concerns("c1")


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


def test_a_postponed_selection_can_be_cancelled_and_the_postponed_appointment_is_not_made() -> None:
    """Review B1: the case that postponed the appointment is abandoned; the selection is cancelled, with why."""
    process = through_to_the_close(case_in="public_notice")
    assert process.state.phase is Phase.POSTPONED
    with broken("selection.cancel_reason"):
        process.cancel(" ", LATER)
    process.cancel("the supervision case was abandoned", LATER)
    cancelled = process.pending_events[-1]
    assert isinstance(cancelled, SelectionCancelled)
    assert (cancelled.reason, cancelled.phase) == ("the supervision case was abandoned", "postponed")
    assert process.state.phase is Phase.CANCELLED
    assert process.state.candidates["c1"].result == "withheld"
    assert not any(isinstance(e, CandidateAppointed) for e in process.pending_events)
    assert not process.concerns("c1")  # a later outcome decides nothing


def test_one_candidate_for_one_post_is_not_stuck_registration_is_extended_or_the_selection_cancelled() -> None:
    """Finding 8."""
    process = registered(("c1",))
    process.open_recommendation(MONDAY)
    with broken("selection.differential_assessment"):
        process.draw_shortlist(["c1"])
    process.extend_registration(5, MONDAY, calendar=CALENDAR)  # back to registration, until the end of Mon 9 March
    assert process.state.phase is Phase.REGISTRATION
    process.register_candidate("c2", eligible("c2"))
    with broken("selection.registration_open"):
        process.open_recommendation(MONDAY + dt.timedelta(days=1))
    process.open_recommendation(dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.UTC))
    recommend(process, [["c2"]])
    with broken("selection.recommendation_under_way"):
        process.extend_registration(5, MONDAY, calendar=CALENDAR)
    process.draw_shortlist(["c1", "c2"])
    with broken("selection.cancel_reason"):
        process.cancel("  ", MONDAY)
    process.cancel("the post was abolished by the reorganisation", MONDAY)
    assert process.state.phase is Phase.CANCELLED
    with broken("selection.phase_order"):
        process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)
    with broken("selection.phase_order"):
        closed_selection().cancel("too late", MONDAY)


def closed_selection() -> SelectionProcess:
    process = on_notice()
    notice = process.state.notice
    assert notice is not None
    process.close(notice.closes_at)
    return process


def test_selections_recorded_with_open_ballots_still_load() -> None:
    """Streams from before ballots were secret replay: the old events keep their appliers."""
    process = SelectionProcess("old")
    process.announce("t", "u", Kind.PUBLIC_SELECTION, Variant.STANDARD, POSTS, Decimal(0), None, MONDAY)
    process.open_registration(MONDAY)
    for cadre_id in ("c1", "c2"):
        process.register_candidate(cadre_id, eligible(cadre_id))
    process.open_recommendation(MONDAY)
    replayed = SelectionProcess("old")
    for event in [
        *process.pending_events,
        RecommendationBallotCast("meeting", "v1", ["c1"]),
        ShortlistDrawn(["c1", "c2"], {"c1": 1, "c2": 0}, 1),
    ]:
        replayed.apply(event)
    assert replayed.state.phase is Phase.SHORTLISTED
    assert replayed.state.candidates["c1"].meeting_recommendations == 1
