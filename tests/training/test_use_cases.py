"""The training service layer against the in-memory unit of work: no broker, no database.

Where a use case asks a read model (open programs, who awaits a placement,
who is due), the test gives the answer the read model would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from services.training import messages as m
from services.training.domain.kinds import Mode, ProgramKind, Provider
from services.training.entrypoint import TrainingService
from services.training.inbound import (
    AppointedCandidate,
    AppointedToPost,
    DesignatedTarget,
    RegisteredCadre,
    RoutedSuggestion,
)
from services.training.service_layer import enrolments, learners, programs, requirements, suggestions
from shared.application.memory import InMemoryUnitOfWork
from shared.config import TrainingSettings
from shared.errors import NotFound, RuleViolation
from shared.eventstore.records import RecordedEvent, record_from_envelope
from tests.support import foreign
from tests.support.local import memory_uow

OFFICER = "training-office"
SETTINGS = TrainingSettings()


def uow_for_training() -> InMemoryUnitOfWork:
    return memory_uow(TrainingService)


def types(uow: InMemoryUnitOfWork, stream_id: str) -> list[str]:
    return [e.type for e in uow.events_of(stream_id)]


def event(source: str, event_type: str, stream_id: str) -> RecordedEvent:
    return record_from_envelope(foreign.envelope(source, event_type, stream_id, {}))


def learner(uow: InMemoryUnitOfWork, person_id: str, **extra: Any) -> None:
    learners.register_learner(
        m.RegisterLearner(
            actor=OFFICER,
            person_id=person_id,
            name=f"name of {person_id}",
            unit="Qingshan",
            **{"post_category": "township", **extra},
        ),
        uow,
    )


def cadre(uow: InMemoryUnitOfWork, cadre_id: str) -> None:
    learners.cadre_registered(
        RegisteredCadre(f"cadre {cadre_id}", "Qingshan", "township"),
        event("cadre", "CadreRegistered", f"cadre-{cadre_id}"),
        uow,
    )


def program(
    uow: InMemoryUnitOfWork,
    program_id: str,
    *,
    kind: ProgramKind = ProgramKind.THEMATIC,
    mode: Mode = Mode.CLASSROOM,
    capacity: int = 10,
    hours: tuple[str, ...] = ("8", "8"),
    publish: bool = True,
    **extra: Any,
) -> None:
    today = uow.clock.now().date()
    programs.plan_program(
        m.PlanProgram(
            actor=OFFICER,
            program_id=program_id,
            title=program_id,
            kind=kind,
            mode=mode,
            provider=Provider.PARTY_SCHOOL,
            starts_on=today,
            ends_on=today + dt.timedelta(days=10),
            capacity=capacity,
            **extra,
        ),
        uow,
    )
    for n, h in enumerate(hours, start=1):
        programs.schedule_session(
            m.ScheduleSession(
                actor=OFFICER,
                program_id=program_id,
                session_id=f"s{n}",
                title=f"session {n}",
                starts_at=uow.clock.now() + dt.timedelta(days=n),
                hours=Decimal(h),
            ),
            uow,
        )
    if publish:
        programs.publish_program(m.OnProgram(actor=OFFICER, program_id=program_id), uow, lambda _uow: [])


def enrol(uow: InMemoryUnitOfWork, program_id: str, person_id: str) -> None:
    enrolments.enrol(m.Enrol(actor=OFFICER, program_id=program_id, person_id=person_id), uow)


def complete(uow: InMemoryUnitOfWork, program_id: str, people: list[str], sessions: int = 2) -> Any:
    programs.start_program(m.OnProgram(actor=OFFICER, program_id=program_id), uow)
    for person in people:
        for n in range(1, sessions + 1):
            enrolments.record_attendance(
                m.RecordAttendance(actor=OFFICER, program_id=program_id, person_id=person, session_id=f"s{n}"), uow
            )
    return programs.close_program(m.OnProgram(actor=OFFICER, program_id=program_id), uow, SETTINGS)


def only(program_id: str) -> Any:
    return lambda _uow, _kind: [program_id]


NONE_OPEN: Any = lambda _uow, _kind: []  # noqa: E731


# -- programs and credits --------------------------------------------------------------------


def test_closing_a_program_credits_each_completion_once_and_publishes_the_years_total() -> None:
    uow = uow_for_training()
    learner(uow, "p1")
    program(uow, "prog")
    enrol(uow, "prog", "p1")
    closed = complete(uow, "prog", ["p1"])
    assert closed.completed == ["p1"]
    assert types(uow, "enrolment-prog:p1")[-1] == "TrainingCompleted"
    ledger = uow.events_of("learner-p1")
    assert [e.type for e in ledger][-2:] == ["CreditsAwarded", "CreditTotalUpdated"]
    total = ledger[-1]
    assert total.data == {"cadre_id": "p1", "year": 2026, "total_hours": "16"}
    assert total.metadata["actor"] == "service:training", "the service credits, as itself"
    with pytest.raises(RuleViolation, match=r"program\.close_when_running"):
        programs.close_program(m.OnProgram(actor=OFFICER, program_id="prog"), uow, SETTINGS)
    assert types(uow, "learner-p1").count("CreditsAwarded") == 1


def test_a_close_that_fails_half_way_stores_nothing_of_it() -> None:
    uow = uow_for_training()
    learner(uow, "p1")
    program(uow, "prog")
    enrol(uow, "prog", "p1")
    programs.start_program(m.OnProgram(actor=OFFICER, program_id="prog"), uow)
    for session in ("s1", "s2"):
        enrolments.record_attendance(
            m.RecordAttendance(actor=OFFICER, program_id="prog", person_id="p1", session_id=session), uow
        )
    before = len(uow.events)

    class Broken:
        """Settings whose online share cannot be read: crediting fails after the close and the conclusion."""

        @property
        def online_share(self) -> Decimal:
            raise RuntimeError("the settings cannot be read")

    with pytest.raises(RuntimeError):
        programs.close_program(m.OnProgram(actor=OFFICER, program_id="prog"), uow, Broken())  # type: ignore[arg-type]
    assert len(uow.events) == before, "neither the program's close nor the enrolment's conclusion is stored"


def test_a_full_program_refuses_the_next_learner_and_a_withdrawal_frees_the_seat() -> None:
    uow = uow_for_training()
    for person in ("a", "b"):
        learner(uow, person)
    program(uow, "one-seat", capacity=1)
    enrol(uow, "one-seat", "a")
    before = len(uow.events)
    with pytest.raises(RuleViolation, match=r"program\.capacity_reached"):
        enrol(uow, "one-seat", "b")
    assert len(uow.events) == before, "no enrolment and no seat for the refused learner"
    enrolments.withdraw(m.Withdraw(actor=OFFICER, program_id="one-seat", person_id="a", reason="ill"), uow)
    enrol(uow, "one-seat", "b")
    assert types(uow, "program-one-seat").count("SeatTaken") == 2


def test_a_learner_not_on_record_is_not_enrolled() -> None:
    uow = uow_for_training()
    program(uow, "prog")
    with pytest.raises(RuleViolation, match=r"learner\.on_record"):
        enrol(uow, "prog", "nobody")
    assert "SeatTaken" not in types(uow, "program-prog")


def test_a_learner_selects_a_course_as_the_caller() -> None:
    uow = uow_for_training()
    learner(uow, "cadre-7")
    program(uow, "prog")
    view = enrolments.select_course(m.SelectCourse(actor="cadre-7", program_id="prog"), uow)
    assert (view.person_id, view.source) == ("cadre-7", "self_selected")


def test_attendance_is_recorded_only_while_the_program_runs() -> None:
    uow = uow_for_training()
    learner(uow, "a")
    program(uow, "prog")
    enrol(uow, "prog", "a")
    with pytest.raises(RuleViolation, match=r"program\.record_attendance_when_running"):
        enrolments.record_attendance(
            m.RecordAttendance(actor=OFFICER, program_id="prog", person_id="a", session_id="s1"), uow
        )


# -- ledgers from other services ------------------------------------------------------------


def test_a_cadre_registered_after_their_training_has_their_totals_published_again() -> None:
    uow = uow_for_training()
    learner(uow, "c1")  # trained before cadre had them on record
    program(uow, "prog")
    enrol(uow, "prog", "c1")
    complete(uow, "prog", ["c1"])
    cadre(uow, "c1")
    totals = [e for e in uow.events_of("learner-c1") if e.type == "CreditTotalUpdated"]
    assert [t.data["total_hours"] for t in totals] == ["16", "16"], "published again for cadre, which dropped it"
    assert [e for e in uow.events_of("learner-c1") if e.type == "LearnerProfiled"][-1].data["cadre"] is True


def test_both_of_cadres_appointment_events_owe_one_induction_and_enrol_once() -> None:
    uow = uow_for_training()
    cadre(uow, "c1")
    program(uow, "ind", kind=ProgramKind.INDUCTION)
    now = uow.clock.now()
    placed = learners.candidate_appointed(
        AppointedCandidate("c1", "post-1", now), event("cadre", "CandidateAppointed", "selection-s1"), uow, only("ind")
    )
    again = learners.appointed_to_post(
        AppointedToPost("post-1", now), event("cadre", "CadreAppointedToPost", "cadre-c1"), uow, only("ind")
    )
    assert (placed, again) == ("ind", None)
    assert types(uow, "learner-c1").count("InductionDue") == 1
    assert types(uow, "enrolment-ind:c1") == ["Enrolled"]
    assert uow.events_of("enrolment-ind:c1")[0].data["source"] == "on_appointment"


def test_an_appointment_before_the_cadres_registration_is_retried_and_stores_nothing() -> None:
    uow = uow_for_training()
    before = len(uow.events)
    with pytest.raises(learners.NotYetOnRecord):
        learners.appointed_to_post(
            AppointedToPost("post-1", uow.clock.now()),
            event("cadre", "CadreAppointedToPost", "cadre-c1"),
            uow,
            NONE_OPEN,
        )
    assert len(uow.events) == before


def test_an_appointee_who_did_induction_in_the_year_before_owes_nothing_and_is_not_enrolled() -> None:
    uow = uow_for_training()
    cadre(uow, "c1")
    program(uow, "ind-old", kind=ProgramKind.INDUCTION)
    enrol(uow, "ind-old", "c1")
    complete(uow, "ind-old", ["c1"])
    uow.clock.advance(dt.timedelta(days=200))
    program(uow, "ind-new", kind=ProgramKind.INDUCTION)
    placed = learners.appointed_to_post(
        AppointedToPost("post-2", uow.clock.now()),
        event("cadre", "CadreAppointedToPost", "cadre-c1"),
        uow,
        only("ind-new"),
    )
    assert placed is None
    assert types(uow, "learner-c1")[-2:] == ["InductionDue", "InductionSatisfied"]
    assert uow.events_of("enrolment-ind-new:c1") == []


def test_a_development_target_is_placed_in_the_short_course_or_awaits_one() -> None:
    uow = uow_for_training()
    target = DesignatedTarget("app-1", "Zhou Min", "branch-3", uow.clock.now())
    record = event("grassroots", "DevelopmentTargetDesignated", "member-app-1")
    assert learners.development_target_designated(target, record, uow, NONE_OPEN) is None
    assert types(uow, "learner-app-1")[-1] == "PlacementAwaited"
    profile = uow.events_of("learner-app-1")[0].data
    assert (profile["member_stage"], profile["unit"], profile["cadre"]) == ("development_target", "branch-3", False)

    program(uow, "short", kind=ProgramKind.DEVELOPMENT_TARGET_COURSE, hours=("8", "8", "8"), publish=False)
    view = programs.publish_program(
        m.OnProgram(actor=OFFICER, program_id="short"), uow, lambda _uow: [("app-1", "development_target_course")]
    )
    assert view.placed == ["app-1"]
    assert types(uow, "learner-app-1")[-1] == "PlacementMade"
    assert uow.events_of("enrolment-short:app-1")[0].data["source"] == "on_designation"


def test_a_program_whose_audience_excludes_the_appointee_is_passed_over() -> None:
    uow = uow_for_training()
    cadre(uow, "c1")
    program(uow, "ind-county", kind=ProgramKind.INDUCTION, audience=m.AudienceInput(post_categories=["county"]))
    placed = learners.appointed_to_post(
        AppointedToPost("post-1", uow.clock.now()),
        event("cadre", "CadreAppointedToPost", "cadre-c1"),
        uow,
        only("ind-county"),
    )
    assert placed is None
    assert types(uow, "learner-c1")[-1] == "PlacementAwaited"


# -- requirements and deadlines ---------------------------------------------------------------


def test_a_new_online_share_counts_the_years_hours_again_and_publishes_the_change() -> None:
    uow = uow_for_training()
    learner(uow, "p1")
    program(uow, "classroom", hours=("10",))
    program(uow, "online", mode=Mode.ONLINE, hours=("10",))
    for program_id in ("classroom", "online"):
        enrol(uow, program_id, "p1")
        complete(uow, program_id, ["p1"], sessions=1)
    assert uow.events_of("learner-p1")[-1].data["total_hours"] == "20", "the default share, a half, lets 10 count"
    view = requirements.set_requirement(
        m.SetRequirement(
            actor=OFFICER, year=2026, post_category="township", hours=Decimal(30), online_share=Decimal("0.2")
        ),
        uow,
        SETTINGS,
        lambda _uow, _category: ["p1"],
    )
    assert view.recounted == 1
    assert uow.events_of("learner-p1")[-1].data["total_hours"] == "12.5"


def test_the_deadline_check_flags_an_induction_a_year_overdue_and_reviews_the_year_ended() -> None:
    uow = uow_for_training()
    cadre(uow, "c1")
    learners.appointed_to_post(
        AppointedToPost("post-1", uow.clock.now()), event("cadre", "CadreAppointedToPost", "cadre-c1"), uow, NONE_OPEN
    )
    requirements.set_requirement(
        m.SetRequirement(
            actor=OFFICER, year=2026, post_category="township", hours=Decimal(50), required_kinds=["party_spirit"]
        ),
        uow,
        SETTINGS,
        lambda _uow, _category: [],
    )

    def check() -> Any:
        due = dataclasses.replace(requirements.OVERDUE_INDUCTIONS, due=lambda _uow, _now: ["c1"])
        return requirements.check_deadlines(uow, SETTINGS, due, lambda _uow, _year: ["c1"], lambda _uow: [], NONE_OPEN)

    uow.clock.advance(dt.timedelta(days=365))  # 2027-03-02 09:00: exactly a year on, not yet overdue
    assert check().inductions_flagged == 0
    uow.clock.advance(dt.timedelta(seconds=1))
    result = check()
    assert (result.inductions_flagged, result.years_reviewed) == (1, 0)  # reviewed once, in the first check
    flags = [e.data for e in uow.events_of("learner-c1") if e.type == "RequirementShortfallFlagged"]
    assert [(f["requirement"], f["year"]) for f in flags] == [("yearly", 2026), ("induction", 2027)]
    assert flags[0]["missing_kinds"] == ["party_spirit"] and flags[0]["counted_hours"] == "0"
    assert check().inductions_flagged == 0, "flagged once"


# -- suggestions -------------------------------------------------------------------------------


def test_a_suggestion_is_received_once_and_answered_once_with_the_reasons() -> None:
    uow = uow_for_training()
    routed = RoutedSuggestion("s-1", "evening classes", uow.clock.now())
    record = event("feedback", "SuggestionRoutedToTraining", "submission-s-1")
    suggestions.receive(routed, record, uow)
    suggestions.receive(routed, record, uow)
    assert types(uow, "suggestion-s-1") == ["SuggestionReceived"]
    suggestions.answer(m.AnswerSuggestion(actor=OFFICER, submission_id="s-1", adopted=False, reasons="no budget"), uow)
    answered = uow.events_of("suggestion-s-1")[-1]
    assert answered.data["text"] == "Not adopted by the training service: no budget"
    with pytest.raises(RuleViolation, match=r"suggestion\.answer_once"):
        suggestions.answer(m.AnswerSuggestion(actor=OFFICER, submission_id="s-1", adopted=True, reasons="x"), uow)
    with pytest.raises(NotFound):
        suggestions.answer(m.AnswerSuggestion(actor=OFFICER, submission_id="s-2", adopted=True, reasons="x"), uow)
