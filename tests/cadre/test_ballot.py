"""The secret-ballot primitive (``shared.domain.ballot``): count rules and the ballot box, plain Python."""

from __future__ import annotations

from fractions import Fraction

import pytest

from shared.domain.ballot import COMMITTEE, Ballot, Base, CountRule


@pytest.mark.parametrize(
    ("entitled", "votes", "carried"),
    [(8, 4, False), (8, 5, True), (9, 4, False), (9, 5, True), (10, 5, False), (10, 6, True), (3, 2, True)],
)
def test_more_than_half_of_those_entitled_is_a_strict_inequality(entitled: int, votes: int, carried: bool) -> None:
    assert COMMITTEE.carries(votes, entitled, present=entitled) is carried


def test_the_share_may_be_of_those_present_and_at_least_rather_than_more_than() -> None:
    of_present = CountRule(share=Fraction(1, 2), of=Base.PRESENT)
    assert of_present.carries(4, entitled=9, present=6) and not COMMITTEE.carries(4, entitled=9, present=6)
    at_least = CountRule(share=Fraction(1, 2), strict=False)
    assert at_least.carries(4, entitled=8, present=8) and not COMMITTEE.carries(4, entitled=8, present=8)
    two_thirds = CountRule(share=Fraction(2, 3), strict=False)
    assert two_thirds.carries(6, entitled=9, present=9) and not two_thirds.carries(5, entitled=9, present=9)
    with pytest.raises(ValueError):
        CountRule(share=Fraction(3, 2))


@pytest.mark.parametrize(("entitled", "present", "quorate"), [(9, 6, True), (9, 5, False), (8, 6, True), (8, 5, False)])
def test_the_committee_quorum_is_two_thirds_present(entitled: int, present: int, quorate: bool) -> None:
    assert COMMITTEE.quorate(entitled, present) is quorate


def test_the_ballot_keeps_who_took_part_apart_from_the_tally_and_publishes_the_tally_at_the_close() -> None:
    ballot = Ballot("b", ["a", "b", "c"], max_choices=1, entitled=["v1", "v2", "v3"], present=["v1", "v2"])
    assert ballot.refusal_to_take_part("v3") is not None, "not present"
    assert ballot.refusal_to_count([["a"]]) is not None, "nobody took part yet"
    ballot.take_part("v1")
    ballot.take_part("v2")
    assert ballot.refusal_to_take_part("v1") is not None, "no double voting"
    assert ballot.tally is None, "no running tally"
    assert ballot.refusal_to_count([["a"], ["b"], ["c"]]) is not None, "more ballots than voters"
    tally = ballot.count([["a"], ["a", "b"]])  # the second marks two names for one choice: void
    ballot.close(tally)
    assert (tally.cast, tally.void, tally.votes) == (2, 1, {"a": 1, "b": 0, "c": 0})
    assert ballot.closed and ballot.refusal_to_take_part("v2") is not None
    assert ballot.refusal_to_count([["a"]]) is not None, "counted once"


def test_ties_at_the_top_are_reported_never_broken() -> None:
    ballot = Ballot("b", ["x", "y", "z"], max_choices=3)
    for voter in ("v1", "v2"):
        ballot.take_part(voter)
    tally = ballot.count([["x", "y"], ["x", "y", "z"]])
    assert tally.tied_top(["x", "y", "z"]) == ["x", "y"]
    assert tally.tied_top(["x", "z"]) == []
    assert tally.tied_top([]) == []
