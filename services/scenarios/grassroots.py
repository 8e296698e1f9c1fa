"""Grassroots in the open: a branch election, and a member admitted after the short course."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.scenarios.common import Clock, MoveClock, move_past, refusal, say, wait_for
from services.scenarios.training import ledger_of, publish_program, run_program


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
