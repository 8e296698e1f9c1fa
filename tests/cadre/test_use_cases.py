"""The cadre service layer against the in-memory unit of work: no broker, no database.

Each use case here reaches past one aggregate, or reacts to another service:
closing a selection appoints on the records, registering a candidate reads
their record, supervision's outcomes and training's credits arrive as events,
and closing an appraisal cycle grades the records. All of it in one
transaction, or none of it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from services.cadre import messages as m
from services.cadre.domain.appraisal import AppraisalCycle
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.events import Criterion
from services.cadre.domain.selection import Kind, Phase, SelectionProcess
from services.cadre.entrypoint import CadreService
from services.cadre.inbound import CaseOpened, CreditTotal, SupervisionOutcome
from services.cadre.service_layer import appraisal, records, selection
from services.scenarios import run_selection
from shared.application import Author
from shared.application.memory import InMemoryUnitOfWork
from shared.config import CadreSettings, Settings
from shared.errors import ConcurrencyConflict, NotFound, RuleViolation
from shared.eventstore.records import RecordedEvent, record_from_envelope
from tests.cadre.builders import MONDAY, on_notice
from tests.support import foreign
from tests.support.local import in_memory, memory_uow

TESTER = Author("tester")


def register(uow: InMemoryUnitOfWork, cadre_id: str, name: str = "Li Ming") -> None:
    records.register_cadre(
        m.RegisterCadre(actor="tester", cadre_id=cadre_id, name=name, unit="Qingshan", post_category="township"),
        uow,
    )


def saved_on_notice(uow: InMemoryUnitOfWork) -> SelectionProcess:
    """Selection ``s1`` on its pre-appointment notice, nominee ``c1``; c1 to c3 on record."""
    for cadre_id in ("c1", "c2", "c3"):
        register(uow, cadre_id)
    process = on_notice()
    uow.save(process, TESTER)
    return process


def outcome_event(process_id: str | None, cadre_id: str, concluded_at: dt.datetime, substantiated: bool = True) -> Any:
    data = {"case_id": "case-9", "cadre_id": cadre_id, "process_id": process_id, "substantiated": substantiated}
    record = record_from_envelope(
        foreign.envelope(
            "supervision", "SupervisionOutcomeRecorded", "case-9", data, recorded_at=concluded_at.isoformat()
        )
    )
    return SupervisionOutcome("case-9", cadre_id, substantiated, process_id), record


def types(events: list[RecordedEvent]) -> list[str]:
    return [e.type for e in events]


# -- a whole selection ------------------------------------------------------------------


def test_a_whole_selection_runs_in_memory_and_appoints_the_nominee_on_their_record() -> None:
    """The demo's path, through the service's own entrypoints (validation included), in memory."""
    cadre = in_memory(CadreService)
    view = run_selection(cadre.service, cadre.move_clock, "t")
    assert view["phase"] == "closed"
    assert {c["cadre_id"]: c["result"] for c in view["candidates"]} == {"t-c1": "appointed", "t-c2": None, "t-c3": None}
    record = cadre.uow.load(CadreRecord, "t-c1")
    assert [p.post_id for p in record.state.posts] == ["t-post"]
    appointed = cadre.uow.events_of("cadre-t-c1")[-1]
    closed = cadre.uow.events_of("selection-t-selection")[-1]
    assert appointed.type == "CadreAppointedToPost" and closed.type == "SelectionClosed"
    assert appointed.tx_id == closed.tx_id, "the appointment and the close commit together"
    assert appointed.metadata["reason"] == "appointed by selection t-selection"


# -- closing ------------------------------------------------------------------------------


def test_closing_a_selection_puts_each_appointment_on_the_record_or_nothing_at_all() -> None:
    uow = memory_uow(CadreService)
    for cadre_id in ("c2", "c3"):  # the nominee c1 is not on record
        register(uow, cadre_id)
    uow.save(on_notice(), TESTER)
    uow.clock.set(MONDAY + dt.timedelta(days=20))
    before = len(uow.events)

    with pytest.raises(NotFound):
        selection.close_selection(m.OnSelection(actor="tester", process_id="s1"), uow)
    assert len(uow.events) == before, "the close is rolled back with the appointment that failed"
    assert uow.load(SelectionProcess, "s1").state.phase is Phase.PUBLIC_NOTICE

    register(uow, "c1")
    view = selection.close_selection(m.OnSelection(actor="tester", process_id="s1"), uow)
    assert view.phase == "closed"
    assert [p.process_id for p in uow.load(CadreRecord, "c1").state.posts] == ["s1"]


def test_a_selection_cannot_close_while_its_notice_is_open() -> None:
    uow = memory_uow(CadreService)
    saved_on_notice(uow)
    with pytest.raises(RuleViolation, match=r"selection\.notice_open"):
        selection.close_selection(m.OnSelection(actor="tester", process_id="s1"), uow)
    assert uow.load(CadreRecord, "c1").state.posts == []


# -- registration -------------------------------------------------------------------------


def announced_selection(uow: InMemoryUnitOfWork, min_credit_hours: Decimal | None = None) -> str:
    view = selection.create_selection(
        m.CreateSelection(
            actor="tester",
            title="Deputy head",
            unit="Qingshan",
            kind=Kind.TARGETED_COUNTY_SELECTION,
            posts=[m.PostInput("p", "Deputy head")],
            min_credit_hours=min_credit_hours,
        ),
        uow,
        CadreSettings(min_credit_hours=Decimal(24)),
    )
    selection.open_registration(m.OnSelection(actor="tester", process_id=view.process_id), uow)
    return view.process_id


def test_registration_reads_eligibility_from_the_cadre_record() -> None:
    uow = memory_uow(CadreService)
    process_id = announced_selection(uow)  # the service's minimum: 24 hours

    def stand(cadre_id: str) -> Any:
        return selection.register_candidate(
            m.RegisterCandidate(actor="tester", process_id=process_id, cadre_id=cadre_id), uow
        )

    with pytest.raises(NotFound):
        stand("nobody")
    register(uow, "c1")
    with pytest.raises(RuleViolation, match=r"selection\.training_credit_hours"):
        stand("c1")
    year = uow.clock.now().year
    _, record = outcome_event(None, "c1", MONDAY)  # any record: the handler reads the payload
    records.note_credit_total(CreditTotal("c1", year, Decimal("30.5")), record, uow)
    view = stand("c1")
    assert [(c.cadre_id, c.name) for c in view.candidates] == [("c1", "Li Ming")]

    register(uow, "c2")
    uow.update(CadreRecord, "c2", lambda c: c.note_training_credits(year, Decimal(40)), TESTER)
    uow.update(CadreRecord, "c2", lambda c: c.record_appraisal("y", year - 1, "incompetent", Decimal(40)), TESTER)
    with pytest.raises(RuleViolation, match=r"cadre\.incompetent_blocks_promotion"):
        stand("c2")


def test_registration_reads_eligibility_in_its_own_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Review A5: a case opened after the record was read but before the candidacy is saved is not missed."""
    uow = memory_uow(CadreService)
    process_id = announced_selection(uow, Decimal(0))
    register(uow, "c1")
    load = uow.load
    opened = False

    def load_then_a_case_opens(aggregate: Any, aggregate_id: str) -> Any:
        nonlocal opened
        loaded = load(aggregate, aggregate_id)
        if aggregate is CadreRecord and not opened:
            opened = True
            case, record = case_opened(None, "c1", uow.clock.now(), case="5")
            selection.note_case_opened(case, record, uow)
        return loaded

    monkeypatch.setattr(uow, "load", load_then_a_case_opens)
    with pytest.raises((RuleViolation, ConcurrencyConflict)):
        selection.register_candidate(m.RegisterCandidate(actor="tester", process_id=process_id, cadre_id="c1"), uow)
    monkeypatch.setattr(uow, "load", load)
    assert uow.load(SelectionProcess, process_id).state.candidates == {}
    assert uow.load(CadreRecord, "c1").state.candidacies == []


def test_a_selection_takes_the_services_training_minimum_unless_it_sets_its_own() -> None:
    uow = memory_uow(CadreService)
    default = uow.load(SelectionProcess, announced_selection(uow))
    own = uow.load(SelectionProcess, announced_selection(uow, Decimal(0)))
    assert default.state.min_credit_hours == Decimal(24)
    assert own.state.min_credit_hours == Decimal(0)


# -- supervision's outcomes ----------------------------------------------------------------


def test_a_substantiated_outcome_during_the_notice_withholds_the_appointment() -> None:
    uow = memory_uow(CadreService)
    process = saved_on_notice(uow)
    assert process.state.notice is not None
    concluded_at = process.state.notice.opens_at + dt.timedelta(days=1)
    outcome, record = outcome_event("s1", "c1", concluded_at)
    uow.handle_event(record)
    selection.note_supervision_outcome(outcome, record, uow)

    noted = uow.events_of("selection-s1")[-1]
    assert noted.type == "SupervisionOutcomeNoted" and noted.data["during_notice"] is True
    assert noted.metadata["actor"] == "service:cadre"
    assert noted.metadata["correlation_id"] == record.correlation_id
    assert noted.metadata["causation_id"] == record.event_id

    uow.clock.set(process.state.notice.closes_at)
    view = selection.close_selection(m.OnSelection(actor="tester", process_id="s1"), uow)
    assert {c.cadre_id: c.result for c in view.candidates}["c1"] == "withheld"
    assert uow.load(CadreRecord, "c1").state.posts == []


def case_opened(process_id: str | None, cadre_id: str, opened_at: dt.datetime, case: str = "9") -> Any:
    """supervision's ``CaseOpened`` for case ``case`` (its stream ``case-<case>``)."""
    data = {"cadre_id": cadre_id, "process_id": process_id, "submission_id": None, "opened_at": opened_at.isoformat()}
    record = record_from_envelope(
        foreign.envelope("supervision", "CaseOpened", f"case-{case}", data, recorded_at=opened_at.isoformat())
    )
    return CaseOpened(cadre_id, opened_at, process_id), record


def outcome_of(case: str, process_id: str | None, cadre_id: str, at: dt.datetime, substantiated: bool) -> Any:
    data = {"case_id": case, "cadre_id": cadre_id, "process_id": process_id, "substantiated": substantiated}
    record = record_from_envelope(
        foreign.envelope("supervision", "SupervisionOutcomeRecorded", f"case-{case}", data, recorded_at=at.isoformat())
    )
    return SupervisionOutcome(case, cadre_id, substantiated, process_id), record


def standing(uow: InMemoryUnitOfWork) -> SelectionProcess:
    """``saved_on_notice``, with c1's candidacy on their record (as registering through the service puts it)."""
    process = saved_on_notice(uow)
    for cadre_id in ("c1", "c2", "c3"):
        uow.update(CadreRecord, cadre_id, lambda c: c.note_candidacy("s1", MONDAY), TESTER)
    return process


@pytest.mark.parametrize("named", [True, False], ids=["with the process id", "naming only the cadre"])
@pytest.mark.parametrize("substantiated", [True, False])
def test_a_case_open_at_the_end_of_the_notice_postpones_the_appointment_until_it_concludes(
    named: bool, substantiated: bool
) -> None:
    """Findings 1 and 3: a complaint with or without the notice's ids holds the appointment."""
    uow = memory_uow(CadreService)
    process = standing(uow)
    notice = process.state.notice
    assert notice is not None
    opened, record = case_opened("s1" if named else None, "c1", notice.opens_at + dt.timedelta(days=1))
    selection.note_case_opened(opened, record, uow)
    assert uow.load(CadreRecord, "c1").open_cases == ["9"]
    uow.clock.set(notice.closes_at)
    view = selection.close_selection(m.OnSelection(actor="tester", process_id="s1"), uow)
    assert view.phase == "postponed" and {c.cadre_id: c.result for c in view.candidates}["c1"] == "postponed"
    assert uow.load(CadreRecord, "c1").state.posts == []

    outcome, record = outcome_of(
        "9", "s1" if named else None, "c1", notice.closes_at + dt.timedelta(days=9), substantiated
    )
    uow.handle_event(record)
    selection.note_supervision_outcome(outcome, record, uow)
    closed = uow.load(SelectionProcess, "s1")
    assert closed.state.phase is Phase.CLOSED
    assert closed.state.candidates["c1"].result == ("withheld" if substantiated else "appointed")
    posts = uow.load(CadreRecord, "c1").state.posts
    assert [p.process_id for p in posts] == ([] if substantiated else ["s1"])
    assert uow.load(CadreRecord, "c1").open_cases == []
    if not substantiated:
        appointed = next(e for e in uow.events_of("selection-s1") if e.type == "CandidateAppointed")
        assert (appointed.data["notice_id"], appointed.data["case_ids"]) == ("notice-s1", ["9"])


def test_cases_that_bear_on_no_running_selection_change_no_selection() -> None:
    uow = memory_uow(CadreService)
    process = standing(uow)
    assert process.state.notice is not None
    during = process.state.notice.opens_at + dt.timedelta(days=1)
    before = len(uow.events_of("selection-s1"))
    for process_id, cadre_id in (("no-such-selection", "c1"), (None, "c9"), ("s1", "c9")):  # c9: no candidate
        opened, record = case_opened(process_id, cadre_id, during, case="7")
        selection.note_case_opened(opened, record, uow)
        outcome, record = outcome_of("7", process_id, cadre_id, during, True)
        selection.note_supervision_outcome(outcome, record, uow)
    assert len(uow.events_of("selection-s1")) == before


def test_cases_reach_the_record_and_bar_standing_while_pending_and_within_their_period() -> None:
    """Finding 6: supervision's cases and outcomes reach the cadre record, and registration reads them."""
    uow = memory_uow(CadreService)
    process_id = announced_selection(uow, Decimal(0))
    register(uow, "c1")
    now = uow.clock.now()

    def stand() -> Any:
        return selection.register_candidate(
            m.RegisterCandidate(actor="tester", process_id=process_id, cadre_id="c1"), uow
        )

    opened, record = case_opened(None, "c1", now - dt.timedelta(days=3), case="5")
    selection.note_case_opened(opened, record, uow)
    with pytest.raises(RuleViolation, match=r"cadre\.pending_case"):
        stand()
    outcome, record = outcome_of("5", None, "c1", now - dt.timedelta(days=2), True)
    selection.note_supervision_outcome(outcome, record, uow)
    with pytest.raises(RuleViolation, match=r"cadre\.finding_within_period"):
        stand()
    uow.clock.set(now + dt.timedelta(days=365))
    view = stand()
    assert [c.cadre_id for c in view.candidates] == ["c1"]
    assert uow.load(CadreRecord, "c1").state.candidacies == [process_id]


def test_a_substantiated_outcome_concluded_in_time_but_arriving_after_the_close_is_flagged() -> None:
    """Review A1: flagged on the selection for a person to review, and the case's conclusion still reaches the
    record (it was rolled back with a refusal, leaving the cadre an open case for ever)."""
    uow = memory_uow(CadreService)
    process = saved_on_notice(uow)
    notice = process.state.notice
    assert notice is not None
    # The case names only the cadre, whose record lists no candidacy: it reaches the record, not the selection.
    opened, record = case_opened(None, "c1", notice.opens_at, case="9")
    selection.note_case_opened(opened, record, uow)
    assert uow.load(CadreRecord, "c1").open_cases == ["9"]
    uow.clock.set(notice.closes_at)
    selection.close_selection(m.OnSelection(actor="tester", process_id="s1"), uow)
    assert [p.process_id for p in uow.load(CadreRecord, "c1").state.posts] == ["s1"]

    outcome, record = outcome_of("9", "s1", "c1", notice.opens_at + dt.timedelta(hours=1), True)
    uow.handle_event(record)
    selection.note_supervision_outcome(outcome, record, uow)
    cadre = uow.load(CadreRecord, "c1")
    assert cadre.open_cases == []
    assert cadre.findings_within(notice.closes_at) == ("9",)
    flagged = uow.events_of("selection-s1")[-1]
    assert flagged.type == "OutcomeAfterCloseFlagged"
    assert (flagged.data["cadre_id"], flagged.data["case_id"], flagged.data["post_id"]) == ("c1", "9", "p1")
    assert flagged.metadata["actor"] == "service:cadre"
    assert [p.process_id for p in cadre.state.posts] == ["s1"], "the appointment made stands"

    before = len(uow.events_of("selection-s1"))
    selection.note_supervision_outcome(outcome, record, uow)  # delivered again: flagged once
    assert len(uow.events_of("selection-s1")) == before


# -- training's credits ----------------------------------------------------------------------


def test_credit_totals_are_kept_for_cadres_on_record_and_dropped_for_others() -> None:
    uow = memory_uow(CadreService)
    register(uow, "c1")
    _, record = outcome_event(None, "c1", MONDAY)
    records.note_credit_total(CreditTotal("c1", 2026, Decimal("12")), record, uow)
    records.note_credit_total(CreditTotal("c1", 2026, Decimal("30.5")), record, uow)  # an absolute running total
    records.note_credit_total(CreditTotal("nobody", 2026, Decimal("3")), record, uow)
    assert uow.load(CadreRecord, "c1").credit_hours(2026) == Decimal("30.5")
    assert uow.events_of("cadre-nobody") == []


# -- appraisal -----------------------------------------------------------------------------------


def test_closing_an_appraisal_cycle_grades_every_record_in_the_same_transaction() -> None:
    uow = memory_uow(CadreService)
    for cadre_id in ("c1", "c2"):
        register(uow, cadre_id)
    cycle = appraisal.open_appraisal_cycle(
        m.OpenAppraisalCycle(
            actor="tester",
            cycle_id="y2031",
            year=2031,
            post_category="township",
            criteria=[m.CriterionInput("integrity", Decimal(1)), m.CriterionInput("performance", Decimal(1))],
        ),
        uow,
    )
    with pytest.raises(NotFound):
        appraisal.enrol_for_appraisal(m.EnrolForAppraisal(actor="tester", cycle_id=cycle.cycle_id, cadre_id="x"), uow)
    for cadre_id, score in (("c1", Decimal(95)), ("c2", Decimal(40))):
        appraisal.enrol_for_appraisal(m.EnrolForAppraisal(actor="tester", cycle_id="y2031", cadre_id=cadre_id), uow)
        appraisal.submit_self_review(
            m.SubmitSelfReview(actor="tester", cycle_id="y2031", cadre_id=cadre_id, summary="my year"), uow
        )
        appraisal.submit_review_scores(
            m.SubmitReviewScores(
                actor="tester",
                cycle_id="y2031",
                cadre_id=cadre_id,
                reviewer_id="r1",
                scores={"integrity": score, "performance": score},
            ),
            uow,
        )
    view = appraisal.close_appraisal_cycle(m.OnCycle(actor="tester", cycle_id="y2031"), uow)
    assert view.closed is True
    assert [uow.load(CadreRecord, c).latest_grade for c in ("c1", "c2")] == ["excellent", "incompetent"]
    closed = uow.events_of("appraisal-y2031")[-1]
    graded = [uow.events_of(f"cadre-{c}")[-1] for c in ("c1", "c2")]
    assert {e.tx_id for e in graded} == {closed.tx_id}
    assert uow.load(AppraisalCycle, "y2031").state.closed


# -- the unit of work's metadata ---------------------------------------------------------------


def test_every_command_event_carries_who_why_and_the_story_it_belongs_to() -> None:
    uow = memory_uow(CadreService)
    register(uow, "c1")
    records.commend_cadre(
        m.CommendCadre(
            actor="secretary Wang",
            reason="flood relief",
            cadre_id="c1",
            title="outstanding_township_party_secretary",
            year=2026,
            citation="led the rescue",
        ),
        uow,
    )
    first, commended = uow.events_of("cadre-c1")
    assert commended.metadata["actor"] == "secretary Wang" and commended.metadata["reason"] == "flood relief"
    assert commended.metadata["correlation_id"] == first.metadata["correlation_id"], "one story per aggregate"


def test_creating_a_taken_id_or_changing_a_missing_one_is_refused() -> None:
    uow = memory_uow(CadreService)
    register(uow, "c1")
    with pytest.raises(ConcurrencyConflict):  # a new aggregate's id is taken
        register(uow, "c1")
    with pytest.raises(NotFound):
        records.change_roles(
            m.ChangeRoles(
                actor="tester", cadre_id=f"x{uuid.uuid4().hex[:6]}", leadership_team=True, head_of_unit=False
            ),
            uow,
        )


def test_the_entrypoint_validates_before_the_service_layer_runs() -> None:
    cadre = in_memory(CadreService, Settings())
    from shared.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        cadre.service.create_selection(title="", unit="u", kind="lottery", posts=[])
    assert {"title", "kind"} <= set(caught.value.errors)
    assert cadre.uow.events == []


def test_criteria_weights_are_kept_exactly() -> None:
    uow = memory_uow(CadreService)
    process = on_notice()
    uow.save(process, TESTER)
    stored = uow.load(SelectionProcess, "s1")
    assert [c.weight for c in stored.state.criteria] == [Decimal(40), Decimal(30), Decimal(30)]
    assert all(isinstance(c, Criterion) for c in stored.state.criteria)
