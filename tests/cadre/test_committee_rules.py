"""The committee's rules: quorum, the strict majority of all members, secret ballots per post, one nominee each.

Pure Python, no database, no broker; the rest of the selection's rules are in ``test_selection_rules``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.cadre.domain.events import (
    CommitteeVoteConcluded,
    Post,
)
from services.cadre.domain.selection import SelectionProcess
from tests.cadre.builders import (
    CALENDAR,
    CRITERIA,
    MONDAY,
    SCORES,
    assessed,
    broken,
    committee_vote,
    nominated,
    recommend,
    registered,
    shortlisted,
)


def test_the_committee_needs_two_thirds_present() -> None:
    process = assessed()
    members = [f"m{i}" for i in range(9)]
    with broken("selection.committee_quorum"):
        process.convene_committee(members, members[:5])  # 5 of 9 < 2/3
    with broken("selection.committee_present"):
        process.convene_committee(members, ["stranger"])
    process.convene_committee(members, members[:6])  # 6 of 9 = 2/3


def test_approval_needs_more_than_half_of_all_members_not_of_those_present() -> None:
    # 9 members, 6 present, all 6 present approve c1: 6 > 4.5 -> approved.
    # 4 approve c2: a majority of those present, but 4 of 9 is not more than half.
    process = nominated(approvals={"c1": 6, "c2": 4, "c3": 0}, members=9, present=6)
    concluded = process.pending_events[-1]
    assert isinstance(concluded, CommitteeVoteConcluded)
    results = {r.cadre_id: r for r in concluded.results}
    assert results["c1"].approved and not results["c2"].approved
    assert process.state.candidates["c1"].nominated_post == "p1"
    assert process.state.candidates["c2"].nominated_post is None


def test_one_committee_ballot_per_member_and_post() -> None:
    process = assessed()
    members = ["m1", "m2", "m3"]
    process.convene_committee(members, members)
    process.cast_committee_vote("m1", "p1")
    with broken("selection.one_vote_per_member"):
        process.cast_committee_vote("m1", "p1")
    with broken("selection.committee_member_present"):
        process.cast_committee_vote("m9", "p1")
    with broken("selection.unknown_post"):
        process.cast_committee_vote("m2", "p9")
    with broken("selection.committee_uncounted"):
        process.conclude_committee_vote()
    with broken("selection.ballot_count"):
        process.count_committee_vote("p1", [["c1"], ["c1"]])  # one member took part: one ballot at most
    process.count_committee_vote("p1", [["c1"]])
    with broken("selection.post_counted"):
        process.cast_committee_vote("m2", "p1")


def committee_of(size: int, approving: int) -> SelectionProcess:
    """``size`` members, all present; ``approving`` of them approve c1, the others c2."""
    process = assessed()
    members = [f"m{i}" for i in range(size)]
    process.convene_committee(members, members)
    committee_vote(process, "p1", members, [["c1"] if n < approving else ["c2"] for n in range(size)])
    process.conclude_committee_vote()
    return process


@pytest.mark.parametrize(
    ("size", "approving", "approved"),
    [(8, 4, False), (8, 5, True), (9, 4, False), (9, 5, True), (7, 3, False), (7, 4, True)],
)
def test_more_than_half_is_strict_on_even_and_odd_committees(size: int, approving: int, approved: bool) -> None:
    """Finding 10: 4 of 8 is half, not more than half."""
    process = committee_of(size, approving)
    assert (process.state.candidates["c1"].nominated_post == "p1") is approved


def test_a_tie_at_the_top_of_a_post_asks_for_a_re_vote_never_an_order_by_id() -> None:
    """Finding 7: two candidates approved by 6 of 9 each; no alphabetical choice."""
    process = assessed()
    members = [f"m{i}" for i in range(9)]
    process.convene_committee(members, members)
    committee_vote(process, "p1", members, [["c1", "c2"]] * 6 + [["c3"]] * 3)
    with broken("selection.committee_tie"):
        process.conclude_committee_vote()
    process.cast_committee_vote("m0", "p1")  # the re-vote: a fresh ballot, on the same roll
    with broken("selection.one_vote_per_member"):
        process.cast_committee_vote("m0", "p1")
    committee_vote(process, "p1", members[1:], [["c2"]] * 6 + [["c1"]] * 3)
    process.conclude_committee_vote()
    assert process.state.candidates["c2"].nominated_post == "p1"
    assert process.state.candidates["c1"].nominated_post is None
    concluded = process.pending_events[-1]
    assert isinstance(concluded, CommitteeVoteConcluded) and concluded.nominees == {"c2": "p1"}


def test_each_post_gets_one_nominee_ranked_by_its_own_vote() -> None:
    process = registered(("c1", "c2", "c3"), posts=[Post("p1", "Head"), Post("p2", "Deputy")])
    process.open_recommendation(MONDAY)
    recommend(process, [["c1", "c2"]])
    process.draw_shortlist(["c1", "c2", "c3"])
    process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=4))
    for cadre_id in ("c1", "c2", "c3"):
        process.assess_candidate(cadre_id, "competent", SCORES, "assessor")
    members = [f"m{i}" for i in range(5)]
    process.convene_committee(members, members)
    committee_vote(process, "p1", members, [["c1", "c2"]] * 4 + [["c1"]])  # c1 5, c2 4: both approved
    committee_vote(process, "p2", members, [["c3"]] * 3 + [["c2"]] * 2)  # c3 3 of 5
    process.conclude_committee_vote()
    concluded = process.pending_events[-1]
    assert isinstance(concluded, CommitteeVoteConcluded)
    assert concluded.nominees == {"c1": "p1", "c3": "p2"}, "one nominee per post, however many are approved"
    assert {(r.post_id, r.cadre_id): r.approvals for r in concluded.results}[("p1", "c2")] == 4


def two_posts_in_committee(post_ids: tuple[str, str] = ("p1", "p2")) -> tuple[SelectionProcess, list[str]]:
    """c1 to c3 assessed for two posts, before a committee of five, all present."""
    process = registered(("c1", "c2", "c3"), posts=[Post(post_ids[0], "Head"), Post(post_ids[1], "Deputy")])
    process.open_recommendation(MONDAY)
    recommend(process, [["c1", "c2"]])
    process.draw_shortlist(["c1", "c2", "c3"])
    process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=4))
    for cadre_id in ("c1", "c2", "c3"):
        process.assess_candidate(cadre_id, "competent", SCORES, "assessor")
    members = [f"m{i}" for i in range(5)]
    process.convene_committee(members, members)
    return process, members


def test_a_candidate_first_for_two_posts_is_nominated_once_and_the_next_approved_takes_the_later_post() -> None:
    """Review A2: c1 approved 5/5 for p1 and p2, c2 4/5 for p2: c2 is p2's nominee (no re-vote deadlock)."""
    process, members = two_posts_in_committee()
    committee_vote(process, "p1", members, [["c1"]] * 5)
    committee_vote(process, "p2", members, [["c1", "c2"]] * 4 + [["c1"]])
    with broken("selection.post_counted"):
        process.cast_committee_vote("m0", "p2")  # p2 has a result: no re-vote that would put c1 first again
    process.conclude_committee_vote()
    concluded = process.pending_events[-1]
    assert isinstance(concluded, CommitteeVoteConcluded)
    assert concluded.nominees == {"c1": "p1", "c2": "p2"}
    approved = {(r.post_id, r.cadre_id): r.approved for r in concluded.results}
    assert approved[("p2", "c1")] is False and approved[("p2", "c2")] is True
    assert process.state.candidates["c2"].nominated_post == "p2"


def test_post_ids_with_a_colon_are_kept_whole_through_a_tie_re_vote() -> None:
    """Review A3: post "a:b" ties; the re-vote and the result name "a:b", not "a"."""
    process, members = two_posts_in_committee(("a:b", "c:d:e"))
    committee_vote(process, "a:b", members, [["c1", "c2"]] * 4 + [["c3"]])
    committee_vote(process, "c:d:e", members, [["c3"]] * 5)
    with broken("selection.committee_tie"):
        process.conclude_committee_vote()
    committee_vote(process, "a:b", members, [["c2"]] * 4 + [["c1"]])  # the re-vote
    assert process.state.committee_ballots["a:b"] == "committee:a:b:2"
    process.conclude_committee_vote()
    concluded = process.pending_events[-1]
    assert isinstance(concluded, CommitteeVoteConcluded)
    assert concluded.nominees == {"c2": "a:b", "c3": "c:d:e"}
    assert {r.post_id for r in concluded.results} == {"a:b", "c:d:e"}


def test_an_incompetent_assessment_blocks_nomination() -> None:
    """Finding 7: approved by every member, but assessed 'incompetent': the next approved candidate is nominated."""
    process = shortlisted()
    process.publish_assessment_preview("preview-s1", MONDAY, 3, calendar=CALENDAR)
    process.start_assessment(CRITERIA, MONDAY + dt.timedelta(days=4))
    process.assess_candidate("c1", "incompetent", SCORES, "assessor")
    process.assess_candidate("c2", "competent", SCORES, "assessor")
    process.assess_candidate("c3", "competent", SCORES, "assessor")
    members = [f"m{i}" for i in range(5)]
    process.convene_committee(members, members)
    committee_vote(process, "p1", members, [["c1", "c2"]] * 3 + [["c1"]] * 2)
    process.conclude_committee_vote()
    assert process.state.candidates["c1"].nominated_post is None
    assert process.state.candidates["c2"].nominated_post == "p1"
