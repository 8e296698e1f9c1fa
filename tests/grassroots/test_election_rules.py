"""A branch election's rules, at their boundaries: pure Python, no database, no broker.

Calling (a committee of 3 seats or more, a secretary alone on 1 seat, never
more seats than distinct full members), nominating (full members only, while
called), qualifying (nominated candidates, at least 120% of the seats), the
notice (5 working days or more; no vote before it closes, nor while a case
about a candidate is open; a substantiated case strikes the candidate off),
the quorum (more than four fifths of those entitled, present), the secret
ballot (once a voter, only those present, no tally before the count, void
ballots counted for nobody), the count (more than half of those present, at
most the seats, a tie across the last seat electing neither) and the
approval (the secretary among the elected).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import pytest

from services.grassroots.domain.election import BranchElection, ElectionPhase, decision_id
from services.grassroots.domain.events import (
    CandidateNominated,
    CandidatesQualified,
    CandidateStruckOff,
    ElectionApproved,
    ElectionCalled,
    ElectionCounted,
    ElectionMeetingConvened,
    SupervisionCaseNoted,
    SupervisionOutcomeNoted,
    VoterTookPart,
)
from services.grassroots.domain.kinds import NominationSource
from shared.domain.calendar import OrganisationCalendar
from shared.domain.notices import NoticeKind, NoticeOpened
from shared.errors import RuleViolation

CALLED_AT = dt.datetime(2026, 2, 24, 9, 0, tzinfo=dt.UTC)
NOTICE_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
CALENDAR = OrganisationCalendar.shipped()
CLOSES_AT = CALENDAR.end_of_working_days(NOTICE_AT, 5)
COUNTED_AT = CLOSES_AT + dt.timedelta(hours=12)
TEN = [f"m{n:02d}" for n in range(1, 11)]
FIVE = TEN[:5]
MEMBERS = NominationSource.MEMBERS


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def called(seats: int = 3, entitled: Sequence[str] = TEN, committee: bool | None = None) -> BranchElection:
    election = BranchElection("e1")
    election.call("b1", list(entitled), seats, seats > 1 if committee is None else committee, CALLED_AT)
    return election


def qualified(seats: int = 3, candidates: Sequence[str] = TEN[:4], entitled: Sequence[str] = TEN) -> BranchElection:
    election = called(seats, entitled)
    for candidate in candidates:
        election.nominate(candidate, MEMBERS, CALLED_AT)
    election.qualify(list(candidates), CALLED_AT)
    return election


def on_notice(seats: int = 3, candidates: Sequence[str] = TEN[:4], entitled: Sequence[str] = TEN) -> BranchElection:
    election = qualified(seats, candidates, entitled)
    election.open_notice("n1", "Candidates for the branch committee", "Village branch", 5, CALENDAR, NOTICE_AT)
    return election


def convened(
    seats: int = 3,
    candidates: Sequence[str] = TEN[:4],
    entitled: Sequence[str] = TEN,
    present: Sequence[str] | None = None,
) -> BranchElection:
    election = on_notice(seats, candidates, entitled)
    election.convene(list(entitled if present is None else present), CLOSES_AT)
    return election


def ballots_for(votes: dict[str, int], papers: int, most: int) -> list[list[str]]:
    """``papers`` ballots of at most ``most`` names each, giving each candidate its votes."""
    ballots: list[list[str]] = [[] for _ in range(papers)]
    for candidate, count in votes.items():
        for ballot in sorted(ballots, key=len)[:count]:
            ballot.append(candidate)
    assert all(len(b) <= most for b in ballots) and sum(map(len, ballots)) == sum(votes.values())
    return ballots


def counted(votes: dict[str, int], seats: int = 3, present: Sequence[str] = TEN) -> BranchElection:
    """Convened with ``present``, everyone present votes, the box gives ``votes``."""
    election = convened(seats, list(votes), present=present)
    for voter in present:
        election.take_part(voter)
    election.count(ballots_for(votes, len(present), seats), COUNTED_AT)
    return election


def untouched(election: BranchElection, version: int) -> bool:
    return election.version == version and len(election.pending_events) == version


# -- calling --------------------------------------------------------------------------------


def test_a_committee_needs_at_least_three_seats() -> None:
    election = BranchElection("e1")
    with broken("election.seats"):
        election.call("b1", TEN, 2, True, CALLED_AT)
    assert election.state.phase is None and untouched(election, 0)
    assert called(3, committee=True).state.seats == 3


@pytest.mark.parametrize("seats", [0, 2, 3])
def test_a_secretary_alone_is_elected_on_one_seat_only(seats: int) -> None:
    election = BranchElection("e1")
    with broken("election.seats"):
        election.call("b1", FIVE, seats, False, CALLED_AT)
    assert election.state.phase is None


def test_a_secretary_alone_on_one_seat_is_called() -> None:
    election = called(1, FIVE, committee=False)
    assert election.pending_events == [ElectionCalled("b1", 1, False, FIVE, CALLED_AT)]
    assert election.state.phase is ElectionPhase.CALLED


def test_there_are_never_more_seats_than_full_members() -> None:
    with broken("election.seats"):
        called(4, TEN[:3], committee=True)
    assert called(3, TEN[:3], committee=True).state.entitled == TEN[:3]


def test_a_full_member_named_twice_in_the_roll_counts_once_against_the_seats() -> None:
    # Those entitled are recorded distinct (sorted(set(...))): the seats must be checked against the
    # same distinct roll, or a committee of 3 seats is called for 2 full members.
    election = BranchElection("e1")
    with broken("election.seats"):
        election.call("b1", ["m01", "m01", "m02", "m02"], 3, True, CALLED_AT)
    assert election.state.phase is None


def test_an_election_is_called_once() -> None:
    election = called()
    with broken("election.call_once"):
        election.call("b1", TEN, 5, True, CALLED_AT)
    assert election.state.seats == 3 and untouched(election, 1)


# -- nomination and qualification ------------------------------------------------------------


def test_only_a_full_member_entitled_to_vote_is_nominated() -> None:
    election = called()
    with broken("election.candidate_member"):
        election.nominate("outsider", NominationSource.PUBLIC, CALLED_AT)
    assert election.state.nominations == {} and untouched(election, 1)


def test_a_candidate_nominated_twice_is_nominated_once() -> None:
    election = called()
    election.nominate("m01", NominationSource.PUBLIC, CALLED_AT)
    election.nominate("m01", NominationSource.ORGANISATION, CALLED_AT)
    assert election.pending_events[1:] == [CandidateNominated("m01", "public", CALLED_AT)]


def test_nominations_close_when_the_candidates_are_qualified() -> None:
    election = qualified()
    with broken("election.nominate"):
        election.nominate("m09", MEMBERS, CALLED_AT)
    assert "m09" not in election.state.nominations
    with broken("election.exists"):
        BranchElection("e2").nominate("m01", MEMBERS, CALLED_AT)


def test_only_nominated_candidates_are_qualified() -> None:
    election = called()
    for candidate in TEN[:3]:
        election.nominate(candidate, MEMBERS, CALLED_AT)
    with broken("election.nominated"):
        election.qualify(TEN[:4], CALLED_AT)
    assert election.state.phase is ElectionPhase.CALLED and election.state.candidates == []


@pytest.mark.parametrize(
    ("seats", "candidates", "accepted"),
    [(1, 1, False), (1, 2, True), (3, 3, False), (3, 4, True), (5, 5, False), (5, 6, True)],
)
def test_the_candidates_number_at_least_120_percent_of_the_seats(seats: int, candidates: int, accepted: bool) -> None:
    election = called(seats)
    for candidate in TEN:
        election.nominate(candidate, MEMBERS, CALLED_AT)
    if accepted:
        election.qualify(TEN[:candidates], CALLED_AT)
        assert election.pending_events[-1] == CandidatesQualified(TEN[:candidates], CALLED_AT)
        assert election.state.phase is ElectionPhase.QUALIFIED
    else:
        with broken("election.margin"):
            election.qualify(TEN[:candidates], CALLED_AT)
        assert election.state.phase is ElectionPhase.CALLED


def test_a_candidate_listed_twice_counts_once_towards_the_margin() -> None:
    election = called(1, FIVE)
    election.nominate("m01", MEMBERS, CALLED_AT)
    with broken("election.margin"):
        election.qualify(["m01", "m01"], CALLED_AT)


# -- the notice -----------------------------------------------------------------------------


def test_the_list_is_on_notice_for_at_least_five_working_days() -> None:
    election = qualified()
    with broken("election.notice_days"):
        election.open_notice("n1", "Candidates", "Village branch", 4, CALENDAR, NOTICE_AT)
    assert election.state.phase is ElectionPhase.QUALIFIED and election.state.notice_closes_at is None
    election.open_notice("n1", "Candidates", "Village branch", 5, CALENDAR, NOTICE_AT)
    assert election.pending_events[-1] == NoticeOpened(
        "n1",
        NoticeKind.CANDIDATE_LIST,
        decision_id("e1"),
        TEN[:4],
        "Candidates",
        "Village branch",
        NOTICE_AT,
        CLOSES_AT,
        5,
    )
    assert election.state.phase is ElectionPhase.ON_NOTICE and election.state.notice_closes_at == CLOSES_AT


def test_the_vote_is_refused_until_the_notice_closes_and_allowed_when_it_does() -> None:
    election = on_notice()
    assert election.state.notice_closes_at == dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.UTC)  # end of Monday 9
    with broken("election.notice_closed_first"):
        election.convene(TEN, CLOSES_AT - dt.timedelta(microseconds=1))
    assert election.state.phase is ElectionPhase.ON_NOTICE and election.state.ballot is None
    election.convene(TEN, CLOSES_AT)
    assert election.state.phase is ElectionPhase.CONVENED


def test_the_vote_waits_for_an_open_case_about_a_candidate() -> None:
    election = qualified()
    election.note_case("case-1", "m02", CALLED_AT)
    election.open_notice("n1", "Candidates", "Village branch", 5, CALENDAR, NOTICE_AT)
    election.note_case("case-2", "m03", NOTICE_AT)
    assert election.state.open_cases == {"case-1": "m02", "case-2": "m03"}
    with broken("election.cases_open"):
        election.convene(TEN, CLOSES_AT)
    election.note_outcome("case-1", False, CLOSES_AT)
    with broken("election.cases_open"):
        election.convene(TEN, CLOSES_AT)
    election.note_outcome("case-2", False, CLOSES_AT)
    assert election.pending_events[-2:] == [
        SupervisionOutcomeNoted("case-1", "m02", False, CLOSES_AT),
        SupervisionOutcomeNoted("case-2", "m03", False, CLOSES_AT),
    ]
    election.convene(TEN, CLOSES_AT)
    assert election.state.candidates == TEN[:4]


def test_a_case_about_someone_not_on_the_list_or_outside_the_notice_holds_nothing() -> None:
    nominating = called()
    nominating.nominate("m01", MEMBERS, CALLED_AT)
    nominating.note_case("case-0", "m01", CALLED_AT)  # nominated, not yet a qualified candidate
    assert untouched(nominating, 2) and nominating.state.open_cases == {}
    election = on_notice()
    version = election.version
    election.note_case("case-1", "m09", NOTICE_AT)  # not a candidate
    election.note_outcome("case-9", True, NOTICE_AT)  # a case never noted
    assert untouched(election, version) and election.state.open_cases == {}
    election.note_case("case-2", "m01", NOTICE_AT)
    election.note_case("case-2", "m01", NOTICE_AT)
    assert election.pending_events[version:] == [SupervisionCaseNoted("case-2", "m01", NOTICE_AT)]


def test_a_substantiated_case_strikes_the_candidate_off_and_the_margin_may_then_fail() -> None:
    election = on_notice(1, ["m01", "m02"], FIVE)
    election.note_case("case-1", "m02", NOTICE_AT)
    election.note_outcome("case-1", True, CLOSES_AT)
    assert election.pending_events[-2:] == [
        SupervisionOutcomeNoted("case-1", "m02", True, CLOSES_AT),
        CandidateStruckOff("m02", "case-1", CLOSES_AT),
    ]
    assert election.state.candidates == ["m01"] and election.state.open_cases == {}
    with broken("election.margin"):
        election.convene(FIVE, CLOSES_AT)
    assert election.state.phase is ElectionPhase.ON_NOTICE


def test_a_substantiated_case_leaves_the_vote_to_go_on_when_the_margin_still_holds() -> None:
    election = on_notice(3, TEN[:5])
    election.note_case("case-1", "m05", NOTICE_AT)
    election.note_outcome("case-1", True, CLOSES_AT)
    election.convene(TEN, CLOSES_AT)
    assert election.state.ballot is not None and election.state.ballot.options == TEN[:4]


# -- the quorum -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entitled", "present", "quorate"),
    [(10, 8, False), (10, 9, True), (10, 10, True), (5, 4, False), (5, 5, True)],
)
def test_the_vote_needs_more_than_four_fifths_of_those_entitled_present(
    entitled: int, present: int, quorate: bool
) -> None:
    roll = TEN[:entitled]
    election = on_notice(1, ["m01", "m02"], roll)
    version = election.version
    if quorate:
        election.convene(roll[:present], CLOSES_AT)
        assert election.pending_events[-1] == ElectionMeetingConvened(roll[:present], CLOSES_AT)
    else:
        with broken("election.quorum"):
            election.convene(roll[:present], CLOSES_AT)
        assert untouched(election, version)


def test_someone_present_twice_is_present_once() -> None:
    election = on_notice()
    with broken("election.quorum"):
        election.convene([*TEN[:8], "m01", "m02"], CLOSES_AT)


def test_only_those_entitled_are_present_to_vote() -> None:
    election = on_notice()
    with broken("election.present_entitled"):
        election.convene([*TEN, "guest"], CLOSES_AT)
    assert election.state.phase is ElectionPhase.ON_NOTICE


# -- the secret ballot ----------------------------------------------------------------------


def test_a_voter_takes_part_once_and_only_if_present() -> None:
    election = convened(present=TEN[:9])
    with broken("election.ballot"):
        election.take_part("m10")  # entitled, but did not come
    with broken("election.ballot"):
        election.take_part("guest")
    election.take_part("m01")
    with broken("election.ballot"):
        election.take_part("m01")
    assert election.state.ballot is not None and election.state.ballot.participants == ["m01"]


def test_nobody_votes_before_the_meeting_is_convened() -> None:
    election = on_notice()
    with broken("election.vote"):
        election.take_part("m01")


def test_taking_part_names_the_voter_and_nothing_chosen_and_the_tally_is_hidden_until_the_count() -> None:
    election = convened()
    for voter in TEN:
        election.take_part(voter)
    assert election.pending_events[-1] == VoterTookPart("m10")
    assert [f.name for f in dataclasses.fields(VoterTookPart)] == ["voter_id"]
    ballot = election.state.ballot
    assert ballot is not None and ballot.tally is None and ballot.closed is False
    assert not any(isinstance(e, ElectionCounted) for e in election.pending_events)
    election.count(ballots_for({"m01": 6}, 10, 3), COUNTED_AT)
    assert ballot is election.state.ballot and ballot.tally is not None and ballot.tally.votes["m01"] == 6


def test_more_ballots_than_voters_who_took_part_make_the_count_void() -> None:
    election = convened()
    for voter in TEN[:9]:
        election.take_part(voter)
    version = election.version
    with broken("election.count"):
        election.count([["m01"]] * 10, COUNTED_AT)
    assert untouched(election, version) and election.state.phase is ElectionPhase.CONVENED
    election.count([["m01"]] * 9, COUNTED_AT)
    assert election.state.phase is ElectionPhase.COUNTED


def test_a_box_nobody_took_part_in_is_not_counted() -> None:
    with broken("election.count"):
        convened().count([], COUNTED_AT)


def test_void_ballots_are_cast_and_count_for_nobody() -> None:
    election = convened()
    for voter in TEN:
        election.take_part(voter)
    valid = [["m01", "m02", "m03"]] * 6 + [["m04"]]
    void = [["m01", "m02", "m03", "m04"], ["m01", "stranger"], ["m02", "m02"]]
    election.count(valid + void, COUNTED_AT)
    assert election.pending_events[-1] == ElectionCounted(
        10, 3, {"m01": 6, "m02": 6, "m03": 6, "m04": 1}, ["m01", "m02", "m03"], COUNTED_AT
    )


# -- the count ------------------------------------------------------------------------------


def test_more_than_half_of_those_present_elects() -> None:
    election = counted({"m01": 6, "m02": 5, "m03": 4, "m04": 0})
    assert election.state.elected == ["m01"]  # 6 of 10 present is more than half, 5 is not


def test_the_half_is_of_those_present_not_of_those_entitled() -> None:
    election = counted({"m01": 5, "m02": 4, "m03": 4, "m04": 4}, present=TEN[:9])
    assert election.state.elected == ["m01"]  # 5 of 9 present, though not more than half of the 10 entitled


def test_no_more_are_elected_than_the_seats() -> None:
    election = counted({"m01": 9, "m02": 8, "m03": 7, "m04": 6})
    event = election.pending_events[-1]
    assert isinstance(event, ElectionCounted) and event.elected == ["m01", "m02", "m03"]
    assert event.votes["m04"] == 6  # more than half, but the fourth


def test_a_tie_across_the_last_seat_elects_neither_tied_candidate() -> None:
    election = counted({"m01": 9, "m02": 8, "m03": 6, "m04": 6})
    assert election.state.elected == ["m01", "m02"]


def test_a_tie_within_the_seats_elects_both() -> None:
    election = counted({"m01": 8, "m02": 8, "m03": 7, "m04": 4})
    assert election.state.elected == ["m01", "m02", "m03"]


def test_a_tie_for_a_single_seat_elects_nobody() -> None:
    election = convened(1, ["m01", "m02"], FIVE)
    for voter in FIVE:
        election.take_part(voter)
    election.count([["m01"], ["m01"], ["m02"], ["m02"], []], COUNTED_AT)
    assert election.state.elected == []  # 2 of 5 each: neither has more than half


# -- approval -------------------------------------------------------------------------------


def test_the_secretary_approved_is_one_of_the_elected() -> None:
    election = counted({"m01": 9, "m02": 8, "m03": 7, "m04": 2})
    version = election.version
    with broken("election.secretary_elected"):
        election.approve("m04", COUNTED_AT)
    assert untouched(election, version) and election.state.phase is ElectionPhase.COUNTED
    election.approve("m02", COUNTED_AT)
    assert election.pending_events[-1] == ElectionApproved("m02", COUNTED_AT)
    assert election.state.phase is ElectionPhase.APPROVED and election.state.secretary_id == "m02"


def test_a_result_with_nobody_elected_is_not_approved() -> None:
    election = counted({"m01": 5, "m02": 5, "m03": 5, "m04": 5})
    assert election.state.elected == []
    with broken("election.elected"):
        election.approve("m01", COUNTED_AT)
    assert election.state.phase is ElectionPhase.COUNTED


def test_a_result_is_approved_only_once_counted() -> None:
    with broken("election.approve"):
        convened().approve("m01", COUNTED_AT)
    election = counted({"m01": 9, "m02": 8, "m03": 7, "m04": 2})
    election.approve("m01", COUNTED_AT)
    with broken("election.approve"):
        election.approve("m02", COUNTED_AT)
