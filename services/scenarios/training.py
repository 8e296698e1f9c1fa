"""Training's stories: programs published and run, the induction of appointees, a cadre trained to stand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.scenarios.common import Clock, refusal, say, wait_for

#: The training hours the fourth story's selection asks of its candidates.
HOURS_ASKED = 24


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
