"""The grassroots service layer against the in-memory unit of work: no broker, no database.

What changes the branch with the person does both in one transaction; other
services' events reach the decision they concern, and nothing else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from services.grassroots import messages as m
from services.grassroots.domain.kinds import NominationSource, OrganisationKind, OrganisationType, Recommendation
from services.grassroots.entrypoint import GrassrootsService
from services.grassroots.inbound import CaseOutcome, CompletedTraining, OpenedCase
from services.grassroots.service_layer import affairs, development, elections, objections, organisations
from shared.application.memory import InMemoryUnitOfWork
from shared.errors import RuleViolation
from shared.eventstore.records import RecordedEvent, record_from_envelope
from tests.support import foreign
from tests.support.local import memory_uow

OFFICE = "grassroots-office"
MEMBERS = [f"m{n}" for n in range(1, 8)]


def types(uow: InMemoryUnitOfWork, stream_id: str) -> list[str]:
    return [e.type for e in uow.events_of(stream_id)]


def event(source: str, event_type: str, stream_id: str) -> RecordedEvent:
    return record_from_envelope(foreign.envelope(source, event_type, stream_id, {}))


def tree(uow: InMemoryUnitOfWork, members: list[str] = MEMBERS) -> None:
    for organisation_id, kind, parent in (
        ("county", OrganisationKind.COUNTY_COMMITTEE, None),
        ("township", OrganisationKind.TOWNSHIP_COMMITTEE, "county"),
        ("branch", OrganisationKind.BRANCH, "township"),
    ):
        organisations.found_organisation(
            m.FoundOrganisation(
                actor=OFFICE,
                organisation_id=organisation_id,
                kind=kind,
                org_type=OrganisationType.VILLAGE if kind is OrganisationKind.BRANCH else OrganisationType.ORGAN,
                name=organisation_id,
                parent_id=parent,
                founding_members=members if kind is OrganisationKind.BRANCH else [],
            ),
            uow,
        )


def target(uow: InMemoryUnitOfWork, person: str = "p1") -> None:
    """An applicant made a development target a year after becoming an activist."""
    development.apply(
        m.Apply(actor=OFFICE, person_id=person, name="Zhou", birth_date=dt.date(1995, 1, 1), branch_id="branch"), uow
    )
    development.hold_talk(m.HoldTalk(actor=OFFICE, person_id=person, talked_by="m1"), uow)
    development.designate_activist(
        m.DesignateActivist(actor=OFFICE, person_id=person, recommended_by=Recommendation.MEMBERS, contacts=["m2"]),
        uow,
    )
    uow.clock.advance(dt.timedelta(days=366))
    development.designate_development_target(m.OnPerson(actor=OFFICE, person_id=person), uow)


def ready_for_admission(uow: InMemoryUnitOfWork, person: str = "p1") -> None:
    target(uow, person)
    development.assign_introducers(m.AssignIntroducers(actor=OFFICE, person_id=person, introducers=["m3", "m4"]), uow)
    development.record_political_review(m.Decision(actor=OFFICE, person_id=person, passed=True), uow)
    course(uow, person)
    development.open_target_notice(m.OpenTargetNotice(actor=OFFICE, person_id=person, working_days=5), uow)
    uow.clock.advance(dt.timedelta(days=14))


def course(uow: InMemoryUnitOfWork, person: str, kind: str = "development_target_course") -> None:
    completed = CompletedTraining(person, "short", kind, 24, uow.clock.now())  # type: ignore[arg-type]
    development.short_course_completed(
        completed, event("training", "TrainingCompleted", f"enrolment-short:{person}"), uow
    )


def admit(uow: InMemoryUnitOfWork, person: str = "p1") -> None:
    development.pre_review(m.Decision(actor=OFFICE, person_id=person, passed=True), uow)
    development.hold_branch_meeting(m.BranchMeeting(actor=OFFICE, person_id=person, present=6, yes=5), uow)
    development.approve_admission(m.ApproveAdmission(actor=OFFICE, person_id=person), uow)


def test_an_admission_and_full_membership_change_the_branch_with_the_person() -> None:
    uow = memory_uow(GrassrootsService)
    tree(uow)
    ready_for_admission(uow)
    admit(uow)
    assert types(uow, "organisation-branch")[-1] == "MemberJoined"
    assert uow.events_of("organisation-branch")[-1].data["full"] is False
    uow.clock.advance(dt.timedelta(days=366))
    development.grant_full_membership(m.OnPerson(actor=OFFICE, person_id="p1"), uow)
    assert types(uow, "organisation-branch")[-1] == "MemberMadeFull"


def test_a_cancelled_probation_leaves_the_branch() -> None:
    uow = memory_uow(GrassrootsService)
    tree(uow)
    ready_for_admission(uow)
    admit(uow)
    development.cancel(m.CancelDevelopment(actor=OFFICE, person_id="p1", reason="left the village"), uow)
    left = uow.events_of("organisation-branch")[-1]
    assert (left.type, left.data["person_id"], left.data["full"]) == ("MemberLeft", "p1", False)


def test_without_the_short_course_the_admission_waits_and_another_kind_of_course_is_no_gate() -> None:
    uow = memory_uow(GrassrootsService)
    tree(uow)
    target(uow)
    development.assign_introducers(m.AssignIntroducers(actor=OFFICE, person_id="p1", introducers=["m3", "m4"]), uow)
    development.record_political_review(m.Decision(actor=OFFICE, person_id="p1", passed=True), uow)
    course(uow, "p1", kind="party_spirit")
    development.open_target_notice(m.OpenTargetNotice(actor=OFFICE, person_id="p1", working_days=5), uow)
    uow.clock.advance(dt.timedelta(days=14))
    with pytest.raises(RuleViolation, match=r"development\.short_course"):
        development.pre_review(m.Decision(actor=OFFICE, person_id="p1", passed=True), uow)
    course(uow, "p1")
    development.pre_review(m.Decision(actor=OFFICE, person_id="p1", passed=True), uow)


def test_a_course_completed_by_someone_grassroots_does_not_develop_changes_nothing() -> None:
    uow = memory_uow(GrassrootsService)
    before = len(uow.events)
    course(uow, "a-cadre")
    assert len(uow.events) == before


def test_an_objection_case_holds_the_admission_and_a_substantiated_one_cancels_it() -> None:
    uow = memory_uow(GrassrootsService)
    tree(uow)
    ready_for_admission(uow)
    opened = event("supervision", "CaseOpened", "case-k1")
    objections.case_opened(OpenedCase("p1", "admission:p1"), opened, uow)
    objections.case_opened(OpenedCase("p1", "selection-9"), event("supervision", "CaseOpened", "case-k2"), uow)
    assert types(uow, "development-p1")[-1] == "SupervisionCaseNoted"
    assert types(uow, "development-p1").count("SupervisionCaseNoted") == 1, "a case about another decision is not ours"
    with pytest.raises(RuleViolation, match=r"development\.case_open"):
        development.pre_review(m.Decision(actor=OFFICE, person_id="p1", passed=True), uow)
    outcome = event("supervision", "SupervisionOutcomeRecorded", "case-k1")
    objections.outcome_recorded(CaseOutcome("k1", "p1", True, "admission:p1"), outcome, uow)
    assert types(uow, "development-p1")[-2:] == ["SupervisionOutcomeNoted", "DevelopmentCancelled"]


def election_on_notice(uow: InMemoryUnitOfWork) -> None:
    tree(uow)
    elections.call_election(m.CallElection(actor=OFFICE, organisation_id="branch", seats=3, election_id="e1"), uow)
    for candidate in MEMBERS[:4]:
        elections.nominate(
            m.Nominate(actor=OFFICE, election_id="e1", candidate_id=candidate, source=NominationSource.MEMBERS),
            uow,
        )
    elections.qualify(m.QualifyCandidates(actor=OFFICE, election_id="e1", candidate_ids=MEMBERS[:4]), uow)
    elections.open_candidate_notice(m.OpenCandidateNotice(actor=OFFICE, election_id="e1", working_days=5), uow)


def test_a_substantiated_objection_strikes_a_candidate_off_and_the_list_must_keep_its_margin() -> None:
    uow = memory_uow(GrassrootsService)
    election_on_notice(uow)
    objections.case_opened(OpenedCase("m4", "election:e1"), event("supervision", "CaseOpened", "case-k1"), uow)
    uow.clock.advance(dt.timedelta(days=14))
    with pytest.raises(RuleViolation, match=r"election\.cases_open"):
        elections.convene(m.ConveneElection(actor=OFFICE, election_id="e1", present=MEMBERS), uow)
    outcome = event("supervision", "SupervisionOutcomeRecorded", "case-k1")
    objections.outcome_recorded(CaseOutcome("k1", "m4", True, "election:e1"), outcome, uow)
    assert types(uow, "election-e1")[-1] == "CandidateStruckOff"
    with pytest.raises(RuleViolation, match=r"election\.margin"):
        elections.convene(m.ConveneElection(actor=OFFICE, election_id="e1", present=MEMBERS), uow)


def test_the_approved_result_installs_the_committee_for_a_village_branchs_five_years() -> None:
    uow = memory_uow(GrassrootsService)
    election_on_notice(uow)
    uow.clock.advance(dt.timedelta(days=14))
    elections.convene(m.ConveneElection(actor=OFFICE, election_id="e1", present=MEMBERS), uow)
    for voter in MEMBERS:
        elections.take_part(m.TakePart(actor=OFFICE, election_id="e1", voter_id=voter), uow)
    a, b, c, d = MEMBERS[:4]
    elections.count(m.CountElection(actor=OFFICE, election_id="e1", ballots=[[a, b, c]] * 5 + [[d]] * 2), uow)
    elections.approve(m.ApproveElection(actor=OFFICE, election_id="e1", secretary_id=a), uow)
    installed = uow.events_of("organisation-branch")[-1]
    assert installed.type == "LeadershipInstalled"
    assert installed.data["committee"] == [a, b, c] and installed.data["secretary_id"] == a
    starts, ends = (dt.datetime.fromisoformat(installed.data[k]) for k in ("term_starts", "term_ends"))
    assert ends.year - starts.year == 5


def test_only_a_branch_calls_an_election() -> None:
    uow = memory_uow(GrassrootsService)
    tree(uow)
    with pytest.raises(RuleViolation, match=r"organisation\.branch"):
        elections.call_election(m.CallElection(actor=OFFICE, organisation_id="township", seats=1), uow)


def test_a_move_keeps_the_tree_whole() -> None:
    uow = memory_uow(GrassrootsService)
    tree(uow)
    organisations.found_organisation(
        m.FoundOrganisation(
            actor=OFFICE,
            organisation_id="township-2",
            kind=OrganisationKind.TOWNSHIP_COMMITTEE,
            org_type=OrganisationType.ORGAN,
            name="t2",
            parent_id="county",
        ),
        uow,
    )
    view = organisations.move_organisation(
        m.MoveOrganisation(actor=OFFICE, organisation_id="branch", parent_id="township-2"), uow
    )
    assert view.parent_id == "township-2"
    with pytest.raises(RuleViolation, match=r"organisation\.(no_cycle|parent_kind)"):
        organisations.move_organisation(
            m.MoveOrganisation(actor=OFFICE, organisation_id="township-2", parent_id="branch"), uow
        )


def test_the_deadline_check_flags_a_talk_not_held_within_a_month_once() -> None:
    uow = memory_uow(GrassrootsService)
    tree(uow)
    development.apply(
        m.Apply(actor=OFFICE, person_id="p1", name="Zhou", birth_date=dt.date(1995, 1, 1), branch_id="branch"), uow
    )
    steps = dataclasses.replace(affairs.MISSED_STEPS, due=lambda _uow, _now: ["p1"])
    publications = dataclasses.replace(affairs.MISSED_PUBLICATIONS, due=lambda _uow, _now: [])

    def check() -> Any:
        return affairs.check_deadlines(uow, steps, publications)

    uow.clock.advance(dt.timedelta(days=31, seconds=1))  # a second past a month from the application
    assert check().developments_flagged == 1
    assert check().developments_flagged == 0
    missed = uow.events_of("development-p1")[-1]
    assert (missed.type, missed.data["step"]) == ("DevelopmentDeadlineMissed", "talk")
    assert missed.metadata["actor"] == "service:grassroots"
