"""The talent service layer against the in-memory unit of work: no broker, no database.

Cadre's events make and keep party-and-government records (an appointment
that comes first makes one too); an appraisal closed becomes performance input;
a dual-cultivation pairing makes the entrepreneur a rural practical talent;
confirming a selection grants the incentive on each record in the same
transaction; an objection case holds the confirmation and a substantiated
one withdraws the selection.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.talent import messages as m
from services.talent.domain.kinds import DepartureReason, ProgramKind, RetentionWay, Source, Team
from services.talent.domain.talent import TalentRecord
from services.talent.entrypoint import TalentService
from services.talent.inbound import (
    AppointedCandidate,
    AppointedToPost,
    AppraisalLine,
    CaseOutcome,
    ClosedAppraisal,
    OpenedCase,
    PairedCultivation,
    RegisteredCadre,
)
from services.talent.service_layer import objections, programs, records
from shared.application.memory import InMemoryUnitOfWork
from shared.errors import RuleViolation
from shared.eventstore.records import RecordedEvent, record_from_envelope
from tests.support import foreign
from tests.support.local import memory_uow

OFFICE = "talent-office"


def event(source: str, event_type: str, stream_id: str) -> RecordedEvent:
    return record_from_envelope(foreign.envelope(source, event_type, stream_id, {}))


def types(uow: InMemoryUnitOfWork, stream_id: str) -> list[str]:
    return [e.type for e in uow.events_of(stream_id)]


def talent(uow: InMemoryUnitOfWork, person_id: str) -> None:
    records.register(
        m.RegisterTalent(
            actor=OFFICE,
            person_id=person_id,
            team=Team.PROFESSIONAL_TECHNICAL,
            name=person_id,
            specialty="irrigation",
            level="senior",
            source=Source.LOCAL,
            unit="Water bureau",
        ),
        uow,
    )


def test_a_cadre_is_a_party_and_government_talent_kept_current_by_appointments() -> None:
    uow = memory_uow(TalentService)
    registered = event("cadre", "CadreRegistered", "cadre-c1")
    records.cadre_registered(RegisteredCadre("Li Ming", "Qingshan township", "township"), registered, uow)
    records.cadre_registered(RegisteredCadre("Li Ming", "Qingshan township", "township"), registered, uow)
    now = uow.clock.now()
    appointed = AppointedCandidate("c1", "post-1", "Deputy head", "Qingshan township", now)
    records.candidate_appointed(appointed, event("cadre", "CandidateAppointed", "selection-s1"), uow)
    again = AppointedToPost("post-1", "Deputy head", "Qingshan township", now)
    records.appointed_to_post(again, event("cadre", "CadreAppointedToPost", "cadre-c1"), uow)
    assert types(uow, "talent-c1") == ["TalentRegistered", "TalentPostUpdated"], "one record, the post noted once"
    registered_data = uow.events_of("talent-c1")[0].data
    assert (registered_data["team"], registered_data["cadre_id"]) == ("party_government", "c1")


def test_an_appointment_heard_before_the_registration_makes_the_record() -> None:
    uow = memory_uow(TalentService)
    now = uow.clock.now()
    appointed = AppointedToPost("post-1", "Deputy head", "Qingshan township", now)
    records.appointed_to_post(appointed, event("cadre", "CadreAppointedToPost", "cadre-c2"), uow)
    assert types(uow, "talent-c2") == ["TalentRegistered", "TalentPostUpdated"]
    records.cadre_registered(
        RegisteredCadre("Wang Fang", "Qingshan township", "township"),
        event("cadre", "CadreRegistered", "cadre-c2"),
        uow,
    )
    assert types(uow, "talent-c2") == ["TalentRegistered", "TalentPostUpdated"], "the later registration adds nothing"


def test_a_closed_appraisal_is_performance_input_for_those_with_a_record() -> None:
    uow = memory_uow(TalentService)
    records.cadre_registered(
        RegisteredCadre("Li Ming", "Qingshan", "township"), event("cadre", "CadreRegistered", "cadre-c1"), uow
    )
    closed = ClosedAppraisal(
        [AppraisalLine("c1", Decimal("91.5"), "excellent"), AppraisalLine("stranger", Decimal(70), "competent")],
        uow.clock.now(),
    )
    records.appraisal_closed(closed, event("cadre", "AppraisalCycleClosed", "appraisal-2025"), uow)
    noted = uow.events_of("talent-c1")[-1]
    assert (noted.type, noted.data["cycle_id"], noted.data["grade"]) == ("AppraisalNoted", "2025", "excellent")
    assert uow.events_of("talent-stranger") == []


def test_a_paired_entrepreneur_is_a_rural_practical_talent() -> None:
    uow = memory_uow(TalentService)
    paired = PairedCultivation("boss-zhao", "Zhao Gang", "Dongcun tea cooperative", uow.clock.now())
    records.cultivation_paired(paired, event("grassroots", "DualCultivationPaired", "pairing-p1"), uow)
    data = uow.events_of("talent-boss-zhao")[0].data
    assert (data["team"], data["unit"]) == ("rural_practical", "Dongcun tea cooperative")


def program_on_notice(uow: InMemoryUnitOfWork, people: list[str], quota: int = 2) -> None:
    now = uow.clock.now()
    for person in people:
        talent(uow, person)
    programs.launch(
        m.LaunchProgram(
            actor=OFFICE,
            program_id="p1",
            title="Young engineers",
            kind=ProgramKind.CULTIVATION,
            quota=quota,
            opens_at=now,
            closes_at=now + dt.timedelta(days=10),
            panel=["a", "b", "c"],
            incentive="allowance",
            incentive_months=12,
        ),
        uow,
    )
    for person in people:
        programs.apply(m.ApplyToProgram(actor=OFFICE, program_id="p1", person_id=person), uow)
    uow.clock.advance(dt.timedelta(days=10))
    programs.select(m.SelectCandidates(actor=OFFICE, program_id="p1", person_ids=people[:quota]), uow)
    programs.open_notice(m.OpenSelectionNotice(actor=OFFICE, program_id="p1", working_days=5), uow)


def test_confirming_grants_the_incentive_on_each_record_and_not_twice_at_once() -> None:
    uow = memory_uow(TalentService)
    program_on_notice(uow, ["wu", "zheng"])
    uow.clock.advance(dt.timedelta(days=10))
    view = programs.confirm(m.OnProgram(actor=OFFICE, program_id="p1"), uow)
    assert view.granted == ["wu", "zheng"]
    granted = uow.events_of("talent-wu")[-1]
    assert granted.type == "IncentiveGranted"
    assert (granted.data["starts_on"], granted.data["ends_on"]) == ("2026-03-22", "2027-03-22")


def test_an_objection_holds_the_confirmation_and_a_substantiated_one_withdraws_the_selection() -> None:
    uow = memory_uow(TalentService)
    program_on_notice(uow, ["wu", "zheng"])
    objections.case_opened(OpenedCase("zheng", "program:p1"), event("supervision", "CaseOpened", "case-k1"), uow)
    objections.case_opened(OpenedCase("zheng", "admission:x"), event("supervision", "CaseOpened", "case-k2"), uow)
    assert types(uow, "program-p1").count("ObjectionCaseNoted") == 1, "a case about another decision is not ours"
    uow.clock.advance(dt.timedelta(days=10))
    with pytest.raises(RuleViolation, match=r"program\.case_open"):
        programs.confirm(m.OnProgram(actor=OFFICE, program_id="p1"), uow)
    outcome = CaseOutcome("k1", "zheng", True, "program:p1")
    objections.outcome_recorded(outcome, event("supervision", "SupervisionOutcomeRecorded", "case-k1"), uow)
    view = programs.confirm(m.OnProgram(actor=OFFICE, program_id="p1"), uow)
    assert (view.granted, view.withdrawn) == (["wu"], ["zheng"])
    assert "IncentiveGranted" not in types(uow, "talent-zheng")


def test_someone_who_left_cannot_apply() -> None:
    uow = memory_uow(TalentService)
    talent(uow, "feng")
    records.record_departure(
        m.RecordDeparture(actor=OFFICE, person_id="feng", reason=DepartureReason.CAREER, note="left"), uow
    )
    now = uow.clock.now()
    programs.launch(
        m.LaunchProgram(
            actor=OFFICE,
            program_id="p2",
            title="Retention",
            kind=ProgramKind.RETENTION,
            retention_way=RetentionWay.PAY,
            quota=1,
            opens_at=now,
            closes_at=now + dt.timedelta(days=3),
            panel=["a", "b", "c"],
            incentive="housing",
            incentive_months=24,
        ),
        uow,
    )
    before = len(uow.events)
    with pytest.raises(RuleViolation, match=r"program\.eligible"):
        programs.apply(m.ApplyToProgram(actor=OFFICE, program_id="p2", person_id="feng"), uow)
    assert len(uow.events) == before


def test_someone_already_receiving_the_incentive_does_not_hold_up_the_others() -> None:
    uow = memory_uow(TalentService)
    program_on_notice(uow, ["wu", "zheng"])
    today = uow.clock.now().date()
    # zheng already receives an allowance from an earlier program, for longer than this one's year
    uow.update(
        TalentRecord,
        "zheng",
        lambda t: t.grant_incentive("earlier", "allowance", today, today + dt.timedelta(days=400)),
        uow.system("an earlier program's incentive"),
    )
    uow.clock.advance(dt.timedelta(days=10))
    view = programs.confirm(m.OnProgram(actor=OFFICE, program_id="p1"), uow)
    assert (view.granted, view.already_held) == (["wu"], ["zheng"])
    assert [e.data["program_id"] for e in uow.events_of("talent-zheng") if e.type == "IncentiveGranted"] == ["earlier"]
