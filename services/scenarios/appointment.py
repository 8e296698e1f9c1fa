"""The appointment under public watch: withheld, clean and postponed, with induction and the talent pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.scenarios.common import Clock, MoveClock, pass_window, say, wait_for
from services.scenarios.training import induction_enrolment, open_induction_program


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


def appointee_in_the_pool(talent: Any, cadre_id: str) -> dict[str, Any]:
    """The appointee's party-and-government talent record, once talent has the post they were appointed to."""

    def pooled() -> dict[str, Any] | None:
        rows = talent.pool(team="party_government")["items"]
        return next((row for row in rows if row["person_id"] == cadre_id and row["post"]), None)

    row = wait_for(pooled, f"talent to pool {cadre_id} with the post")
    say("talent", "TalentPostUpdated", f"{cadre_id} in the pool: {row['post']}, {row['unit']}")
    return dict(row)
