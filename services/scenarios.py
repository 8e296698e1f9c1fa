"""The appointment under public watch, end to end, through the gateway: ``make demo``.

Three selections run side by side against the platform (recommendation and
committee votes by secret ballot, notices on the organisation's calendar):

* withheld: the pre-appointment notice opens → a member of the public objects
  (feedback, through the public endpoint, no account) → supervision opens a
  case from the routed complaint, holds the joint meeting, finds it
  substantiated → the notice period passes → cadre withholds the appointment;
* clean: the notice opens → nobody objects → the nominee is appointed;
* postponed: an objection opens a case that is still under investigation when
  the notice ends → cadre postpones the appointment → the case is found
  unsubstantiated → cadre appoints, recording the notice and the case.

The department and the supervision office act over HTTP with bearer tokens
minted by the local token issuer (the ``tokens`` key in ``SECURITY_KEYS_DIR``);
the gateway calls the services over RPC as them. Only events cross between
services; each hop carries the correlation and causation ids (the whole run
shares one, sent as ``X-Correlation-Id``). The platform must run on the offset
clock (``make run`` does): the scenario moves it forward to let notice periods
pass. Every run uses fresh ids, so it can run again on the same database. When
nothing is running, the demo starts the platform itself and stops it at the end.

Training and talent take their part: the appointee of the clean path is
enrolled in the open induction program (任职培训) as cadre appoints them, and
appears in the talent pool with the post; and in a fourth
story, a cadre short of the training hours a selection asks for is refused,
completes a program, and is then admitted (``training_opens_the_way``).

Grassroots works in the open too (``grassroots_in_the_open``): a village
branch of seven elects its committee by public nomination and direct
election (the list on notice, a meeting refused without four fifths present,
a secret ballot, the approval); and an applicant goes the whole way to full
member, the branch waiting for the short course that training runs.

The stories take anything with ``.cadre``, ``.feedback``, ``.supervision``,
``.training``, ``.grassroots`` and ``.talent`` callers: the gateway's HTTP clients here, an
RPC proxy in the end-to-end tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from services.gateway.client import GatewayClient, GatewayError
from shared.config import LOCAL_KEYS_DIR, GatewaySettings, Settings, gateway_port, service_ports
from shared.db.clock import OffsetClock, advance_clock
from shared.db.database import Database
from shared.runtime.process.control import is_ready, launch_platform, status, wait_until
from shared.security import tokens
from shared.security.keys import KeyRing

#: Who the demo acts as, each with a token of the roles their work needs.
DEPARTMENT = ("organization-department", ("selection_officer", "committee_secretary", "department_staff"))
SUPERVISION_OFFICE = ("supervision-office", ("supervision_officer",))
TRAINING_OFFICE = ("training-office", ("training_officer",))
GRASSROOTS_OFFICE = ("grassroots-office", ("grassroots_officer",))
TALENT_OFFICE = ("talent-office", ("talent_officer",))
SERVICES = ("cadre", "talent", "grassroots", "supervision", "training", "feedback")
#: The training hours the fourth story's selection asks of its candidates.
HOURS_ASKED = 24
MoveClock = Callable[[dt.timedelta], object]
#: Now on the platform's clock (the offset clock the demo moves).
Clock = Callable[[], dt.datetime]


def say(service: str, step: str, detail: str = "") -> None:
    print(f"  {service:<12} {step:<34} {detail}", flush=True)


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    return wait_until(predicate, timeout, 0.1, what)


def window(view: dict[str, Any], which: str) -> dt.timedelta:
    """How long the view's preview or notice runs (whole working days on the calendar), in whole minutes, plus one.

    Whole minutes: the offset clock then moves by whole seconds, as it always has.
    """
    opens, closes = (dt.datetime.fromisoformat(view[f"{which}_{end}_at"]) for end in ("opens", "closes"))
    return dt.timedelta(minutes=math.ceil((closes - opens).total_seconds() / 60) + 1)


def pass_window(view: dict[str, Any], which: str, move_clock: MoveClock) -> None:
    """Move the platform's clock past the window the view shows."""
    delta = window(view, which)
    move_clock(delta)
    say("clock", f"+{delta.days} days {delta.seconds // 3600} h", f"the {which} window has passed")


def run_selection(
    cadre: Any,
    move_clock: MoveClock,
    tag: str,
    unit: str = "Qingshan township",
    during_notice: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One selection for one post, from announcement to close; returns the closing view."""
    candidates = []
    for n, name in enumerate(["Li Ming", "Wang Fang", "Zhang Wei"]):
        cadre_id = f"{tag}-c{n + 1}"
        cadre.register_cadre(cadre_id=cadre_id, name=name, unit=unit, post_category="township")
        candidates.append(cadre_id)
    say("cadre", "cadres registered", ", ".join(candidates))
    view = cadre.create_selection(
        reason="a vacancy: deputy head of township",
        process_id=f"{tag}-selection",
        title=f"Deputy head of {unit}",
        unit=unit,
        kind="public_selection",
        posts=[{"post_id": f"{tag}-post", "title": "Deputy head"}],
    )
    process_id = view["process_id"]
    say("cadre", "SelectionAnnounced", f"{process_id}: phase {view['phase']}")
    cadre.open_registration(process_id=process_id)
    for cadre_id in candidates:
        view = cadre.register_candidate(process_id=process_id, cadre_id=cadre_id)
    say("cadre", "CandidateRegistered x3", f"phase {view['phase']}")
    cadre.open_recommendation(process_id=process_id)
    box = [[candidates[0]]] * 5 + [[candidates[1]]] * 3 + [[candidates[2]]] * 2
    for n in range(len(box)):
        cadre.cast_recommendation(process_id=process_id, voter_id=f"{tag}-voter{n}")
    say("cadre", "VoterTookPart x10", "democratic recommendation, by secret ballot")
    cadre.count_recommendation(process_id=process_id, ballots=box)
    say("cadre", "BallotCounted", "the box counted: 5, 3 and 2 (no ballot names its voter)")
    view = cadre.draw_shortlist(process_id=process_id, cadre_ids=candidates[:2])
    say("cadre", "ShortlistDrawn", f"2 candidates for 1 post: phase {view['phase']}")
    view = cadre.publish_assessment_preview(process_id=process_id, working_days=3)
    say("cadre", "AssessmentPreviewPublished", f"the public may comment: phase {view['phase']}")
    pass_window(view, "preview", move_clock)
    cadre.start_assessment(
        process_id=process_id,
        criteria=[
            {"name": "integrity", "weight": "40"},
            {"name": "ability", "weight": "30"},
            {"name": "performance", "weight": "30"},
        ],
    )
    for cadre_id, scores in zip(candidates[:2], ([92, 88, 90], [85, 80, 78]), strict=True):
        view = cadre.assess_candidate(
            process_id=process_id,
            cadre_id=cadre_id,
            qualitative="excellent" if scores[0] > 90 else "competent",
            scores=dict(zip(["integrity", "ability", "performance"], map(str, scores), strict=True)),
        )
    totals = ", ".join(f"{c['cadre_id']} {c['weighted_total']}" for c in view["candidates"] if c["weighted_total"])
    say("cadre", "CandidateAssessed x2", totals)
    members = [f"{tag}-member{n}" for n in range(9)]
    cadre.convene_committee(process_id=process_id, members=members, present=members[:7])
    post_id = f"{tag}-post"
    for member in members[:7]:
        cadre.cast_committee_vote(process_id=process_id, member_id=member, post_id=post_id)
    ballots = [[candidates[0], candidates[1]]] * 2 + [[candidates[0]]] * 4 + [[]]  # one blank
    cadre.count_committee_vote(process_id=process_id, post_id=post_id, ballots=ballots)
    say("cadre", "BallotCounted", f"the committee's secret ballot for {post_id}")
    view = cadre.conclude_committee_vote(process_id=process_id)
    nominee = next(c for c in view["candidates"] if c["nominated_post"])
    say("cadre", "CommitteeVoteConcluded", f"{nominee['cadre_id']} approved by {nominee['approvals']} of 9 members")
    view = cadre.open_public_notice(process_id=process_id, working_days=5)
    say("cadre", "PublicNoticeOpened", f"5 working days, until {view['notice_closes_at'][:16]}")
    if during_notice is not None:
        during_notice(view)
    pass_window(view, "notice", move_clock)
    view = cadre.close_selection(process_id=process_id)
    for candidate in view["candidates"]:
        if candidate["result"] in ("appointed", "withheld"):
            event = "CandidateAppointed" if candidate["result"] == "appointed" else "AppointmentWithheld"
            say("cadre", event, f"{candidate['cadre_id']}: {candidate['result']}; phase {view['phase']}")
    return view


def object_during_notice(rpc: Any, view: dict[str, Any], text: str) -> dict[str, Any]:
    """A member of the public objects to the nominee (public endpoint); supervision opens a case; cadre notes it."""
    process_id = view["process_id"]
    nominee = next(c["cadre_id"] for c in view["candidates"] if c["nominated_post"])
    notice = wait_for(
        lambda: next((n for n in rpc.feedback.open_notices()["items"] if n["process_id"] == process_id), None),
        "feedback to hear of the notice",
    )
    receipt = rpc.feedback.submit(
        channel="notice_comment",
        category="complaint_about_cadre",
        text=text,
        cadre_id=nominee,
        notice_id=notice["notice_id"],
    )
    say("feedback", "SubmissionReceived", f"objection to {nominee}, receipt code {receipt['receipt_code'][:6]}...")
    say("feedback", "ComplaintRoutedToSupervision", f"routed to {receipt['routed_to']}")
    case = wait_for(
        lambda: next((c for c in rpc.supervision.cases(cadre_id=nominee)["items"]), None),
        "supervision to open a case",
    )
    say("supervision", "CaseOpened", f"{case['case_id']} from the complaint")
    wait_for(
        lambda: any(
            s["step"] == "supervision_case"
            for s in rpc.cadre.candidate_journey(process_id=process_id, cadre_id=nominee)["steps"]
        ),
        "cadre to note the case",
    )
    say("cadre", "SupervisionCaseNoted", "the case holds the appointment until it concludes")
    return {
        "case_id": case["case_id"],
        "nominee": nominee,
        "process_id": process_id,
        "receipt_code": receipt["receipt_code"],
    }


def submitter_reads_the_outcome(rpc: Any, receipt_code: str) -> None:
    """The objector comes back with the receipt code and reads what supervision concluded."""

    def concluded() -> dict[str, Any] | None:
        case: dict[str, Any] = rpc.feedback.my_case(receipt_code=receipt_code)
        return case if case["investigation"] not in (None, "open") and case["replies"] else None

    case = wait_for(concluded, "the outcome to reach the submitter")
    reply = case["replies"][-1]["text"]
    say("public", "my_case by receipt code", f"{case['status']}, investigation {case['investigation']}: {reply[:60]!r}")


def investigate(rpc: Any, case_id: str, substantiated: bool) -> None:
    """Supervision investigates with discipline inspection and records the outcome."""
    rpc.supervision.assign_case(case_id=case_id, investigator="investigator Zhao")
    say("supervision", "CaseAssigned", "investigator Zhao")
    rpc.supervision.hold_joint_meeting(
        case_id=case_id,
        participants=[
            {"name": "Zhao", "role": "organization"},
            {"name": "Qian", "role": "discipline_inspection"},
        ],
        decision="the facts are established" if substantiated else "the facts are not borne out",
    )
    say("supervision", "JointMeetingHeld", "with discipline inspection")
    outcome = rpc.supervision.record_outcome(
        case_id=case_id,
        substantiated=substantiated,
        reasons="gifts confirmed by records" if substantiated else "the records show no gift",
    )
    say("supervision", "SupervisionOutcomeRecorded", f"substantiated: {outcome['outcome']}")


def object_and_substantiate(rpc: Any, tag: str) -> Callable[[dict[str, Any]], None]:
    """During the notice: an objection, a case, a joint meeting, a substantiated outcome."""

    def during_notice(view: dict[str, Any]) -> None:
        case = object_during_notice(rpc, view, "The nominee took gifts from a contractor while in the township office.")
        investigate(rpc, case["case_id"], substantiated=True)
        wait_for(
            lambda: any(
                s["step"] == "supervision_outcome"
                for s in rpc.cadre.candidate_journey(process_id=case["process_id"], cadre_id=case["nominee"])["steps"]
            ),
            "cadre to note the outcome",
        )
        say("cadre", "SupervisionOutcomeNoted", "during the notice window")
        submitter_reads_the_outcome(rpc, case["receipt_code"])

    return during_notice


def object_and_leave_open(rpc: Any, cases: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """During the notice: an objection and a case, still under investigation when the notice ends."""

    def during_notice(view: dict[str, Any]) -> None:
        cases.update(object_during_notice(rpc, view, "The nominee's relative won a township contract."))

    return during_notice


def conclude_postponed(rpc: Any, case: dict[str, Any]) -> dict[str, Any]:
    """The case that postponed the appointment concludes unsubstantiated; cadre appoints. Returns the journey."""
    investigate(rpc, case["case_id"], substantiated=False)

    def appointed() -> dict[str, Any] | None:
        journey = rpc.cadre.candidate_journey(process_id=case["process_id"], cadre_id=case["nominee"])
        return journey if journey["steps"][-1]["step"] in ("appointed", "withheld") else None

    journey = wait_for(appointed, "cadre to decide the postponed appointment")
    last = journey["steps"][-1]
    say("cadre", "CandidateAppointed", f"{case['nominee']}: {last['step']} (case {case['case_id']} not substantiated)")
    return dict(journey)


@dataclass(frozen=True)
class Outcome:
    withheld: list[str]
    appointed: list[str]
    withheld_nominee: str
    clean_nominee: str
    postponed: list[str] = field(default_factory=list)  # postponed at the close of the third path
    appointed_after_case: list[str] = field(default_factory=list)  # then appointed once the case concluded
    postponed_nominee: str = ""
    inducted: list[str] = field(default_factory=list)  # enrolled in induction on appointment
    pooled: list[str] = field(default_factory=list)  # in the talent pool with the post they were appointed to

    @property
    def passed(self) -> bool:
        return (
            self.inducted == [self.clean_nominee]
            and self.pooled == [self.clean_nominee]
            and self.withheld == [self.withheld_nominee]
            and self.appointed == [self.clean_nominee]
            and self.postponed == [self.postponed_nominee]
            and self.appointed_after_case == [self.postponed_nominee]
        )


def appointment_under_public_watch(rpc: Any, move_clock: MoveClock, run: str, now: Clock) -> Outcome:
    """Three paths: withheld after a substantiated objection; appointed after a clean notice; postponed while a
    case is open, then appointed once it is found unsubstantiated."""
    print(f"\nThe withheld path (run {run}):")
    withheld = run_selection(rpc.cadre, move_clock, f"{run}w", during_notice=object_and_substantiate(rpc, run))
    print(f"\nThe clean path (run {run}):")
    open_induction_program(rpc.training, run, now)
    clean = run_selection(rpc.cadre, move_clock, f"{run}c")
    inducted = induction_enrolment(rpc.training, f"{run}c-c1")
    pooled = appointee_in_the_pool(rpc.talent, f"{run}c-c1")
    print(f"\nThe postponed path (run {run}):")
    case: dict[str, Any] = {}
    postponed = run_selection(rpc.cadre, move_clock, f"{run}p", during_notice=object_and_leave_open(rpc, case))
    say("cadre", "AppointmentPostponed", f"phase {postponed['phase']}: the case is still open")
    journey = conclude_postponed(rpc, case)
    return Outcome(
        withheld=[c["cadre_id"] for c in withheld["candidates"] if c["result"] == "withheld"],
        appointed=[c["cadre_id"] for c in clean["candidates"] if c["result"] == "appointed"],
        withheld_nominee=f"{run}w-c1",
        clean_nominee=f"{run}c-c1",
        postponed=[c["cadre_id"] for c in postponed["candidates"] if c["result"] == "postponed"],
        appointed_after_case=[journey["cadre_id"]] if journey["steps"][-1]["step"] == "appointed" else [],
        postponed_nominee=f"{run}p-c1",
        inducted=[f"{run}c-c1"] if inducted["source"] == "on_appointment" else [],
        pooled=[pooled["person_id"]] if pooled["team"] == "party_government" and pooled["post"] else [],
    )


def publish_program(
    training: Any,
    program_id: str,
    title: str,
    kind: str,
    today: dt.date,
    *,
    days: int = 3,
    hours: str = "8",
    first_day: int = 0,
    span: int = 5,
    mode: str = "classroom",
    capacity: int = 30,
    **extra: Any,
) -> dict[str, Any]:
    """Plan a program of ``days`` daily sessions of ``hours`` (the first ``first_day`` days on), and publish it."""
    training.plan_program(
        program_id=program_id,
        title=title,
        kind=kind,
        mode=mode,
        provider="party_school",
        starts_on=today.isoformat(),
        ends_on=(today + dt.timedelta(days=span)).isoformat(),
        capacity=capacity,
        **extra,
    )
    for day in range(days):
        start = dt.datetime.combine(today + dt.timedelta(days=first_day + day), dt.time(9), tzinfo=dt.UTC)
        training.schedule_session(
            program_id=program_id,
            session_id=f"d{day + 1}",
            title=f"day {day + 1}",
            starts_at=start.isoformat(),
            hours=hours,
        )
    return dict(training.publish_program(program_id=program_id))


def run_program(training: Any, program_id: str, people: list[str], days: int = 3) -> dict[str, Any]:
    """Start the program; everyone attends every session; close it (completions are credited)."""
    training.start_program(program_id=program_id)
    for person in people:
        for day in range(days):
            training.record_attendance(program_id=program_id, person_id=person, session_id=f"d{day + 1}")
    return dict(training.close_program(program_id=program_id))


def open_induction_program(training: Any, run: str, now: Clock) -> str:
    """Training publishes an induction program: whoever is appointed while it is open is enrolled in it."""
    program_id = f"{run}-induction"
    title = "Induction for newly appointed township leaders"
    publish_program(training, program_id, title, "induction", now().date(), days=1, hours="16", first_day=20, span=30)
    say("training", "ProgramPublished", f"{program_id}: induction, open for appointees")
    return program_id


def induction_enrolment(training: Any, cadre_id: str) -> dict[str, Any]:
    """The appointee's enrolment in an induction program, once training has placed them."""

    def enrolled() -> dict[str, Any] | None:
        record = ledger_of(training, cadre_id)
        lines = record["enrolments"] if record else []
        return next((line for line in lines if line["kind"] == "induction"), None)

    line = wait_for(enrolled, f"training to enrol {cadre_id} in induction")
    say("training", "Enrolled", f"{cadre_id} in {line['program_id']} ({line['source']})")
    return dict(line)


def appointee_in_the_pool(talent: Any, cadre_id: str) -> dict[str, Any]:
    """The appointee's party-and-government talent record, once talent has the post they were appointed to."""

    def pooled() -> dict[str, Any] | None:
        rows = talent.pool(team="party_government")["items"]
        return next((row for row in rows if row["person_id"] == cadre_id and row["post"]), None)

    row = wait_for(pooled, f"talent to pool {cadre_id} with the post")
    say("talent", "TalentPostUpdated", f"{cadre_id} in the pool: {row['post']}, {row['unit']}")
    return dict(row)


def refusal(call: Callable[[], Any]) -> str | None:
    """What refused the call (the rule's name is in it), or None when it went through."""
    try:
        call()
    except Exception as error:  # the gateway's problem over HTTP, the rule's violation over RPC
        return f"{error} {getattr(error, 'problem', '')}"
    return None


def ledger_of(training: Any, person_id: str) -> dict[str, Any] | None:
    answer = refusal(lambda: training.learner_record(person_id=person_id))
    return None if answer is not None else dict(training.learner_record(person_id=person_id))


@dataclass(frozen=True)
class TrainingOutcome:
    refused_before: bool  # the selection refused the cadre for want of hours
    completed: bool  # the program credited them
    hours_at_cadre: Decimal  # what cadre then counted over its window
    admitted_after: bool  # the selection then registered them

    @property
    def passed(self) -> bool:
        return self.refused_before and self.completed and self.hours_at_cadre >= HOURS_ASKED and self.admitted_after


def training_opens_the_way(rpc: Any, run: str, now: Clock) -> TrainingOutcome:
    """A cadre short of the hours a selection asks is refused, completes a party-spirit program, and stands."""
    cadre_id, process_id, unit = f"{run}t-c1", f"{run}t-selection", "Qingshan township"
    today = now().date()
    rpc.cadre.register_cadre(cadre_id=cadre_id, name="Chen Jing", unit=unit, post_category="township")
    say("cadre", "CadreRegistered", f"{cadre_id}, no training hours yet")
    rpc.cadre.create_selection(
        reason="a vacancy: head of the township's party and government office",
        process_id=process_id,
        title=f"Head of the office of {unit}",
        unit=unit,
        kind="public_selection",
        posts=[{"post_id": f"{run}t-post", "title": "Head of the office"}],
        min_credit_hours=str(HOURS_ASKED),
    )
    rpc.cadre.open_registration(process_id=process_id)
    say("cadre", "SelectionAnnounced", f"{process_id}: candidates need {HOURS_ASKED} training hours over 5 years")
    refused = refusal(lambda: rpc.cadre.register_candidate(process_id=process_id, cadre_id=cadre_id))
    refused_before = refused is not None and "training_credit_hours" in refused
    say("cadre", "register_candidate refused", "selection.training_credit_hours" if refused_before else str(refused))

    wait_for(lambda: ledger_of(rpc.training, cadre_id), "training to open the cadre's ledger")
    program_id = f"{run}t-party-spirit"
    title = "Party spirit at the county party school"
    publish_program(rpc.training, program_id, title, "party_spirit", today, span=4, mode="training_base", capacity=40)
    rpc.training.enrol(program_id=program_id, person_id=cadre_id)
    say("training", "Enrolled", f"{cadre_id} in {program_id}: 3 days of 8 hours")
    closed = run_program(rpc.training, program_id, [cadre_id])
    completed = cadre_id in closed["completed"]
    say("training", "TrainingCompleted", f"{cadre_id}: 24 hours credited" if completed else "not completed")

    def counted_at_cadre() -> Decimal | None:
        hours = sum((Decimal(h) for h in rpc.cadre.get_cadre(cadre_id=cadre_id)["credit_hours"].values()), Decimal(0))
        return hours if hours >= HOURS_ASKED else None

    hours = wait_for(counted_at_cadre, "cadre to count the new hours")
    say("cadre", "TrainingCreditsNoted", f"{cadre_id}: {hours} hours (training's CreditTotalUpdated)")
    admitted = refusal(lambda: rpc.cadre.register_candidate(process_id=process_id, cadre_id=cadre_id))
    say("cadre", "CandidateRegistered", f"{cadre_id} stands" if admitted is None else f"still refused: {admitted}")
    return TrainingOutcome(refused_before, completed, hours, admitted is None)


@dataclass(frozen=True)
class GrassrootsOutcome:
    admitted: bool  # probationary after the short course, then full
    refused_without_course: bool  # the branch meeting waited for the short course
    elected: list[str]
    secretary: str | None
    quorum_refused: bool  # a meeting of too few was refused

    @property
    def passed(self) -> bool:
        return (
            self.admitted
            and self.refused_without_course
            and len(self.elected) == 3
            and self.secretary in self.elected
            and self.quorum_refused
        )


def found_branch(grassroots: Any, run: str, members: list[str]) -> str:
    """A county committee, a township committee under it, and under that a village branch of seven full members."""
    county = grassroots.found_organisation(
        organisation_id=f"{run}g-county", kind="county_committee", org_type="organ", name="Anxian county committee"
    )
    township = grassroots.found_organisation(
        organisation_id=f"{run}g-township",
        kind="township_committee",
        org_type="organ",
        name="Qingshan township committee",
        parent_id=county["organisation_id"],
    )
    branch = grassroots.found_organisation(
        organisation_id=f"{run}g-branch",
        kind="branch",
        org_type="village",
        name="Dongcun village branch",
        parent_id=township["organisation_id"],
        founding_members=members,
    )
    say("grassroots", "OrganisationFounded", f"{branch['organisation_id']}: {branch['full_members']} full members")
    return str(branch["organisation_id"])


def move_past(moment: str, now: Clock, move_clock: MoveClock) -> None:
    """Move the platform's clock a whole minute past ``moment``."""
    delta = dt.timedelta(minutes=math.ceil((dt.datetime.fromisoformat(moment) - now()).total_seconds() / 60) + 1)
    move_clock(delta)
    say("clock", f"+{delta.days} days {delta.seconds // 3600} h", "the notice has closed")


def branch_election(
    rpc: Any, move_clock: MoveClock, now: Clock, run: str, branch_id: str, members: list[str]
) -> tuple[list[str], str | None, bool]:
    """公推直选: nominations, a qualified list on notice, a quorate meeting, a secret ballot, the approval."""
    grassroots = rpc.grassroots
    election = grassroots.call_election(organisation_id=branch_id, seats=3, election_id=f"{run}g-election")
    election_id = election["election_id"]
    say("grassroots", "ElectionCalled", f"{election_id}: 3 seats, {election['entitled']} entitled (a committee)")
    for candidate, source in zip(members[:4], ["members", "public", "organisation", "members"], strict=True):
        grassroots.nominate(election_id=election_id, candidate_id=candidate, source=source)
    view = grassroots.qualify_candidates(election_id=election_id, candidate_ids=members[:4])
    say("grassroots", "CandidatesQualified", f"{len(view['candidates'])} for 3 seats (at least 20% more)")
    view = grassroots.open_candidate_notice(election_id=election_id, working_days=5)
    say("grassroots", "NoticeOpened", f"the candidate list, until {view['notice_closes_at'][:16]}")
    wait_for(
        lambda: any(n["process_id"] == f"election:{election_id}" for n in rpc.feedback.open_notices()["items"]),
        "feedback to put the list before the public",
    )
    say("feedback", "open notices", "the public may object to a candidate")
    move_past(view["notice_closes_at"], now, move_clock)
    quorum_refused = (
        refusal(lambda: grassroots.convene_election(election_id=election_id, present=members[:5])) is not None
    )
    say(
        "grassroots",
        "convene refused",
        "5 of 7 present is not more than four fifths" if quorum_refused else "NOT refused",
    )
    present = members[:6]
    grassroots.convene_election(election_id=election_id, present=present)
    for voter in present:
        grassroots.cast_election_vote(election_id=election_id, voter_id=voter)
    a, b, c, d = members[:4]
    box = [[a, b, c], [a, b, c], [a, b, d], [a, c, d], [a, b, c], [b, c, d]]
    counted = grassroots.count_election(election_id=election_id, ballots=box)
    say("grassroots", "ElectionCounted", f"6 ballots, no names: elected {', '.join(counted['elected'])}")
    approved = grassroots.approve_election(election_id=election_id, secretary_id=a)
    say("grassroots", "ElectionApproved", f"secretary {approved['secretary_id']}")
    return list(counted["elected"]), approved["secretary_id"], quorum_refused


def member_admitted_after_training(
    rpc: Any, move_clock: MoveClock, run: str, now: Clock, branch_id: str, members: list[str]
) -> tuple[bool, bool]:
    """An applicant all the way to full member; the branch meeting waits for the short course."""
    grassroots, training = rpc.grassroots, rpc.training
    person = f"{run}g-applicant"
    birth = (now() - dt.timedelta(days=365 * 25)).date()
    grassroots.apply(person_id=person, name="Zhou Min", birth_date=birth.isoformat(), branch_id=branch_id)
    say("grassroots", "ApplicationReceived", f"{person}, 25, to {branch_id}")
    grassroots.hold_talk(person_id=person, talked_by=members[0])
    grassroots.designate_activist(person_id=person, recommended_by="mass_organisation", contacts=members[1:3])
    say("grassroots", "ActivistDesignated", "recommended by the youth league; two cultivation contacts")
    move_clock(dt.timedelta(days=183))
    grassroots.review_activist(person_id=person, note="steady in study and village work")
    move_clock(dt.timedelta(days=183))
    say("clock", "+1 year", "a year as an activist")
    grassroots.designate_development_target(person_id=person)
    say("grassroots", "DevelopmentTargetDesignated", "training is told")
    course = f"{run}g-short-course"
    audience = {"member_stages": ["development_target"]}
    title = "Short course for development targets"
    published = publish_program(training, course, title, "development_target_course", now().date(), audience=audience)
    placed = person in published["placed"]
    if not placed:
        wait_for(lambda: ledger_of(training, person), "training to know the development target")
        training.enrol(program_id=course, person_id=person)
    say(
        "training",
        "Enrolled",
        f"{person} in the 3-day short course ({'placed on designation' if placed else 'enrolled'})",
    )
    grassroots.assign_introducers(person_id=person, introducers=members[3:5])
    grassroots.record_political_review(person_id=person, passed=True)
    notice = grassroots.open_target_notice(person_id=person, working_days=5)
    say(
        "grassroots",
        "NoticeOpened",
        f"the development target before the public, until {notice['notice_closes_at'][:16]}",
    )
    move_past(notice["notice_closes_at"], now, move_clock)
    refused = refusal(lambda: grassroots.pre_review(person_id=person, passed=True))
    refused_without_course = refused is not None and "short_course" in refused
    say(
        "grassroots",
        "pre_review refused",
        "the short course is not completed" if refused_without_course else str(refused),
    )
    run_program(training, course, [person])
    say("training", "TrainingCompleted", f"{person}: 24 hours")
    wait_for(
        lambda: refusal(lambda: grassroots.pre_review(person_id=person, passed=True)) is None,
        "grassroots to note the short course",
    )
    say("grassroots", "AdmissionPreReviewed", "the notice closed with no objection; the short course done")
    grassroots.hold_branch_meeting(person_id=person, present=6, yes=6)
    grassroots.approve_admission(person_id=person)
    say("grassroots", "AdmissionApproved", "a probationary member for a year")
    move_clock(dt.timedelta(days=366))
    view = grassroots.grant_full_membership(person_id=person)
    say("grassroots", "FullMembershipGranted", f"{person}: {view['stage']}")
    return view["stage"] == "full_member", refused_without_course


def grassroots_in_the_open(rpc: Any, move_clock: MoveClock, run: str, now: Clock) -> GrassrootsOutcome:
    """A branch elects its committee in the open, and a member is developed in the open."""
    members = [f"{run}g-m{n}" for n in range(1, 8)]
    branch_id = found_branch(rpc.grassroots, run, members)
    elected, secretary, quorum_refused = branch_election(rpc, move_clock, now, run, branch_id, members)
    admitted, refused_without_course = member_admitted_after_training(rpc, move_clock, run, now, branch_id, members)
    return GrassrootsOutcome(admitted, refused_without_course, elected, secretary, quorum_refused)


# -- running it against the platform ---------------------------------------------------


def through_gateway(
    base_url: str, keys: KeyRing, gateway: GatewaySettings, correlation_id: str, timeout: float = 30.0
) -> SimpleNamespace:
    """The platform as the demo's people reach it: the department and the office with tokens, the public without."""

    def client(person: tuple[str, tuple[str, ...]] | None) -> GatewayClient:
        token = None
        if person is not None:
            subject, roles = person
            token = tokens.issue(
                keys, subject, roles, minutes=60, issuer=gateway.token_issuer, audience=gateway.token_audience
            )
        return GatewayClient(base_url, token, timeout=timeout, correlation_id=correlation_id)

    department, office, public = client(DEPARTMENT), client(SUPERVISION_OFFICE), client(None)
    trainers, grassroots, talent = client(TRAINING_OFFICE), client(GRASSROOTS_OFFICE), client(TALENT_OFFICE)
    return SimpleNamespace(
        cadre=department.cadre,
        supervision=office.supervision,
        feedback=public.feedback,
        training=trainers.training,
        grassroots=grassroots.grassroots,
        talent=talent.talent,
    )


def published(base_url: str, run: str) -> None:
    """What the public board of results shows for this run's three selections (once its read model has them)."""
    board = GatewayClient(base_url).cadre

    def this_run() -> list[dict[str, Any]]:
        results = [r for r in board.published_results(limit=50)["items"] if r["process_id"].startswith(run)]
        return results if len(results) == 3 else []

    for result in sorted(wait_for(this_run, "the published results"), key=lambda r: r["process_id"], reverse=True):
        appointed = ", ".join(o["cadre_id"] for o in result["appointed"]) or "nobody"
        withheld = ", ".join(o["cadre_id"] for o in result["withheld"]) or "nobody"
        say("public", "published result", f"{result['process_id']}: appointed {appointed}; withheld {withheld}")


def _ready(name: str) -> dict[str, Any] | None:
    answer = status(service_ports(name).health)
    return answer if answer and answer.get("ready") else None


def _start_platform(gateway_port: int) -> subprocess.Popen[bytes]:
    print("Nothing is running: starting the platform (offset clock) ...", flush=True)
    platform = launch_platform({**os.environ, "CLOCK": "offset"})
    wait_for(
        lambda: all(_ready(name) for name in SERVICES) and is_ready(gateway_port),
        "the platform and its gateway to be ready",
        timeout=150,
    )
    return platform


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECURITY_KEYS_DIR", str(LOCAL_KEYS_DIR))
    settings = Settings.from_env()
    port = gateway_port(settings)
    base_url = f"http://127.0.0.1:{port}"
    statuses = {name: _ready(name) for name in SERVICES}
    platform = None
    if not any(statuses.values()) and not is_ready(port):
        platform = _start_platform(port)
    elif not all(statuses.values()) or not is_ready(port):
        missing = [name for name, ready in statuses.items() if not ready] + ([] if is_ready(port) else ["gateway"])
        print(f"A platform is running, but not ready: {', '.join(missing)} (restart `make run`).", file=sys.stderr)
        return 1
    elif any(answer.get("clock") != "offset" for answer in statuses.values() if answer):
        print("The running platform keeps the system clock: start it with `make run` (offset clock).", file=sys.stderr)
        return 1
    database = Database(settings.database_url, size=1, application_name="demo")
    run = uuid.uuid4().hex[:6]
    print(f"Through the gateway at {base_url} (tokens from {settings.security.keys_dir})")
    try:
        people = through_gateway(
            base_url, KeyRing(settings.security.keys_dir), settings.gateway, str(uuid.uuid4()), args.timeout
        )
        now = OffsetClock(database).now
        outcome = appointment_under_public_watch(people, lambda delta: advance_clock(database, delta), run, now)
        print()
        published(base_url, run)
        print(f"\nTraining opens the way (run {run}):")
        trained = training_opens_the_way(people, run, now)
        print(f"\nGrassroots in the open (run {run}):")
        grassroots = grassroots_in_the_open(people, lambda delta: advance_clock(database, delta), run, now)
    except GatewayError as error:
        print(f"\nThe gateway refused: {error} {error.problem}", file=sys.stderr)
        return 1
    finally:
        database.close()
        if platform is not None:
            os.killpg(platform.pid, signal.SIGINT)
            platform.wait(60)
    print()
    print(f"withheld: {outcome.withheld or 'nobody'} (expected {outcome.withheld_nominee})")
    print(f"appointed: {outcome.appointed or 'nobody'} (expected {outcome.clean_nominee})")
    print(f"postponed: {outcome.postponed or 'nobody'} (expected {outcome.postponed_nominee})")
    print(f"then appointed: {outcome.appointed_after_case or 'nobody'} (expected {outcome.postponed_nominee})")
    print(f"inducted on appointment: {outcome.inducted or 'nobody'} (expected {outcome.clean_nominee})")
    print(f"in the talent pool with the post: {outcome.pooled or 'nobody'} (expected {outcome.clean_nominee})")
    print(
        f"training: refused before {trained.refused_before}, completed {trained.completed}, "
        f"{trained.hours_at_cadre} hours at cadre, then admitted {trained.admitted_after}"
    )
    print(
        f"grassroots: branch committee {', '.join(grassroots.elected) or 'nobody'} (secretary {grassroots.secretary}); "
        f"member admitted after the short course: {grassroots.admitted}"
    )
    passed = outcome.passed and trained.passed and grassroots.passed
    print("demo passed" if passed else "demo FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
