"""The grassroots service's contract over RabbitMQ: every RPC method and event handler, once.

One walk founds a township committee and a village branch of seven, runs a
branch election by public nomination and direct election, and takes an
applicant the whole way to full member (the short course arriving as
training's event), through RPC; each method's test checks its replies
against what it declares. The rules are tested in memory (``test_*_rules``,
``test_use_cases``); here, the transport.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from services.grassroots.entrypoint import GrassrootsService
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.errors import RuleViolation
from shared.runtime.messaging.client import rpc_client
from tests.support import foreign
from tests.support.contracts import (
    Recorder,
    assert_bad_input_is_refused,
    assert_dead_lettered_then_replayed,
    every_method_keeps_its_contract,
    poison_and_replay,
    rpc_method_names,
    walk_the_audit,
)
from tests.support.environment import RunEnvironment
from tests.support.identities import EVERY_ROLE
from tests.support.platform import service_running, settings_for_tests, wait_until
from tests.support.probes import platform_now

MEMBERS = [f"m{n}" for n in range(1, 8)]
APPLICANT, LEAVER = "zhou-min", "qian-li"


@pytest.fixture(scope="module")
def grassroots(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    with service_running(database, GrassrootsService, settings_for_tests(clock="offset")):
        yield


def short_course(person_id: str, at: dt.datetime, kind: str = "development_target_course") -> dict[str, Any]:
    return foreign.envelope(
        "training",
        "TrainingCompleted",
        f"enrolment-short:{person_id}",
        {"person_id": person_id, "program_id": "short", "kind": kind, "hours": "24", "completed_at": at.isoformat()},
    )


def past(database: Database, moment: str) -> None:
    """Move the platform's clock a minute past ``moment``."""
    advance_clock(database, dt.datetime.fromisoformat(moment) - platform_now(database) + dt.timedelta(minutes=1))


@pytest.fixture(scope="module")
def replies(grassroots: None, database: Database, test_env: RunEnvironment) -> dict[str, list[Any]]:
    """Every RPC method of the service called at least once, in a walk through its use cases."""
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        service = Recorder(rpc.grassroots)
        service.found_organisation(
            organisation_id="county", kind="county_committee", org_type="organ", name="Anxian county committee"
        )
        for township, name in (("qingshan", "Qingshan"), ("other", "Baishui")):
            service.found_organisation(
                organisation_id=township,
                kind="township_committee",
                org_type="organ",
                name=f"{name} township committee",
                parent_id="county",
            )
        service.found_organisation(
            organisation_id="dongcun",
            kind="branch",
            org_type="village",
            name="Dongcun village branch",
            parent_id="other",
            founding_members=MEMBERS,
        )
        service.move_organisation(organisation_id="dongcun", parent_id="qingshan")

        # a branch election: 7 full members elect a committee of 3 from 4 candidates
        service.call_election(organisation_id="dongcun", seats=3, election_id="e2026")
        for candidate, source in zip(MEMBERS[:4], ["members", "public", "organisation", "members"], strict=True):
            service.nominate(election_id="e2026", candidate_id=candidate, source=source)
        service.qualify_candidates(election_id="e2026", candidate_ids=MEMBERS[:4])
        notice = service.open_candidate_notice(election_id="e2026", working_days=5)
        past(database, notice["notice_closes_at"])
        service.convene_election(election_id="e2026", present=MEMBERS[:6])
        for voter in MEMBERS[:6]:
            service.cast_election_vote(election_id="e2026", voter_id=voter)
        a, b, c, d = MEMBERS[:4]
        box = [[a, b, c], [a, b, c], [a, b, d], [a, c, d], [a, b, c], [b, c, d]]
        service.count_election(election_id="e2026", ballots=box)
        service.approve_election(election_id="e2026", secretary_id=a)
        wait_until(
            lambda: [e for e in service.elections(organisation_id="dongcun")["items"] if e["phase"] == "approved"],
            what="the approved election",
        )
        wait_until(lambda: service.published_elections(organisation_id="dongcun")["items"], what="the tally")

        # an applicant the whole way to full member
        service.apply(person_id=APPLICANT, name="Zhou Min", birth_date="1998-05-04", branch_id="dongcun")
        service.apply(person_id=LEAVER, name="Qian Li", birth_date="1990-01-01", branch_id="dongcun")
        service.cancel_development(person_id=LEAVER, reason="withdrew the application")
        service.hold_talk(person_id=APPLICANT, talked_by="Secretary Wang")
        service.designate_activist(person_id=APPLICANT, recommended_by="mass_organisation", contacts=MEMBERS[1:3])
        advance_clock(database, dt.timedelta(days=180))
        service.review_activist(person_id=APPLICANT, note="active in village work")
        advance_clock(database, dt.timedelta(days=186))
        service.designate_development_target(person_id=APPLICANT)
        service.assign_introducers(person_id=APPLICANT, introducers=MEMBERS[3:5])
        service.record_political_review(person_id=APPLICANT, passed=True)
        target = service.open_target_notice(person_id=APPLICANT, working_days=5)
        foreign.publish(test_env.amqp_uri, "training", short_course(APPLICANT, platform_now(database)))
        past(database, target["notice_closes_at"])
        wait_until(lambda: service.pipeline(stage="development_target")["items"][0]["short_course"], what="the course")
        service.pre_review(person_id=APPLICANT, passed=True)
        service.hold_branch_meeting(person_id=APPLICANT, present=6, yes=6)
        service.approve_admission(person_id=APPLICANT)
        advance_clock(database, dt.timedelta(days=367))
        service.extend_probation(person_id=APPLICANT, months=6)
        advance_clock(database, dt.timedelta(days=185))
        service.grant_full_membership(person_id=APPLICANT)
        wait_until(
            lambda: {r["stage"] for r in service.pipeline()["items"]} == {"full_member", "cancelled"},
            what="the pipeline to show the full member",
        )
        wait_until(
            lambda: (
                next(n for n in service.organisation_tree()["items"] if n["organisation_id"] == "dongcun")[
                    "full_members"
                ]
                == 8
            ),
            what="the new full member in the tree",
        )

        # dual cultivation, the rating, the branch's affairs
        service.pair_cultivation(
            pairing_id="p1",
            branch_id="dongcun",
            member_id=a,
            entrepreneur_id="zhao-boss",
            entrepreneur_name="Zhao Gang",
            enterprise="Dongcun tea cooperative",
            goals=["party spirit study", "jobs for ten villagers"],
        )
        service.pairing_goal_met(pairing_id="p1", goal="party spirit study")
        wait_until(lambda: service.pairings(branch_id="dongcun")["items"], what="the pairing")
        service.rate_branch(
            branch_id="dongcun", year=platform_now(database).year - 1, criteria_score=55, survey_satisfaction=58
        )
        wait_until(lambda: service.ratings()["items"], what="the rating")
        service.schedule_publication(branch_id="dongcun", category="party dues", scope="party", every_days=30)
        service.publish_affairs(branch_id="dongcun", category="party dues", title="Dues for the quarter", body="...")
        service.schedule_publication(branch_id="dongcun", category="village finances", scope="public", every_days=30)
        service.publish_affairs(branch_id="dongcun", category="village finances", title="Accounts for May", body="...")
        wait_until(lambda: service.public_affairs(branch_id="dongcun")["items"], what="the public publication")
        wait_until(
            lambda: any(b["published"] for b in service.affairs(branch_id="dongcun")["items"]),
            what="the publication among the branch's affairs",
        )
        service.check_deadlines()

        poison = foreign.envelope("training", "TrainingCompleted", "enrolment-poison", {"person_id": APPLICANT})
        poison_and_replay(service, test_env.amqp_uri, "training", poison)
        walk_the_audit(service, database, "grassroots")
        return dict(service.replies)


test_every_rpc_method_answers_what_it_declares = every_method_keeps_its_contract(GrassrootsService)


def test_the_election_elects_three_by_secret_ballot_and_installs_the_committee(replies: dict[str, list[Any]]) -> None:
    counted = replies["count_election"][0]
    assert counted["elected"] == ["m1", "m2", "m3"] and counted["voted"] == 6
    [election] = replies["elections"][-1]["items"]
    assert election["votes"] == {"m1": 5, "m2": 5, "m3": 5, "m4": 3}, "the tally, published with the count"
    assert (election["cast_ballots"], election["void_ballots"]) == (6, 0)
    assert replies["approve_election"][0]["secretary_id"] == "m1"


def test_the_applicant_ends_a_full_member_and_the_tree_counts_them(replies: dict[str, list[Any]]) -> None:
    assert replies["grant_full_membership"][0]["stage"] == "full_member"
    assert replies["extend_probation"][0]["next_step"] == "probation_ends"
    tree = {n["organisation_id"]: n for n in replies["organisation_tree"][-1]["items"]}
    assert tree["dongcun"]["parent_id"] == "qingshan" and tree["dongcun"]["full_members"] == 8
    assert tree["qingshan"]["members_below"] == 8 and tree["qingshan"]["children"] == ["dongcun"]
    assert tree["county"]["members_below"] == 8 and tree["other"]["members_below"] == 0
    stages = {row["person_id"]: row["stage"] for row in replies["pipeline"][-1]["items"]}
    assert stages == {APPLICANT: "full_member", LEAVER: "cancelled"}


def test_a_weak_branch_and_what_the_branch_published(replies: dict[str, list[Any]]) -> None:
    assert replies["rate_branch"][0]["level"] == "weak"
    [branch] = replies["affairs"][-1]["items"]
    published = sorted(p["title"] for p in branch["published"])
    assert published == ["Accounts for May", "Dues for the quarter"] and branch["missed"] == []
    assert replies["pairing_goal_met"][0]["met"] == ["party spirit study"]


def test_the_public_reads_the_approved_tally_and_only_what_was_published_to_it(replies: dict[str, list[Any]]) -> None:
    (tally,) = [t for t in replies["published_elections"][-1]["items"] if t["election_id"] == "e2026"]
    [election] = replies["elections"][-1]["items"]
    assert (
        (tally["votes"], tally["elected"])
        == (election["votes"], election["elected"])
        == (
            {"m1": 5, "m2": 5, "m3": 5, "m4": 3},
            ["m1", "m2", "m3"],
        )
    )
    assert (tally["cast_ballots"], tally["void_ballots"], tally["present"]) == (6, 0, 6)
    assert "secretary_id" not in tally and "candidates" not in tally
    titles = [p["title"] for p in replies["public_affairs"][-1]["items"] if p["branch_id"] == "dongcun"]
    assert "Accounts for May" in titles and "Dues for the quarter" not in titles, "what is for the party stays there"


def test_a_poison_event_is_dead_lettered_and_a_replay_that_fails_again_says_so(replies: dict[str, list[Any]]) -> None:
    assert_dead_lettered_then_replayed(replies, "on_training_completed", "TrainingCompleted")


def test_a_branch_of_two_cannot_be_founded(grassroots: None, rpc: Any) -> None:
    with pytest.raises(RuleViolation, match="branch_members"):
        rpc.grassroots.found_organisation(
            kind="branch", org_type="community", name="too small", parent_id="qingshan", founding_members=["x", "y"]
        )


@pytest.mark.parametrize("method", rpc_method_names(GrassrootsService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    grassroots: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.grassroots, method, database, "grassroots")
