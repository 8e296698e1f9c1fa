"""The appointment under public watch, end to end, through RPC: ``make demo``.

Two selections run side by side against the platform:

* withheld: the pre-appointment notice opens → a member of the public objects
  (feedback) → supervision opens a case from the routed complaint, holds the
  joint meeting, finds it substantiated → the notice period passes → cadre
  withholds the appointment;
* clean: the notice opens → nobody objects → the nominee is appointed.

Only events cross between services; each hop carries the correlation and
causation ids. The platform must run on the offset clock (``make run`` does):
the scenario moves it forward to let notice periods pass. Every run uses fresh
ids, so it can run again on the same database. When nothing is running, the
demo starts the platform itself and stops it at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.config import Settings, service_ports
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.runtime.messaging.client import rpc_client
from shared.runtime.process.control import launch_platform, status, wait_until

ACTOR = "organization-department"
SERVICES = ("cadre", "feedback", "supervision")
MoveClock = Callable[[dt.timedelta], object]


def say(service: str, step: str, detail: str = "") -> None:
    print(f"  {service:<12} {step:<34} {detail}", flush=True)


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    return wait_until(predicate, timeout, 0.1, what)


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
        cadre.register_cadre(actor=ACTOR, cadre_id=cadre_id, name=name, unit=unit, post_category="township")
        candidates.append(cadre_id)
    say("cadre", "cadres registered", ", ".join(candidates))
    view = cadre.create_selection(
        actor=ACTOR,
        reason="a vacancy: deputy head of township",
        process_id=f"{tag}-selection",
        title=f"Deputy head of {unit}",
        unit=unit,
        kind="public_selection",
        posts=[{"post_id": f"{tag}-post", "title": "Deputy head"}],
    )
    process_id = view["process_id"]
    say("cadre", "SelectionAnnounced", f"{process_id}: phase {view['phase']}")
    cadre.open_registration(actor=ACTOR, process_id=process_id)
    for cadre_id in candidates:
        view = cadre.register_candidate(actor=ACTOR, process_id=process_id, cadre_id=cadre_id)
    say("cadre", "CandidateRegistered x3", f"phase {view['phase']}")
    cadre.open_recommendation(actor=ACTOR, process_id=process_id)
    for n, choice in enumerate([candidates[0]] * 5 + [candidates[1]] * 3 + [candidates[2]] * 2):
        cadre.cast_recommendation(actor=ACTOR, process_id=process_id, voter_id=f"{tag}-voter{n}", cadre_ids=[choice])
    say("cadre", "RecommendationBallotCast x10", "democratic recommendation")
    view = cadre.draw_shortlist(actor=ACTOR, process_id=process_id, cadre_ids=candidates[:2])
    say("cadre", "ShortlistDrawn", f"2 candidates for 1 post: phase {view['phase']}")
    view = cadre.publish_assessment_preview(actor=ACTOR, process_id=process_id, working_days=3)
    say("cadre", "AssessmentPreviewPublished", f"the public may comment: phase {view['phase']}")
    move_clock(dt.timedelta(days=5))
    say("clock", "+5 days", "the preview window has passed")
    cadre.start_assessment(
        actor=ACTOR,
        process_id=process_id,
        criteria=[
            {"name": "integrity", "weight": "40"},
            {"name": "ability", "weight": "30"},
            {"name": "performance", "weight": "30"},
        ],
    )
    for cadre_id, scores in zip(candidates[:2], ([92, 88, 90], [85, 80, 78]), strict=True):
        view = cadre.assess_candidate(
            actor=ACTOR,
            process_id=process_id,
            cadre_id=cadre_id,
            qualitative="excellent" if scores[0] > 90 else "competent",
            scores=dict(zip(["integrity", "ability", "performance"], map(str, scores), strict=True)),
        )
    totals = ", ".join(f"{c['cadre_id']} {c['weighted_total']}" for c in view["candidates"] if c["weighted_total"])
    say("cadre", "CandidateAssessed x2", totals)
    members = [f"{tag}-member{n}" for n in range(9)]
    cadre.convene_committee(actor=ACTOR, process_id=process_id, members=members, present=members[:7])
    for n, member in enumerate(members[:7]):
        cadre.cast_committee_vote(
            actor=ACTOR, process_id=process_id, member_id=member, cadre_id=candidates[0], approve=n < 6
        )
        cadre.cast_committee_vote(
            actor=ACTOR, process_id=process_id, member_id=member, cadre_id=candidates[1], approve=n < 2
        )
    view = cadre.conclude_committee_vote(actor=ACTOR, process_id=process_id)
    nominee = next(c for c in view["candidates"] if c["nominated_post"])
    say("cadre", "CommitteeVoteConcluded", f"{nominee['cadre_id']} approved by {nominee['approvals']} of 9 members")
    view = cadre.open_public_notice(actor=ACTOR, process_id=process_id, working_days=5)
    say("cadre", "PublicNoticeOpened", f"5 working days, until {view['notice_closes_at'][:16]}")
    if during_notice is not None:
        during_notice(view)
    move_clock(dt.timedelta(days=8))
    say("clock", "+8 days", "the notice period has passed")
    view = cadre.close_selection(actor=ACTOR, process_id=process_id)
    for candidate in view["candidates"]:
        if candidate["result"]:
            event = "CandidateAppointed" if candidate["result"] == "appointed" else "AppointmentWithheld"
            say("cadre", event, f"{candidate['cadre_id']}: {candidate['result']}; phase {view['phase']}")
    return view


def object_and_substantiate(rpc: Any, tag: str) -> Callable[[dict[str, Any]], None]:
    """During the notice: an objection, a case, a joint meeting, a substantiated outcome."""

    def during_notice(view: dict[str, Any]) -> None:
        process_id = view["process_id"]
        nominee = next(c["cadre_id"] for c in view["candidates"] if c["nominated_post"])
        notice = wait_for(
            lambda: next((n for n in rpc.feedback.open_notices()["items"] if n["process_id"] == process_id), None),
            "feedback to hear of the notice",
        )
        receipt = rpc.feedback.submit(
            channel="notice_comment",
            category="complaint_about_cadre",
            text=f"{nominee} took gifts from a contractor while in the township office.",
            source=f"demo-{tag}",
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
        rpc.supervision.assign_case(
            actor="supervision-office", case_id=case["case_id"], investigator="investigator Zhao"
        )
        say("supervision", "CaseAssigned", "investigator Zhao")
        rpc.supervision.hold_joint_meeting(
            actor="supervision-office",
            case_id=case["case_id"],
            participants=[
                {"name": "Zhao", "role": "organization"},
                {"name": "Qian", "role": "discipline_inspection"},
            ],
            decision="the facts are established",
        )
        say("supervision", "JointMeetingHeld", "with discipline inspection")
        outcome = rpc.supervision.record_outcome(
            actor="supervision-office",
            case_id=case["case_id"],
            substantiated=True,
            reasons="gifts confirmed by records",
        )
        say("supervision", "SupervisionOutcomeRecorded", f"substantiated: {outcome['outcome']}")
        wait_for(
            lambda: any(
                s["step"] == "supervision_outcome"
                for s in rpc.cadre.candidate_journey(process_id=process_id, cadre_id=nominee)["steps"]
            ),
            "cadre to note the outcome",
        )
        say("cadre", "SupervisionOutcomeNoted", "during the notice window")

    return during_notice


@dataclass(frozen=True)
class Outcome:
    withheld: list[str]
    appointed: list[str]
    withheld_nominee: str
    clean_nominee: str

    @property
    def passed(self) -> bool:
        return self.withheld == [self.withheld_nominee] and self.appointed == [self.clean_nominee]


def appointment_under_public_watch(rpc: Any, move_clock: MoveClock, run: str) -> Outcome:
    """Both paths; returns who was withheld on the first and appointed on the second."""
    print(f"\nThe withheld path (run {run}):")
    withheld = run_selection(rpc.cadre, move_clock, f"{run}w", during_notice=object_and_substantiate(rpc, run))
    print(f"\nThe clean path (run {run}):")
    clean = run_selection(rpc.cadre, move_clock, f"{run}c")
    return Outcome(
        withheld=[c["cadre_id"] for c in withheld["candidates"] if c["result"] == "withheld"],
        appointed=[c["cadre_id"] for c in clean["candidates"] if c["result"] == "appointed"],
        withheld_nominee=f"{run}w-c1",
        clean_nominee=f"{run}c-c1",
    )


# -- running it against the platform ---------------------------------------------------


def _ready(name: str) -> dict[str, Any] | None:
    answer = status(service_ports(name).health)
    return answer if answer and answer.get("ready") else None


def _start_platform() -> subprocess.Popen[bytes]:
    print("Nothing is running: starting the platform (offset clock) ...", flush=True)
    platform = launch_platform({**os.environ, "CLOCK": "offset"})
    wait_for(lambda: all(_ready(name) for name in SERVICES), "the platform to be ready", timeout=120)
    return platform


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=20.0, help="RPC timeout in seconds")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    statuses = {name: _ready(name) for name in SERVICES}
    platform = None if all(statuses.values()) else _start_platform()
    if platform is None and any(status.get("clock") != "offset" for status in statuses.values() if status):
        print("The running platform keeps the system clock: start it with `make run` (offset clock).", file=sys.stderr)
        return 1
    database = Database(settings.database_url, size=1, application_name="demo")
    run = uuid.uuid4().hex[:6]
    try:
        with rpc_client(timeout=args.timeout, actor=ACTOR) as rpc:
            outcome = appointment_under_public_watch(rpc, lambda delta: advance_clock(database, delta), run)
    finally:
        database.close()
        if platform is not None:
            os.killpg(platform.pid, signal.SIGINT)
            platform.wait(60)
    print()
    print(f"withheld: {outcome.withheld or 'nobody'} (expected {outcome.withheld_nominee})")
    print(f"appointed: {outcome.appointed or 'nobody'} (expected {outcome.clean_nominee})")
    print("demo passed" if outcome.passed else "demo FAILED")
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    sys.exit(main())
